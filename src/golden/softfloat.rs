//! Integer-only binary32 `mul` and `add` with the amendments of docs/arithmetic.md.
//!
//! This is the algorithm the RTL implements (unpack, integer significand product or
//! aligned sum, normalise, round at the normal or subnormal position, flush), written
//! without host floating point so that it is an independent check of `arith`, and the
//! reference the hardware designer reads.

use crate::format::{rne_shift_wide, CANONICAL_NAN};

const INF: u32 = 0x7F80_0000;

/// A binary32 value taken apart, after DAZ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unpacked {
    /// Sign bit.
    pub sign: u32,
    /// Biased exponent field (0 for zeros, including DAZ-flushed subnormals).
    pub exp: u32,
    /// Significand with the hidden bit (0 for zeros, Inf and NaN).
    pub sig: u32,
    /// Zero or subnormal.
    pub zero: bool,
    /// Infinity.
    pub inf: bool,
    /// Not a number.
    pub nan: bool,
}

/// Splits binary32 bits into fields, reading subnormals as zeros.
pub fn unpack(bits: u32) -> Unpacked {
    let sign = bits >> 31;
    let exp = (bits >> 23) & 0xFF;
    let frac = bits & 0x7F_FFFF;
    let special = exp == 0xFF;
    Unpacked {
        sign,
        exp,
        sig: if exp == 0 || special { 0 } else { (1 << 23) | frac },
        zero: exp == 0,
        inf: special && frac == 0,
        nan: special && frac != 0,
    }
}

/// Rounds `sig` (leading one at bit `lead`) to 24 bits with result exponent `exp`,
/// at the subnormal position when `exp < 1`, then applies overflow and FTZ.
fn round_pack(sign: u32, exp: i32, sig: u128, lead: u32) -> u32 {
    let s = sign << 31;
    if exp >= 1 {
        let mut r = rne_shift_wide(sig, lead - 23);
        let mut e = exp;
        if r == 1 << 24 {
            r >>= 1;
            e += 1;
        }
        if e >= 0xFF {
            return s | INF;
        }
        s | ((e as u32) << 23) | (r as u32 & 0x7F_FFFF)
    } else {
        let shift = (lead - 23) as u64 + (1 - exp) as u64;
        let r = rne_shift_wide(sig, shift.min(127) as u32);
        // Only a carry all the way to 2^-126 survives the flush.
        if r == 1 << 23 {
            s | (1 << 23)
        } else {
            s
        }
    }
}

fn lead_bit(x: u128) -> u32 {
    127 - x.leading_zeros()
}

/// Binary32 product, RNE, DAZ/FTZ, canonical NaN.
pub fn mul(a: u32, b: u32) -> u32 {
    let (x, y) = (unpack(a), unpack(b));
    let sign = x.sign ^ y.sign;
    if x.nan || y.nan || (x.inf && y.zero) || (x.zero && y.inf) {
        return CANONICAL_NAN;
    }
    if x.inf || y.inf {
        return (sign << 31) | INF;
    }
    if x.zero || y.zero {
        return sign << 31;
    }
    let p = x.sig as u128 * y.sig as u128;
    let lead = lead_bit(p);
    // p's value is p * 2^(ex + ey - 254 - 46); with its leading one at `lead` the exponent is:
    let exp = x.exp as i32 + y.exp as i32 - 127 + (lead as i32 - 46);
    round_pack(sign, exp, p, lead)
}

/// Binary32 sum, RNE, DAZ/FTZ, canonical NaN; exact cancellation gives +0.
pub fn add(a: u32, b: u32) -> u32 {
    let (x, y) = (unpack(a), unpack(b));
    if x.nan || y.nan || (x.inf && y.inf && x.sign != y.sign) {
        return CANONICAL_NAN;
    }
    if x.inf || y.inf {
        return if x.inf { (x.sign << 31) | INF } else { (y.sign << 31) | INF };
    }
    match (x.zero, y.zero) {
        (true, true) => return (x.sign & y.sign) << 31,
        (true, false) => return (y.sign << 31) | (y.exp << 23) | (y.sig & 0x7F_FFFF),
        (false, true) => return (x.sign << 31) | (x.exp << 23) | (x.sig & 0x7F_FFFF),
        _ => {}
    }
    // Order by magnitude so the difference is non-negative.
    let (big, small) = if (x.exp, x.sig) >= (y.exp, y.sig) { (x, y) } else { (y, x) };
    let d = big.exp - small.exp;
    let xb = (big.sig as u128) << 64;
    // Beyond 64 bits of shift the small operand only acts as a sticky bit far below rounding.
    let ys = if d > 64 { 1 } else { (small.sig as u128) << (64 - d) };
    let sum = if big.sign == small.sign { xb + ys } else { xb - ys };
    if sum == 0 {
        return 0;
    }
    let lead = lead_bit(sum);
    let exp = big.exp as i32 + lead as i32 - 87;
    round_pack(big.sign, exp, sum, lead)
}
