//! The three networks of docs/training.md, built from [`layers`](super::layers) with seeded initial weights.

use super::layers::{BatchNorm2d, Conv2d, Flatten, GlobalAvgPool, Layer, Linear, MaxPool2, Relu, Residual, Seq};
use crate::error::InputError;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Names accepted by `--model`.
pub const MODELS: [&str; 3] = ["lenet5", "vgg-small", "resnet-mini"];

/// Builds a model for 1 x 28 x 28 inputs and 10 classes, weights drawn from `seed`.
pub fn build(name: &str, seed: u64) -> Result<Seq, InputError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let r = &mut rng;
    let relu = || -> Box<dyn Layer> { Box::new(Relu::default()) };
    let pool = || -> Box<dyn Layer> { Box::new(MaxPool2::default()) };
    Ok(Seq(match name {
        // LeNet-5 with ReLU and max-pool (padding 2 on the first conv keeps 28x28 like the 32x32 original).
        "lenet5" => vec![
            Box::new(Conv2d::new(1, 6, 5, 1, 2, true, r).without_input_grad()),
            relu(),
            pool(),
            Box::new(Conv2d::new(6, 16, 5, 1, 0, true, r)),
            relu(),
            pool(),
            Box::new(Flatten::default()),
            Box::new(Linear::new(400, 120, r)),
            relu(),
            Box::new(Linear::new(120, 84, r)),
            relu(),
            Box::new(Linear::new(84, 10, r)),
        ],
        // Three stages of 3x3 convs (8, 16, 32 channels), each closed by a 2x2 max-pool.
        "vgg-small" => {
            let mut v: Vec<Box<dyn Layer>> = Vec::new();
            for (cin, cout, convs) in [(1, 8, 2), (8, 16, 2), (16, 32, 1)] {
                for i in 0..convs {
                    let conv = Conv2d::new(if i == 0 { cin } else { cout }, cout, 3, 1, 1, true, r);
                    v.push(Box::new(if cin == 1 && i == 0 { conv.without_input_grad() } else { conv }));
                    v.push(relu());
                }
                v.push(pool());
            }
            v.push(Box::new(Flatten::default()));
            v.push(Box::new(Linear::new(32 * 3 * 3, 64, r)));
            v.push(relu());
            v.push(Box::new(Linear::new(64, 10, r)));
            v
        }
        // A stem, then one basic block per stage (8, 16, 32 channels; stride 2 and a 1x1
        // projection when the shape changes), global average pool, classifier.
        "resnet-mini" => {
            let mut v: Vec<Box<dyn Layer>> = vec![
                Box::new(Conv2d::new(1, 8, 3, 1, 1, false, r).without_input_grad()),
                Box::new(BatchNorm2d::new(8)),
                relu(),
            ];
            for (cin, cout, stride) in [(8, 8, 1), (8, 16, 2), (16, 32, 2)] {
                let body = Seq(vec![
                    Box::new(Conv2d::new(cin, cout, 3, stride, 1, false, r)),
                    Box::new(BatchNorm2d::new(cout)),
                    relu(),
                    Box::new(Conv2d::new(cout, cout, 3, 1, 1, false, r)),
                    Box::new(BatchNorm2d::new(cout)),
                ]);
                let shortcut = if stride == 1 && cin == cout {
                    Seq(Vec::new())
                } else {
                    Seq(vec![
                        Box::new(Conv2d::new(cin, cout, 1, stride, 0, false, r)),
                        Box::new(BatchNorm2d::new(cout)),
                    ])
                };
                v.push(Box::new(Residual { body, shortcut }));
                v.push(relu());
            }
            v.push(Box::new(GlobalAvgPool::default()));
            v.push(Box::new(Flatten::default()));
            v.push(Box::new(Linear::new(32, 10, r)));
            v
        }
        other => return Err(InputError::field("model", other, &MODELS.join(", "))),
    }))
}
