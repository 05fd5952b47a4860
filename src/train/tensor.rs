//! The one tensor type of training: a dense NCHW array of binary32 values.

/// A batch of feature maps in NCHW order (a vector batch is N x C x 1 x 1).
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Batch size.
    pub n: usize,
    /// Channels (or features).
    pub c: usize,
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
    /// Values, NCHW.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor of zeros.
    pub fn zeros(n: usize, c: usize, h: usize, w: usize) -> Tensor {
        Tensor { n, c, h, w, data: vec![0.0; n * c * h * w] }
    }

    /// Wraps `data`, which must hold n*c*h*w values.
    pub fn from_vec(n: usize, c: usize, h: usize, w: usize, data: Vec<f32>) -> Tensor {
        assert_eq!(data.len(), n * c * h * w, "tensor data must match its shape");
        Tensor { n, c, h, w, data }
    }

    /// Values per sample (c*h*w).
    pub fn sample_len(&self) -> usize {
        self.c * self.h * self.w
    }

    /// Values per feature map (h*w).
    pub fn plane(&self) -> usize {
        self.h * self.w
    }

    /// The same values seen as N x (C*H*W) x 1 x 1.
    pub fn flattened(self) -> Tensor {
        let c = self.sample_len();
        Tensor { n: self.n, c, h: 1, w: 1, data: self.data }
    }

    /// The same values with another shape of the same size.
    pub fn reshaped(self, c: usize, h: usize, w: usize) -> Tensor {
        assert_eq!(c * h * w, self.sample_len(), "reshape must keep the sample size");
        Tensor { n: self.n, c, h, w, data: self.data }
    }

    /// Whether every value is finite.
    pub fn all_finite(&self) -> bool {
        self.data.iter().all(|x| x.is_finite())
    }
}

/// Transpose of a row-major rows x cols matrix.
pub fn transpose(a: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    // SAFETY: f32 and u32 have the same size and alignment, and every bit pattern is a u32.
    let bits = unsafe { std::slice::from_raw_parts(a.as_ptr().cast::<u32>(), a.len()) };
    transpose_u32(bits, rows, cols).into_iter().map(f32::from_bits).collect()
}

/// Transpose of a row-major rows x cols matrix of 32-bit codes (or binary32 bit patterns).
///
/// The training GEMMs transpose operands of up to 58 MB (a weight gradient's im2col
/// columns, 50,176 x 288); element by element this took about a tenth of a golden epoch.
/// Whole 8 x 8 tiles go through AVX registers, the output is not zeroed before it is
/// written, and each task fills 32 output rows, reading 8 input rows at a time.
pub fn transpose_u32(a: &[u32], rows: usize, cols: usize) -> Vec<u32> {
    use rayon::prelude::*;
    use std::mem::MaybeUninit;
    assert_eq!(a.len(), rows * cols);
    const B: usize = 32;
    let tiles = tile8_available();
    let mut t: Vec<u32> = Vec::with_capacity(a.len());
    t.spare_capacity_mut().par_chunks_mut((B * rows).max(1)).enumerate().for_each(|(blk, out)| {
        let (j0, j1) = (blk * B, (blk * B + B).min(cols));
        // The next block's reads: `rows` runs lying `cols` apart (see `prefetch`).
        for i in 0..rows {
            crate::golden::simd::prefetch(a.get(i * cols + j1..(i * cols + j1 + B).min((i + 1) * cols)).unwrap_or(&[]));
        }
        for i0 in (0..rows).step_by(8) {
            let i1 = (i0 + 8).min(rows);
            let mut j = j0;
            if tiles && i1 - i0 == 8 {
                while j + 8 <= j1 {
                    let src = &a[i0 * cols + j..][..7 * cols + 8];
                    let dst: &mut [MaybeUninit<u32>] = &mut out[(j - j0) * rows + i0..][..7 * rows + 8];
                    // SAFETY: the CPU has AVX (`tile8_available`); the slices hold the 8 rows
                    // of 8 that the tile reads (stride `cols`) and writes (stride `rows`).
                    #[cfg(target_arch = "x86_64")]
                    unsafe {
                        tile8(src.as_ptr(), cols, dst.as_mut_ptr().cast(), rows)
                    };
                    j += 8;
                }
            }
            for jj in j..j1 {
                for i in i0..i1 {
                    out[(jj - j0) * rows + i].write(a[i * cols + jj]);
                }
            }
        }
    });
    // SAFETY: the blocks of B output rows cover all `cols` of them, and each block writes
    // every one of its `rows` columns (8 at a time, whole tiles or element by element).
    unsafe { t.set_len(a.len()) };
    t
}

/// Whether [`tile8`] can run on this CPU.
fn tile8_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Transposes one 8 x 8 tile: row r of `src` (8 values at `src + r * src_stride`) becomes
/// column r of `dst` (`dst + c * dst_stride + r`), with the textbook unpack / shuffle /
/// lane-permute sequence.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn tile8(src: *const u32, src_stride: usize, dst: *mut u32, dst_stride: usize) {
    use std::arch::x86_64::*;
    let row = |r: usize| _mm256_loadu_ps(src.add(r * src_stride).cast());
    let (r0, r1, r2, r3, r4, r5, r6, r7) = (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7));
    let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
    let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
    let (t4, t5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5));
    let (t6, t7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7));
    let (s0, s1) = (_mm256_shuffle_ps::<0x44>(t0, t2), _mm256_shuffle_ps::<0xEE>(t0, t2));
    let (s2, s3) = (_mm256_shuffle_ps::<0x44>(t1, t3), _mm256_shuffle_ps::<0xEE>(t1, t3));
    let (s4, s5) = (_mm256_shuffle_ps::<0x44>(t4, t6), _mm256_shuffle_ps::<0xEE>(t4, t6));
    let (s6, s7) = (_mm256_shuffle_ps::<0x44>(t5, t7), _mm256_shuffle_ps::<0xEE>(t5, t7));
    let out = [
        _mm256_permute2f128_ps::<0x20>(s0, s4),
        _mm256_permute2f128_ps::<0x20>(s1, s5),
        _mm256_permute2f128_ps::<0x20>(s2, s6),
        _mm256_permute2f128_ps::<0x20>(s3, s7),
        _mm256_permute2f128_ps::<0x31>(s0, s4),
        _mm256_permute2f128_ps::<0x31>(s1, s5),
        _mm256_permute2f128_ps::<0x31>(s2, s6),
        _mm256_permute2f128_ps::<0x31>(s3, s7),
    ];
    for (c, v) in out.into_iter().enumerate() {
        _mm256_storeu_ps(dst.add(c * dst_stride).cast(), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shape class: whole 8 x 8 tiles, ragged rows and columns, blocks of 32, one row,
    /// one column, empty; checked against the definition.
    #[test]
    fn transpose_matches_the_definition() {
        for (rows, cols) in [(8, 8), (16, 64), (9, 50), (288, 37), (7, 40), (1, 33), (33, 1), (64, 72), (0, 5), (5, 0)]
        {
            let a: Vec<u32> = (0..rows * cols).map(|x| (x as u32).wrapping_mul(2_654_435_761)).collect();
            let t = transpose_u32(&a, rows, cols);
            assert_eq!(t.len(), a.len());
            for i in 0..rows {
                for j in 0..cols {
                    assert_eq!(t[j * rows + i], a[i * cols + j], "{rows} x {cols}: ({i}, {j})");
                }
            }
            let f: Vec<f32> = a.iter().map(|&x| f32::from_bits(x)).collect();
            let tf: Vec<u32> = transpose(&f, rows, cols).iter().map(|x| x.to_bits()).collect();
            assert_eq!(tf, t, "{rows} x {cols}: binary32 bit patterns, NaNs included");
        }
    }
}
