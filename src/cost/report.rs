//! `daa report`: the paper-style table (throughput, area, energy, accuracy) for one
//! configuration, as markdown and JSON with plots, every assumption beside its number.

use super::energy::{run_energy, EnergyConstants, EnergyReport, Simulator};
use super::perf::{perf, PerfReport};
use super::workloads::Workload;
use crate::config::{Config, Policy};
use crate::cost::area::{area_table, AreaRow};
use crate::files::OutputSet;
use crate::plot::{render_bars, render_svg, Panel, Series};
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
    /// Test accuracy minus `single`'s, percentage points, per model (training results in the same format).
    pub accuracy_delta_pp: BTreeMap<String, f64>,
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
    /// Final test accuracy, a fraction.
    pub test_accuracy: f64,
    /// Test accuracy per epoch.
    pub curve: Vec<f64>,
    /// File it came from.
    pub source: String,
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

/// Reads every `compare.json` below `dir` (runs of `cfg`'s format).
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
            if s["format"].as_str() != Some(&cfg.format.name()) {
                continue;
            }
            rows.push(AccuracyRow {
                model: s["model"].as_str().unwrap_or("?").into(),
                policy: s["policy"].as_str().unwrap_or("?").into(),
                lo_bits: s["lo_bits"].as_u64().unwrap_or(0) as u32,
                seed: s["seed"].as_u64().unwrap_or(0),
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
        let mut delta = BTreeMap::new();
        for row in accuracy.iter().filter(|r| r.policy == name) {
            if let Some(b) =
                accuracy.iter().find(|b| b.policy == "single" && b.model == row.model && b.seed == row.seed)
            {
                delta.insert(format!("{} seed {}", row.model, row.seed), 100.0 * (row.test_accuracy - b.test_accuracy));
            }
        }
        policies.insert(
            name.to_string(),
            PolicyRatios {
                throughput_ratio: throughput.policies[name].speedup_vs_single,
                area_ratio: pe(name).unwrap_or(f64::NAN) / pe("single").unwrap_or(f64::NAN),
                energy_ratio: energy.policies[name].step_ratio_vs_single,
                accuracy_delta_pp: delta,
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
        "accuracy: test accuracy of `daa train --compare` runs found in the results directory for this format (models, subsets and epochs as recorded in each summary)".into(),
    ];
    assumptions.extend(energy.assumptions.iter().map(|a| format!("energy: {a}")));
    assumptions.extend(throughput.assumptions.iter().map(|a| format!("throughput: {a}")));
    Ok(Report {
        config: cfg.to_toml(),
        policies,
        area: area.iter().map(|r| (r.what.clone(), r.stats.cells, r.stats.transistors, r.stats.flops)).collect(),
        throughput,
        energy,
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
        let acc = if p.accuracy_delta_pp.is_empty() {
            "no training results".to_string()
        } else {
            p.accuracy_delta_pp.iter().map(|(m, d)| format!("{m}: {d:+.2}")).collect::<Vec<_>>().join("; ")
        };
        let _ = writeln!(
            s,
            "| {name} | {:.3}x | {:.3}x | {:.3}x | {acc} |",
            p.throughput_ratio, p.area_ratio, p.energy_ratio
        );
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
        "\n## Accuracy\n\n| model | policy | lo_bits | seed | test accuracy | source |\n|---|---|---:|---:|---:|---|\n";
    for a in &r.accuracy {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.2} % | {} |",
            a.model,
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

/// Writes report.md, report.json and the plots into `dir`, all or none.
pub fn write(dir: &Path, cfg: &Config, r: &Report) -> Result<()> {
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
    let mut models: Vec<String> = r.accuracy.iter().map(|a| a.model.clone()).collect();
    models.sort();
    models.dedup();
    let panels: Vec<Panel> = models
        .iter()
        .map(|m| Panel {
            title: format!("{m} ({})", cfg.format.name()),
            x_label: "epoch".into(),
            y_label: "test accuracy".into(),
            series: r
                .accuracy
                .iter()
                .filter(|a| &a.model == m)
                .map(|a| Series {
                    label: format!("{} s{}", a.policy, a.seed),
                    points: a.curve.iter().enumerate().map(|(i, &v)| ((i + 1) as f64, v)).collect(),
                })
                .collect(),
        })
        .collect();
    if !panels.is_empty() {
        set.add_bytes(&dir.join("accuracy.svg"), render_svg(&panels)?.as_bytes())?;
    }
    set.commit()
}
