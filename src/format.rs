//! Input number formats `eXmY`: parsing, decoding codes to binary32 and RNE encoding into F_in.

use crate::error::InputError;
use std::fmt;

/// Smallest and largest exponent width daa-gen allows.
pub const EXP_BITS_RANGE: (u32, u32) = (2, 8);
/// Smallest and largest fraction width daa-gen allows.
pub const FRAC_BITS_RANGE: (u32, u32) = (1, 23);

/// Canonical quiet NaN of binary32 (docs/arithmetic.md section 2, amendment 3).
pub const CANONICAL_NAN: u32 = 0x7FC0_0000;

/// A floating-point input format: sign, `exp_bits` exponent bits, `frac_bits` fraction bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Format {
    exp_bits: u32,
    frac_bits: u32,
}

/// Named formats and their `eXmY` shapes.
pub const PRESETS: [(&str, u32, u32); 4] = [("fp32", 8, 23), ("tf32", 8, 10), ("bf16", 8, 7), ("fp16", 5, 10)];

/// The text shown wherever a format is rejected.
pub const FORMAT_ALLOWED: &str = "fp32, tf32, bf16, fp16, or eXmY with 2 <= X <= 8 and 1 <= Y <= 23 (e.g. e5m2)";

impl Format {
    /// IEEE binary32, the default input format.
    pub const FP32: Format = Format { exp_bits: 8, frac_bits: 23 };
    /// bfloat16.
    pub const BF16: Format = Format { exp_bits: 8, frac_bits: 7 };
    /// IEEE binary16.
    pub const FP16: Format = Format { exp_bits: 5, frac_bits: 10 };
    /// NVIDIA TensorFloat-32 (19 bits).
    pub const TF32: Format = Format { exp_bits: 8, frac_bits: 10 };

    /// A format from its field widths, checked against the allowed range.
    pub fn new(exp_bits: u32, frac_bits: u32) -> Result<Format, InputError> {
        let ok = (EXP_BITS_RANGE.0..=EXP_BITS_RANGE.1).contains(&exp_bits)
            && (FRAC_BITS_RANGE.0..=FRAC_BITS_RANGE.1).contains(&frac_bits);
        if ok {
            Ok(Format { exp_bits, frac_bits })
        } else {
            Err(InputError::field("format", &format!("e{exp_bits}m{frac_bits}"), FORMAT_ALLOWED))
        }
    }

    /// Parses a preset name or `eXmY` (case-insensitive).
    pub fn parse(text: &str) -> Result<Format, InputError> {
        let t = text.trim().to_ascii_lowercase();
        if let Some(&(_, x, y)) = PRESETS.iter().find(|p| p.0 == t) {
            return Format::new(x, y);
        }
        let bad = || InputError::field("format", text, FORMAT_ALLOWED);
        let rest = t.strip_prefix('e').ok_or_else(bad)?;
        let (x, y) = rest.split_once('m').ok_or_else(bad)?;
        let x: u32 = x.parse().map_err(|_| bad())?;
        let y: u32 = y.parse().map_err(|_| bad())?;
        Format::new(x, y).map_err(|_| bad())
    }

    /// Exponent field width X.
    #[inline]
    pub fn exp_bits(self) -> u32 {
        self.exp_bits
    }
    /// Fraction field width Y.
    #[inline]
    pub fn frac_bits(self) -> u32 {
        self.frac_bits
    }
    /// Total code width 1 + X + Y.
    #[inline]
    pub fn width(self) -> u32 {
        1 + self.exp_bits + self.frac_bits
    }
    /// IEEE exponent bias 2^(X-1) - 1.
    #[inline]
    pub fn bias(self) -> i32 {
        (1 << (self.exp_bits - 1)) - 1
    }
    /// All-ones exponent field (Inf/NaN).
    #[inline]
    pub fn exp_max(self) -> u32 {
        (1 << self.exp_bits) - 1
    }
    /// Hex digits needed for one code.
    pub fn hex_digits(self) -> usize {
        self.width().div_ceil(4) as usize
    }
    /// Mask of the valid code bits.
    #[inline]
    pub fn code_mask(self) -> u32 {
        if self.width() == 32 {
            u32::MAX
        } else {
            (1u32 << self.width()) - 1
        }
    }
    /// True when the product of two significands fits binary32 exactly (2(Y+1) <= 24).
    pub fn product_is_exact(self) -> bool {
        2 * (self.frac_bits + 1) <= 24
    }
    /// The preset name if there is one, else `eXmY`.
    pub fn name(self) -> String {
        PRESETS
            .iter()
            .find(|p| p.1 == self.exp_bits && p.2 == self.frac_bits)
            .map(|p| p.0.to_string())
            .unwrap_or_else(|| format!("e{}m{}", self.exp_bits, self.frac_bits))
    }

    /// Default low-path width: 7 (bf16-width multiplier) above 16 bits, 3 at 16 bits or less, never above Y-1.
    pub fn default_lo_bits(self) -> u32 {
        let wanted = if self.width() > 16 { 7 } else { 3 };
        wanted.min(self.frac_bits - 1)
    }

    /// Sign bit of a code.
    #[inline]
    pub fn sign(self, code: u32) -> u32 {
        (code >> (self.width() - 1)) & 1
    }
    /// Raw biased exponent field of a code.
    #[inline]
    pub fn exp_field(self, code: u32) -> u32 {
        (code >> self.frac_bits) & self.exp_max()
    }
    /// Fraction field of a code.
    #[inline]
    pub fn frac_field(self, code: u32) -> u32 {
        code & ((1 << self.frac_bits) - 1)
    }

    /// Widens a code exactly to binary32 bits, with DAZ and canonical NaN.
    ///
    /// Written with selects rather than branches: operand decoding runs over whole
    /// matrices of random data, where branches mispredict.
    #[inline(always)]
    pub fn decode_bits(self, code: u32) -> u32 {
        let s = self.sign(code) << 31;
        let e = self.exp_field(code);
        let f = self.frac_field(code);
        let normal = s | ((e + (127 - self.bias()) as u32) << 23) | (f << (23 - self.frac_bits));
        let special = if f == 0 { s | 0x7F80_0000 } else { CANONICAL_NAN };
        let nonzero = if e == self.exp_max() { special } else { normal };
        if e == 0 {
            s
        } else {
            nonzero
        }
    }

    /// Widens a code exactly to binary32, with DAZ and canonical NaN.
    #[inline]
    pub fn decode(self, code: u32) -> f32 {
        f32::from_bits(self.decode_bits(code))
    }

    /// [`Format::encode_rne`] of every value, on every core for large slices (the training
    /// engine and the Python package round whole operand matrices with it).
    pub fn encode_rne_all(self, x: &[f32]) -> Vec<u32> {
        use rayon::prelude::*;
        const CHUNK: usize = 1 << 14;
        // Not zeroed first: on operands of tens of MB that pass cost as much as the rounding.
        let mut out: Vec<u32> = Vec::with_capacity(x.len());
        out.spare_capacity_mut().par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).for_each(|(o, x)| {
            if self.exp_bits == 8 {
                // A plain loop with the shift hoisted, so that it vectorises.
                let s = 23 - self.frac_bits;
                o.iter_mut().zip(x).for_each(|(o, v)| _ = o.write(encode_rne_e8(v.to_bits(), s)));
            } else {
                o.iter_mut().zip(x).for_each(|(o, &v)| _ = o.write(self.encode_rne_general(v)));
            }
        });
        // SAFETY: the chunks of `out` pair with those of `x`, of the same length, and every
        // element of each was written above.
        unsafe { out.set_len(x.len()) };
        out
    }

    /// Rounds a binary32 value to this format with round-to-nearest-even.
    ///
    /// A binary32 subnormal is read as zero first (DAZ). Results in F_in's subnormal
    /// range are rounded IEEE-style at the subnormal quantum and kept as subnormal codes
    /// (the reader flushes them); overflow gives Inf; NaN gives F_in's canonical quiet NaN.
    #[inline]
    pub fn encode_rne(self, x: f32) -> u32 {
        if self.exp_bits == 8 {
            return encode_rne_e8(x.to_bits(), 23 - self.frac_bits);
        }
        self.encode_rne_general(x)
    }

    /// [`Format::encode_rne`] without the 8-exponent-bit fast path (`encode_rne_e8`).
    fn encode_rne_general(self, x: f32) -> u32 {
        let bits = x.to_bits();
        let sign = (bits >> 31) << (self.width() - 1);
        let e32 = (bits >> 23) & 0xFF;
        let f32_frac = bits & 0x7F_FFFF;
        let y = self.frac_bits;
        if e32 == 0xFF {
            return if f32_frac == 0 { sign | (self.exp_max() << y) } else { (self.exp_max() << y) | (1 << (y - 1)) };
        }
        if e32 == 0 {
            return sign;
        }
        let sig = (1u64 << 23) | f32_frac as u64;
        let e_in = e32 as i32 - 127 + self.bias();
        let mag = if e_in >= 1 {
            let r = rne_shift(sig, 23 - y);
            // A carry out of the significand bumps the exponent; the sum below does it.
            let code = ((e_in as u64) << y) + r - (1u64 << y);
            code.min((self.exp_max() as u64) << y)
        } else {
            // Subnormal range: quantum 2^(1-bias-Y); a carry reaches the min normal by itself.
            rne_shift(sig, 23 - y + (1 - e_in) as u32)
        };
        sign | mag as u32
    }

    /// Checks that every code fits the format's width (codes are rejected, not masked).
    ///
    /// The error names the first offending value and its flat (row-major) index.
    pub fn check_codes(self, codes: impl IntoIterator<Item = u32>) -> Result<(), InputError> {
        match codes.into_iter().enumerate().find(|&(_, c)| c & !self.code_mask() != 0) {
            None => Ok(()),
            Some((i, c)) => Err(InputError::msg(format!(
                "value {c:#x} at flat index {i} does not fit a {}-bit {self} code",
                self.width()
            ))),
        }
    }

    /// Decodes a code into its fields for human-readable reports.
    pub fn describe(self, code: u32) -> String {
        let e = self.exp_field(code);
        let f = self.frac_field(code);
        let class = if e == 0 && f == 0 {
            "zero"
        } else if e == 0 {
            "subnormal(DAZ->0)"
        } else if e == self.exp_max() && f == 0 {
            "inf"
        } else if e == self.exp_max() {
            "nan"
        } else {
            "normal"
        };
        format!(
            "{:0w$x} [{} s={} e={:#x} f={:#x} {}] = {:e}",
            code,
            self.name(),
            self.sign(code),
            e,
            f,
            class,
            self.decode(code),
            w = self.hex_digits()
        )
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// [`Format::encode_rne`] for a format with binary32's 8 exponent bits (binary32, TF32,
/// bfloat16, any e8mY), `s` = 23 - Y fraction bits dropped: the exponent field and bias are
/// binary32's, so RNE is one integer add on the bit pattern (a carry out of the fraction
/// bumps the exponent, and the largest finite value rounds up to Inf by itself). Subnormal
/// inputs are zeros (DAZ), NaN the canonical quiet NaN. Hot in training (every operand of
/// every GEMM), so written as selects the compiler can vectorise, not early returns.
#[inline(always)]
fn encode_rne_e8(bits: u32, s: u32) -> u32 {
    let mag = bits & 0x7FFF_FFFF;
    // s = 0 (binary32 itself): nothing to round.
    let round = ((1u32 << s) >> 1).saturating_sub(1) + ((bits >> s) & 1 & (s != 0) as u32);
    // No wrap for finite values and Inf: mag + round <= 0x7F80_0000 + 2^21.
    let r = bits.wrapping_add(round) >> s;
    if mag > 0x7F80_0000 {
        0x7FC0_0000 >> s
    } else if mag < 0x0080_0000 {
        (bits & 0x8000_0000) >> s
    } else {
        r
    }
}

/// Shifts `m` right by `s` bits with round-to-nearest-even.
pub fn rne_shift(m: u64, s: u32) -> u64 {
    rne_shift_wide(m as u128, s) as u64
}

/// [`rne_shift`] on 128 bits, for the integer softfloat's exact sums and products.
pub fn rne_shift_wide(m: u128, s: u32) -> u128 {
    if s == 0 {
        return m;
    }
    if s >= 127 {
        return 0;
    }
    let q = m >> s;
    let rem = m & ((1u128 << s) - 1);
    let half = 1u128 << (s - 1);
    if rem > half || (rem == half && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

/// Describes binary32 bits field by field for human-readable reports.
pub fn describe_f32(bits: u32) -> String {
    let e = (bits >> 23) & 0xFF;
    let f = bits & 0x7F_FFFF;
    let class = match (e, f) {
        (0, 0) => "zero",
        (0, _) => "subnormal",
        (0xFF, 0) => "inf",
        (0xFF, _) => "nan",
        _ => "normal",
    };
    format!("{:08x} [s={} e={:#04x} f={:#08x} {}] = {:e}", bits, bits >> 31, e, f, class, f32::from_bits(bits))
}

#[cfg(test)]
mod tests {
    use super::Format;

    /// The 8-exponent-bit path of `encode_rne` (and `encode_rne_all`) equals the general
    /// rounding path for every e8mY, on special values, ties and random patterns.
    #[test]
    fn e8_path_equals_general_path() {
        let mut x = 0x9E37_79B9_u32;
        let specials = [
            0u32,
            0x8000_0000,
            1,
            0x807F_FFFF,
            0x0080_0000,
            0x7F7F_FFFF,
            0x7F80_0000,
            0xFF80_0000,
            0x7F80_0001,
            0xFFC0_0000,
        ];
        for i in 0..2_000_000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let bits = specials.get(i as usize).copied().unwrap_or(x);
            let v = f32::from_bits(bits);
            for y in 1..=23 {
                let f = Format::new(8, y).unwrap();
                // Ties and near-ties at this format's rounding position, and the value itself.
                let s = 23 - y;
                let tie = if s == 0 { bits } else { (bits & !((1u32 << s) - 1)) | (1 << (s - 1)) };
                for b in [bits, tie, tie.wrapping_sub(1), tie.wrapping_add(1)] {
                    let v = f32::from_bits(b);
                    assert_eq!(f.encode_rne(v), f.encode_rne_general(v), "e8m{y} {b:#010x}");
                }
            }
            assert_eq!(Format::FP32.encode_rne(v), Format::FP32.encode_rne_general(v), "{bits:#010x}");
        }
        let xs: Vec<f32> = (0..100_000u32).map(|i| f32::from_bits(i.wrapping_mul(0x9E37_79B9))).collect();
        for f in [Format::BF16, Format::FP32, Format::new(5, 10).unwrap()] {
            let all = f.encode_rne_all(&xs);
            assert!(xs.iter().zip(&all).all(|(&v, &c)| c == f.encode_rne_general(v)), "{f}");
        }
    }
}
