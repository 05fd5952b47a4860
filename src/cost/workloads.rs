//! Workloads as data: tables of conv and linear layers (`workloads/*.toml`, or any file of
//! the same form), turned into the training GEMMs of one step.

use crate::error::InputError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Built-in workloads: (name, table).
pub const BUILTIN: [(&str, &str); 4] = [
    ("resnet18", include_str!("workloads/resnet18.toml")),
    ("lenet5", include_str!("workloads/lenet5.toml")),
    ("vgg-small", include_str!("workloads/vgg-small.toml")),
    ("resnet-mini", include_str!("workloads/resnet-mini.toml")),
];

/// One layer of the table.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Layer {
    /// 2-D convolution; `h`, `w` are the input size.
    Conv {
        /// Layer name.
        name: String,
        /// Input channels.
        cin: usize,
        /// Output channels.
        cout: usize,
        /// Square kernel size.
        k: usize,
        /// Stride.
        stride: usize,
        /// Zero padding.
        pad: usize,
        /// Input height.
        h: usize,
        /// Input width.
        w: usize,
    },
    /// Fully connected layer.
    Linear {
        /// Layer name.
        name: String,
        /// Input features.
        fin: usize,
        /// Output features.
        fout: usize,
    },
}

/// A network's layer table.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Short name.
    pub name: String,
    /// What it is.
    pub description: String,
    /// Default mini-batch.
    pub batch: usize,
    /// Conv and linear layers in network order.
    pub layers: Vec<Layer>,
}

/// Which GEMM of training a shape belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Pass {
    /// Forward: output = W x im2col(input).
    Forward,
    /// Backward-data: d im2col(input) = W^T x d output.
    BackwardData,
    /// Backward-weight: dW = d output x im2col(input)^T.
    BackwardWeight,
}

impl Pass {
    /// `fwd`, `bwd-data`, `bwd-weight`.
    pub fn short(self) -> &'static str {
        match self {
            Pass::Forward => "fwd",
            Pass::BackwardData => "bwd-data",
            Pass::BackwardWeight => "bwd-weight",
        }
    }
}

/// One GEMM: C (m x n) = A (m x k) B (k x n).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gemm {
    /// Layer name.
    pub layer: String,
    /// Training pass.
    pub pass: Pass,
    /// Rows of C.
    pub m: usize,
    /// Reduction length.
    pub k: usize,
    /// Columns of C.
    pub n: usize,
}

impl Workload {
    /// A built-in workload by name, or a TOML file of the same form.
    pub fn load(name_or_path: &str) -> Result<Workload, InputError> {
        let names: Vec<&str> = BUILTIN.iter().map(|b| b.0).collect();
        if let Some((_, text)) = BUILTIN.iter().find(|b| b.0 == name_or_path) {
            return Workload::parse(text, name_or_path);
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            return Err(InputError::field(
                "workload",
                name_or_path,
                &format!("{} or the path of a layer-table TOML file", names.join(", ")),
            ));
        }
        let text = crate::limits::read_text_bounded(path, "workload")?;
        Workload::parse(&text, &path.display().to_string())
    }

    /// Parses and checks a table.
    pub fn parse(text: &str, origin: &str) -> Result<Workload, InputError> {
        let w: Workload = toml::from_str(text)
            .map_err(|e| InputError::msg(format!("workload {origin}: {}", e.to_string().trim_end())))?;
        use crate::limits::{MAX_LAYERS, MAX_LAYER_DIM};
        if w.layers.is_empty() || w.layers.len() as u64 > MAX_LAYERS {
            return Err(InputError::msg(format!(
                "workload {origin}: {} layers; allowed 1 ..= {MAX_LAYERS}",
                w.layers.len()
            )));
        }
        crate::limits::positive(&format!("workload {origin}: batch"), w.batch as u64, MAX_LAYER_DIM)?;
        for l in &w.layers {
            let name = crate::error::shorten(l.name(), 40);
            let bad = |why: &str| InputError::msg(format!("workload {origin}, layer {name}: {why}"));
            let dims: Vec<(&str, usize)> = match *l {
                Layer::Conv { cin, cout, k, stride, pad, h, w: wd, .. } => {
                    vec![("cin", cin), ("cout", cout), ("k", k), ("stride", stride), ("h", h), ("w", wd), ("pad", pad)]
                }
                Layer::Linear { fin, fout, .. } => vec![("fin", fin), ("fout", fout)],
            };
            for (field, v) in dims {
                let min = if field == "pad" { 0 } else { 1 };
                if !(min..=MAX_LAYER_DIM).contains(&(v as u64)) {
                    return Err(bad(&format!("{field} = {v}; allowed {min} ..= {MAX_LAYER_DIM}")));
                }
            }
            if let Layer::Conv { k, pad, h, w: wd, .. } = *l {
                if h + 2 * pad < k || wd + 2 * pad < k {
                    return Err(bad("the kernel is larger than the padded input"));
                }
            }
        }
        Ok(w)
    }

    /// Checks that one training step at `batch` stays countable: every GEMM's and the
    /// step's multiply-accumulates within [`crate::limits::MAX_STEP_MACS`].
    pub fn check_step(&self, batch: usize) -> Result<(), InputError> {
        use crate::limits::{product, MAX_LAYER_DIM, MAX_STEP_MACS};
        crate::limits::positive("batch", batch as u64, MAX_LAYER_DIM)?;
        let mut total = 0u64;
        for l in &self.layers {
            // Output size and GEMM sides, in u64 with overflow checks (dimensions are at most
            // 2^20 each, so these cannot overflow, but the MACs can pass the limit).
            let (kk, co, cols) = match *l {
                Layer::Conv { cin, cout, k, stride, pad, h, w, .. } => {
                    let out = |x: usize| ((x + 2 * pad - k) / stride + 1) as u64;
                    let cols = batch as u64 * out(h) * out(w);
                    ((cin * k * k) as u64, cout as u64, cols)
                }
                Layer::Linear { fin, fout, .. } => (fin as u64, fout as u64, batch as u64),
            };
            let shown = format!("MACs of layer {} = {kk}*{co}*{cols}", crate::error::shorten(l.name(), 40));
            let macs = product("workload", &shown, &[kk, co, cols], MAX_STEP_MACS, "multiply-accumulates per step")?;
            // Forward, backward-data and backward-weight: at most three times the forward.
            total = total.checked_add(macs.saturating_mul(3)).filter(|&t| t <= MAX_STEP_MACS).ok_or_else(|| {
                InputError::msg(format!(
                    "`workload` at batch {batch}: one training step has more than {MAX_STEP_MACS} multiply-accumulates, the limit (docs/limits.md)"
                ))
            })?;
        }
        Ok(())
    }

    /// The GEMMs of one training step at `batch`: forward, backward-data (not for the first
    /// layer, whose input needs no gradient) and backward-weight of every layer, as
    /// `daa train` runs them.
    pub fn training_gemms(&self, batch: usize) -> Vec<Gemm> {
        let mut out = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            let (kk, co, cols) = match *l {
                Layer::Conv { cin, cout, k, stride, pad, h, w, .. } => {
                    let ho = (h + 2 * pad - k) / stride + 1;
                    let wo = (w + 2 * pad - k) / stride + 1;
                    (cin * k * k, cout, batch * ho * wo)
                }
                Layer::Linear { fin, fout, .. } => (fin, fout, batch),
            };
            let g = |pass, m, k, n| Gemm { layer: l.name().to_string(), pass, m, k, n };
            match l {
                Layer::Conv { .. } => {
                    out.push(g(Pass::Forward, co, kk, cols));
                    if i > 0 {
                        out.push(g(Pass::BackwardData, kk, co, cols));
                    }
                    out.push(g(Pass::BackwardWeight, co, cols, kk));
                }
                Layer::Linear { .. } => {
                    out.push(g(Pass::Forward, cols, kk, co));
                    if i > 0 {
                        out.push(g(Pass::BackwardData, cols, co, kk));
                    }
                    out.push(g(Pass::BackwardWeight, co, cols, kk));
                }
            }
        }
        out
    }
}

impl Layer {
    /// The layer's name.
    pub fn name(&self) -> &str {
        match self {
            Layer::Conv { name, .. } | Layer::Linear { name, .. } => name,
        }
    }
}
