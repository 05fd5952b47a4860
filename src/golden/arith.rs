//! The three arithmetic operations of docs/arithmetic.md section 2: `mul`, `q`, `add`, on binary32 values.
//!
//! Each is host IEEE binary32 arithmetic (round-to-nearest-even) plus the
//! amendments: DAZ on inputs, FTZ on the rounded result, canonical quiet NaN.
//! `softfloat` holds an integer-only implementation of the same operations, the shape
//! the RTL takes; tests hold the two against each other.

use crate::config::Rounding;
use crate::format::CANONICAL_NAN;

/// A binary32 subnormal becomes a zero of the same sign (DAZ); everything else passes.
#[inline(always)]
pub fn daz(x: f32) -> f32 {
    flush_bits(x)
}

/// FTZ on a result plus canonical NaN: what every operation returns.
#[inline(always)]
pub fn ftz(x: f32) -> f32 {
    if x.is_nan() {
        f32::from_bits(CANONICAL_NAN)
    } else {
        flush_bits(x)
    }
}

/// Keeps the sign only when the exponent field is zero; branch-free so loops vectorise.
#[inline(always)]
pub fn flush_bits(x: f32) -> f32 {
    let b = x.to_bits();
    let keep = ((b & 0x7F80_0000 != 0) as u32).wrapping_neg();
    f32::from_bits(b & (0x8000_0000 | keep))
}

/// Canonicalises a NaN, leaves other values alone.
#[inline(always)]
pub fn canonical(x: f32) -> f32 {
    if x.is_nan() {
        f32::from_bits(CANONICAL_NAN)
    } else {
        x
    }
}

/// `mul(a, b)`: binary32 product of two widened operands, RNE, DAZ/FTZ, canonical NaN.
#[inline(always)]
pub fn mul(a: f32, b: f32) -> f32 {
    ftz(daz(a) * daz(b))
}

/// `add(x, y)`: binary32 sum, RNE, DAZ/FTZ, canonical NaN.
#[inline(always)]
pub fn add(x: f32, y: f32) -> f32 {
    ftz(daz(x) + daz(y))
}

/// `q(x)`: rounds x's significand to `lo_bits` fraction bits on the binary32 encoding.
///
/// A carry may bump the exponent, and out of the largest binade gives Inf; zero,
/// Inf and NaN pass unchanged (subnormals are first read as zero).
#[inline(always)]
pub fn q(x: f32, lo_bits: u32, rounding: Rounding) -> f32 {
    let bits = daz(x).to_bits();
    let e = (bits >> 23) & 0xFF;
    // lo_bits < 23 always holds for valid configs; 22 keeps the shifts in range otherwise.
    let drop = 23 - lo_bits.min(22);
    let mask = (1u32 << drop) - 1;
    let kept = bits & !mask;
    let up = match rounding {
        Rounding::TowardZero => 0,
        Rounding::NearestEven => {
            let rem = bits & mask;
            let half = 1u32 << (drop - 1);
            let odd = (bits >> drop) & 1;
            ((rem > half) | ((rem == half) & (odd == 1))) as u32
        }
    };
    // The carry runs through the exponent field; 0x7F800000 is Inf, as wanted.
    let rounded = kept + (up << drop);
    let pass = (e == 0) | (e == 0xFF) | (lo_bits >= 23);
    f32::from_bits(if pass { bits } else { rounded })
}
