//! Training on the golden model: gradient checks of every layer (native mode), the training
//! path's GEMMs against `daa gemm`, the IDX loader's errors, and small `daa train` runs.

use daa_gen::config::{Policy, Settings};
use daa_gen::golden::pe::PeParams;
use daa_gen::npy::write_f32;
use daa_gen::train::engine::{Arith, Engine};
use daa_gen::train::layers::{
    softmax_cross_entropy, BatchNorm2d, Conv2d, Flatten, GlobalAvgPool, Layer, Linear, MaxPool2, Relu, Residual, Seq,
};
use daa_gen::train::tensor::Tensor;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::path::Path;

mod common;
use common::daa;

fn randn(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.sample::<f32, _>(StandardNormal)).collect()
}

/// Distinct values at least 0.01 apart and away from 0: ReLU and max-pool stay smooth under
/// the finite-difference steps.
fn spaced(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..n).map(|i| (i as f32 - n as f32 / 2.0 + 0.5) * 0.02).collect();
    v.shuffle(rng);
    v
}

/// L = sum(out * r), accumulated in f64.
fn loss(layer: &mut dyn Layer, x: &Tensor, r: &[f32]) -> f64 {
    let mut eng = Engine::new(Arith::Native);
    let y = layer.forward(x.clone(), &mut eng, true);
    y.data.iter().zip(r).map(|(&a, &b)| a as f64 * b as f64).sum()
}

fn close(analytic: f32, numeric: f64) -> bool {
    let a = analytic as f64;
    (a - numeric).abs() <= 5e-3 + 2e-2 * a.abs().max(numeric.abs())
}

/// Compares backward's input and parameter gradients with central differences.
fn grad_check(name: &str, layer: &mut dyn Layer, x: Tensor, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut eng = Engine::new(Arith::Native);
    let y = layer.forward(x.clone(), &mut eng, true);
    let r = randn(&mut rng, y.data.len());
    let dx = layer.backward(Tensor::from_vec(y.n, y.c, y.h, y.w, r.clone()), &mut eng);
    assert_eq!(dx.data.len(), x.data.len(), "{name}: input gradient shape");
    let grads: Vec<Vec<f32>> = layer.params().iter().map(|p| p.grad.clone()).collect();
    let eps = 1e-3f32;
    // A check is only evidence where the gradient is not zero: count those, per tensor.
    let significant = |num: f64| (num.abs() > 1e-3) as usize;
    let mut input_significant = 0;
    for _ in 0..40 {
        let i = rng.random_range(0..x.data.len());
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp.data[i] += eps;
        xm.data[i] -= eps;
        let num = (loss(layer, &xp, &r) - loss(layer, &xm, &r)) / (2.0 * eps as f64);
        assert!(close(dx.data[i], num), "{name}: dL/dx[{i}] analytic {} numeric {num}", dx.data[i]);
        input_significant += significant(num);
    }
    assert!(input_significant > 0, "{name}: every sampled input gradient was zero; the check proved nothing");
    for (pi, g) in grads.iter().enumerate() {
        let mut param_significant = 0;
        for _ in 0..20 {
            let j = rng.random_range(0..g.len());
            let orig = layer.params()[pi].value[j];
            layer.params()[pi].value[j] = orig + eps;
            let lp = loss(layer, &x, &r);
            layer.params()[pi].value[j] = orig - eps;
            let lm = loss(layer, &x, &r);
            layer.params()[pi].value[j] = orig;
            let num = (lp - lm) / (2.0 * eps as f64);
            assert!(close(g[j], num), "{name}: param {pi}[{j}] analytic {} numeric {num}", g[j]);
            param_significant += significant(num);
        }
        assert!(
            param_significant > 0,
            "{name}: every sampled gradient of param {pi} was zero; the check proved nothing"
        );
    }
}

#[test]
fn gradient_check_every_layer_native() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let t = |rng: &mut ChaCha8Rng, n, c, h, w| Tensor::from_vec(n, c, h, w, randn(rng, n * c * h * w));
    let s = |rng: &mut ChaCha8Rng, n, c, h, w| Tensor::from_vec(n, c, h, w, spaced(rng, n * c * h * w));
    let cases: Vec<(&str, Box<dyn Layer>, Tensor)> = vec![
        ("conv k3 s1 p1 bias", Box::new(Conv2d::new(3, 4, 3, 1, 1, true, &mut rng)), t(&mut rng, 2, 3, 6, 6)),
        ("conv k3 s2 p1", Box::new(Conv2d::new(2, 3, 3, 2, 1, false, &mut rng)), t(&mut rng, 2, 2, 7, 7)),
        ("conv k5 s1 p0", Box::new(Conv2d::new(2, 3, 5, 1, 0, true, &mut rng)), t(&mut rng, 2, 2, 8, 8)),
        ("conv k1 s2", Box::new(Conv2d::new(3, 2, 1, 2, 0, false, &mut rng)), t(&mut rng, 2, 3, 6, 6)),
        ("linear", Box::new(Linear::new(12, 5, &mut rng)), t(&mut rng, 3, 12, 1, 1)),
        ("relu", Box::new(Relu::default()), s(&mut rng, 2, 3, 4, 4)),
        ("maxpool", Box::new(MaxPool2::default()), s(&mut rng, 2, 3, 6, 6)),
        ("global avgpool", Box::new(GlobalAvgPool::default()), t(&mut rng, 2, 3, 4, 5)),
        ("flatten", Box::new(Flatten::default()), t(&mut rng, 2, 3, 2, 2)),
        ("batchnorm (train)", Box::new(BatchNorm2d::new(3)), t(&mut rng, 4, 3, 3, 3)),
        (
            "residual, projection",
            Box::new(Residual {
                body: Seq(vec![Box::new(Conv2d::new(2, 4, 3, 2, 1, false, &mut rng)), Box::new(BatchNorm2d::new(4))]),
                shortcut: Seq(vec![Box::new(Conv2d::new(2, 4, 1, 2, 0, false, &mut rng))]),
            }),
            t(&mut rng, 3, 2, 6, 6),
        ),
        (
            "residual, identity",
            Box::new(Residual {
                body: Seq(vec![Box::new(Conv2d::new(3, 3, 3, 1, 1, true, &mut rng))]),
                shortcut: Seq(vec![]),
            }),
            t(&mut rng, 2, 3, 5, 5),
        ),
    ];
    for (i, (name, mut layer, x)) in cases.into_iter().enumerate() {
        grad_check(name, layer.as_mut(), x, 100 + i as u64);
    }
}

#[test]
fn gradient_check_softmax_cross_entropy() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let logits = Tensor::from_vec(4, 10, 1, 1, randn(&mut rng, 40));
    let labels = [3u8, 0, 9, 5];
    let (_, g, _) = softmax_cross_entropy(&logits, &labels);
    for i in 0..40 {
        let eps = 1e-3f32;
        let (mut p, mut m) = (logits.clone(), logits.clone());
        p.data[i] += eps;
        m.data[i] -= eps;
        let num = (softmax_cross_entropy(&p, &labels).0 as f64 - softmax_cross_entropy(&m, &labels).0 as f64)
            / (2.0 * eps as f64);
        assert!(close(g.data[i], num), "dL/dlogit[{i}] analytic {} numeric {num}", g.data[i]);
    }
}

#[test]
fn batchnorm_eval_mode_uses_running_statistics() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut bn = BatchNorm2d::new(2);
    let mut eng = Engine::new(Arith::Native);
    let x = Tensor::from_vec(8, 2, 3, 3, randn(&mut rng, 144).iter().map(|v| 3.0 + 2.0 * v).collect());
    for _ in 0..200 {
        bn.forward(x.clone(), &mut eng, true);
    }
    // After many identical batches the running statistics equal the batch's (unbiased variance).
    let train = bn.forward(x.clone(), &mut eng, true);
    let eval = bn.forward(x.clone(), &mut eng, false);
    let n = 72.0f32;
    for (a, b) in train.data.iter().zip(&eval.data) {
        assert!((a * ((n - 1.0) / n).sqrt() - b).abs() < 1e-4, "train {a} vs eval {b}");
    }
}

/// The training path's GEMMs (plain and transposed operands) equal `daa gemm` on the same float32 operands, bit for bit.
#[test]
fn training_gemms_equal_daa_gemm_for_every_policy() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for (fi, format) in ["fp32", "bf16", "fp16"].iter().enumerate() {
        for (pi, policy) in Policy::ALL.iter().enumerate() {
            let (m, k, n) = (5 + pi, 17 + 2 * fi, 9 + pi);
            // Activation- and gradient-like values over a wide range, with zeros.
            let val = |rng: &mut ChaCha8Rng| -> f32 {
                let x: f32 = rng.sample(StandardNormal);
                if rng.random_bool(0.3) {
                    0.0
                } else {
                    x * 2f32.powi(rng.random_range(-20..8))
                }
            };
            let a: Vec<f32> = (0..m * k).map(|_| val(&mut rng)).collect();
            let b: Vec<f32> = (0..k * n).map(|_| val(&mut rng)).collect();
            let cfg =
                Settings { format: Some(format.to_string()), policy: Some(policy.name().into()), ..Default::default() }
                    .resolve()
                    .unwrap();
            let mut eng = Engine::new(Arith::Golden(PeParams::from(&cfg)));
            let plain = eng.matmul(&a, m, k, &b, n);
            let at = daa_gen::train::tensor::transpose(&a, m, k);
            let bt = daa_gen::train::tensor::transpose(&b, k, n);
            let trans = eng.matmul_t(&at, true, &bt, true, m, k, n);
            let (pa, pb, pc) = (dir.path().join("a.npy"), dir.path().join("b.npy"), dir.path().join("c.npy"));
            write_f32(&pa, m, k, &a).unwrap();
            write_f32(&pb, k, n, &b).unwrap();
            daa()
                .args(["gemm", "--format", format, "--policy", policy.name()])
                .args(["--a", pa.to_str().unwrap(), "--b", pb.to_str().unwrap(), "--out", pc.to_str().unwrap()])
                .status()
                .unwrap()
                .success()
                .then_some(())
                .expect("daa gemm succeeds");
            let c = read_f32(&pc);
            for (i, ((x, y), z)) in plain.iter().zip(&trans).zip(&c).enumerate() {
                assert_eq!(
                    x.to_bits(),
                    z.to_bits(),
                    "{format} {}: C[{i}] train {x:e} vs daa gemm {z:e}",
                    policy.name()
                );
                assert_eq!(y.to_bits(), z.to_bits(), "{format} {}: C[{i}] transposed operands", policy.name());
            }
            assert!(eng.stats.steps == 0 && eng.macs == 2 * (m * k * n) as u64, "training GEMMs count nothing");
            // The counting engine (`daa train --stats`) gives the same C and counts.
            let mut counting = Engine::counting(Arith::Golden(PeParams::from(&cfg)));
            let counted = counting.matmul(&a, m, k, &b, n);
            assert_eq!(
                counted.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                plain.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            );
            assert!(counting.stats.steps > 0);
        }
    }
}

fn read_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    npy.into_vec::<f32>().unwrap()
}

/// True when Fashion-MNIST is installed; under CI its absence is a failure.
fn have_dataset() -> bool {
    let ok = Path::new(daa_gen::train::data::DEFAULT_DIR).join("train-images-idx3-ubyte.gz").exists();
    if !ok && std::env::var_os("CI").is_some() {
        panic!("CI is set but Fashion-MNIST is missing (.ci/run installs dataset-fashion-mnist)");
    }
    ok
}

fn run_train(args: &[&str], out: &Path) -> std::process::Output {
    daa().arg("train").args(args).args(["--out", out.to_str().unwrap()]).output().unwrap()
}

/// The CSV without the columns `skip` (0-based).
fn csv_without(path: &Path, skip: &[usize]) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            l.split(',').enumerate().filter(|(i, _)| !skip.contains(i)).map(|(_, f)| f).collect::<Vec<_>>().join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn small_training_run_learns_writes_its_files_and_repeats_bit_for_bit() {
    if !have_dataset() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let args =
        ["--model", "lenet5", "--train-subset", "1000", "--test-subset", "500", "--epochs", "2", "--threads", "2"];
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    // Run a counts statistics, run b does not: the same training either way.
    for (d, stats) in [(&a, true), (&b, false)] {
        let o = daa()
            .arg("train")
            .args(args)
            .args(["--out", d.to_str().unwrap()])
            .args(stats.then_some("--stats"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        // Without a terminal: a plain line per epoch, then the summary naming the directory.
        let stdout = String::from_utf8_lossy(&o.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 3, "{stdout}");
        assert!(
            lines[0].starts_with("daa epoch 1/2: train loss") && lines[1].starts_with("daa epoch 2/2:"),
            "{stdout}"
        );
        assert!(lines[2].ends_with(&format!("-> {}", d.display())), "{stdout}");
        assert!(!stdout.contains('\r') && !stdout.contains('\x1b'), "no terminal control: {stdout:?}");
    }
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["model"], "lenet5");
    assert_eq!(s["policy"], "daa");
    assert_eq!(s["epochs"], 2);
    assert_eq!(s["sgd"]["warmup_steps"], 0, "no warmup by default but for vgg-small");
    let acc = s["test_accuracy"].as_f64().unwrap();
    assert!(acc > 0.5 && acc <= 1.0, "2 epochs on 1000 images reach well above chance (10 %): {acc}");
    assert!(s["seconds"].as_f64().unwrap() > 0.0);
    let csv = std::fs::read_to_string(a.join("epochs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "header + one line per epoch");
    let high: f64 = csv.lines().nth(2).unwrap().split(',').nth(9).unwrap().parse().unwrap();
    assert!(high > 0.01 && high < 0.99, "daa gives stream 1 the full multiplier sometimes: {high}");
    assert!(std::fs::read_to_string(a.join("curves.svg")).unwrap().starts_with("<svg"));
    let shares = |d: &Path| -> Vec<String> {
        let csv = std::fs::read_to_string(d.join("epochs.csv")).unwrap();
        csv.lines().skip(1).flat_map(|l| l.split(',').skip(9).take(3).map(String::from).collect::<Vec<_>>()).collect()
    };
    assert!(shares(&b).iter().all(|f| f.is_empty()), "no statistics without --stats: {:?}", shares(&b));
    // Columns 10..=12 are the statistics, empty in run b.
    assert_eq!(
        csv_without(&a.join("epochs.csv"), &[6, 7, 9, 10, 11]),
        csv_without(&b.join("epochs.csv"), &[6, 7, 9, 10, 11]),
        "same seed, same run"
    );
}

#[test]
fn compare_runs_every_policy_and_fp16_uses_loss_scaling() {
    if !have_dataset() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = run_train(
        &["--model", "resnet-mini", "--compare", "--train-subset", "200", "--test-subset", "200", "--batch", "50"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = std::fs::read_to_string(dir.path().join("compare.md")).unwrap();
    for p in ["native", "single", "full", "daa", "static"] {
        assert!(table.contains(&format!("| {p} |")), "{p} in the table:\n{table}");
        assert!(dir.path().join(p).join("summary.json").exists());
    }
    assert!(dir.path().join("compare.svg").exists() && dir.path().join("compare.json").exists());

    // A named subset runs only those, in the usual order; a bad name is an input error.
    let some = dir.path().join("some");
    let o = run_train(
        &["--model", "lenet5", "--compare", "daa,single", "--train-subset", "100", "--test-subset", "100"],
        &some,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(some.join("compare.json")).unwrap()).unwrap();
    let runs: Vec<&str> = v.as_array().unwrap().iter().map(|r| r["run"].as_str().unwrap()).collect();
    assert_eq!(runs, ["single", "daa"]);
    assert!(!some.join("native").exists() && !some.join("static").exists());
    for bad in ["bogus", "daa,daa"] {
        let o = run_train(&["--model", "lenet5", "--compare", bad], &dir.path().join("bad"));
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("`compare`"), "{bad}");
        assert!(!dir.path().join("bad").exists(), "{bad}: no output");
    }

    let fp16 = dir.path().join("fp16");
    let o =
        run_train(&["--model", "lenet5", "--format", "fp16", "--train-subset", "300", "--test-subset", "200"], &fp16);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fp16.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["loss_scaling"], true, "auto: on for a 5-bit exponent");
    assert!(s["train_loss"].as_f64().unwrap().is_finite());
}

#[test]
fn vgg_small_warms_up_by_default() {
    if !have_dataset() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let one_step = ["--model", "vgg-small", "--policy", "native", "--train-subset", "64", "--test-subset", "64"];
    for (extra, warmup) in [(&[][..], 500u64), (&["--warmup-steps", "0"][..], 0)] {
        let out = dir.path().join(warmup.to_string());
        let o = run_train(&[&one_step[..], extra].concat(), &out);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(s["sgd"]["warmup_steps"], warmup);
        // The first step's rate: the cosine's peak 0.05 times 1 / W.
        let lr = s["per_epoch"][0]["lr"].as_f64().unwrap();
        let want = if warmup == 0 { 0.05 } else { 0.05 / warmup as f64 };
        assert!((lr - want).abs() <= 1e-7 * want, "warmup {warmup}: first rate {lr}, want {want}");
        assert_eq!(s["lr_schedule"].as_str().unwrap().contains("warmup"), warmup > 0, "{}", s["lr_schedule"]);
    }
}

#[test]
fn bad_training_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let o = run_train(&["--data", missing.to_str().unwrap()], &dir.path().join("o"));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("nowhere") && err.contains("apt-get install dataset-fashion-mnist"), "{err}");

    let corrupt = dir.path().join("corrupt");
    std::fs::create_dir(&corrupt).unwrap();
    for f in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    {
        std::fs::write(corrupt.join(format!("{f}.gz")), b"not gzip").unwrap();
    }
    let o = run_train(&["--data", corrupt.to_str().unwrap()], &dir.path().join("o"));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("train-images-idx3-ubyte.gz") && err.contains("not a valid gzip"), "{err}");
    // A plain file with the wrong magic number.
    std::fs::remove_file(corrupt.join("train-images-idx3-ubyte.gz")).unwrap();
    std::fs::write(corrupt.join("train-images-idx3-ubyte"), [0u8, 0, 8, 1, 0, 0, 0, 0]).unwrap();
    let o = run_train(&["--data", corrupt.to_str().unwrap()], &dir.path().join("o"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("magic number 0x00000801, expected 0x00000803"), "{err}");

    for (args, want) in [
        (&["--model", "alexnet"][..], "`model`"),
        (&["--policy", "fancy"], "native, daa"),
        (&["--epochs", "0"], "`epochs`"),
        (&["--loss-scale", "maybe"], "auto, on, off"),
        (&["--sweep-lo-bits", "7,23"], "`lo_bits`"),
    ] {
        let o = run_train(args, &dir.path().join("o"));
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert!(!dir.path().join("o").exists(), "no output after bad input");
}

/// A checkpoint's tensors: the bytes after its JSON header.
fn checkpoint_tensors(dir: &Path) -> Vec<u8> {
    let bytes = std::fs::read(dir.join("checkpoint.bin")).unwrap();
    assert_eq!(&bytes[..8], b"DAACKPT1");
    let len = u64::from_le_bytes(bytes[8..16].try_into().unwrap()) as usize;
    bytes[16 + len..].to_vec()
}

#[test]
fn resume_continues_an_interrupted_run_bit_for_bit() {
    if !have_dataset() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // resnet-mini: batch norm's running statistics must carry over too.
    for model in ["lenet5", "resnet-mini"] {
        let args = [
            "--model",
            model,
            "--train-subset",
            "300",
            "--test-subset",
            "100",
            "--batch",
            "50",
            "--epochs",
            "2",
            "--format",
            "bf16",
            "--lo-bits",
            "3",
        ];
        let (straight, resumed) = (dir.path().join(format!("{model}-a")), dir.path().join(format!("{model}-b")));
        let o = run_train(&args, &straight);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = run_train(&[&args[..], &["--stop-after", "1"]].concat(), &resumed);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).contains("stopped after epoch 1 of 2"));
        assert!(!resumed.join("summary.json").exists(), "a stopped run writes no summary");
        assert_ne!(checkpoint_tensors(&resumed), checkpoint_tensors(&straight), "one epoch is not two");
        let bytes = std::fs::read(resumed.join("checkpoint.bin")).unwrap();
        let len = u64::from_le_bytes(bytes[8..16].try_into().unwrap()) as usize;
        let head: serde_json::Value = serde_json::from_slice(&bytes[16..16 + len]).unwrap();
        assert_eq!(head["epochs_done"], 1);
        let first_seconds = format!("{:.3}", head["per_epoch"][0]["seconds"].as_f64().unwrap());
        let o = run_train(&[&args[..], &["--resume"]].concat(), &resumed);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).contains("resuming after epoch 1 of 2"));
        assert!(checkpoint_tensors(&straight) == checkpoint_tensors(&resumed), "{model}: weights, momentum, state");
        // Epoch 1 was not run again: its record (wall time included) is the checkpoint's.
        let csv = std::fs::read_to_string(resumed.join("epochs.csv")).unwrap();
        assert_eq!(csv.lines().nth(1).unwrap().split(',').nth(6).unwrap(), first_seconds);
        assert_eq!(
            csv_without(&straight.join("epochs.csv"), &[6, 7]),
            csv_without(&resumed.join("epochs.csv"), &[6, 7]),
            "{model}: every epoch's record"
        );
        // The summaries too, to the last bit of every f64 (the loss curve went through the
        // checkpoint's JSON), wall times aside.
        let summary = |d: &std::path::Path| {
            let mut v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(d.join("summary.json")).unwrap()).unwrap();
            for key in ["seconds", "gemm_seconds", "gemm_share"] {
                v.as_object_mut().unwrap().remove(key);
            }
            for e in v["per_epoch"].as_array_mut().unwrap() {
                for key in ["seconds", "gemm_seconds"] {
                    e.as_object_mut().unwrap().remove(key);
                }
            }
            v
        };
        assert_eq!(summary(&straight), summary(&resumed), "{model}: summary");
        // A checkpoint resumes only the run that wrote it.
        let o = run_train(&[&args[..], &["--resume", "--seed", "2"]].concat(), &resumed);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("seed = 1") && err.contains("seed = 2"), "{err}");

        // A finished run's files without its checkpoint (as the study commits them) are done:
        // --resume trains nothing (the wall times are the first run's, to the digit) and
        // writes the same summary; another run's settings are refused.
        let copied = dir.path().join(format!("{model}-c"));
        std::fs::create_dir(&copied).unwrap();
        for f in ["summary.json", "epochs.csv"] {
            std::fs::copy(straight.join(f), copied.join(f)).unwrap();
        }
        let o = run_train(&[&args[..], &["--resume"]].concat(), &copied);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).contains("resuming after epoch 2 of 2"));
        for f in ["summary.json", "epochs.csv", "curves.svg"] {
            assert_eq!(std::fs::read(straight.join(f)).unwrap(), std::fs::read(copied.join(f)).unwrap(), "{f}");
        }
        assert!(!copied.join("checkpoint.bin").exists(), "nothing was trained");
        let o = run_train(&[&args[..], &["--resume", "--seed", "3"]].concat(), &copied);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("summary.json") && err.contains("seed = 1") && err.contains("seed = 3"), "{err}");
    }
    // A damaged checkpoint is an input error, not a panic.
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(bad.join("checkpoint.bin"), b"DAACKPT1\xff\xff\xff\xff\xff\xff\xff\x7f").unwrap();
    let o = run_train(&["--train-subset", "100", "--test-subset", "100", "--resume"], &bad);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("header length"), "{}", String::from_utf8_lossy(&o.stderr));
}
