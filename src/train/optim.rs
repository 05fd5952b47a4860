//! SGD with momentum and weight decay on binary32 master weights, a cosine learning-rate
//! schedule, and dynamic loss scaling for narrow-exponent formats.

use super::layers::Param;

/// SGD settings.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sgd {
    /// Peak learning rate.
    pub lr: f32,
    /// Momentum coefficient.
    pub momentum: f32,
    /// L2 weight decay (weights only; not biases or batch-norm parameters).
    pub weight_decay: f32,
}

impl Sgd {
    /// PyTorch's form: v = mu v + (g + wd w); w -= lr v. `unscale` multiplies every gradient first.
    pub fn step(&self, params: Vec<&mut Param>, lr: f32, unscale: f32) {
        for p in params {
            let wd = if p.decay { self.weight_decay } else { 0.0 };
            for ((w, g), v) in p.value.iter_mut().zip(&p.grad).zip(p.momentum.iter_mut()) {
                let g = g * unscale + wd * *w;
                *v = self.momentum * *v + g;
                *w -= lr * *v;
            }
        }
    }
}

/// Cosine annealing from `lr` at step 0 to 0 at step `total`.
pub fn cosine_lr(lr: f32, step: usize, total: usize) -> f32 {
    let t = step as f64 / total.max(1) as f64;
    (lr as f64 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())) as f32
}

/// Dynamic loss scaling: the loss gradient is multiplied by `scale` before the backward
/// pass so that small gradients survive F_in's narrow range; a step whose gradients are
/// not finite is skipped and the scale halved; after `GROWTH_INTERVAL` good steps it doubles.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LossScaler {
    /// Current scale (1 when disabled).
    pub scale: f32,
    /// Whether scaling is active.
    pub enabled: bool,
    /// Steps skipped because of overflow.
    pub skipped: u64,
    /// Good steps since the scale last changed.
    good: u32,
}

/// Initial loss scale (2^12).
pub const INITIAL_SCALE: f32 = 4096.0;
/// Good steps before the scale doubles.
pub const GROWTH_INTERVAL: u32 = 500;

impl LossScaler {
    /// A scaler; disabled means scale 1 and no skipping.
    pub fn new(enabled: bool) -> LossScaler {
        LossScaler { scale: if enabled { INITIAL_SCALE } else { 1.0 }, enabled, skipped: 0, good: 0 }
    }

    /// Decides after a backward pass: true if the optimiser may step (gradients finite).
    pub fn update(&mut self, params: &mut [&mut Param]) -> bool {
        if !self.enabled {
            return true;
        }
        let finite = params.iter().all(|p| p.grad.iter().all(|g| g.is_finite()));
        if finite {
            self.good += 1;
            if self.good >= GROWTH_INTERVAL {
                self.scale *= 2.0;
                self.good = 0;
            }
        } else {
            self.scale = (self.scale / 2.0).max(1.0);
            self.good = 0;
            self.skipped += 1;
        }
        finite
    }
}
