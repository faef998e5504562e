//! Binding glue of fresco-train (gradient-boosted trees): JSON parameters in, JSON model out,
//! typed arrays borrowed. src/native.ts (training section) wraps these and turns a failure into a
//! FrescoError; panics become errors here, never an abort.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::*;
use napi_derive::napi;

fn guard<T>(what: &str, f: impl FnOnce() -> std::result::Result<T, String>) -> napi::Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(message)) => Err(napi::Error::from_reason(format!("[FRESCO_ERR_TRAINING_FAILED] {message}"))),
        Err(panic) => Err(napi::Error::from_reason(format!("native {what} panicked: {}", super::panic_message(&*panic)))),
    }
}

/// Trains a GBDT; returns fresco_train::TrainOutput as JSON.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn train_gbdt(
    x: Float32Array,
    rows: u32,
    cols: u32,
    y: Float64Array,
    valid_x: Option<Float32Array>,
    valid_rows: u32,
    valid_y: Option<Float64Array>,
    params_json: String,
) -> napi::Result<String> {
    guard("GBDT training", || {
        let valid = match (&valid_x, &valid_y) {
            (Some(vx), Some(vy)) => Some((&vx[..], valid_rows as usize, &vy[..])),
            _ => None,
        };
        fresco_train::train_json(&x, rows as usize, cols as usize, &y, valid, &params_json)
    })
}

/// Raw scores (log-odds for binary) of a row-major f32 matrix under a trained booster.
#[napi]
pub fn predict_gbdt(booster: String, x: Float32Array, rows: u32, cols: u32) -> napi::Result<Float64Array> {
    guard("GBDT prediction", || fresco_train::predict(&booster, &x, rows as usize, cols as usize).map(Float64Array::new))
}
