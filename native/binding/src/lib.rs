//! fresco-node: the Node-API binding of fresco-core. Thin: it reads JavaScript values (typed
//! arrays are borrowed, never copied), calls the core, and turns a core `PlanError` into a
//! JavaScript error whose `code` is the Fresco error code (src/native.ts wraps it in a
//! FrescoError). Every call into the core runs under `catch_unwind`, so a bug surfaces as
//! `FRESCO_ERR_INTERNAL` instead of aborting the process.

#![deny(clippy::all)]

use std::panic::{catch_unwind, AssertUnwindSafe};

use fresco_core::PlanError;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Errors inside the binding are core `PlanError`s; [`throw`] turns one into a JS exception
/// exactly once, at the end of each exported function.
pub(crate) type BResult<T> = std::result::Result<T, PlanError>;

pub(crate) fn input_error(message: impl Into<String>) -> PlanError {
    PlanError::input(message)
}

pub(crate) fn internal(message: impl Into<String>) -> PlanError {
    PlanError::internal(message)
}

/// Throws `e` as a JS `Error` whose `code` is the Fresco error code (napi_create_error sets
/// it) and whose message is the core's; the returned `PendingException` tells napi-rs that
/// an exception is already pending, so it does not throw a second one.
pub(crate) fn throw<T>(env: &Env, r: BResult<T>) -> napi::Result<T> {
    r.map_err(|e| {
        unsafe {
            JsError::from(napi::Error::new(e.code.as_str(), e.message)).throw_into(env.raw())
        };
        napi::Error::new(Status::PendingException, String::new())
    })
}

/// The message a panic carried (`panic!` with a literal or a formatted string).
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// Runs `f`, turning a panic into `FRESCO_ERR_INTERNAL` (never unwind into Node).
pub(crate) fn guarded<T>(what: &str, f: impl FnOnce() -> BResult<T>) -> BResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => Err(internal(format!("native {what} panicked: {}", panic_message(&*panic)))),
    }
}

/// Bumped with fresco_core::ABI_VERSION; src/native.ts checks it.
#[napi]
pub fn abi_version() -> u32 {
    fresco_core::ABI_VERSION
}

// Raw Node-API helpers (js.rs) and the plan calls (plan.rs).
mod js;
mod plan;
pub(crate) use js::*;
// ---------------------------------------------------------------- online store (embedded)
// The embedded online store's functions (onlineOpen, onlineApply, onlineRead, ...) live in
// online.rs; this section only declares the module.
mod online;

// Gradient-boosted trees (trainGbdt, predictGbdt) live in train.rs.
mod train;

// Thread scheduling classes for the serving process (setThreadBackground) live in sched.rs.
mod sched;

// Completion signals from inference threads to the event loop (signalOpen/Send/Close): signal.rs.
mod signal;

