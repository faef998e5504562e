//! `log1p` as fdlibm computes it (Sun's s_log1p.c, in FreeBSD msun's later form, whose
//! `-0.2929` threshold is 0xbfd2bec4): the algorithm V8's `Math.log1p` uses, ported operation
//! for operation so that the native executor and the TypeScript reference give the same bits
//! (docs/plan-format.md, "Agreement"). The platform's `ln_1p` (glibc, the macOS libm, the
//! Windows CRT) and the `libm` crate (musl) are an ulp away from it on some inputs.
//!
//! The original notice, which its licence asks to keep:
//!
//! Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
//!
//! Developed at SunPro, a Sun Microsystems, Inc. business.
//! Permission to use, copy, modify, and distribute this
//! software is freely granted, provided that this notice
//! is preserved.
//!
//! Method: find `k`, `f` with `1 + x = 2^k (1 + f)`, `sqrt(2)/2 < 1 + f < sqrt(2)` (with a
//! correction term `c` for the rounding of `1 + x` when `k != 0`); then, with `s = f / (2 + f)`,
//! `log1p(f) = f - (hfsq - s (hfsq + R(s^2)))`, `R` a degree-14 Remez polynomial, and
//! `log1p(x) = k ln2_hi + (f - (hfsq - (s (hfsq + R) + k ln2_lo + c)))`. Error below 1 ulp.

// The constants are written as in the C source (their hex values in the comments).
#![allow(clippy::excessive_precision, clippy::approx_constant)]

const LN2_HI: f64 = 6.93147180369123816490e-01; // 3fe62e42 fee00000
const LN2_LO: f64 = 1.90821492927058770002e-10; // 3dea39ef 35793c76
const LP1: f64 = 6.666666666666735130e-01; // 3FE55555 55555593
const LP2: f64 = 3.999999999940941908e-01; // 3FD99999 9997FA04
const LP3: f64 = 2.857142874366239149e-01; // 3FD24924 94229359
const LP4: f64 = 2.222219843214978396e-01; // 3FCC71C5 1D8E78AF
const LP5: f64 = 1.818357216161805012e-01; // 3FC74664 96CB03DE
const LP6: f64 = 1.531383769920937332e-01; // 3FC39A09 D078C69F
const LP7: f64 = 1.479819860511658591e-01; // 3FC2F112 DF3E5244

/// The high 32 bits of `x`, signed (C's `GET_HIGH_WORD` into an `int32_t`).
#[inline(always)]
fn high_word(x: f64) -> i32 {
    (x.to_bits() >> 32) as i32
}

/// `x` with its high 32 bits replaced (C's `SET_HIGH_WORD`).
#[inline(always)]
fn with_high_word(x: f64, hi: i32) -> f64 {
    f64::from_bits((x.to_bits() & 0xffff_ffff) | ((hi as u32 as u64) << 32))
}

/// `ln(1 + x)`, bit for bit as V8's `Math.log1p`: -1 gives -inf, below -1 (and NaN) NaN.
#[inline]
pub(super) fn log1p(x: f64) -> f64 {
    let hx = high_word(x);
    let ax = hx & 0x7fff_ffff;

    let mut k: i32 = 1;
    let mut f = 0.0;
    let mut hu: i32 = 0;
    let mut c = 0.0;
    if hx < 0x3fda_827a {
        // x < 0.41422
        if ax >= 0x3ff0_0000 {
            // x <= -1.0
            return if x == -1.0 { f64::NEG_INFINITY } else { f64::NAN };
        }
        if ax < 0x3e20_0000 {
            // |x| < 2^-29: x itself below 2^-54, else two terms of the series.
            return if ax < 0x3c90_0000 { x } else { x - x * x * 0.5 };
        }
        if hx > 0 || hx <= 0xbfd2_bec4_u32 as i32 {
            // -0.2929 < x < 0.41422: f = x exactly, no reduction.
            k = 0;
            f = x;
            hu = 1;
        }
    }
    if hx >= 0x7ff0_0000 {
        return x + x; // +inf, NaN
    }
    if k != 0 {
        let mut u;
        if hx < 0x4340_0000 {
            u = 1.0 + x;
            hu = high_word(u);
            k = (hu >> 20) - 1023;
            // The rounding error of 1 + x, as a relative correction.
            c = if k > 0 { 1.0 - (u - x) } else { x - (u - 1.0) };
            c /= u;
        } else {
            // x >= 2^53: 1 + x rounds to x.
            u = x;
            hu = high_word(u);
            k = (hu >> 20) - 1023;
            c = 0.0;
        }
        hu &= 0x000f_ffff;
        if hu < 0x6a09e {
            u = with_high_word(u, hu | 0x3ff0_0000); // normalize u
        } else {
            k += 1;
            u = with_high_word(u, hu | 0x3fe0_0000); // normalize u/2
            hu = (0x0010_0000 - hu) >> 2;
        }
        f = u - 1.0;
    }
    let kf = k as f64;
    let hfsq = 0.5 * f * f;
    if hu == 0 {
        // |f| < 2^-20
        if f == 0.0 {
            return if k == 0 {
                0.0
            } else {
                c += kf * LN2_LO;
                kf * LN2_HI + c
            };
        }
        let r = hfsq * (1.0 - 0.66666666666666666 * f);
        return if k == 0 {
            f - r
        } else {
            kf * LN2_HI - ((r - (kf * LN2_LO + c)) - f)
        };
    }
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z * (LP1 + z * (LP2 + z * (LP3 + z * (LP4 + z * (LP5 + z * (LP6 + z * LP7))))));
    if k == 0 {
        f - (hfsq - s * (hfsq + r))
    } else {
        kf * LN2_HI - ((hfsq - (s * (hfsq + r) + (kf * LN2_LO + c))) - f)
    }
}

#[cfg(test)]
mod tests {
    use super::log1p;

    /// `(x, Math.log1p(x))` as bits, from Node 20 (V8 11.3). Most are inputs where glibc's
    /// `ln_1p` or musl's `log1p` (the `libm` crate) is an ulp away from V8; the rest are edges.
    /// A 50M-value comparison against Node found no difference; this keeps the evidence.
    const V8: [(u64, u64); 24] = [
        (0x3fda827999fcef6b, 0x3fd62e42fefa3a17),
        (0xbfef420d46190f6e, 0xc00e1d0113ddfb43),
        (0xbfeff5713ec369db, 0xc01a9dc2f0d19fef),
        (0xbfefff9d6cca821e, 0xc023ee383b183752),
        (0xbfefffe6b17c59f0, 0xc026a6694061f42a),
        (0xbfefffffffd004a7, 0xc035c68f407b23f4),
        (0xbfd2bec4cb04ca51, 0xbfd62e453ffea6a3),
        (0x3e1fffff9029db71, 0x3e1fffff8fa9db74),
        (0x3fda827b64a42a48, 0x3fd62e44434b51d6),
        (0xbe1fffffcffb9165, 0xbe1fffffd07b9163),
        (0xbfd2bec4c27581a8, 0xbfd62e4533e3b4bb),
        (0xbe1fffffafc7ae1f, 0xbe1fffffb047ae1c),
        (0x3fda8279774191c7, 0x3fd62e42e66b14f1),
        (0x3fd6ccb7f9bd8378, 0x3fd38087cd1839b9),
        (0xbfd2bec4e917dd82, 0xbfd62e456a86cb11),
        (0xbfd2bec4db03f27f, 0xbfd62e45569e14a2),
        (0xbfd2bec4ee89d9bb, 0xbfd62e45723a2fed),
        (0xbfd2bec42a5ba5f5, 0xbfd62e445cc93c41),
        (0xbfd2bec4a364b3ef, 0xbfd62e4507f4bcd1),
        (0xbfd2bec5943bd1e6, 0xbfd62e465c8e4be2),
        (0xbfd2bec12bd57861, 0xbfd62e4020c1e7ea),
        (0xbfd2bec36820d85a, 0xbfd62e434a1a8f12),
        (0xbfd2bec4c8f2b096, 0xbfd62e453d10f9a7),
        (0x3fda82780801f8a2, 0x3fd62e41e2bc0155),
    ];

    #[test]
    fn matches_v8_bit_for_bit() {
        for (x, want) in V8 {
            let (x, got) = (f64::from_bits(x), log1p(f64::from_bits(x)));
            assert_eq!(got.to_bits(), want, "log1p({x:e}) = {got:e}, V8 gives {:e}", f64::from_bits(want));
        }
    }

    #[test]
    fn edges() {
        let bits = |x: f64| log1p(x).to_bits();
        assert_eq!(bits(0.0), 0.0f64.to_bits());
        assert_eq!(bits(-0.0), (-0.0f64).to_bits());
        assert_eq!(log1p(-1.0), f64::NEG_INFINITY);
        assert_eq!(log1p(f64::INFINITY), f64::INFINITY);
        assert!(log1p(-1.5).is_nan() && log1p(f64::NEG_INFINITY).is_nan() && log1p(f64::NAN).is_nan());
        assert_eq!(bits(f64::MIN_POSITIVE / 4.0), (f64::MIN_POSITIVE / 4.0).to_bits()); // subnormal: x
        assert_eq!(log1p(f64::MAX), 709.782712893384);
        assert_eq!(log1p(std::f64::consts::E - 1.0), 1.0);
    }
}
