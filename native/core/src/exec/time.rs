//! `hour` and `day_of_week` of epoch-millisecond timestamps (UTC), as JavaScript's `Date`
//! computes them: an exact f64 fast path for |t| < 2^51 and a scalar path for the rest.

use super::numeric::{bit01, sel};

pub(super) const DAY_MS: f64 = 86_400_000.0;
const WEEK_MS: f64 = 7.0 * DAY_MS;

/// JavaScript's `Date` range: beyond it `hour` and `day_of_week` are null (docs/plan-format.md).
const MAX_TS: f64 = 8.64e15;

/// `floor(t) mod m` (a floor-mod, in `0..m`) for |t| <= 8.64e15 (so it fits an i64 exactly).
#[inline(always)]
fn floor_mod(t: f64, m: i64) -> i64 {
    // floor without a libm call (SSE2 has no round instruction): truncate, and step down
    // where truncation went up (negative non-integers).
    let mut i = t as i64;
    if (i as f64) > t {
        i -= 1;
    }
    i.rem_euclid(m)
}

/// Scalar `hour` (the kernel's path for values the f64 fast path does not take).
// `!(a <= b)` on purpose: NaN must take the null branch too.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
#[inline(always)]
fn hour(ts: f64) -> f64 {
    if !(ts.abs() <= MAX_TS) {
        return f64::NAN;
    }
    (floor_mod(ts, DAY_MS as i64) / 3_600_000) as f64
}

/// Scalar `day_of_week`: 0 = Monday; 1970-01-01 (day 0) was a Thursday (3).
#[allow(clippy::neg_cmp_op_on_partial_ord)] // as in `hour`: NaN is null
#[inline(always)]
fn day_of_week(ts: f64) -> f64 {
    if !(ts.abs() <= MAX_TS) {
        return f64::NAN;
    }
    // floor(t / day) mod 7 == floor((t mod week) / day).
    let days_in_week = floor_mod(ts, WEEK_MS as i64) / DAY_MS as i64;
    ((days_in_week + 3) % 7) as f64
}

/// Below this magnitude `floor` and the floor-mods are done in f64 (exact there, branch-free
/// and vectorizable); beyond it, and for non-finite values, [`hour`] / [`day_of_week`] are used.
const TIME_FAST: f64 = 2_251_799_813_685_248.0; // 2^51
/// Adding and subtracting 1.5 * 2^52 rounds any |x| < 2^51 to an integer (the ulp there is 1).
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

#[inline(always)]
fn floor_small(x: f64) -> f64 {
    let r = (x + ROUND_MAGIC) - ROUND_MAGIC;
    r - bit01(r > x)
}

/// `(floor(x / m), x mod m)` (floor division) for an integral |x| < 2^51 and an integral
/// `m > 0`, in f64 without a division: the quotient from the reciprocal is off by at most one,
/// and the exact remainder (every intermediate is an integer below 2^53) tells which way.
#[inline(always)]
fn divmod_small(x: f64, m: f64, inv_m: f64) -> (f64, f64) {
    let q = floor_small(x * inv_m);
    let r = x - q * m;
    let (q, r) = (sel(r < 0.0, q - 1.0, q), sel(r < 0.0, r + m, r));
    (sel(r >= m, q + 1.0, q), sel(r >= m, r - m, r))
}

/// Whether `t` takes the f64 path (false for NaN and infinities too).
#[inline(always)]
fn is_fast_time(t: f64) -> bool {
    t.abs() < TIME_FAST
}

pub(super) fn time_kernel(x: &[f64], o: &mut [f64], dow: bool) {
    let n = x.len().min(o.len());
    let (x, o) = (&x[..n], &mut o[..n]);
    let mut slow = false;
    if dow {
        for i in 0..n {
            slow |= !is_fast_time(x[i]);
            let (_, in_week) = divmod_small(floor_small(x[i]), WEEK_MS, 1.0 / WEEK_MS);
            let (d, _) = divmod_small(in_week, DAY_MS, 1.0 / DAY_MS);
            o[i] = sel(d >= 4.0, d - 4.0, d + 3.0);
        }
    } else {
        for i in 0..n {
            slow |= !is_fast_time(x[i]);
            let (_, in_day) = divmod_small(floor_small(x[i]), DAY_MS, 1.0 / DAY_MS);
            o[i] = divmod_small(in_day, 3_600_000.0, 1.0 / 3_600_000.0).0;
        }
    }
    if slow {
        for i in 0..n {
            if !is_fast_time(x[i]) {
                o[i] = if dow { day_of_week(x[i]) } else { hour(x[i]) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, in i128 (exact for any |t| < 2^100).
    fn reference(ts: f64) -> (f64, f64) {
        if !(ts.abs() <= 8.64e15) {
            return (f64::NAN, f64::NAN);
        }
        let t = ts.floor() as i128;
        let day = 86_400_000i128;
        let hour = t.rem_euclid(day) / 3_600_000;
        let dow = (t.div_euclid(day) + 3).rem_euclid(7);
        (hour as f64, dow as f64)
    }

    #[test]
    fn fast_and_slow_paths_match_the_definition() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1e-300,
            -1e-300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut st = 0x2545_F491_4F6C_DD1Du64;
        for k in -30i64..=30 {
            for base in [DAY_MS, WEEK_MS, 3_600_000.0] {
                let c = k as f64 * base;
                values.extend([
                    c,
                    c - 1.0,
                    c + 1.0,
                    c - 0.25,
                    c + 0.75,
                    c * 1e6,
                    c * 1e6 - 1.0,
                    c * 1e9 + 0.5,
                ]);
            }
        }
        for scale in [
            1e3, 1e9, 1.7e12, 1e13, 1e15, 2.2e15, 2.3e15, 4e15, 9e15, 1e16, 1e17, 9.1e18, 9.3e18,
            1e19, 1e25,
        ] {
            for _ in 0..200 {
                st ^= st << 13;
                st ^= st >> 7;
                st ^= st << 17;
                let u = (st >> 11) as f64 / (1u64 << 53) as f64;
                values.push((u * 2.0 - 1.0) * scale);
            }
        }
        values.extend([
            TIME_FAST,
            -TIME_FAST,
            TIME_FAST - 1.0,
            -TIME_FAST + 0.5,
            MAX_TS,
            -MAX_TS,
            MAX_TS - 0.5,
            -MAX_TS + 1.0,
            8.640000000000001e15,
            -8.640000000000001e15,
        ]);
        let mut h = vec![0.0; values.len()];
        let mut d = vec![0.0; values.len()];
        time_kernel(&values, &mut h, false);
        time_kernel(&values, &mut d, true);
        for (i, &v) in values.iter().enumerate() {
            let (rh, rd) = reference(v);
            if v.abs() < 1e30 {
                assert!(
                    h[i].to_bits() == rh.to_bits() || (h[i].is_nan() && rh.is_nan()),
                    "hour({v}) = {}, want {rh}",
                    h[i]
                );
                assert!(
                    d[i].to_bits() == rd.to_bits() || (d[i].is_nan() && rd.is_nan()),
                    "dow({v}) = {}, want {rd}",
                    d[i]
                );
                assert!(
                    hour(v).to_bits() == rh.to_bits() || rh.is_nan(),
                    "scalar hour({v})"
                );
                assert!(
                    day_of_week(v).to_bits() == rd.to_bits() || rd.is_nan(),
                    "scalar dow({v})"
                );
            }
        }
    }
}
