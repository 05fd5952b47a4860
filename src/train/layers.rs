//! Layers with forward and backward passes. Conv and linear GEMMs (forward,
//! backward-data, backward-weight) go through the [`Engine`]; everything else is binary32.

use super::engine::Engine;
use super::tensor::{transpose, Tensor};
use rand::Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

/// A trainable array with its gradient and momentum buffer.
#[derive(Clone, Debug)]
pub struct Param {
    /// Master weights (binary32).
    pub value: Vec<f32>,
    /// Gradient of the last backward pass.
    pub grad: Vec<f32>,
    /// SGD momentum buffer.
    pub momentum: Vec<f32>,
    /// Whether weight decay applies (not to biases and batch-norm parameters).
    pub decay: bool,
}

impl Param {
    /// A parameter with the given initial values.
    pub fn new(value: Vec<f32>, decay: bool) -> Param {
        let n = value.len();
        Param { value, grad: vec![0.0; n], momentum: vec![0.0; n], decay }
    }

    /// He-normal initial weights: N(0, 2 / fan_in).
    pub fn he(len: usize, fan_in: usize, rng: &mut impl Rng) -> Param {
        let std = (2.0 / fan_in as f64).sqrt() as f32;
        Param::new((0..len).map(|_| std * rng.sample::<f32, _>(StandardNormal)).collect(), true)
    }
}

/// A layer of a network.
pub trait Layer: Send {
    /// Computes the output; `train` selects batch statistics (batch norm) and keeps what backward needs.
    fn forward(&mut self, x: Tensor, eng: &mut Engine, train: bool) -> Tensor;
    /// Takes dL/d(output), fills the parameter gradients, returns dL/d(input).
    fn backward(&mut self, g: Tensor, eng: &mut Engine) -> Tensor;
    /// The trainable parameters.
    fn params(&mut self) -> Vec<&mut Param> {
        Vec::new()
    }
    /// State that is not a parameter but carries over between steps (batch norm's running
    /// statistics): what a checkpoint keeps besides the parameters.
    fn state(&mut self) -> Vec<&mut Vec<f32>> {
        Vec::new()
    }
    /// A short description, e.g. `conv 1->6 k5`.
    fn describe(&self) -> String;
}

/// Layers applied one after the other.
pub struct Seq(pub Vec<Box<dyn Layer>>);

impl Layer for Seq {
    fn forward(&mut self, mut x: Tensor, eng: &mut Engine, train: bool) -> Tensor {
        for l in &mut self.0 {
            x = l.forward(x, eng, train);
        }
        x
    }
    fn backward(&mut self, mut g: Tensor, eng: &mut Engine) -> Tensor {
        for l in self.0.iter_mut().rev() {
            g = l.backward(g, eng);
        }
        g
    }
    fn params(&mut self) -> Vec<&mut Param> {
        self.0.iter_mut().flat_map(|l| l.params()).collect()
    }
    fn state(&mut self) -> Vec<&mut Vec<f32>> {
        self.0.iter_mut().flat_map(|l| l.state()).collect()
    }
    fn describe(&self) -> String {
        self.0.iter().map(|l| l.describe()).collect::<Vec<_>>().join(", ")
    }
}

/// 2-D convolution (square kernel, stride, zero padding) as im2col + GEMM.
pub struct Conv2d {
    cin: usize,
    cout: usize,
    k: usize,
    stride: usize,
    pad: usize,
    /// Weights, cout x (cin*k*k).
    pub w: Param,
    /// Bias per output channel (absent before batch norm).
    pub b: Option<Param>,
    cols: Vec<f32>,
    in_shape: (usize, usize, usize),
    input_grad: bool,
}

impl Conv2d {
    /// A He-initialised convolution.
    pub fn new(cin: usize, cout: usize, k: usize, stride: usize, pad: usize, bias: bool, rng: &mut impl Rng) -> Conv2d {
        let fan_in = cin * k * k;
        let w = Param::he(cout * fan_in, fan_in, rng);
        let b = bias.then(|| Param::new(vec![0.0; cout], false));
        Conv2d { cin, cout, k, stride, pad, w, b, cols: Vec::new(), in_shape: (0, 0, 0), input_grad: true }
    }

    /// A first layer: backward skips the input gradient (no GEMM; zeros are returned).
    pub fn without_input_grad(mut self) -> Conv2d {
        self.input_grad = false;
        self
    }

    fn out_hw(&self, h: usize, w: usize) -> (usize, usize) {
        ((h + 2 * self.pad - self.k) / self.stride + 1, (w + 2 * self.pad - self.k) / self.stride + 1)
    }

    /// The output positions o in 0..out whose input position o * stride + off - pad lies in
    /// 0..len: the taps that miss the padding, found once per kernel offset instead of
    /// tested per element (which kept the copies below from vectorising).
    fn taps(&self, off: usize, len: usize, out: usize) -> std::ops::Range<usize> {
        let s = self.stride;
        let lo = self.pad.saturating_sub(off).div_ceil(s);
        let hi = (len + self.pad).checked_sub(off + 1).map_or(0, |last| (last / s + 1).min(out));
        lo..hi.max(lo)
    }

    /// im2col: rows (ci, ky, kx), columns (n, oy, ox).
    fn im2col(&self, x: &Tensor) -> Vec<f32> {
        let (ho, wo) = self.out_hw(x.h, x.w);
        let (s, pad) = (self.stride, self.pad);
        let cols_n = x.n * ho * wo;
        let mut cols = vec![0f32; self.cin * self.k * self.k * cols_n];
        cols.par_chunks_mut(cols_n).enumerate().for_each(|(row, out)| {
            let (ci, ky, kx) = (row / (self.k * self.k), (row / self.k) % self.k, row % self.k);
            let (oys, oxs) = (self.taps(ky, x.h, ho), self.taps(kx, x.w, wo));
            if oys.is_empty() || oxs.is_empty() {
                return; // the offset only ever meets padding (and an empty range may not slice)
            }
            for (n, dst) in out.chunks_exact_mut(ho * wo).enumerate() {
                let plane = &x.data[(n * x.c + ci) * x.plane()..][..x.plane()];
                for oy in oys.clone() {
                    let src = &plane[(oy * s + ky - pad) * x.w..][..x.w];
                    let dst = &mut dst[oy * wo..][..wo];
                    if s == 1 {
                        dst[oxs.clone()].copy_from_slice(&src[oxs.start + kx - pad..oxs.end + kx - pad]);
                    } else {
                        for ox in oxs.clone() {
                            dst[ox] = src[ox * s + kx - pad];
                        }
                    }
                }
            }
        });
        cols
    }

    /// col2im: sums the column gradients back into the input planes. Each input element
    /// receives its terms in (ky, kx) order, as the inner loops run over distinct elements.
    fn col2im(&self, dcols: &[f32], n: usize, h: usize, w: usize) -> Tensor {
        let (ho, wo) = self.out_hw(h, w);
        let (s, pad) = (self.stride, self.pad);
        let cols_n = n * ho * wo;
        let mut dx = Tensor::zeros(n, self.cin, h, w);
        dx.data.par_chunks_mut(h * w).enumerate().for_each(|(nc, plane)| {
            let (ni, ci) = (nc / self.cin, nc % self.cin);
            for ky in 0..self.k {
                for kx in 0..self.k {
                    let row = &dcols[((ci * self.k + ky) * self.k + kx) * cols_n..][..cols_n];
                    let (oys, oxs) = (self.taps(ky, h, ho), self.taps(kx, w, wo));
                    if oxs.is_empty() {
                        continue; // the offset only ever meets padding (and an empty range may not slice)
                    }
                    for oy in oys {
                        let src = &row[(ni * ho + oy) * wo..][..wo];
                        let dst = &mut plane[(oy * s + ky - pad) * w..][..w];
                        if s == 1 {
                            let dst = &mut dst[oxs.start + kx - pad..oxs.end + kx - pad];
                            for (d, g) in dst.iter_mut().zip(&src[oxs.clone()]) {
                                *d += g;
                            }
                        } else {
                            for ox in oxs.clone() {
                                dst[ox * s + kx - pad] += src[ox];
                            }
                        }
                    }
                }
            }
        });
        dx
    }
}

/// NCHW (n, c, plane) -> matrix c x (n*plane).
fn channels_major(x: &Tensor) -> Vec<f32> {
    let p = x.plane();
    let mut m = vec![0f32; x.data.len()];
    m.par_chunks_mut(x.n * p).enumerate().for_each(|(c, row)| {
        for n in 0..x.n {
            row[n * p..(n + 1) * p].copy_from_slice(&x.data[(n * x.c + c) * p..][..p]);
        }
    });
    m
}

/// Matrix c x (n*plane) -> NCHW, adding `bias[c]` when given.
fn from_channels_major(m: &[f32], n: usize, c: usize, h: usize, w: usize, bias: Option<&[f32]>) -> Tensor {
    let p = h * w;
    let mut t = Tensor::zeros(n, c, h, w);
    t.data.par_chunks_mut(p).enumerate().for_each(|(nc, plane)| {
        let (ni, ci) = (nc / c, nc % c);
        let b = bias.map_or(0.0, |b| b[ci]);
        for (d, &s) in plane.iter_mut().zip(&m[ci * n * p + ni * p..][..p]) {
            *d = s + b;
        }
    });
    t
}

/// Sum of each row of a rows x cols matrix (binary32, in order).
fn row_sums(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    (0..rows).map(|r| m[r * cols..(r + 1) * cols].iter().sum()).collect()
}

impl Layer for Conv2d {
    fn forward(&mut self, x: Tensor, eng: &mut Engine, train: bool) -> Tensor {
        assert_eq!(x.c, self.cin, "conv input channels");
        let (ho, wo) = self.out_hw(x.h, x.w);
        let kk = self.cin * self.k * self.k;
        let cols = self.im2col(&x);
        let out = eng.matmul(&self.w.value, self.cout, kk, &cols, x.n * ho * wo);
        if train {
            self.cols = cols;
            self.in_shape = (x.n, x.h, x.w);
        }
        from_channels_major(&out, x.n, self.cout, ho, wo, self.b.as_ref().map(|b| &b.value[..]))
    }

    fn backward(&mut self, g: Tensor, eng: &mut Engine) -> Tensor {
        let (n, h, w) = self.in_shape;
        let kk = self.cin * self.k * self.k;
        let cols_n = g.n * g.plane();
        let gm = channels_major(&g);
        self.w.grad = eng.matmul_t(&gm, false, &self.cols, true, self.cout, cols_n, kk);
        if let Some(b) = &mut self.b {
            b.grad = row_sums(&gm, self.cout, cols_n);
        }
        self.cols = Vec::new();
        if !self.input_grad {
            return Tensor::zeros(n, self.cin, h, w);
        }
        let dcols = eng.matmul_t(&self.w.value, true, &gm, false, kk, self.cout, cols_n);
        self.col2im(&dcols, n, h, w)
    }

    fn params(&mut self) -> Vec<&mut Param> {
        let mut v = vec![&mut self.w];
        if let Some(b) = &mut self.b {
            v.push(b);
        }
        v
    }

    fn describe(&self) -> String {
        format!("conv {}->{} k{} s{} p{}", self.cin, self.cout, self.k, self.stride, self.pad)
    }
}

/// Fully connected layer: y = x W^T + b.
pub struct Linear {
    fin: usize,
    fout: usize,
    /// Weights, fout x fin.
    pub w: Param,
    /// Bias.
    pub b: Param,
    x: Vec<f32>,
}

impl Linear {
    /// A He-initialised linear layer.
    pub fn new(fin: usize, fout: usize, rng: &mut impl Rng) -> Linear {
        Linear { fin, fout, w: Param::he(fout * fin, fin, rng), b: Param::new(vec![0.0; fout], false), x: Vec::new() }
    }
}

impl Layer for Linear {
    fn forward(&mut self, x: Tensor, eng: &mut Engine, train: bool) -> Tensor {
        assert_eq!(x.sample_len(), self.fin, "linear input features");
        let mut y = eng.matmul_t(&x.data, false, &self.w.value, true, x.n, self.fin, self.fout);
        for row in y.chunks_mut(self.fout) {
            for (v, b) in row.iter_mut().zip(&self.b.value) {
                *v += b;
            }
        }
        let n = x.n;
        if train {
            self.x = x.data;
        }
        Tensor::from_vec(n, self.fout, 1, 1, y)
    }

    fn backward(&mut self, g: Tensor, eng: &mut Engine) -> Tensor {
        let n = g.n;
        self.w.grad = eng.matmul_t(&g.data, true, &self.x, false, self.fout, n, self.fin);
        self.b.grad = row_sums(&transpose(&g.data, n, self.fout), self.fout, n);
        let dx = eng.matmul(&g.data, n, self.fout, &self.w.value, self.fin);
        self.x = Vec::new();
        Tensor::from_vec(n, self.fin, 1, 1, dx)
    }

    fn params(&mut self) -> Vec<&mut Param> {
        vec![&mut self.w, &mut self.b]
    }

    fn describe(&self) -> String {
        format!("linear {}->{}", self.fin, self.fout)
    }
}

/// max(x, 0).
#[derive(Default)]
pub struct Relu {
    mask: Vec<bool>,
}

impl Layer for Relu {
    fn forward(&mut self, mut x: Tensor, _: &mut Engine, train: bool) -> Tensor {
        if train {
            self.mask = x.data.iter().map(|&v| v > 0.0).collect();
        }
        x.data.iter_mut().for_each(|v| *v = v.max(0.0));
        x
    }
    fn backward(&mut self, mut g: Tensor, _: &mut Engine) -> Tensor {
        // A select, not a conditional store: this form vectorises (7 % of a resnet-mini epoch before).
        for (v, &m) in g.data.iter_mut().zip(&self.mask) {
            *v = if m { *v } else { 0.0 };
        }
        g
    }
    fn describe(&self) -> String {
        "relu".into()
    }
}

/// 2x2 max pooling with stride 2 (odd edges dropped).
#[derive(Default)]
pub struct MaxPool2 {
    argmax: Vec<usize>,
    in_shape: (usize, usize, usize, usize),
}

impl Layer for MaxPool2 {
    fn forward(&mut self, x: Tensor, _: &mut Engine, train: bool) -> Tensor {
        let (ho, wo) = (x.h / 2, x.w / 2);
        let mut y = Tensor::zeros(x.n, x.c, ho, wo);
        let mut arg = vec![0usize; y.data.len()];
        let po = ho * wo;
        y.data.par_chunks_mut(po.max(1)).zip(arg.par_chunks_mut(po.max(1))).enumerate().for_each(|(nc, (yp, ap))| {
            let base = nc * x.plane();
            for oy in 0..ho {
                for ox in 0..wo {
                    let mut best = base + 2 * oy * x.w + 2 * ox;
                    for (dy, dx) in [(0, 1), (1, 0), (1, 1)] {
                        let i = base + (2 * oy + dy) * x.w + 2 * ox + dx;
                        // Strictly greater: the first maximum wins, as in PyTorch.
                        if x.data[i] > x.data[best] || x.data[best].is_nan() {
                            best = i;
                        }
                    }
                    yp[oy * wo + ox] = x.data[best];
                    ap[oy * wo + ox] = best;
                }
            }
        });
        if train {
            self.argmax = arg;
            self.in_shape = (x.n, x.c, x.h, x.w);
        }
        y
    }
    fn backward(&mut self, g: Tensor, _: &mut Engine) -> Tensor {
        let (n, c, h, w) = self.in_shape;
        let mut dx = Tensor::zeros(n, c, h, w);
        for (&i, &v) in self.argmax.iter().zip(&g.data) {
            dx.data[i] += v;
        }
        dx
    }
    fn describe(&self) -> String {
        "maxpool 2x2".into()
    }
}

/// Mean over each feature map: N x C x H x W -> N x C x 1 x 1.
#[derive(Default)]
pub struct GlobalAvgPool {
    hw: (usize, usize),
}

impl Layer for GlobalAvgPool {
    fn forward(&mut self, x: Tensor, _: &mut Engine, _: bool) -> Tensor {
        self.hw = (x.h, x.w);
        let p = x.plane();
        let data = x.data.chunks(p).map(|pl| pl.iter().sum::<f32>() / p as f32).collect();
        Tensor::from_vec(x.n, x.c, 1, 1, data)
    }
    fn backward(&mut self, g: Tensor, _: &mut Engine) -> Tensor {
        let (h, w) = self.hw;
        let p = h * w;
        let data = g.data.iter().flat_map(|&v| std::iter::repeat_n(v / p as f32, p)).collect();
        Tensor::from_vec(g.n, g.c, h, w, data)
    }
    fn describe(&self) -> String {
        "global avgpool".into()
    }
}

/// N x C x H x W -> N x (C*H*W) x 1 x 1.
#[derive(Default)]
pub struct Flatten {
    chw: (usize, usize, usize),
}

impl Layer for Flatten {
    fn forward(&mut self, x: Tensor, _: &mut Engine, _: bool) -> Tensor {
        self.chw = (x.c, x.h, x.w);
        x.flattened()
    }
    fn backward(&mut self, g: Tensor, _: &mut Engine) -> Tensor {
        g.reshaped(self.chw.0, self.chw.1, self.chw.2)
    }
    fn describe(&self) -> String {
        "flatten".into()
    }
}

/// Batch normalisation over (N, H, W) per channel; running statistics for eval mode.
pub struct BatchNorm2d {
    c: usize,
    /// Scale.
    pub gamma: Param,
    /// Shift.
    pub beta: Param,
    /// Running mean (eval mode).
    pub running_mean: Vec<f32>,
    /// Running variance, unbiased (eval mode).
    pub running_var: Vec<f32>,
    xhat: Vec<f32>,
    inv_std: Vec<f32>,
}

const BN_EPS: f32 = 1e-5;
const BN_MOMENTUM: f32 = 0.1;

impl BatchNorm2d {
    /// gamma = 1, beta = 0, running mean 0, running variance 1.
    pub fn new(c: usize) -> BatchNorm2d {
        BatchNorm2d {
            c,
            gamma: Param::new(vec![1.0; c], false),
            beta: Param::new(vec![0.0; c], false),
            running_mean: vec![0.0; c],
            running_var: vec![1.0; c],
            xhat: Vec::new(),
            inv_std: Vec::new(),
        }
    }
}

/// Sum over (n, plane) of channel `c`, per plane first, in a fixed order.
fn channel_sum(x: &Tensor, c: usize, f: impl Fn(usize) -> f32) -> f32 {
    let p = x.plane();
    (0..x.n).map(|n| (0..p).map(|i| f((n * x.c + c) * p + i)).sum::<f32>()).sum()
}

impl Layer for BatchNorm2d {
    fn forward(&mut self, mut x: Tensor, _: &mut Engine, train: bool) -> Tensor {
        assert_eq!(x.c, self.c, "batch-norm channels");
        let p = x.plane();
        let count = (x.n * p) as f32;
        let (mean, inv_std): (Vec<f32>, Vec<f32>) = if train {
            let stats: Vec<(f32, f32)> = (0..self.c)
                .into_par_iter()
                .map(|c| {
                    let mean = channel_sum(&x, c, |i| x.data[i]) / count;
                    (mean, channel_sum(&x, c, |i| (x.data[i] - mean) * (x.data[i] - mean)) / count)
                })
                .collect();
            for (c, &(mean, var)) in stats.iter().enumerate() {
                let unbiased = if count > 1.0 { var * count / (count - 1.0) } else { var };
                self.running_mean[c] = (1.0 - BN_MOMENTUM) * self.running_mean[c] + BN_MOMENTUM * mean;
                self.running_var[c] = (1.0 - BN_MOMENTUM) * self.running_var[c] + BN_MOMENTUM * unbiased;
            }
            stats.iter().map(|&(m, v)| (m, 1.0 / (v + BN_EPS).sqrt())).unzip()
        } else {
            (0..self.c).map(|c| (self.running_mean[c], 1.0 / (self.running_var[c] + BN_EPS).sqrt())).unzip()
        };
        let mut xhat = vec![0f32; x.data.len()];
        let (gamma, beta) = (&self.gamma.value, &self.beta.value);
        x.data.par_chunks_mut(p).zip(xhat.par_chunks_mut(p)).enumerate().for_each(|(nc, (plane, xh))| {
            let c = nc % self.c;
            for (v, h) in plane.iter_mut().zip(xh) {
                *h = (*v - mean[c]) * inv_std[c];
                *v = gamma[c] * *h + beta[c];
            }
        });
        if train {
            self.xhat = xhat;
            self.inv_std = inv_std;
        }
        x
    }

    fn backward(&mut self, mut g: Tensor, _: &mut Engine) -> Tensor {
        let p = g.plane();
        let count = (g.n * p) as f32;
        let xhat = Tensor::from_vec(g.n, g.c, g.h, g.w, std::mem::take(&mut self.xhat));
        let sums: Vec<(f32, f32)> = (0..self.c)
            .into_par_iter()
            .map(|c| (channel_sum(&g, c, |i| g.data[i]), channel_sum(&g, c, |i| g.data[i] * xhat.data[i])))
            .collect();
        for (c, &(sg, sgx)) in sums.iter().enumerate() {
            self.beta.grad[c] = sg;
            self.gamma.grad[c] = sgx;
        }
        let (gamma, inv_std) = (&self.gamma.value, &self.inv_std);
        g.data.par_chunks_mut(p).zip(xhat.data.par_chunks(p)).enumerate().for_each(|(nc, (plane, xh))| {
            let c = nc % self.c;
            let (sg, sgx) = sums[c];
            let k = gamma[c] * inv_std[c] / count;
            for (v, &h) in plane.iter_mut().zip(xh) {
                *v = k * (count * *v - sg - h * sgx);
            }
        });
        g
    }

    fn params(&mut self) -> Vec<&mut Param> {
        vec![&mut self.gamma, &mut self.beta]
    }
    fn state(&mut self) -> Vec<&mut Vec<f32>> {
        vec![&mut self.running_mean, &mut self.running_var]
    }

    fn describe(&self) -> String {
        format!("batchnorm {}", self.c)
    }
}

/// A residual block: body(x) + shortcut(x) (the identity when `shortcut` is empty).
pub struct Residual {
    /// The main path.
    pub body: Seq,
    /// The projection path (empty: identity).
    pub shortcut: Seq,
}

impl Layer for Residual {
    fn forward(&mut self, x: Tensor, eng: &mut Engine, train: bool) -> Tensor {
        let s = self.shortcut.forward(x.clone(), eng, train);
        let mut y = self.body.forward(x, eng, train);
        assert_eq!((y.c, y.h, y.w), (s.c, s.h, s.w), "residual shapes must agree");
        y.data.iter_mut().zip(&s.data).for_each(|(a, b)| *a += b);
        y
    }
    fn backward(&mut self, g: Tensor, eng: &mut Engine) -> Tensor {
        let gs = self.shortcut.backward(g.clone(), eng);
        let mut gb = self.body.backward(g, eng);
        gb.data.iter_mut().zip(&gs.data).for_each(|(a, b)| *a += b);
        gb
    }
    fn params(&mut self) -> Vec<&mut Param> {
        let mut v = self.body.params();
        v.extend(self.shortcut.params());
        v
    }
    fn state(&mut self) -> Vec<&mut Vec<f32>> {
        let mut v = self.body.state();
        v.extend(self.shortcut.state());
        v
    }
    fn describe(&self) -> String {
        let s = if self.shortcut.0.is_empty() { "identity".to_string() } else { self.shortcut.describe() };
        format!("residual[{} | {}]", self.body.describe(), s)
    }
}

/// Mean softmax cross-entropy over the batch: (loss, dL/dlogits, correct predictions).
pub fn softmax_cross_entropy(logits: &Tensor, labels: &[u8]) -> (f32, Tensor, usize) {
    let k = logits.sample_len();
    assert_eq!(labels.len(), logits.n, "one label per sample");
    let mut grad = Tensor::zeros(logits.n, logits.c, logits.h, logits.w);
    let (mut loss, mut correct) = (0f32, 0usize);
    let inv_n = 1.0 / logits.n as f32;
    for (i, (&y, row)) in labels.iter().zip(logits.data.chunks(k)).enumerate() {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exps: Vec<f32> = row.iter().map(|&v| (v - max).exp()).collect();
        let sum: f32 = exps.iter().sum();
        loss += (sum.ln() + max - row[y as usize]) * inv_n;
        // The first maximum is the prediction (NaN logits predict nothing).
        let pred = row.iter().enumerate().fold(0, |b, (j, &v)| if v > row[b] { j } else { b });
        correct += usize::from(pred == y as usize && row[pred] == max);
        for (j, g) in grad.data[i * k..(i + 1) * k].iter_mut().enumerate() {
            *g = (exps[j] / sum - f32::from(j == y as usize)) * inv_n;
        }
    }
    (loss, grad, correct)
}

#[cfg(test)]
mod tests {
    use super::{Conv2d, Tensor};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// im2col and col2im equal the per-element definitions (every tap tested against the
    /// padding), bit for bit, for every stride, padding and kernel size around the edges.
    #[test]
    fn im2col_and_col2im_match_their_per_element_definitions() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for (k, stride, pad, h, w) in [
            (1, 1, 0, 4, 5),
            (3, 1, 1, 5, 4),
            (3, 2, 1, 7, 6),
            (5, 1, 2, 6, 6),
            (5, 1, 0, 7, 5),
            (3, 3, 2, 8, 7),
            (4, 2, 3, 5, 9),
            // Offsets that only ever meet padding: their column ranges are empty.
            (5, 1, 2, 6, 1),
            (6, 1, 3, 1, 4),
            (5, 2, 4, 1, 2),
        ] {
            let conv = Conv2d::new(2, 3, k, stride, pad, false, &mut rng);
            let (n, cin) = (2, 2);
            let x = Tensor::from_vec(n, cin, h, w, (0..n * cin * h * w).map(|_| rng.random_range(-1.0..1.0)).collect());
            let (ho, wo) = conv.out_hw(h, w);
            let cols_n = n * ho * wo;
            let mut want = vec![0f32; cin * k * k * cols_n];
            let mut dx_want = Tensor::zeros(n, cin, h, w);
            let dcols: Vec<f32> = (0..want.len()).map(|_| rng.random_range(-1.0..1.0)).collect();
            for ci in 0..cin {
                for ky in 0..k {
                    for kx in 0..k {
                        let row = (ci * k + ky) * k + kx;
                        for ni in 0..n {
                            for oy in 0..ho {
                                for ox in 0..wo {
                                    let (iy, ix) = (
                                        (oy * stride + ky) as isize - pad as isize,
                                        (ox * stride + kx) as isize - pad as isize,
                                    );
                                    if iy >= 0 && iy < h as isize && ix >= 0 && ix < w as isize {
                                        let src = ((ni * cin + ci) * h + iy as usize) * w + ix as usize;
                                        let col = row * cols_n + (ni * ho + oy) * wo + ox;
                                        want[col] = x.data[src];
                                        dx_want.data[src] += dcols[col];
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let case = format!("k {k} stride {stride} pad {pad} {h}x{w}");
            assert_eq!(conv.im2col(&x), want, "{case}");
            let dx = conv.col2im(&dcols, n, h, w);
            let bits = |t: &Tensor| t.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&dx), bits(&dx_want), "{case}");
        }
    }
}
