//! The fitted numeric transforms (`fill_null`, `clip`, `standardize`, `min_max`, `bucketize`):
//! per-row maps whose parameters were fixed when the plan was compiled.

use super::numeric::{bit01, map1, sel};

#[inline(always)]
pub(super) fn fill_null(regs: &mut [f64], st: usize, a: usize, v: f64, out: usize, n: usize) {
    map1(regs, st, a, out, n, |x| sel(x.is_nan(), v, x))
}

#[inline(always)]
pub(super) fn clip(regs: &mut [f64], st: usize, a: usize, lo: f64, hi: f64, out: usize, n: usize) {
    // NaN compares false both ways, so null stays null.
    map1(regs, st, a, out, n, |x| sel(x < lo, lo, sel(x > hi, hi, x)))
}

/// `(x - mean) / std`; the compiler already replaced `std = 0` by 1.
#[inline(always)]
pub(super) fn standardize(regs: &mut [f64], st: usize, a: usize, mean: f64, std: f64, out: usize, n: usize) {
    map1(regs, st, a, out, n, |x| (x - mean) / std)
}

/// `(x - min) / range`; the compiler already replaced `range = 0` by 1.
#[inline(always)]
pub(super) fn min_max(regs: &mut [f64], st: usize, a: usize, min: f64, range: f64, out: usize, n: usize) {
    map1(regs, st, a, out, n, |x| (x - min) / range)
}

/// The number of (strictly ascending) `bounds` that are `<= x`; null stays null.
#[inline(always)]
pub(super) fn bucketize(regs: &mut [f64], st: usize, a: usize, bounds: &[f64], out: usize, n: usize) {
    let (lo, hi) = regs.split_at_mut(out * st);
    let x = &lo[a * st..a * st + n];
    let o = &mut hi[..n];
    if bounds.len() <= 32 {
        // One pass per boundary, each a branch-free, vectorizable compare-and-add.
        o.fill(0.0);
        for &b in bounds.iter() {
            for (o, &x) in o.iter_mut().zip(x) {
                *o += bit01(b <= x);
            }
        }
        for (o, &x) in o.iter_mut().zip(x) {
            *o = sel(x.is_nan(), f64::NAN, *o);
        }
    } else {
        for (o, &x) in o.iter_mut().zip(x) {
            *o = if x.is_nan() {
                f64::NAN
            } else {
                bounds.partition_point(|&b| b <= x) as f64
            };
        }
    }
}
