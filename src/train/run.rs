//! One training run, `--compare` and `--sweep-lo-bits`: the loop, its records and the files it writes.

use super::checkpoint::{self, Checkpoint, RunKey};
use super::data::{Dataset, FashionMnist};
use super::engine::{Arith, Engine};
use super::layers::{softmax_cross_entropy, Layer, Seq};
use super::models::build;
use super::optim::{LossScaler, Sgd};
use super::tensor::Tensor;
use crate::config::Config;
use crate::error::InputError;
use crate::files::OutputSet;
use crate::golden::pe::PeParams;
use crate::plot::{render_svg, Panel, Series};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// Everything that defines a run (the arithmetic comes from `cfg` unless `native`).
#[derive(Clone, Debug)]
pub struct TrainSpec {
    /// Model name.
    pub model: String,
    /// Format, policy, lo_bits, rounding.
    pub cfg: Config,
    /// Plain f32 GEMMs instead of the golden model.
    pub native: bool,
    /// Passes over the training subset.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Optimiser.
    pub sgd: Sgd,
    /// Training images used (the first N of the 60,000).
    pub train_subset: usize,
    /// Test images used (the first N of the 10,000).
    pub test_subset: usize,
    /// Seed of weight init and shuffling.
    pub seed: u64,
    /// Dynamic loss scaling on/off.
    pub loss_scaling: bool,
    /// Count controller and datapath statistics (slower GEMMs, same results).
    pub stats: bool,
}

impl TrainSpec {
    /// The arithmetic of this run.
    pub fn arith(&self) -> Arith {
        if self.native {
            Arith::Native
        } else {
            Arith::Golden(PeParams::from(&self.cfg))
        }
    }

    /// `native` or the policy name.
    pub fn policy_name(&self) -> String {
        self.arith().name()
    }
}

/// Whether a format needs loss scaling by default: narrower exponent than binary32.
pub fn default_loss_scaling(cfg: &Config) -> bool {
    cfg.format.exp_bits() < 8
}

/// One epoch's results.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate at the epoch's first step.
    pub lr: f32,
    /// Mean training loss over the epoch's steps.
    pub train_loss: f64,
    /// Training accuracy over the epoch (train mode, as the weights moved).
    pub train_accuracy: f64,
    /// Mean test loss (eval mode).
    pub test_loss: f64,
    /// Test accuracy (eval mode).
    pub test_accuracy: f64,
    /// Wall time of the epoch including the test pass, seconds.
    pub seconds: f64,
    /// Seconds spent in GEMMs.
    pub gemm_seconds: f64,
    /// Multiply-accumulates performed (training and test).
    pub macs: u64,
    /// Share of PE steps where stream 1 got the full multiplier (`daa`); only with `--stats`.
    pub high_stream1_share: Option<f64>,
    /// Share of low-path operands that the reduction changed; only with `--stats`.
    pub reductions_changed_share: Option<f64>,
    /// Share of products that were zero; only with `--stats`.
    pub zero_product_share: Option<f64>,
    /// Steps skipped for overflow (loss scaling).
    pub skipped_steps: u64,
    /// Loss scale at the end of the epoch.
    pub loss_scale: f32,
}

/// A run's summary file.
const SUMMARY: &str = "summary.json";

/// A finished run: what `summary.json` holds.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Summary {
    /// What identifies the run (model, policy, format, ..., image counts), flattened into
    /// the summary's top level.
    #[serde(flatten)]
    pub run: RunKey,
    /// Learning-rate schedule.
    pub lr_schedule: String,
    /// Rayon threads.
    pub threads: usize,
    /// Final test accuracy, a fraction.
    pub test_accuracy: f64,
    /// Final mean training loss.
    pub train_loss: f64,
    /// Total wall time, seconds.
    pub seconds: f64,
    /// Total GEMM time, seconds.
    pub gemm_seconds: f64,
    /// gemm_seconds / seconds.
    pub gemm_share: f64,
    /// Per-epoch records.
    pub per_epoch: Vec<EpochRecord>,
    /// Training loss averaged over tenths of an epoch: (epoch, loss).
    pub loss_curve: Vec<(f64, f64)>,
}

fn batch_tensor(d: &Dataset, idx: &[usize]) -> (Tensor, Vec<u8>) {
    let px = d.rows * d.cols;
    let mut data = Vec::with_capacity(idx.len() * px);
    for &i in idx {
        data.extend_from_slice(&d.images[i * px..(i + 1) * px]);
    }
    (Tensor::from_vec(idx.len(), 1, d.rows, d.cols, data), idx.iter().map(|&i| d.labels[i]).collect())
}

/// Test loss and accuracy in eval mode.
pub fn evaluate(net: &mut Seq, eng: &mut Engine, d: &Dataset, batch: usize) -> (f64, f64) {
    let (mut loss, mut correct) = (0f64, 0usize);
    let idx: Vec<usize> = (0..d.len()).collect();
    for chunk in idx.chunks(batch) {
        let (x, y) = batch_tensor(d, chunk);
        let logits = net.forward(x, eng, false);
        let (l, _, c) = softmax_cross_entropy(&logits, &y);
        loss += l as f64 * chunk.len() as f64;
        correct += c;
    }
    (loss / d.len().max(1) as f64, correct as f64 / d.len().max(1) as f64)
}

fn share(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Trains one model; `bar` shows progress (hidden when not a terminal) and `on_epoch` gets
/// each epoch's record as soon as it is complete.
pub fn train(
    spec: &TrainSpec,
    data: &FashionMnist,
    bar: &ProgressBar,
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<Summary> {
    Ok(train_checkpointed(spec, data, bar, &Checkpointing::default(), Prior::Fresh, on_epoch)?
        .expect("runs every epoch"))
}

/// Where a run keeps its checkpoint and how it uses it.
#[derive(Clone, Debug, Default)]
pub struct Checkpointing {
    /// Write `checkpoint.bin` here at every epoch end (none: no checkpoint).
    pub dir: Option<std::path::PathBuf>,
    /// Continue from the checkpoint in `dir` when there is one.
    pub resume: bool,
    /// Stop once this many epochs of the run are done (the checkpoint holds them).
    pub stop_after: Option<usize>,
}

/// What a run's directory holds for `--resume`, read once: the checkpoint of an interrupted
/// run, or the summary of a finished one.
pub enum Prior {
    /// Nothing to continue from (or no `--resume`): the run starts afresh.
    Fresh,
    /// An interrupted run's checkpoint.
    Checkpoint(checkpoint::Loaded),
    /// A finished run's `summary.json` and no checkpoint (the study's committed results
    /// leave checkpoints out): the run is done and its summary stands for it, so copying
    /// finished runs into a study's output directory saves training them again.
    Finished(Summary),
}

impl Prior {
    /// What `ck` resumes from: nothing unless `ck.resume`.
    pub fn read(ck: &Checkpointing) -> Result<Prior> {
        let Some(dir) = ck.dir.as_ref().filter(|_| ck.resume) else { return Ok(Prior::Fresh) };
        let path = dir.join(checkpoint::FILE);
        if path.exists() {
            return Ok(Prior::Checkpoint(checkpoint::load(&path)?));
        }
        Ok(read_summary(dir)?.map_or(Prior::Fresh, Prior::Finished))
    }

    /// Epochs done before this invocation (all of them for a finished run); none when fresh.
    pub fn epochs_done(&self) -> Option<usize> {
        match self {
            Prior::Fresh => None,
            Prior::Checkpoint(c) => Some(c.head.epochs_done),
            Prior::Finished(s) => Some(s.per_epoch.len()),
        }
    }
}

/// The `summary.json` of a finished run in `dir`, if there is one.
fn read_summary(dir: &Path) -> Result<Option<Summary>> {
    let path = dir.join(SUMMARY);
    if !path.exists() {
        return Ok(None);
    }
    let bad = |what: String| InputError::msg(format!("{}: {what}", path.display()));
    crate::limits::regular_file(&path, "summary")?;
    let text = std::fs::read_to_string(&path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let s: Summary = serde_json::from_str(&text).map_err(|e| bad(format!("malformed summary: {e}")))?;
    if s.per_epoch.len() != s.run.epochs {
        return Err(bad(format!("{} epoch records for a run of {} epochs", s.per_epoch.len(), s.run.epochs)).into());
    }
    Ok(Some(s))
}

/// Trains one model with checkpoints; `None` when `stop_after` stopped it before the last epoch.
pub fn train_checkpointed(
    spec: &TrainSpec,
    data: &FashionMnist,
    bar: &ProgressBar,
    ck: &Checkpointing,
    prior: Prior,
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<Option<Summary>> {
    let train_set = data.train.clone().truncated(spec.train_subset);
    let test_set = data.test.clone().truncated(spec.test_subset);
    if train_set.is_empty() || test_set.is_empty() {
        return Err(InputError::msg(format!(
            "the data holds {} training and {} test images: both subsets need at least one",
            train_set.len(),
            test_set.len()
        ))
        .into());
    }
    let mut net = build(&spec.model, spec.seed)?;
    let mut eng = if spec.stats { Engine::counting(spec.arith()) } else { Engine::new(spec.arith()) };
    let mut scaler = LossScaler::new(spec.loss_scaling);
    let steps_per_epoch = train_set.len().div_ceil(spec.batch);
    let total_steps = steps_per_epoch * spec.epochs;
    let key = RunKey {
        model: spec.model.clone(),
        policy: spec.policy_name(),
        format: spec.cfg.format.name(),
        lo_bits: spec.cfg.lo_bits,
        lo_rounding: spec.cfg.lo_rounding.name().into(),
        epochs: spec.epochs,
        batch: spec.batch,
        sgd: spec.sgd,
        seed: spec.seed,
        train_images: train_set.len(),
        test_images: test_set.len(),
        loss_scaling: spec.loss_scaling,
    };
    let ck_path = ck.dir.as_ref().map(|d| d.join(checkpoint::FILE));
    let mut per_epoch = Vec::new();
    let mut loss_curve = Vec::new();
    let mut seconds_before = 0.0;
    let mut first_epoch = 0;
    match prior {
        Prior::Fresh => {}
        Prior::Finished(s) => {
            if let Some((field, ours, theirs)) = key.first_difference(&s.run) {
                let dir = ck.dir.as_deref().unwrap_or(Path::new("."));
                return Err(InputError::msg(format!(
                    "{} was written by a finished run with {field} = {theirs}; this run has {field} = {ours} \
                     (resume with the settings of that run, or choose another --out)",
                    dir.join(SUMMARY).display()
                ))
                .into());
            }
            return Ok(Some(s));
        }
        Prior::Checkpoint(loaded) => {
            let path = ck_path.as_deref().unwrap_or(Path::new(checkpoint::FILE));
            checkpoint::restore(path, &loaded, &key, &mut net)?;
            let head = loaded.head;
            (first_epoch, scaler, per_epoch, loss_curve, seconds_before) =
                (head.epochs_done, head.scaler, head.per_epoch, head.loss_curve, head.seconds);
        }
    }
    bar.set_length(total_steps as u64);
    bar.set_position((first_epoch * steps_per_epoch) as u64);
    let label = format!("{} {} {}", spec.model, spec.cfg.format.name(), spec.policy_name());
    let start = Instant::now();
    let tenth = steps_per_epoch.div_ceil(10).max(1);
    for epoch in first_epoch..spec.epochs {
        if ck.stop_after.is_some_and(|n| epoch >= n) {
            return Ok(None);
        }
        let t0 = Instant::now();
        eng.reset_counters();
        let skipped0 = scaler.skipped;
        let mut order: Vec<usize> = (0..train_set.len()).collect();
        order
            .shuffle(&mut ChaCha8Rng::seed_from_u64(spec.seed ^ (0x5DEE_CE66_D1CE_u64.wrapping_mul(epoch as u64 + 1))));
        let (mut loss_sum, mut correct, mut seen) = (0f64, 0usize, 0usize);
        let (mut window, mut window_n) = (0f64, 0usize);
        let lr0 = spec.sgd.lr_at(epoch * steps_per_epoch, total_steps);
        for (s, idx) in order.chunks(spec.batch).enumerate() {
            let step = epoch * steps_per_epoch + s;
            let (x, y) = batch_tensor(&train_set, idx);
            let logits = net.forward(x, &mut eng, true);
            let (loss, mut g, c) = softmax_cross_entropy(&logits, &y);
            if scaler.enabled {
                g.data.iter_mut().for_each(|v| *v *= scaler.scale);
            }
            let scale = scaler.scale;
            net.backward(g, &mut eng);
            let mut params = net.params();
            if scaler.update(&mut params) {
                spec.sgd.step(params, spec.sgd.lr_at(step, total_steps), 1.0 / scale);
            }
            loss_sum += loss as f64;
            correct += c;
            seen += idx.len();
            window += loss as f64;
            window_n += 1;
            if window_n == tenth || s + 1 == steps_per_epoch {
                loss_curve.push((epoch as f64 + (s + 1) as f64 / steps_per_epoch as f64, window / window_n as f64));
                (window, window_n) = (0.0, 0);
            }
            bar.inc(1);
            if s % 10 == 0 {
                let rate = seen as f64 / t0.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!(
                    "{label} epoch {}/{} loss {:.4} acc {:.3} {rate:.0} img/s",
                    epoch + 1,
                    spec.epochs,
                    loss_sum / (s + 1) as f64,
                    correct as f64 / seen as f64
                ));
            }
        }
        let (test_loss, test_accuracy) = evaluate(&mut net, &mut eng, &test_set, 256);
        let st = eng.stats;
        let counted = |num, den| eng.count.then(|| share(num, den));
        per_epoch.push(EpochRecord {
            epoch: epoch + 1,
            lr: lr0,
            train_loss: loss_sum / steps_per_epoch as f64,
            train_accuracy: correct as f64 / seen as f64,
            test_loss,
            test_accuracy,
            seconds: t0.elapsed().as_secs_f64(),
            gemm_seconds: eng.gemm_seconds,
            macs: eng.macs,
            high_stream1_share: counted(st.high_stream1, st.steps),
            reductions_changed_share: counted(st.reductions_changed, st.reduced_operands),
            zero_product_share: counted(st.zero_products, st.products),
            skipped_steps: scaler.skipped - skipped0,
            loss_scale: scaler.scale,
        });
        if let Some(path) = &ck_path {
            let head = Checkpoint {
                run: key.clone(),
                epochs_done: epoch + 1,
                scaler: scaler.clone(),
                per_epoch: per_epoch.clone(),
                loss_curve: loss_curve.clone(),
                seconds: seconds_before + start.elapsed().as_secs_f64(),
                tensors: Vec::new(),
            };
            checkpoint::save(path, head, &mut net)?;
        }
        on_epoch(per_epoch.last().expect("just pushed"));
    }
    let seconds = seconds_before + start.elapsed().as_secs_f64();
    let gemm_seconds: f64 = per_epoch.iter().map(|e| e.gemm_seconds).sum();
    let last = per_epoch.last().expect("at least one epoch");
    Ok(Some(Summary {
        run: key,
        lr_schedule: spec.sgd.schedule(),
        threads: rayon::current_num_threads(),
        test_accuracy: last.test_accuracy,
        train_loss: last.train_loss,
        seconds,
        gemm_seconds,
        gemm_share: gemm_seconds / seconds,
        per_epoch,
        loss_curve,
    }))
}

/// A share with six decimals, or an empty field when statistics were not counted.
fn csv_share(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| format!("{v:.6}"))
}

/// A share with three decimals for a table, or `-` when statistics were not counted.
fn table_share(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.3}"))
}

/// The per-epoch CSV.
pub fn epochs_csv(s: &Summary) -> String {
    let mut out = String::from(
        "epoch,lr,train_loss,train_accuracy,test_loss,test_accuracy,seconds,gemm_seconds,macs,\
         high_stream1_share,reductions_changed_share,zero_product_share,skipped_steps,loss_scale\n",
    );
    for e in &s.per_epoch {
        let _ = writeln!(
            out,
            "{},{},{:.6},{:.6},{:.6},{:.6},{:.3},{:.3},{},{},{},{},{},{}",
            e.epoch,
            e.lr,
            e.train_loss,
            e.train_accuracy,
            e.test_loss,
            e.test_accuracy,
            e.seconds,
            e.gemm_seconds,
            e.macs,
            csv_share(e.high_stream1_share),
            csv_share(e.reductions_changed_share),
            csv_share(e.zero_product_share),
            e.skipped_steps,
            e.loss_scale
        );
    }
    out
}

fn curves(runs: &[(String, &Summary)]) -> Vec<Panel> {
    let series = |f: &dyn Fn(&Summary) -> Vec<(f64, f64)>| -> Vec<Series> {
        runs.iter().map(|(label, s)| Series { label: label.clone(), points: f(s) }).collect()
    };
    vec![
        Panel {
            title: "training loss".into(),
            x_label: "epoch".into(),
            y_label: "cross-entropy".into(),
            series: series(&|s| s.loss_curve.clone()),
        },
        Panel {
            title: "test accuracy".into(),
            x_label: "epoch".into(),
            y_label: "accuracy".into(),
            series: series(&|s| s.per_epoch.iter().map(|e| (e.epoch as f64, e.test_accuracy)).collect()),
        },
    ]
}

/// One line per finished epoch, for the terminal or a log.
pub fn epoch_line(label: &str, epochs: usize, e: &EpochRecord) -> String {
    format!(
        "{label} epoch {}/{epochs}: train loss {:.4}, train accuracy {:.2} %, test accuracy {:.2} %, {:.1} s",
        e.epoch,
        e.train_loss,
        100.0 * e.train_accuracy,
        100.0 * e.test_accuracy,
        e.seconds
    )
}

/// Writes `epochs.csv`, `summary.json` and `curves.svg` into `dir`, all three or none.
pub fn write_run(dir: &Path, s: &Summary) -> Result<()> {
    let mut set = OutputSet::new();
    set.add_bytes(&dir.join("epochs.csv"), epochs_csv(s).as_bytes())?;
    set.add_bytes(&dir.join(SUMMARY), (serde_json::to_string_pretty(s)? + "\n").as_bytes())?;
    set.add_bytes(&dir.join("curves.svg"), render_svg(&curves(&[(s.run.policy.clone(), s)]))?.as_bytes())?;
    set.commit()
}

/// A markdown table of several runs, with the difference to the `single` run when there is one.
pub fn comparison_table(runs: &[(String, Summary)]) -> String {
    let single = runs.iter().find(|(l, _)| l == "single").map(|(_, s)| s.test_accuracy);
    let mut out = String::from(
        "| run | format | lo_bits | test accuracy | vs single (pp) | train loss | stream-1 high share | q changed | skipped steps | seconds | GEMM share |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (label, s) in runs {
        let last = s.per_epoch.last().expect("an epoch");
        let vs = single.map_or("-".to_string(), |b| format!("{:+.2}", 100.0 * (s.test_accuracy - b)));
        let skipped: u64 = s.per_epoch.iter().map(|e| e.skipped_steps).sum();
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {:.2} % | {vs} | {:.4} | {} | {} | {skipped} | {:.1} | {:.0} % |",
            s.run.format,
            if s.run.policy == "native" || s.run.policy == "single" || s.run.policy == "full" {
                "-".into()
            } else {
                s.run.lo_bits.to_string()
            },
            100.0 * s.test_accuracy,
            s.train_loss,
            table_share(last.high_stream1_share),
            table_share(last.reductions_changed_share),
            s.seconds,
            100.0 * s.gemm_share
        );
    }
    out
}

/// Writes `<stem>.md`, `<stem>.json` and `<stem>.svg` for a set of runs.
pub fn write_comparison(dir: &Path, stem: &str, title: &str, runs: &[(String, Summary)]) -> Result<String> {
    let table = comparison_table(runs);
    let json: Vec<_> = runs.iter().map(|(l, s)| serde_json::json!({ "run": l, "summary": s })).collect();
    let refs: Vec<(String, &Summary)> = runs.iter().map(|(l, s)| (l.clone(), s)).collect();
    let mut set = OutputSet::new();
    set.add_bytes(&dir.join(format!("{stem}.md")), format!("# {title}\n\n{table}").as_bytes())?;
    set.add_bytes(&dir.join(format!("{stem}.json")), (serde_json::to_string_pretty(&json)? + "\n").as_bytes())?;
    set.add_bytes(&dir.join(format!("{stem}.svg")), render_svg(&curves(&refs))?.as_bytes())?;
    set.commit()?;
    Ok(table)
}

/// The progress bar of training runs.
pub fn progress_bar(visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    // The message takes what the terminal's width leaves, so the line never wraps.
    bar.set_style(
        ProgressStyle::with_template("[{bar:25}] {pos}/{len} steps eta {eta} {wide_msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

/// Labelled runs and the stem of their combined outputs (none for a single run).
pub type Plan = (Vec<(String, TrainSpec)>, Option<&'static str>);

/// The runs `--compare` knows, in the order it runs them.
pub const COMPARE_RUNS: [&str; 5] = ["native", "single", "full", "daa", "static"];

/// The runs a `--compare` list names, in [`COMPARE_RUNS`] order; an empty list names all.
/// An unknown or repeated name is an input error.
pub fn compare_runs(names: &[String]) -> Result<Vec<&'static str>, crate::error::InputError> {
    let allowed = COMPARE_RUNS.join(", ");
    let mut picked = Vec::new();
    for n in names {
        let name = n.trim().to_ascii_lowercase();
        if name.is_empty() {
            return Err(crate::error::InputError::msg(format!(
                "invalid value for `compare`: an empty run name (in a list like 'daa,,single' or 'daa,'); allowed: {allowed}"
            )));
        }
        let Some(&run) = COMPARE_RUNS.iter().find(|r| **r == name) else {
            return Err(crate::error::InputError::field("compare", n, &allowed));
        };
        if picked.contains(&run) {
            return Err(crate::error::InputError::field("compare", n, &format!("each of {allowed} at most once")));
        }
        picked.push(run);
    }
    Ok(COMPARE_RUNS.into_iter().filter(|r| picked.is_empty() || picked.contains(r)).collect())
}

/// What `daa train` runs: (label, spec) pairs, and the stem of the combined outputs (none for one run).
/// `compare`: the runs of `--compare` ([`compare_runs`]), if given.
pub fn plan(base: &TrainSpec, compare: Option<&[&str]>, sweep: &[u32]) -> Result<Plan> {
    use crate::config::Policy;
    let with = |policy: Policy, native: bool| {
        let mut s = base.clone();
        s.cfg = base.cfg.with_policy(policy);
        s.native = native;
        s
    };
    if let Some(names) = compare {
        let mut runs = Vec::new();
        for &name in names {
            // `native`: plain f32 GEMMs; its policy field is not read.
            let spec = if name == "native" { with(Policy::Single, true) } else { with(Policy::parse(name)?, false) };
            runs.push((name.to_string(), spec));
        }
        return Ok((runs, Some("compare")));
    }
    if !sweep.is_empty() {
        let mut runs = vec![("single".to_string(), with(Policy::Single, false))];
        for &l in sweep {
            let mut s = with(
                if base.native || base.cfg.policy == Policy::Single { Policy::Daa } else { base.cfg.policy },
                false,
            );
            let mut settings = s.cfg.to_settings();
            settings.lo_bits = Some(l);
            s.cfg = settings.resolve()?;
            runs.push((format!("{}-lo{l}", s.cfg.policy.name()), s));
        }
        return Ok((runs, Some("sweep")));
    }
    Ok((vec![(base.policy_name(), base.clone())], None))
}
