//! `daa report`: the paper-style table (throughput, area, energy, accuracy) for one
//! configuration, as markdown and JSON with plots, every assumption beside its number.

use super::energy::{run_energy, EnergyConstants, EnergyReport, Simulator};
use super::perf::{perf, PerfReport};
use super::workloads::Workload;
use crate::config::{Config, Policy};
use crate::cost::area::{area_table, AreaRow};
use crate::files::OutputSet;
use crate::plot::{render_bars, render_intervals, render_svg, Intervals, Panel, Series};
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// The three ratios of one policy against `single`, and accuracy where training results exist.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyRatios {
    /// cycles(single) / cycles(policy) for the workload's training step.
    pub throughput_ratio: f64,
    /// PE transistors (policy) / PE transistors (single).
    pub area_ratio: f64,
    /// Training-step energy (policy) / (single).
    pub energy_ratio: f64,
    /// Test accuracy minus `single`'s on the same seed, percentage points, averaged over the
    /// seeds of each training setting (training results in the same format and lo_bits).
    pub accuracy_vs_single: Vec<AccuracyDelta>,
}

/// The paired differences of one policy against `single` in one training setting.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AccuracyDelta {
    /// Model.
    pub model: String,
    /// Training images per epoch and epochs: runs are paired only within one setting.
    pub train_images: u64,
    pub epochs: u64,
    /// The rest of the setting ([`AccuracyRow::recipe`]).
    pub recipe: String,
    /// Whether another setting of this report has the same model, images and epochs, so
    /// that [`describe`](Self::describe) must name the recipe to tell them apart.
    #[serde(skip)]
    pub recipe_differs: bool,
    /// Seeds with both runs.
    pub seeds: Vec<u64>,
    /// Mean of (policy - single) over the seeds, percentage points.
    pub mean_pp: f64,
    /// Its standard error (sample standard deviation / sqrt(seeds)); none for one seed.
    pub se_pp: Option<f64>,
}

impl AccuracyDelta {
    fn setting(&self) -> Setting<'_> {
        Setting { model: &self.model, train_images: self.train_images, epochs: self.epochs, recipe: &self.recipe }
    }

    /// `lenet5, 60000 x 10 ep, 3 seeds: +0.11 ± 0.09` (± omitted for one seed; the recipe
    /// in parentheses after `ep` when another setting would read the same).
    pub fn describe(&self) -> String {
        let n = self.seeds.len();
        let se = self.se_pp.map(|e| format!(" ± {e:.2}")).unwrap_or_default();
        let recipe = if self.recipe_differs { format!(" ({})", self.recipe) } else { String::new() };
        format!(
            "{}, {} x {} ep{recipe}, {n} seed{}: {:+.2}{se}",
            self.model,
            self.train_images,
            self.epochs,
            if n == 1 { "" } else { "s" },
            self.mean_pp
        )
    }
}

/// Paired differences of `policy` against `single` per setting (model, training images,
/// epochs, recipe), settings in order of model, then most data and epochs first.
pub fn accuracy_vs_single(rows: &[AccuracyRow], policy: &str) -> Vec<AccuracyDelta> {
    paired_accuracy(rows, policy, "single")
}

/// Paired differences of `policy` against `baseline` (the same seed and setting) per
/// setting, in [`accuracy_vs_single`]'s order.
pub fn paired_accuracy(rows: &[AccuracyRow], policy: &str, baseline: &str) -> Vec<AccuracyDelta> {
    use std::cmp::Reverse;
    /// (model, training images, epochs, recipe), most data first.
    type Key = (String, Reverse<u64>, Reverse<u64>, String);
    let mut by_setting: BTreeMap<Key, BTreeMap<u64, f64>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.policy == policy) {
        let base = rows.iter().find(|b| b.policy == baseline && b.seed == row.seed && b.same_setting(row));
        if let Some(b) = base {
            let key = (row.model.clone(), Reverse(row.train_images), Reverse(row.epochs), row.recipe.clone());
            // One difference per seed: a second run of the same setting and seed replaces none.
            by_setting.entry(key).or_default().entry(row.seed).or_insert(100.0 * (row.test_accuracy - b.test_accuracy));
        }
    }
    let deltas: Vec<AccuracyDelta> = by_setting
        .into_iter()
        .map(|((model, images, epochs, recipe), d)| {
            let n = d.len() as f64;
            let mean = d.values().sum::<f64>() / n;
            let se = (d.len() > 1)
                .then(|| (d.values().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() / n.sqrt());
            AccuracyDelta {
                model,
                train_images: images.0,
                epochs: epochs.0,
                recipe,
                recipe_differs: false,
                seeds: d.keys().copied().collect(),
                mean_pp: mean,
                se_pp: se,
            }
        })
        .collect();
    deltas
        .iter()
        .map(|a| AccuracyDelta {
            recipe_differs: deltas.iter().any(|b| a.setting().recipe_twin(&b.setting())),
            ..a.clone()
        })
        .collect()
}

/// What makes two training runs comparable: the model, the data, the epochs and the recipe.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Setting<'a> {
    model: &'a str,
    train_images: u64,
    epochs: u64,
    recipe: &'a str,
}

impl Setting<'_> {
    /// Another setting that would read the same without its recipe.
    fn recipe_twin(&self, o: &Setting) -> bool {
        (self.model, self.train_images, self.epochs) == (o.model, o.train_images, o.epochs) && self.recipe != o.recipe
    }
}

/// One training run found in the results directory.
#[derive(Clone, Debug, Serialize)]
pub struct AccuracyRow {
    /// Model.
    pub model: String,
    /// `native` or policy.
    pub policy: String,
    /// Low-path bits.
    pub lo_bits: u32,
    /// Seed.
    pub seed: u64,
    /// Training images per epoch (60,000: all of them) and epochs.
    pub train_images: u64,
    pub epochs: u64,
    /// The rest of what makes two runs comparable: batch, optimiser, warmup, test images,
    /// loss scaling (`batch 64, lr 0.05, momentum 0.9, weight decay 0.0005, warmup 0,
    /// 10000 test images, loss scaling off`).
    pub recipe: String,
    /// Final test accuracy, a fraction.
    pub test_accuracy: f64,
    /// Test accuracy per epoch.
    pub curve: Vec<f64>,
    /// File it came from.
    pub source: String,
}

impl AccuracyRow {
    fn setting(&self) -> Setting<'_> {
        Setting { model: &self.model, train_images: self.train_images, epochs: self.epochs, recipe: &self.recipe }
    }

    /// Same model, training images, epochs and recipe: runs that may be paired.
    fn same_setting(&self, o: &AccuracyRow) -> bool {
        self.setting() == o.setting()
    }

    /// The recipe of a run's `summary.json` (runs from before warmup existed had none: 0;
    /// format, lo_bits and lo_rounding are the report's own, filtered on when loading).
    fn recipe_of(s: &serde_json::Value) -> String {
        let (sgd, num) =
            (&s["sgd"], |v: &serde_json::Value| v.as_f64().map_or("?".into(), |x| format!("{}", x as f32)));
        format!(
            "batch {}, lr {}, momentum {}, weight decay {}, warmup {}, {} test images, loss scaling {}",
            s["batch"].as_u64().unwrap_or(0),
            num(&sgd["lr"]),
            num(&sgd["momentum"]),
            num(&sgd["weight_decay"]),
            sgd["warmup_steps"].as_u64().unwrap_or(0),
            s["test_images"].as_u64().unwrap_or(0),
            if s["loss_scaling"].as_bool().unwrap_or(false) { "on" } else { "off" }
        )
    }
}

/// Everything `report.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The configuration, as `daa config` prints it.
    pub config: String,
    /// Ratios per policy.
    pub policies: BTreeMap<String, PolicyRatios>,
    /// Throughput details.
    pub throughput: PerfReport,
    /// Area rows (units and PEs).
    pub area: Vec<(String, u64, u64, u64)>,
    /// Energy details.
    pub energy: EnergyReport,
    /// Training results used.
    pub accuracy: Vec<AccuracyRow>,
    /// `daa` minus `static` on the same seed per setting: whether the controller beats the
    /// fixed split of the same two multipliers.
    pub daa_vs_static: Vec<AccuracyDelta>,
    /// Benchmarks of the tool (with `--bench`).
    pub tool: Option<super::toolbench::ToolBench>,
    /// Every PE setting's ECP5 clock and time to result (with `--fpga`).
    pub time_to_result: Option<Vec<super::fpga::TimeToResult>>,
    /// Assumptions, one per line, naming the number they affect.
    pub assumptions: Vec<String>,
}

/// Directory levels searched below `--training` (symbolic links are not followed, so a
/// link loop cannot make the search endless).
const TRAINING_DEPTH: usize = 6;
/// Bytes read of one `compare.json`.
const COMPARE_JSON_BYTES: u64 = 1 << 24;

/// Reads every `compare.json` below `dir` (runs of `cfg`'s format and lo_bits).
pub fn training_results(dir: &Path, cfg: &Config) -> Vec<AccuracyRow> {
    let mut files = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() && depth < TRAINING_DEPTH {
                stack.push((p, depth + 1));
            } else if kind.is_file() && p.file_name().is_some_and(|n| n == "compare.json") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut rows = Vec::new();
    for f in files {
        let Ok(text) = crate::limits::read_bounded(&f, "training results", COMPARE_JSON_BYTES) else { continue };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&text) else { continue };
        for run in v.as_array().into_iter().flatten() {
            let s = &run["summary"];
            if s["format"].as_str() != Some(&cfg.format.name())
                || s["lo_bits"].as_u64() != Some(cfg.lo_bits.into())
                || s["lo_rounding"].as_str() != Some(cfg.lo_rounding.name())
            {
                continue;
            }
            rows.push(AccuracyRow {
                model: s["model"].as_str().unwrap_or("?").into(),
                policy: s["policy"].as_str().unwrap_or("?").into(),
                lo_bits: s["lo_bits"].as_u64().unwrap_or(0) as u32,
                seed: s["seed"].as_u64().unwrap_or(0),
                train_images: s["train_images"].as_u64().unwrap_or(0),
                epochs: s["epochs"].as_u64().unwrap_or(0),
                recipe: AccuracyRow::recipe_of(s),
                test_accuracy: s["test_accuracy"].as_f64().unwrap_or(f64::NAN),
                curve: s["per_epoch"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["test_accuracy"].as_f64())
                    .collect(),
                source: f.display().to_string(),
            });
        }
    }
    rows
}

/// What a report covers besides the configuration.
pub struct ReportOptions<'a> {
    /// Workload of the throughput and energy numbers.
    pub workload: &'a Workload,
    /// Its mini-batch.
    pub batch: usize,
    /// Where `daa train --compare` results are looked for.
    pub training_dir: &'a Path,
    /// Whether to benchmark the tool too.
    pub bench: bool,
    /// Whether to place and route the PE sweep for the time to result.
    pub fpga: bool,
}

/// Builds the report (Yosys, Verilator and the dataset are needed for area and energy).
pub fn build(
    cfg: &Config,
    k: &EnergyConstants,
    opts: &ReportOptions,
    data: &crate::train::data::Dataset,
    bar: &indicatif::ProgressBar,
) -> Result<Report> {
    let (workload, batch, training_dir, bench) = (opts.workload, opts.batch, opts.training_dir, opts.bench);
    let throughput = perf(cfg, workload, batch);
    bar.set_message("area: Yosys synthesis of the units and PEs (cached)");
    let area: Vec<AreaRow> = area_table(cfg)?;
    let energy = run_energy(cfg, k, data, workload, batch, Simulator::Builtin, bar)?;
    let accuracy = training_results(training_dir, cfg);
    let tool = if bench { Some(super::toolbench::run(cfg, 200, bar)?) } else { None };
    let time_to_result = if opts.fpga { Some(super::fpga::time_to_result(cfg, workload, batch, bar)?) } else { None };
    let pe = |p: &str| area.iter().find(|r| r.what == format!("pe ({p})")).map(|r| r.stats.transistors as f64);
    let mut policies = BTreeMap::new();
    for p in Policy::ALL {
        let name = p.name();
        policies.insert(
            name.to_string(),
            PolicyRatios {
                throughput_ratio: throughput.policies[name].speedup_vs_single,
                area_ratio: pe(name).unwrap_or(f64::NAN) / pe("single").unwrap_or(f64::NAN),
                energy_ratio: energy.policies[name].step_ratio_vs_single,
                accuracy_vs_single: accuracy_vs_single(&accuracy, name),
            },
        );
    }
    let mut assumptions = vec![
        format!("throughput: {} training step at batch {batch} on a {}x{} array; cycles from the grid's cycle model (= RTL cycles)", workload.name, cfg.rows, cfg.cols),
        "area: Yosys 0.23 `synth -flatten` generic gates, `stat -tech cmos` transistors of the PE, flip-flops excluded (Yosys gives them no estimate); no wires, no placement".into(),
        format!(
            "energy: {} fJ per transistor toggle, leakage share {} of `single` on the stimulus; ratios depend on the share, not on the fJ figure",
            k.fj_per_transistor_toggle, k.leakage_share
        ),
        "accuracy: `daa train --compare` runs found in the results directory for this format and lo_bits; each policy minus `single` on the same seed, mean ± standard error over the seeds of one setting (model, training images, epochs, and the recipe: batch, optimiser, warmup, test images, loss scaling)".into(),
    ];
    assumptions.extend(energy.assumptions.iter().map(|a| format!("energy: {a}")));
    assumptions.extend(throughput.assumptions.iter().map(|a| format!("throughput: {a}")));
    Ok(Report {
        config: cfg.to_toml(),
        policies,
        area: area.iter().map(|r| (r.what.clone(), r.stats.cells, r.stats.transistors, r.stats.flops)).collect(),
        throughput,
        energy,
        daa_vs_static: paired_accuracy(&accuracy, "daa", "static"),
        accuracy,
        tool,
        time_to_result,
        assumptions,
    })
}

/// The report as markdown.
pub fn markdown(cfg: &Config, r: &Report) -> String {
    let mut s = format!(
        "# DAA report: {} (lo_bits {}, {}), {}x{} array\n\n## Summary against `single`\n\n| policy | throughput | area (PE) | energy ({} step) | accuracy (pp vs single) |\n|---|---:|---:|---:|---|\n",
        cfg.format.name(),
        cfg.lo_bits,
        cfg.lo_rounding.name(),
        cfg.rows,
        cfg.cols,
        r.throughput.workload
    );
    for (name, p) in &r.policies {
        let acc = if name == "single" {
            "(the baseline)".to_string()
        } else if p.accuracy_vs_single.is_empty() {
            "no training results".to_string()
        } else {
            p.accuracy_vs_single.iter().map(AccuracyDelta::describe).collect::<Vec<_>>().join("; ")
        };
        let _ = writeln!(
            s,
            "| {name} | {:.3}x | {:.3}x | {:.3}x | {acc} |",
            p.throughput_ratio, p.area_ratio, p.energy_ratio
        );
    }
    if !r.daa_vs_static.is_empty() {
        let d: Vec<String> = r.daa_vs_static.iter().map(AccuracyDelta::describe).collect();
        let _ = writeln!(s, "\n`daa` against `static` (the controller against the fixed split, pp): {}", d.join("; "));
    }
    s += "\n## Throughput\n\n";
    s += &super::perf::markdown(&r.throughput);
    s += "\n## Area\n\n| unit / PE | cells | transistors | flip-flops |\n|---|---:|---:|---:|\n";
    for (w, c, t, f) in &r.area {
        let _ = writeln!(s, "| {w} | {c} | {t} | {f} |");
    }
    s += "\n## Energy\n\n";
    s += &super::energy::markdown(&r.energy);
    s +=
        "\n## Accuracy\n\n| model | training images | epochs | recipe | policy | lo_bits | seed | test accuracy | source |\n|---|---:|---:|---|---|---:|---:|---:|---|\n";
    for a in &r.accuracy {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} % | {} |",
            a.model,
            a.train_images,
            a.epochs,
            a.recipe,
            a.policy,
            a.lo_bits,
            a.seed,
            100.0 * a.test_accuracy,
            a.source
        );
    }
    if let Some(t) = &r.time_to_result {
        s += "\n## Time to result on ECP5\n";
        s += &super::fpga::time_to_result_markdown(
            cfg,
            &r.throughput.workload,
            r.throughput.batch,
            (cfg.rows, cfg.cols),
            t,
        );
    }
    if let Some(t) = &r.tool {
        s += "\n## The tool itself\n\n";
        s += &super::toolbench::markdown(t);
    }
    s += "\n## Assumptions\n\n";
    for a in &r.assumptions {
        let _ = writeln!(s, "- {a}");
    }
    s
}

/// Writes report.md, report.json and the plots into `dir`, all or none; returns the names
/// of the files written (the accuracy plots only with training results).
pub fn write(dir: &Path, cfg: &Config, r: &Report) -> Result<Vec<String>> {
    let mut set = OutputSet::new();
    set.add_bytes(&dir.join("report.md"), markdown(cfg, r).as_bytes())?;
    set.add_bytes(&dir.join("report.json"), (serde_json::to_string_pretty(r)? + "\n").as_bytes())?;
    let speedup = Series {
        label: "daa vs single".into(),
        points: r.throughput.gemms.iter().enumerate().map(|(i, g)| (i as f64, g.speedup)).collect(),
    };
    let svg = render_svg(&[Panel {
        title: format!("{} training GEMMs: speed-up of the dual-stream array", r.throughput.workload),
        x_label: "GEMM (layer order; fwd, bwd-data, bwd-weight)".into(),
        y_label: "cycles single / cycles daa".into(),
        series: vec![speedup],
    }])?;
    set.add_bytes(&dir.join("speedup.svg"), svg.as_bytes())?;
    let mut units: Vec<String> =
        r.energy.policies.values().flat_map(|p| p.unit_dynamic_fj_per_mac.keys().cloned()).collect();
    units.sort();
    units.dedup();
    let series: Vec<(String, Vec<f64>)> = r
        .energy
        .policies
        .iter()
        .map(|(n, p)| {
            (
                n.clone(),
                units
                    .iter()
                    .map(|u| {
                        p.unit_dynamic_fj_per_mac.get(u).copied().unwrap_or(0.0)
                            + p.unit_static_fj_per_mac.get(u).copied().unwrap_or(0.0)
                    })
                    .collect(),
            )
        })
        .collect();
    let bars = render_bars("energy per MAC by unit (dynamic + static)", "fJ per MAC", &units, &series)?;
    set.add_bytes(&dir.join("energy_units.svg"), bars.as_bytes())?;
    // One panel per training setting: curves of different data sizes or schedules do not compare.
    let mut settings: Vec<Setting> = r.accuracy.iter().map(AccuracyRow::setting).collect();
    settings.sort();
    settings.dedup();
    let panels: Vec<Panel> = settings
        .iter()
        .map(|s| Panel {
            title: {
                let twin = settings.iter().any(|o| s.recipe_twin(o));
                let recipe = if twin { format!("; {}", s.recipe) } else { String::new() };
                let seeds = r.accuracy.iter().filter(|a| a.setting() == *s && a.policy == "single").count();
                let lines = if seeds > 1 { format!(", a line per seed ({seeds})") } else { String::new() };
                format!(
                    "{}, {} images x {} epochs ({}{recipe}{lines})",
                    s.model,
                    s.train_images,
                    s.epochs,
                    cfg.format.name()
                )
            },
            x_label: "epoch".into(),
            y_label: "test accuracy".into(),
            series: r
                .accuracy
                .iter()
                .filter(|a| a.setting() == *s)
                .map(|a| Series {
                    // A policy's seeds share a colour and a legend entry.
                    label: a.policy.clone(),
                    points: a.curve.iter().enumerate().map(|(i, &v)| ((i + 1) as f64, v)).collect(),
                })
                .collect(),
        })
        .collect();
    if !panels.is_empty() {
        set.add_bytes(&dir.join("accuracy.svg"), render_svg(&panels)?.as_bytes())?;
    }
    let vs_single = r.policies.get("daa").map(|p| p.accuracy_vs_single.as_slice()).unwrap_or_default();
    if let Some(svg) = paired_accuracy_svg(cfg, vs_single, &r.daa_vs_static)? {
        set.add_bytes(&dir.join("accuracy_paired.svg"), svg.as_bytes())?;
    }
    let names = set.names();
    set.commit()?;
    Ok(names)
}

/// The study's two questions in one figure: `daa` - `single` and `daa` - `static` per
/// setting, mean ± 2 standard errors over the seeds (no bar for one seed), over the 0.5 pp
/// bound; `None` without paired results.
fn paired_accuracy_svg(
    cfg: &Config,
    vs_single: &[AccuracyDelta],
    vs_static: &[AccuracyDelta],
) -> Result<Option<String>> {
    let pairs = [("daa - single", vs_single), ("daa - static", vs_static)];
    let mut settings: Vec<&AccuracyDelta> = pairs.iter().flat_map(|p| p.1.iter()).collect();
    settings.sort_by(|a, b| a.setting().cmp(&b.setting()));
    settings.dedup_by(|a, b| a.setting() == b.setting());
    if settings.is_empty() {
        return Ok(None);
    }
    let categories: Vec<String> = settings
        .iter()
        .map(|d| {
            let recipe = if d.recipe_differs { format!(" ({})", d.recipe) } else { String::new() };
            format!("{} {}x{}{recipe}", d.model, d.train_images, d.epochs)
        })
        .collect();
    let series: Vec<Intervals> = pairs
        .iter()
        .map(|(label, deltas)| {
            let at = |s: &AccuracyDelta| {
                let d = deltas.iter().find(|d| d.setting() == s.setting())?;
                Some((d.mean_pp, 2.0 * d.se_pp.unwrap_or(0.0)))
            };
            (label.to_string(), settings.iter().map(|s| at(s)).collect())
        })
        .collect();
    let title = format!(
        "{} (lo_bits {}): paired test-accuracy differences, mean ± 2 se over seeds",
        cfg.format.name(),
        cfg.lo_bits
    );
    render_intervals(&title, "percentage points", &categories, &series, &[-0.5, 0.0, 0.5]).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(policy: &str, seed: u64, images: u64, epochs: u64, acc: f64) -> AccuracyRow {
        AccuracyRow {
            model: "lenet5".into(),
            policy: policy.into(),
            lo_bits: 7,
            seed,
            train_images: images,
            epochs,
            recipe: "batch 64".into(),
            test_accuracy: acc,
            curve: vec![acc],
            source: String::new(),
        }
    }

    /// Runs pair only with `single` of the same seed and setting; each setting gets its own
    /// mean and standard error.
    #[test]
    fn accuracy_is_paired_per_seed_and_setting() {
        let rows = vec![
            row("single", 1, 10_000, 3, 0.80),
            row("daa", 1, 10_000, 3, 0.70),
            row("single", 1, 60_000, 10, 0.900),
            row("daa", 1, 60_000, 10, 0.901),
            row("single", 2, 60_000, 10, 0.905),
            row("daa", 2, 60_000, 10, 0.908),
            row("single", 3, 60_000, 10, 0.902),
            row("daa", 3, 60_000, 10, 0.907),
            // No `single` partner: left out.
            row("daa", 4, 60_000, 10, 0.5),
        ];
        let d = accuracy_vs_single(&rows, "daa");
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!((d[0].train_images, d[0].epochs, d[0].seeds.clone()), (60_000, 10, vec![1, 2, 3]));
        // Differences 0.1, 0.3, 0.5 pp: mean 0.3, sd 0.2, se 0.2 / sqrt(3).
        assert!((d[0].mean_pp - 0.3).abs() < 1e-9, "{d:?}");
        assert!((d[0].se_pp.unwrap() - 0.2 / 3f64.sqrt()).abs() < 1e-9, "{d:?}");
        assert_eq!(d[0].describe(), "lenet5, 60000 x 10 ep, 3 seeds: +0.30 ± 0.12");
        assert_eq!((d[1].train_images, d[1].seeds.clone(), d[1].se_pp), (10_000, vec![1], None));
        assert_eq!(d[1].describe(), "lenet5, 10000 x 3 ep, 1 seed: -10.00");

        // The same model, images and epochs with another recipe is another setting, named.
        let mut other = vec![row("single", 1, 60_000, 10, 0.5), row("daa", 1, 60_000, 10, 0.6)];
        other.iter_mut().for_each(|r| r.recipe = "batch 32".into());
        let d = accuracy_vs_single(&[rows, other].concat(), "daa");
        assert_eq!(d.len(), 3, "{d:?}");
        assert_eq!(d[0].describe(), "lenet5, 60000 x 10 ep (batch 32), 1 seed: +10.00");
        assert_eq!(d[1].describe(), "lenet5, 60000 x 10 ep (batch 64), 3 seeds: +0.30 ± 0.12");
    }

    /// `daa` pairs with `static` as with `single`; the figure has a group per setting with
    /// either difference, a bar of 2 standard errors, and nothing without results.
    #[test]
    fn daa_against_static_and_its_figure() {
        let rows = vec![
            row("static", 1, 60_000, 10, 0.900),
            row("daa", 1, 60_000, 10, 0.902),
            row("static", 2, 60_000, 10, 0.905),
            row("daa", 2, 60_000, 10, 0.904),
            row("single", 1, 10_000, 3, 0.80),
            row("daa", 1, 10_000, 3, 0.79),
        ];
        let vs_static = paired_accuracy(&rows, "daa", "static");
        assert_eq!(vs_static.len(), 1, "{vs_static:?}");
        assert_eq!(vs_static[0].seeds, vec![1, 2]);
        assert!((vs_static[0].mean_pp - 0.05).abs() < 1e-9 && (vs_static[0].se_pp.unwrap() - 0.15).abs() < 1e-9);
        let vs_single = accuracy_vs_single(&rows, "daa");
        let cfg = Config::default();
        let svg = paired_accuracy_svg(&cfg, &vs_single, &vs_static).unwrap().unwrap();
        for want in ["daa - single", "daa - static", "lenet5 60000x10", "lenet5 10000x3", "fp32 (lo_bits 7)"] {
            assert!(svg.contains(want), "{want} missing");
        }
        assert!(paired_accuracy_svg(&cfg, &[], &[]).unwrap().is_none());
    }

    /// A summary's recipe: a run from before warmup existed reads as warmup 0.
    #[test]
    fn recipe_of_a_summary() {
        let s = serde_json::json!({"batch": 64, "sgd": {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.0005},
            "test_images": 10000, "loss_scaling": false});
        let want =
            "batch 64, lr 0.05, momentum 0.9, weight decay 0.0005, warmup 0, 10000 test images, loss scaling off";
        assert_eq!(AccuracyRow::recipe_of(&s), want);
        let mut w = s.clone();
        w["sgd"]["warmup_steps"] = 500.into();
        assert_eq!(AccuracyRow::recipe_of(&w), want.replace("warmup 0", "warmup 500"));
    }
}
