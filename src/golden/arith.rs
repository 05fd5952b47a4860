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

/// [`q`] with its parameters worked out once, for loops over whole operand matrices.
///
/// Round-to-nearest-even as one addition: `bits + (half - 1) + lsb`, then truncation, carries
/// exactly where `q`'s comparisons do (the remainder reaches a full unit iff it is above
/// half, or at half with an odd kept LSB); toward-zero adds nothing. No branch on the
/// rounding mode is left in the loop, which a per-value `q` kept from vectorising well
/// (the decode of B's strips was a third of a resnet-mini `daa` GEMM).
#[derive(Clone, Copy, Debug)]
pub struct Reducer {
    /// Dropped fraction bits (0: `q` is the identity).
    pub(crate) drop: u32,
    /// Added before truncation: half a unit minus one (nearest-even) or 0.
    pub(crate) bias: u32,
    /// 1 where the kept LSB joins the addition (nearest-even), else 0.
    pub(crate) lsb: u32,
}

impl Reducer {
    pub fn new(lo_bits: u32, rounding: Rounding) -> Reducer {
        let drop = 23_u32.saturating_sub(lo_bits);
        let nearest = rounding == Rounding::NearestEven && drop > 0;
        Reducer { drop, bias: if nearest { (1 << (drop - 1)) - 1 } else { 0 }, lsb: nearest as u32 }
    }

    /// `q(x).to_bits()` for the bits of an `x` that is not subnormal (no widened code is).
    #[inline(always)]
    pub fn q_bits(self, bits: u32) -> u32 {
        debug_assert!(bits & 0x7F80_0000 != 0 || bits & 0x007F_FFFF == 0, "subnormal input {bits:#010x}");
        let up = bits.wrapping_add(self.bias).wrapping_add((bits >> self.drop) & self.lsb);
        // Shifting back and forth clears the dropped bits (u32 shifts by 32 do not exist,
        // and drop stays below 24).
        let rounded = (up >> self.drop) << self.drop;
        // Inf and NaN pass (a NaN's payload must not carry); zeros round to themselves.
        if bits & 0x7F80_0000 == 0x7F80_0000 {
            bits
        } else {
            rounded
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every exponent field and sign, fractions at and around each rounding boundary plus
    /// pseudo-random ones, for every lo_bits and both roundings: `Reducer` is `q`.
    #[test]
    fn reducer_is_q() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut random = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as u32 & 0x007F_FFFF
        };
        let mut fracs = vec![0, 1, 0x007F_FFFF, 0x0040_0000];
        for d in 1..24 {
            let half = 1u32 << (d - 1);
            for f in [half - 1, half, half + 1, 3 * half, (3 * half) - 1, 3 * half + 1, (2 * half) | half] {
                fracs.push(f & 0x007F_FFFF);
            }
        }
        for _ in 0..64 {
            fracs.push(random());
        }
        let mut checked = 0u64;
        for rounding in [Rounding::NearestEven, Rounding::TowardZero] {
            for lo_bits in 0..=24 {
                let r = Reducer::new(lo_bits, rounding);
                for sign in [0u32, 0x8000_0000] {
                    for e in 0..=255u32 {
                        for &f in &fracs {
                            // Subnormals are outside `q_bits`'s domain (no widened code is one).
                            let f = if e == 0 { 0 } else { f };
                            let bits = sign | e << 23 | f;
                            let want = q(f32::from_bits(bits), lo_bits, rounding).to_bits();
                            assert_eq!(r.q_bits(bits), want, "bits {bits:#010x} lo_bits {lo_bits} {rounding:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 2_000_000);
    }
}
