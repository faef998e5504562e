//! Plans across the boundary: input columns read from JS objects, the plan handle, and the
//! exported calls (compilePlan, planInfo, planRun, the raw planRunRow, assembleColumns).

use std::ffi::CStr;
use std::os::raw::c_void;
use std::ptr;

use fresco_core::{Column, ColumnData, Plan, PlanError};
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::js::*;
use crate::js::TypedArray;
use crate::{guarded, input_error, internal, throw, BResult};

// ---------------------------------------------------------------- columns

/// What a column needs to stay alive while the core borrows it.
enum Parsed {
    Numeric {
        data: TypedArray,
    },
    Dict {
        codes: TypedArray,
        dictionary: Vec<String>,
    },
    Utf8 {
        offsets: TypedArray,
        data: TypedArray,
    },
}

struct ParsedColumn {
    kind: Parsed,
    validity: Option<TypedArray>,
}

/// Reads `columns[i]` (a NativeColumn object), checking kinds of typed arrays. Length and
/// content checks are the core's.
unsafe fn parse_column(
    env: sys::napi_env,
    col: sys::napi_value,
    label: &str,
) -> BResult<ParsedColumn> {
    if !is_object(env, col) {
        return Err(input_error(format!(
            "{label}: column must be an object, got {}",
            describe(env, col)
        )));
    }
    let kind_v = get_named(env, col, c"kind")?;
    let mut kind_buf = Vec::new();
    let mut t = 0;
    sys::napi_typeof(env, kind_v, &mut t);
    if t != sys::ValueType::napi_string || !read_string(env, kind_v, &mut kind_buf) {
        return Err(input_error(format!(
            "{label}: column.kind must be a string, got {}",
            describe(env, kind_v)
        )));
    }
    let kind = String::from_utf8_lossy(&kind_buf).into_owned();

    let want = |field: &CStr, ta_kind: i32| -> BResult<TypedArray> {
        let v = get_named(env, col, field)?;
        match typed_array(env, v) {
            Some(ta) if ta.kind == ta_kind => Ok(ta),
            _ => Err(input_error(format!(
                "{label}: a {kind} column needs {} as {}, got {}",
                field.to_string_lossy(),
                typed_array_name(ta_kind),
                describe(env, v)
            ))),
        }
    };
    let parsed = match kind.as_str() {
        "f64" => Parsed::Numeric {
            data: want(c"values", TA_FLOAT64)?,
        },
        "f32" => Parsed::Numeric {
            data: want(c"values", TA_FLOAT32)?,
        },
        "i32" => Parsed::Numeric {
            data: want(c"values", TA_INT32)?,
        },
        "i64" => Parsed::Numeric {
            data: want(c"values", TA_BIGINT64)?,
        },
        "bool" => Parsed::Numeric {
            data: want(c"values", TA_UINT8)?,
        },
        "dict" => {
            let codes = want(c"codes", TA_INT32)?;
            let dict_v = get_named(env, col, c"dictionary")?;
            let n = array_len(env, dict_v).ok_or_else(|| {
                input_error(format!(
                    "{label}: a dict column needs dictionary as an array of strings, got {}",
                    describe(env, dict_v)
                ))
            })?;
            let mut dictionary = Vec::with_capacity(n as usize);
            let mut buf = Vec::new();
            for k in 0..n {
                let s = array_get(env, dict_v, k)?;
                let mut st = 0;
                sys::napi_typeof(env, s, &mut st);
                if st != sys::ValueType::napi_string || !read_string(env, s, &mut buf) {
                    return Err(input_error(format!(
                        "{label}: dictionary[{k}] must be a string, got {}",
                        describe(env, s)
                    )));
                }
                // napi hands out valid UTF-8 (lone surrogates become U+FFFD).
                dictionary.push(String::from_utf8_lossy(&buf).into_owned());
            }
            Parsed::Dict { codes, dictionary }
        }
        "utf8" => Parsed::Utf8 {
            offsets: want(c"offsets", TA_INT32)?,
            data: want(c"data", TA_UINT8)?,
        },
        other => {
            return Err(input_error(format!(
            "{label}: unknown column kind {:?} (expected f64, f32, i32, i64, bool, dict or utf8)",
            other
        )))
        }
    };
    let validity_v = get_named(env, col, c"validity")?;
    let validity = if is_nullish(env, validity_v) {
        None
    } else {
        match typed_array(env, validity_v) {
            Some(ta) if ta.kind == TA_UINT8 => Some(ta),
            _ => {
                return Err(input_error(format!(
                    "{label}: validity must be a Uint8Array bitmap, got {}",
                    describe(env, validity_v)
                )))
            }
        }
    };
    Ok(ParsedColumn {
        kind: parsed,
        validity,
    })
}

impl ParsedColumn {
    unsafe fn column(&self) -> Column<'_> {
        let data = match &self.kind {
            Parsed::Numeric { data } => match data.kind {
                TA_FLOAT64 => ColumnData::F64(data.slice()),
                TA_FLOAT32 => ColumnData::F32(data.slice()),
                TA_INT32 => ColumnData::I32(data.slice()),
                TA_BIGINT64 => ColumnData::I64(data.slice()),
                _ => ColumnData::Bool(data.slice()),
            },
            Parsed::Dict { codes, dictionary } => ColumnData::Dict {
                codes: codes.slice(),
                dictionary,
            },
            Parsed::Utf8 { offsets, data } => ColumnData::Utf8 {
                offsets: offsets.slice(),
                data: data.slice(),
            },
        };
        Column {
            data,
            validity: self.validity.map(|v| v.slice()),
        }
    }
}

// ---------------------------------------------------------------- the plan handle

/// A compiled plan with its scratch buffers, owned by a JS `External` (freed when that is
/// garbage-collected). Plain functions taking the handle are used instead of a napi-rs class:
/// a class method call costs some hundreds of nanoseconds in napi-rs 3's borrow bookkeeping,
/// a plain function with an external a few dozen.
struct PlanState {
    magic: u64,
    /// Set during a call: a re-entrant call (a getter on a column object calling back into
    /// the same plan) is refused instead of aliasing the scratch buffers.
    busy: bool,
    plan: Plan,
    /// Per string input: its bytes for the current `runRow`, and whether it is null.
    row_strings: Vec<Vec<u8>>,
    row_null: Vec<bool>,
    /// Bytes reported to V8 with napi_adjust_external_memory.
    reported: i64,
}

const MAGIC: u64 = 0x4652_4553_434f_504c; // "FRESCOPL"

unsafe extern "C" fn finalize_plan(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    if data.is_null() {
        return;
    }
    let state = Box::from_raw(data as *mut PlanState);
    let mut adjusted = 0;
    sys::napi_adjust_external_memory(env, -state.reported, &mut adjusted);
    drop(state);
}

/// The plan behind a handle. Safety: the value comes from JS; it is checked to be an external
/// created by [`compile_plan`] (magic) and not in use.
unsafe fn plan_state<'a>(
    env: sys::napi_env,
    handle: sys::napi_value,
) -> BResult<&'a mut PlanState> {
    // napi_get_value_external answers napi_invalid_arg for anything but an external.
    let mut data = ptr::null_mut();
    if sys::napi_get_value_external(env, handle, &mut data) != sys::Status::napi_ok
        || data.is_null()
    {
        return Err(internal(format!(
            "expected a plan handle, got {}",
            describe(env, handle)
        )));
    }
    let state = &mut *(data as *mut PlanState);
    if state.magic != MAGIC {
        return Err(internal("the handle is not a Fresco plan"));
    }
    if state.busy {
        return Err(internal("re-entrant call into a native plan"));
    }
    Ok(state)
}

/// Runs `f` on the plan with the busy flag held.
unsafe fn with_plan<T>(
    env: sys::napi_env,
    handle: sys::napi_value,
    f: impl FnOnce(&mut PlanState) -> BResult<T>,
) -> BResult<T> {
    let state = plan_state(env, handle)?;
    state.busy = true;
    let r = f(&mut *state);
    state.busy = false;
    r
}

/// Wraps a compiled plan in the opaque handle the other plan functions take (a JS external that
/// frees the plan when it is collected).
unsafe fn plan_external(env: sys::napi_env, plan: Plan) -> BResult<Unknown<'static>> {
    let k = plan.spec().str_input_count();
    let reported = (plan.scratch_bytes() as i64).max(1);
    let state = Box::new(PlanState {
        magic: MAGIC,
        busy: false,
        plan,
        row_strings: vec![Vec::new(); k],
        row_null: vec![true; k],
        reported,
    });
    let raw = Box::into_raw(state);
    let mut value = ptr::null_mut();
    if sys::napi_create_external(env, raw.cast(), Some(finalize_plan), ptr::null_mut(), &mut value)
        != sys::Status::napi_ok
    {
        drop(Box::from_raw(raw));
        return Err(napi_fail("create external"));
    }
    let mut adjusted = 0;
    sys::napi_adjust_external_memory(env, reported, &mut adjusted);
    Ok(Unknown::from_raw_unchecked(env, value))
}

/// Parses, validates and compiles plan JSON (errors: FRESCO_ERR_PLAN_INVALID); returns an
/// opaque handle for the other plan functions.
#[napi]
pub fn compile_plan(env: Env, json: String) -> napi::Result<Unknown<'static>> {
    let r = (|| unsafe {
        let plan = guarded("compile", || Plan::compile(&json))?;
        plan_external(env.raw(), plan)
    })();
    throw(&env, r)
}

/// A core error as the rejection of a promise: "[FRESCO_ERR_...] message" (src/native.ts reads
/// the code back out of the message).
fn tagged(e: PlanError) -> napi::Error {
    napi::Error::from_reason(format!("[{}] {}", e.code.as_str(), e.message))
}

/// compilePlanAsync's work: the parse and compile run on libuv's thread pool, so that a server
/// loading a model version (a hot swap) keeps its event loop for requests.
pub struct CompilePlanTask {
    json: String,
}

impl Task for CompilePlanTask {
    type Output = Plan;
    type JsValue = Unknown<'static>;

    fn compute(&mut self) -> napi::Result<Plan> {
        guarded("compile", || Plan::compile(&self.json)).map_err(tagged)
    }

    fn resolve(&mut self, env: Env, plan: Plan) -> napi::Result<Unknown<'static>> {
        unsafe { plan_external(env.raw(), plan) }.map_err(tagged)
    }
}

/// compilePlan off the event loop: resolves with the same handle, or rejects with its error.
#[napi]
pub fn compile_plan_async(json: String) -> AsyncTask<CompilePlanTask> {
    AsyncTask::new(CompilePlanTask { json })
}

/// The plan's shape, read once by src/native.ts.
#[napi(object)]
pub struct PlanInfo {
    pub input_count: u32,
    pub output_count: u32,
    pub str_input_count: u32,
    pub input_names: Vec<String>,
}

#[napi]
pub fn plan_info(env: Env, handle: Unknown) -> napi::Result<PlanInfo> {
    let r = unsafe {
        with_plan(env.raw(), handle.raw(), |s| {
            let spec = s.plan.spec();
            Ok(PlanInfo {
                input_count: spec.input_count() as u32,
                output_count: spec.output_count() as u32,
                str_input_count: spec.str_input_count() as u32,
                input_names: spec.inputs().iter().map(|i| i.name.clone()).collect(),
            })
        })
    };
    throw(&env, r)
}

/// Runs over `rows` rows of `columns` into `out` (a Float32Array of rows x outputs).
#[napi]
pub fn plan_run(
    env: Env,
    handle: Unknown,
    columns: Unknown,
    rows: u32,
    out: Unknown,
) -> napi::Result<()> {
    let r = unsafe {
        with_plan(env.raw(), handle.raw(), |s| {
            run_inner(s, env.raw(), columns.raw(), rows, out.raw())
        })
    };
    throw(&env, r)
}

/// Throws `e` from a raw callback: a JS `Error` with `code` set.
unsafe fn throw_raw(env: sys::napi_env, e: PlanError) {
    let (mut code, mut msg, mut err) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    let c = e.code.as_str();
    sys::napi_create_string_utf8(env, c.as_ptr().cast(), c.len() as isize, &mut code);
    sys::napi_create_string_utf8(
        env,
        e.message.as_ptr().cast(),
        e.message.len() as isize,
        &mut msg,
    );
    if sys::napi_create_error(env, code, msg, &mut err) == sys::Status::napi_ok {
        sys::napi_throw(env, err);
    }
}

/// `planRunRow(handle, numeric, strings, out)`: one row. `numeric[i]` is input i's value
/// (NaN = null), `strings` the str inputs in slot order (null = null); writes outputCount
/// floats into `out`. The online path, so it is a raw Node-API callback (registered in
/// [`init`]): napi-rs's generated wrapper adds a few hundred nanoseconds of bookkeeping.
/// No allocation once warm.
unsafe extern "C" fn plan_run_row_raw(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let mut argc = 4usize;
    let mut argv = [ptr::null_mut(); 4];
    let r = if sys::napi_get_cb_info(
        env,
        info,
        &mut argc,
        argv.as_mut_ptr(),
        ptr::null_mut(),
        ptr::null_mut(),
    ) != sys::Status::napi_ok
    {
        Err(napi_fail("get callback info"))
    } else if argc < 4 {
        Err(internal(format!(
            "planRunRow expects 4 arguments, got {argc}"
        )))
    } else {
        catch_unwind(AssertUnwindSafe(|| {
            with_plan(env, argv[0], |s| {
                run_row_inner(s, env, argv[1], argv[2], argv[3])
            })
        }))
        .unwrap_or_else(|_| Err(internal("native runRow panicked")))
    };
    if let Err(e) = r {
        throw_raw(env, e);
    }
    ptr::null_mut()
}

#[napi(module_exports)]
pub fn init(exports: Object, env: Env) -> napi::Result<()> {
    unsafe {
        let name = "planRunRow";
        let mut f = ptr::null_mut();
        let ok = sys::napi_create_function(
            env.raw(),
            name.as_ptr().cast(),
            name.len() as isize,
            Some(plan_run_row_raw),
            ptr::null_mut(),
            &mut f,
        ) == sys::Status::napi_ok
            && sys::napi_set_named_property(env.raw(), exports.raw(), c"planRunRow".as_ptr(), f)
                == sys::Status::napi_ok;
        if !ok {
            return Err(napi::Error::new(
                Status::GenericFailure,
                "fresco: could not register planRunRow",
            ));
        }
    }
    Ok(())
}

/// The length of the `columns` argument, which must be an array.
unsafe fn columns_len(env: sys::napi_env, columns: sys::napi_value) -> BResult<u32> {
    array_len(env, columns)
        .ok_or_else(|| input_error(format!("columns must be an array, got {}", describe(env, columns))))
}

unsafe fn run_inner(
    s: &mut PlanState,
    env: sys::napi_env,
    columns: sys::napi_value,
    rows: u32,
    out: sys::napi_value,
) -> BResult<()> {
    let out = typed_arg(env, out, TA_FLOAT32, "out")?;
    let n = columns_len(env, columns)?;
    let mut parsed = Vec::with_capacity(n as usize);
    for i in 0..n {
        let label = s.plan.spec().input_label(i as usize);
        let col = array_get(env, columns, i)?;
        parsed.push(parse_column(env, col, &label)?);
    }
    let out_range = out.byte_range(4);
    for p in &parsed {
        let arrays: &[TypedArray] = match &p.kind {
            Parsed::Numeric { data } => std::slice::from_ref(data),
            Parsed::Dict { codes, .. } => std::slice::from_ref(codes),
            Parsed::Utf8 { offsets, data } => &[*offsets, *data],
        };
        for ta in arrays.iter().chain(p.validity.iter()) {
            if overlaps(ta.byte_range(elem_size(ta.kind)), out_range) {
                return Err(input_error("the output buffer overlaps an input column"));
            }
        }
    }
    let cols: Vec<Column<'_>> = parsed.iter().map(|p| p.column()).collect();
    let out: &mut [f32] = out.slice_mut();
    let plan = &mut s.plan;
    guarded("run", || plan.run(&cols, rows as usize, out))
}

unsafe fn run_row_inner(
    s: &mut PlanState,
    env: sys::napi_env,
    numeric: sys::napi_value,
    strings: sys::napi_value,
    out: sys::napi_value,
) -> BResult<()> {
    let numeric = typed_arg(env, numeric, TA_FLOAT64, "numeric")?;
    let out = typed_arg(env, out, TA_FLOAT32, "out")?;
    if overlaps(numeric.byte_range(8), out.byte_range(4)) {
        return Err(input_error("the output buffer overlaps the numeric input"));
    }
    let k = s.row_strings.len();
    if k > 0 {
        let n = array_len(env, strings).ok_or_else(|| {
            input_error(format!(
                "strings must be an array, got {}",
                describe(env, strings)
            ))
        })?;
        if n as usize != k {
            return Err(input_error(format!(
                "expected {k} string value{} (one per str input), got {n}",
                if k == 1 { "" } else { "s" }
            )));
        }
        for i in 0..k {
            let v = array_get(env, strings, i as u32)?;
            let mut t = 0;
            sys::napi_typeof(env, v, &mut t);
            if t == sys::ValueType::napi_string {
                if !read_string(env, v, &mut s.row_strings[i]) {
                    return Err(napi_fail("read string"));
                }
                s.row_null[i] = false;
            } else if t == sys::ValueType::napi_null || t == sys::ValueType::napi_undefined {
                s.row_null[i] = true;
            } else {
                let input = s.plan.spec().str_input_index(i);
                return Err(input_error(format!(
                    "{}: strings[{i}] must be a string or null, got {}",
                    s.plan.spec().input_label(input),
                    describe(env, v)
                )));
            }
        }
    }
    let numeric: &[f64] = numeric.slice();
    let out: &mut [f32] = out.slice_mut();
    let PlanState {
        plan,
        row_strings,
        row_null,
        ..
    } = s;
    guarded("runRow", || {
        plan.run_row_with(
            numeric,
            |i| {
                if row_null[i] {
                    None
                } else {
                    Some(&row_strings[i][..])
                }
            },
            out,
        )
    })
}

fn elem_size(kind: i32) -> usize {
    match kind {
        0..=2 => 1,
        3 | 4 => 2,
        5..=7 => 4,
        _ => 8,
    }
}

/// Interleaves f32 columns (each `rows` long) into `out` (rows x columns.length, row-major).
#[napi]
pub fn assemble_columns(env: Env, columns: Unknown, rows: u32, out: Unknown) -> napi::Result<()> {
    let r = unsafe { assemble_inner(env.raw(), columns.raw(), rows, out.raw()) };
    throw(&env, r)
}

unsafe fn assemble_inner(
    env: sys::napi_env,
    columns: sys::napi_value,
    rows: u32,
    out: sys::napi_value,
) -> BResult<()> {
    let out = typed_arg(env, out, TA_FLOAT32, "out")?;
    let n = columns_len(env, columns)?;
    let mut slices: Vec<&[f32]> = Vec::with_capacity(n as usize);
    for j in 0..n {
        let v = array_get(env, columns, j)?;
        let ta = typed_arg(env, v, TA_FLOAT32, &format!("column {j}"))?;
        if overlaps(ta.byte_range(4), out.byte_range(4)) {
            return Err(input_error(format!(
                "the output buffer overlaps column {j}"
            )));
        }
        slices.push(ta.slice());
    }
    let out: &mut [f32] = out.slice_mut();
    guarded("assembleColumns", || {
        fresco_core::assemble_columns(&slices, rows as usize, out)
    })
}

