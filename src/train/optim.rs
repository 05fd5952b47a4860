//! SGD with momentum and weight decay on binary32 master weights, a cosine learning-rate
//! schedule with an optional linear warmup, and dynamic loss scaling for narrow-exponent formats.

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
    /// Steps of linear warmup (0: none). Records written before warmup existed read as 0.
    #[serde(default)]
    pub warmup_steps: usize,
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

    /// The learning rate of `step` (0-based) in a run of `total` steps: cosine annealing from
    /// `lr` to 0 over the whole run, times the warmup factor min(1, (step + 1) / warmup_steps).
    /// The factors multiply as in PyTorch's `ChainedScheduler([LinearLR(opt, 1 / W,
    /// total_iters = W - 1), CosineAnnealingLR(opt, total)])`, so a warmup longer than the run
    /// needs no special case and the cosine part is the same with or without warmup.
    pub fn lr_at(&self, step: usize, total: usize) -> f32 {
        let t = step as f64 / total.max(1) as f64;
        let cosine = self.lr as f64 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos());
        let warmup = if self.warmup_steps == 0 { 1.0 } else { ((step + 1) as f64 / self.warmup_steps as f64).min(1.0) };
        (cosine * warmup) as f32
    }

    /// [`Sgd::lr_at`] in words, for the run's summary.
    pub fn schedule(&self) -> String {
        match self.warmup_steps {
            0 => "cosine from lr to 0 over all steps".into(),
            w => format!("cosine from lr to 0 over all steps, times min(1, (step + 1) / {w}) (linear warmup)"),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::Sgd;

    #[test]
    fn warmup_scales_the_cosine_rate_and_zero_warmup_is_the_plain_cosine() {
        let plain = Sgd { lr: 0.05, momentum: 0.9, weight_decay: 5e-4, warmup_steps: 0 };
        let warm = Sgd { warmup_steps: 4, ..plain };
        let total = 100;
        for step in [0, 1, 37, 99] {
            let t = step as f64 / total as f64;
            let cosine = (0.05f32 as f64 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())) as f32;
            assert_eq!(plain.lr_at(step, total).to_bits(), cosine.to_bits(), "step {step}");
        }
        for step in 0..4 {
            let want = plain.lr_at(step, total) as f64 * (step + 1) as f64 / 4.0;
            assert!((warm.lr_at(step, total) as f64 - want).abs() <= f32::EPSILON as f64 * want, "step {step}");
        }
        assert_eq!(warm.lr_at(3, total), plain.lr_at(3, total), "full rate from step W - 1");
        assert_eq!(warm.lr_at(50, total), plain.lr_at(50, total));
        // A warmup longer than the run: every step is scaled, none is out of range.
        let long = Sgd { warmup_steps: 1_000, ..plain };
        assert!(long.lr_at(99, total) > 0.0 && long.lr_at(99, total) < plain.lr_at(99, total));
    }

    /// Checkpoints and summaries written before warmup existed read as warmup 0, so their
    /// runs resume and pair with runs that have none.
    #[test]
    fn settings_without_warmup_read_as_none() {
        let old: Sgd = serde_json::from_str(r#"{"lr": 0.05, "momentum": 0.9, "weight_decay": 0.0005}"#).unwrap();
        assert_eq!(old, Sgd { lr: 0.05, momentum: 0.9, weight_decay: 0.0005, warmup_steps: 0 });
    }
}
