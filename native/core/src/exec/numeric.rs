//! Arithmetic, comparison and logic kernels over register lanes, and the branch-free helpers
//! every kernel uses. Nulls are NaN; comparisons and Kleene logic propagate them explicitly.

use super::time::{time_kernel, DAY_MS};
use super::log1p::log1p;
use crate::plan::{BinOp, UnOp};

/// `if m { a } else { b }` without a branch (kernels run over unpredictable data; this keeps
/// them branch-free and vectorizable).
#[inline(always)]
pub(super) fn sel(m: bool, a: f64, b: f64) -> f64 {
    let mask = (m as u64).wrapping_neg();
    f64::from_bits((a.to_bits() & mask) | (b.to_bits() & !mask))
}

#[inline(always)]
pub(super) fn bit01(m: bool) -> f64 {
    sel(m, 1.0, 0.0)
}

#[inline(always)]
fn truthy(x: f64) -> bool {
    // NaN != 0 is true, so check NaN explicitly (non-short-circuit `&`: no branch).
    (x != 0.0) & !x.is_nan()
}

#[inline(always)]
fn cmp(a: f64, b: f64, r: bool) -> f64 {
    sel(a.is_nan() | b.is_nan(), f64::NAN, bit01(r))
}

#[inline(always)]
pub(super) fn map1(regs: &mut [f64], st: usize, a: usize, out: usize, n: usize, f: impl Fn(f64) -> f64) {
    debug_assert!(a < out);
    let (lo, hi) = regs.split_at_mut(out * st);
    if n == 1 {
        // The single-row path: skip the vector loop's set-up.
        hi[0] = f(lo[a * st]);
        return;
    }
    let a = &lo[a * st..a * st + n];
    let o = &mut hi[..n];
    for i in 0..n {
        o[i] = f(a[i]);
    }
}

#[inline(always)]
fn map2(
    regs: &mut [f64],
    st: usize,
    a: usize,
    b: usize,
    out: usize,
    n: usize,
    f: impl Fn(f64, f64) -> f64,
) {
    debug_assert!(a < out && b < out);
    let (lo, hi) = regs.split_at_mut(out * st);
    if n == 1 {
        hi[0] = f(lo[a * st], lo[b * st]);
        return;
    }
    let a = &lo[a * st..a * st + n];
    let b = &lo[b * st..b * st + n];
    let o = &mut hi[..n];
    for i in 0..n {
        o[i] = f(a[i], b[i]);
    }
}

pub(super) fn bin(op: BinOp, regs: &mut [f64], st: usize, a: usize, b: usize, out: usize, n: usize) {
    match op {
        BinOp::Add => map2(regs, st, a, b, out, n, |x, y| x + y),
        BinOp::Sub => map2(regs, st, a, b, out, n, |x, y| x - y),
        BinOp::Mul => map2(regs, st, a, b, out, n, |x, y| x * y),
        BinOp::Div => map2(regs, st, a, b, out, n, |x, y| {
            sel(y == 0.0, f64::NAN, x / y)
        }),
        BinOp::Eq => map2(regs, st, a, b, out, n, |x, y| cmp(x, y, x == y)),
        BinOp::Ne => map2(regs, st, a, b, out, n, |x, y| cmp(x, y, x != y)),
        BinOp::Lt => map2(regs, st, a, b, out, n, |x, y| cmp(x, y, x < y)),
        BinOp::Le => map2(regs, st, a, b, out, n, |x, y| cmp(x, y, x <= y)),
        BinOp::Gt => map2(regs, st, a, b, out, n, |x, y| cmp(x, y, x > y)),
        BinOp::Ge => map2(regs, st, a, b, out, n, |x, y| cmp(x, y, x >= y)),
        BinOp::And => map2(regs, st, a, b, out, n, |x, y| {
            sel(
                (x == 0.0) | (y == 0.0),
                0.0,
                sel(x.is_nan() | y.is_nan(), f64::NAN, 1.0),
            )
        }),
        BinOp::Or => map2(regs, st, a, b, out, n, |x, y| {
            sel(
                truthy(x) | truthy(y),
                1.0,
                sel(x.is_nan() | y.is_nan(), f64::NAN, 0.0),
            )
        }),
        BinOp::Coalesce => map2(regs, st, a, b, out, n, |x, y| sel(x.is_nan(), y, x)),
        BinOp::DaysBetween => map2(regs, st, a, b, out, n, |t1, t2| (t2 - t1) / DAY_MS),
    }
}

pub(super) fn un(op: UnOp, regs: &mut [f64], st: usize, a: usize, out: usize, n: usize) {
    match op {
        UnOp::Neg => map1(regs, st, a, out, n, |x| -x),
        UnOp::Abs => map1(regs, st, a, out, n, f64::abs),
        UnOp::Not => map1(regs, st, a, out, n, |x| {
            sel(x.is_nan(), f64::NAN, bit01(x == 0.0))
        }),
        UnOp::IsNull => map1(regs, st, a, out, n, |x| bit01(x.is_nan())),
        UnOp::Log1p => map1(regs, st, a, out, n, log1p),
        UnOp::Hour | UnOp::DayOfWeek => {
            let (lo, hi) = regs.split_at_mut(out * st);
            time_kernel(&lo[a * st..a * st + n], &mut hi[..n], op == UnOp::DayOfWeek)
        }
    }
}

/// `if c { a } else { b }` per row; a null (or 0) condition takes `b`.
#[inline(always)]
pub(super) fn if_else(regs: &mut [f64], st: usize, c: usize, a: usize, b: usize, out: usize, n: usize) {
    let (lo, hi) = regs.split_at_mut(out * st);
    let c = &lo[c * st..c * st + n];
    let a = &lo[a * st..a * st + n];
    let b = &lo[b * st..b * st + n];
    let o = &mut hi[..n];
    for i in 0..n {
        o[i] = sel(truthy(c[i]), a[i], b[i]);
    }
}
