//! Binding glue of the embedded online store (fresco_core::online): plain functions over an
//! external handle, like the plan functions in lib.rs. src/native.ts wraps them.

use std::os::raw::c_void;
use std::path::Path;
use std::ptr;

use fresco_core::online::{OnlineStore, ReadOut};
use fresco_core::PlanError;
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use super::{
    array_get, array_len, describe, guarded, input_error, internal, napi_fail, read_string, throw,
    typed_arg, BResult, TA_FLOAT64, TA_UINT8,
};

const STORE_MAGIC: u64 = 0x4652_4553_434f_4f4c; // "FRESCOOL"

struct StoreState {
    magic: u64,
    store: Option<OnlineStore>,
    /// Reused across reads: the keys' bytes and their ends.
    key_bytes: Vec<u8>,
    key_ends: Vec<usize>,
    buf: Vec<u8>,
}

unsafe extern "C" fn finalize_store(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    if !data.is_null() {
        drop(Box::from_raw(data as *mut StoreState));
    }
}

unsafe fn store_state<'a>(env: sys::napi_env, handle: sys::napi_value) -> BResult<&'a mut StoreState> {
    let mut data = ptr::null_mut();
    if sys::napi_get_value_external(env, handle, &mut data) != sys::Status::napi_ok || data.is_null() {
        return Err(internal(format!("expected an online store handle, got {}", describe(env, handle))));
    }
    let state = &mut *(data as *mut StoreState);
    if state.magic != STORE_MAGIC {
        return Err(internal("the handle is not a Fresco online store"));
    }
    Ok(state)
}

unsafe fn open_store<'a>(env: sys::napi_env, handle: sys::napi_value) -> BResult<(&'a OnlineStore, &'a mut StoreState)> {
    let state = store_state(env, handle)?;
    let store: *const OnlineStore = state
        .store
        .as_ref()
        .ok_or_else(|| PlanError::store("the online store is closed"))?;
    Ok((&*store, state))
}

/// Opens (creating) an embedded store folder; `map_size` is the most bytes it may grow to.
#[napi]
pub fn online_open(env: Env, path: String, map_size: f64) -> napi::Result<Unknown<'static>> {
    let r = (|| unsafe {
        let store = guarded("online open", || OnlineStore::open(Path::new(&path), map_size as usize))?;
        let raw = Box::into_raw(Box::new(StoreState {
            magic: STORE_MAGIC,
            store: Some(store),
            key_bytes: Vec::new(),
            key_ends: Vec::new(),
            buf: Vec::new(),
        }));
        let mut value = ptr::null_mut();
        if sys::napi_create_external(env.raw(), raw.cast(), Some(finalize_store), ptr::null_mut(), &mut value)
            != sys::Status::napi_ok
        {
            drop(Box::from_raw(raw));
            return Err(napi_fail("create external"));
        }
        Ok(Unknown::from_raw_unchecked(env.raw(), value))
    })();
    throw(&env, r)
}

/// Closes the handle (the environment closes when its last handle in the process does).
#[napi]
pub fn online_close(env: Env, handle: Unknown) -> napi::Result<()> {
    let r = unsafe { store_state(env.raw(), handle.raw()).map(|s| s.store = None) };
    throw(&env, r)
}

#[napi(object)]
pub struct OnlineWriteStats {
    pub written: f64,
    pub skipped_older: f64,
    pub deleted: f64,
}

/// Applies a framed batch of write operations (fresco_core::online::store) in one transaction.
#[napi]
pub fn online_apply(env: Env, handle: Unknown, ops: Unknown) -> napi::Result<OnlineWriteStats> {
    let r = unsafe {
        open_store(env.raw(), handle.raw()).and_then(|(store, _)| {
            let ops = typed_arg(env.raw(), ops.raw(), TA_UINT8, "ops")?;
            let bytes: &[u8] = ops.slice();
            let s = guarded("online apply", || store.apply(bytes))?;
            Ok(OnlineWriteStats {
                written: s.written as f64,
                skipped_older: s.skipped_older as f64,
                deleted: s.deleted as f64,
            })
        })
    };
    throw(&env, r)
}

/// The table header bytes, or null.
#[napi]
pub fn online_meta(env: Env, handle: Unknown, table: String) -> napi::Result<Option<Buffer>> {
    let r = unsafe {
        open_store(env.raw(), handle.raw())
            .and_then(|(store, _)| guarded("online meta", || store.meta(&table)))
            .map(|m| m.map(Buffer::from))
    };
    throw(&env, r)
}

#[napi]
pub fn online_tables(env: Env, handle: Unknown) -> napi::Result<Vec<String>> {
    let r = unsafe { open_store(env.raw(), handle.raw()).and_then(|(store, _)| guarded("online tables", || store.tables())) };
    throw(&env, r)
}

#[napi]
pub fn online_count(env: Env, handle: Unknown, table: String) -> napi::Result<f64> {
    let r = unsafe {
        open_store(env.raw(), handle.raw()).and_then(|(store, _)| guarded("online count", || store.count(&table)).map(|n| n as f64))
    };
    throw(&env, r)
}

/// `onlineRead(handle, table, keys, asOfMs, values, valid, times, status, strings)`: one read
/// transaction over `keys` (encoded entity keys). Fills `values`/`valid` (keys x features,
/// Float64Array/Uint8Array), `times` (Float64Array, ms) and `status` (Uint8Array: 0 missing,
/// 1 present, 2 expired); string features go to the JS array `strings` (keys x string
/// features, null for null). Returns the table's schema hash, or -1 when the table is unknown.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn online_read(
    env: Env,
    handle: Unknown,
    table: String,
    keys: Unknown,
    as_of_ms: f64,
    values: Unknown,
    valid: Unknown,
    times: Unknown,
    status: Unknown,
    strings: Unknown,
) -> napi::Result<f64> {
    let e = env.raw();
    let r = unsafe {
        open_store(e, handle.raw()).and_then(|(store, state)| {
            let values = typed_arg(e, values.raw(), TA_FLOAT64, "values")?;
            let valid = typed_arg(e, valid.raw(), TA_UINT8, "valid")?;
            let times = typed_arg(e, times.raw(), TA_FLOAT64, "times")?;
            let status = typed_arg(e, status.raw(), TA_UINT8, "status")?;
            let n = array_len(e, keys.raw())
                .ok_or_else(|| input_error(format!("keys must be an array of strings, got {}", describe(e, keys.raw()))))?;
            if array_len(e, strings.raw()).is_none() {
                return Err(input_error("strings must be an array"));
            }
            state.key_bytes.clear();
            state.key_ends.clear();
            for i in 0..n {
                let v = array_get(e, keys.raw(), i)?;
                if !read_string(e, v, &mut state.buf) {
                    return Err(input_error(format!("keys[{i}] must be a string, got {}", describe(e, v))));
                }
                state.key_bytes.extend_from_slice(&state.buf);
                state.key_ends.push(state.key_bytes.len());
            }
            let kb = &state.key_bytes;
            let ends = &state.key_ends;
            let iter = (0..ends.len()).map(|i| &kb[if i == 0 { 0 } else { ends[i - 1] }..ends[i]]);
            let mut out = ReadOut {
                values: values.slice_mut(),
                valid: valid.slice_mut(),
                times: times.slice_mut(),
                status: status.slice_mut(),
            };
            let strings_v = strings.raw();
            let got = guarded("online read", || {
                store.read(&table, iter, as_of_ms as i64, &mut out, |k, s, bytes| {
                    let _ = s;
                    let mut v = ptr::null_mut();
                    let ok = match bytes {
                        Some(b) => sys::napi_create_string_utf8(e, b.as_ptr().cast(), b.len() as isize, &mut v),
                        None => sys::napi_get_null(e, &mut v),
                    } == sys::Status::napi_ok;
                    // Index k * (string features) + s: the caller sizes it; we write in order.
                    let _ = k;
                    let mut len = 0u32;
                    if !ok || sys::napi_get_array_length(e, strings_v, &mut len) != sys::Status::napi_ok
                        || sys::napi_set_element(e, strings_v, len, v) != sys::Status::napi_ok
                    {
                        return Err(napi_fail("set string"));
                    }
                    Ok(())
                })
            })?;
            Ok(got.map_or(-1.0, |(_, hash)| hash as f64))
        })
    };
    throw(&env, r)
}
