//! Raw Node-API value helpers shared by the plan, online-store and training bindings: type
//! checks, array and property access, typed arrays borrowed in place, UTF-8 strings.

use std::ffi::CStr;
use std::os::raw::c_void;
use std::ptr;

use fresco_core::PlanError;
use napi::sys;

use crate::{input_error, internal, BResult};

// ---------------------------------------------------------------- raw value helpers

pub(crate) fn napi_fail(what: &str) -> PlanError {
    internal(format!("Node-API call failed: {what}"))
}

/// `typeof`-style description of a value, for messages.
pub(crate) unsafe fn describe(env: sys::napi_env, v: sys::napi_value) -> &'static str {
    let mut t = 0;
    if sys::napi_typeof(env, v, &mut t) != sys::Status::napi_ok {
        return "an unknown value";
    }
    match t {
        sys::ValueType::napi_undefined => "undefined",
        sys::ValueType::napi_null => "null",
        sys::ValueType::napi_boolean => "a boolean",
        sys::ValueType::napi_number => "a number",
        sys::ValueType::napi_string => "a string",
        sys::ValueType::napi_function => "a function",
        sys::ValueType::napi_object => {
            let mut is_array = false;
            sys::napi_is_array(env, v, &mut is_array);
            if is_array {
                return "an array";
            }
            match typed_array(env, v) {
                Some(ta) => typed_array_name(ta.kind),
                None => "an object",
            }
        }
        _ => "a symbol",
    }
}

pub(crate) unsafe fn is_nullish(env: sys::napi_env, v: sys::napi_value) -> bool {
    let mut t = 0;
    sys::napi_typeof(env, v, &mut t) == sys::Status::napi_ok
        && (t == sys::ValueType::napi_undefined || t == sys::ValueType::napi_null)
}

pub(crate) unsafe fn is_object(env: sys::napi_env, v: sys::napi_value) -> bool {
    let mut t = 0;
    sys::napi_typeof(env, v, &mut t) == sys::Status::napi_ok && t == sys::ValueType::napi_object
}

pub(crate) unsafe fn get_named(
    env: sys::napi_env,
    obj: sys::napi_value,
    name: &CStr,
) -> BResult<sys::napi_value> {
    let mut v = ptr::null_mut();
    if sys::napi_get_named_property(env, obj, name.as_ptr(), &mut v) != sys::Status::napi_ok {
        return Err(napi_fail("get property"));
    }
    Ok(v)
}

pub(crate) unsafe fn array_len(env: sys::napi_env, v: sys::napi_value) -> Option<u32> {
    let mut is_array = false;
    if sys::napi_is_array(env, v, &mut is_array) != sys::Status::napi_ok || !is_array {
        return None;
    }
    let mut len = 0;
    (sys::napi_get_array_length(env, v, &mut len) == sys::Status::napi_ok).then_some(len)
}

pub(crate) unsafe fn array_get(env: sys::napi_env, arr: sys::napi_value, i: u32) -> BResult<sys::napi_value> {
    let mut v = ptr::null_mut();
    if sys::napi_get_element(env, arr, i, &mut v) != sys::Status::napi_ok {
        return Err(napi_fail("get element"));
    }
    Ok(v)
}

/// Node-API typed array kinds (napi_typedarray_type).
pub(crate) const TA_UINT8: i32 = 1;
pub(crate) const TA_INT32: i32 = 5;
pub(crate) const TA_FLOAT32: i32 = 7;
pub(crate) const TA_FLOAT64: i32 = 8;
pub(crate) const TA_BIGINT64: i32 = 9;

pub(crate) fn typed_array_name(kind: i32) -> &'static str {
    match kind {
        0 => "an Int8Array",
        1 => "a Uint8Array",
        2 => "a Uint8ClampedArray",
        3 => "an Int16Array",
        4 => "a Uint16Array",
        5 => "an Int32Array",
        6 => "a Uint32Array",
        7 => "a Float32Array",
        8 => "a Float64Array",
        9 => "a BigInt64Array",
        10 => "a BigUint64Array",
        _ => "a typed array",
    }
}

#[derive(Clone, Copy)]
pub(crate) struct TypedArray {
    pub(crate) kind: i32,
    pub(crate) data: *mut c_void,
    pub(crate) len: usize,
}

impl TypedArray {
    /// The elements as a slice. Safety: `T` matches `kind`, and the JS value outlives the use
    /// (it does: it is reachable from an argument of the current call).
    pub(crate) unsafe fn slice<'a, T>(&self) -> &'a [T] {
        if self.len == 0 || self.data.is_null() {
            &[]
        } else {
            std::slice::from_raw_parts(self.data as *const T, self.len)
        }
    }
    /// Safety: as for `slice`, and no other live slice overlaps it (callers check).
    pub(crate) unsafe fn slice_mut<'a, T>(&self) -> &'a mut [T] {
        if self.len == 0 || self.data.is_null() {
            &mut []
        } else {
            std::slice::from_raw_parts_mut(self.data as *mut T, self.len)
        }
    }
    pub(crate) fn byte_range(&self, elem: usize) -> (usize, usize) {
        let start = self.data as usize;
        (start, start + self.len * elem)
    }
}

pub(crate) unsafe fn typed_array(env: sys::napi_env, v: sys::napi_value) -> Option<TypedArray> {
    // napi_get_typedarray_info answers napi_invalid_arg for anything but a typed array.
    let (mut kind, mut len, mut data, mut buf, mut off) =
        (0, 0, ptr::null_mut(), ptr::null_mut(), 0);
    if sys::napi_get_typedarray_info(env, v, &mut kind, &mut len, &mut data, &mut buf, &mut off)
        != sys::Status::napi_ok
    {
        return None;
    }
    Some(TypedArray { kind, data, len })
}

/// A typed array argument of the given kind. Safety: as for [`TypedArray::slice`].
pub(crate) unsafe fn typed_arg(
    env: sys::napi_env,
    v: sys::napi_value,
    kind: i32,
    what: &str,
) -> BResult<TypedArray> {
    match typed_array(env, v) {
        Some(ta) if ta.kind == kind => Ok(ta),
        _ => Err(input_error(format!(
            "{what} must be {}, got {}",
            typed_array_name(kind),
            describe(env, v)
        ))),
    }
}

pub(crate) fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Reads a JS string into `buf` (UTF-8, lone surrogates replaced as Node does).
pub(crate) unsafe fn read_string(env: sys::napi_env, v: sys::napi_value, buf: &mut Vec<u8>) -> bool {
    let mut len = 0;
    if sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) != sys::Status::napi_ok
    {
        return false;
    }
    buf.clear();
    buf.resize(len + 1, 0);
    let mut written = 0;
    if sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), len + 1, &mut written)
        != sys::Status::napi_ok
    {
        return false;
    }
    buf.truncate(written);
    true
}

