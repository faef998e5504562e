//! Row-major f32 matrices: writing a chunk of output registers (f64 lanes) into the caller's
//! matrix, and interleaving f32 columns into one ([`assemble_columns`]).

use super::CHUNK;
use crate::error::{PlanError, Result};

/// Writes `n` rows of the output registers into `out` (row-major, `n x outputs`), as f32 with
/// NaN canonical: first each lane to f32 in `stage` (contiguous, vectorized), then interleaved.
pub(super) fn write_outputs(
    outputs: &[usize],
    regs: &[f64],
    st: usize,
    stage: &mut [f32],
    n: usize,
    out: &mut [f32],
) {
    let m = outputs.len();
    if m == 0 {
        return;
    }
    if n < 8 {
        // A few rows (the single-row path): direct, no vector set-up per lane.
        for (i, row) in out[..n * m].chunks_exact_mut(m).enumerate() {
            for (o, &r) in row.iter_mut().zip(outputs) {
                let f = regs[r * st + i] as f32;
                *o = if f.is_nan() { f32::NAN } else { f };
            }
        }
        return;
    }
    for (j, &r) in outputs.iter().enumerate() {
        let lane = &regs[r * st..r * st + n];
        let dst = &mut stage[j * CHUNK..j * CHUNK + n];
        for i in 0..n {
            let f = lane[i] as f32;
            // Canonical NaN, branch-free.
            let mask = (f.is_nan() as u32).wrapping_neg();
            dst[i] = f32::from_bits((f32::NAN.to_bits() & mask) | (f.to_bits() & !mask));
        }
    }
    let out = &mut out[..n * m];
    if m == 1 {
        out.copy_from_slice(&stage[..n]);
        return;
    }
    for j in 0..m {
        let lane = &stage[j * CHUNK..j * CHUNK + n];
        for i in 0..n {
            out[i * m + j] = lane[i];
        }
    }
}

/// Interleaves f32 columns (each `rows` long) into a row-major `rows x columns.len()` matrix.
/// Errors (`FRESCO_ERR_PLAN_INPUT`) when a column or `out` has the wrong length.
pub fn assemble_columns(columns: &[&[f32]], rows: usize, out: &mut [f32]) -> Result<()> {
    let m = columns.len();
    for (j, c) in columns.iter().enumerate() {
        if c.len() != rows {
            return Err(PlanError::input(format!(
                "column {j} has {} values, but rows is {rows}",
                c.len()
            )));
        }
    }
    let want = rows
        .checked_mul(m)
        .ok_or_else(|| PlanError::input("rows x columns overflows"))?;
    if out.len() != want {
        return Err(PlanError::input(format!(
            "output buffer has {} floats, expected rows x columns = {rows} x {m} = {want}",
            out.len()
        )));
    }
    if m == 0 {
        return Ok(());
    }
    // Tiles of TILE rows: each column contributes a short contiguous read, each output row a
    // contiguous write, and the tile stays in L1.
    const TILE: usize = 64;
    let mut r0 = 0;
    while r0 < rows {
        let t = TILE.min(rows - r0);
        let block = &mut out[r0 * m..(r0 + t) * m];
        for (j, c) in columns.iter().enumerate() {
            let src = &c[r0..r0 + t];
            for (i, &v) in src.iter().enumerate() {
                block[i * m + j] = v;
            }
        }
        r0 += t;
    }
    Ok(())
}
