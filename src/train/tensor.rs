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
    transpose_map(a, rows, cols, |x| x)
}

/// Transpose of a row-major rows x cols matrix with `f` applied to every element.
pub fn transpose_map<T: Copy + Send + Sync, U: Copy + Default + Send>(
    a: &[T],
    rows: usize,
    cols: usize,
    f: impl Fn(T) -> U + Sync,
) -> Vec<U> {
    use rayon::prelude::*;
    assert_eq!(a.len(), rows * cols);
    let mut t = vec![U::default(); a.len()];
    // Blocks of B output rows (input columns), each filled in B x B tiles so both sides stay in cache.
    const B: usize = 32;
    t.par_chunks_mut((B * rows).max(1)).enumerate().for_each(|(blk, out)| {
        let j0 = blk * B;
        let j1 = (j0 + B).min(cols);
        // The next block's reads: `rows` runs lying `cols` apart (see `prefetch`).
        for i in 0..rows {
            crate::golden::simd::prefetch(a.get(i * cols + j1..(i * cols + j1 + B).min((i + 1) * cols)).unwrap_or(&[]));
        }
        for i0 in (0..rows).step_by(B) {
            for j in j0..j1 {
                for i in i0..(i0 + B).min(rows) {
                    out[(j - j0) * rows + i] = f(a[i * cols + j]);
                }
            }
        }
    });
    t
}
