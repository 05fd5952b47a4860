//! Energy from switching activity (docs/cost.md): the PE's gate-level netlist
//! simulated in Verilator on operand streams captured from training GEMMs, toggles
//! counted per cell and weighted by the cell's transistors, plus static energy
//! proportional to transistors x cycles.

use super::netlist::{synth_json, toggle_netlist, transistors, ToggleNetlist};
use crate::config::{Config, Policy};
use crate::rtl::emit::pe_files;
use crate::sim::verilator::build_exe_with;
use crate::train::data::Dataset;
use crate::train::engine::{Arith, Captured, Engine};
use crate::train::layers::{softmax_cross_entropy, Layer};
use crate::train::models::build;
use crate::train::optim::Sgd;
use crate::train::tensor::Tensor;
use anyhow::{bail, Context, Result};
use askama::Template;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

pub use crate::config::EnergyConstants;

/// A stretch of MACs one PE performs: operand pairs in order, `first` where an output element starts.
#[derive(Clone, Debug)]
pub struct Segment {
    /// Where the operands come from, e.g. `lenet5 conv2 bwd-weight`.
    pub name: String,
    /// (a, b) binary32 operand pairs.
    pub pairs: Vec<(f32, f32)>,
    /// Indices of `pairs` where an output element starts (always even).
    pub starts: Vec<usize>,
}

/// Trains `model` for `warmup` steps with the `daa` golden GEMM of `cfg`'s format, then
/// captures the operands of every GEMM of one more step.
pub fn capture_training_gemms(
    model: &str,
    cfg: &Config,
    data: &Dataset,
    warmup: usize,
    seed: u64,
) -> Result<Vec<(String, Captured)>> {
    let batch = 32;
    let mut net = build(model, seed)?;
    let mut eng = Engine::new(Arith::Golden(crate::golden::pe::PeParams::from(&cfg.with_policy(Policy::Daa))));
    let sgd = Sgd { lr: 0.05, momentum: 0.9, weight_decay: 5e-4, warmup_steps: 0 };
    let px = data.rows * data.cols;
    for step in 0..=warmup {
        let start = (step * batch) % data.len().saturating_sub(batch).max(1);
        let idx: Vec<usize> = (start..(start + batch).min(data.len())).collect();
        let x = Tensor::from_vec(
            idx.len(),
            1,
            data.rows,
            data.cols,
            idx.iter().flat_map(|&i| data.images[i * px..(i + 1) * px].to_vec()).collect(),
        );
        let y: Vec<u8> = idx.iter().map(|&i| data.labels[i]).collect();
        if step == warmup {
            eng.capture = Some(Vec::new());
            eng.shapes = Some(Vec::new());
        }
        let logits = net.forward(x, &mut eng, true);
        let (_, g, _) = softmax_cross_entropy(&logits, &y);
        net.backward(g, &mut eng);
        sgd.step(net.params(), sgd.lr, 1.0);
    }
    let caps = eng.capture.take().unwrap_or_default();
    // Name each GEMM after the workload table's layer and pass with the same shape.
    let w = super::workloads::Workload::load(model)?;
    let table = w.training_gemms(batch);
    Ok(caps
        .into_iter()
        .map(|c| {
            let name = table
                .iter()
                .find(|g| (g.m, g.k, g.n) == (c.m, c.k, c.n))
                .map_or_else(|| format!("{}x{}x{}", c.m, c.k, c.n), |g| format!("{} {}", g.layer, g.pass.short()));
            (format!("{model} {name}"), c)
        })
        .collect())
}

/// Draws `macs` operand pairs from a GEMM: runs of up to `max_run` consecutive steps of
/// randomly chosen output elements, as the PE computing that element would see them.
pub fn segment(name: &str, c: &Captured, macs: usize, max_run: usize, seed: u64) -> Segment {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut pairs, mut starts) = (Vec::with_capacity(macs), Vec::new());
    while pairs.len() < macs {
        let (i, j) = (rng.random_range(0..c.m), rng.random_range(0..c.n));
        let run = c.k.min(max_run).min(macs - pairs.len()).max(1);
        let k0 = if c.k > run { 2 * rng.random_range(0..=(c.k - run) / 2) } else { 0 };
        starts.push(pairs.len());
        for kk in k0..k0 + run {
            pairs.push((c.a[i * c.k + kk], c.b[kk * c.n + j]));
        }
        // Runs start at even positions so dual-stream steps pair (2t, 2t+1) as in the GEMM.
        if pairs.len() % 2 == 1 {
            pairs.push((0.0, 0.0));
        }
    }
    Segment { name: name.to_string(), pairs, starts }
}

#[derive(Template)]
#[template(path = "toggle_harness.cpp", escape = "none")]
struct ToggleHarness {
    top: String,
    version: &'static str,
    g_words: usize,
    q_words: usize,
    groups: Vec<(u8, usize, usize)>,
    dual: bool,
}

/// The measured activity of one policy's PE.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyActivity {
    /// Policy name.
    pub policy: String,
    /// Transistors of the gate-level PE (cells x `stat -tech cmos` weights, flip-flops 16).
    pub transistors: u64,
    /// Transistors per unit.
    pub unit_transistors: BTreeMap<String, u64>,
    /// Per segment: transistor-weighted toggles per unit.
    pub segment_toggles: Vec<BTreeMap<String, f64>>,
    /// Per segment: cycles the PE needed.
    pub segment_cycles: Vec<u64>,
    /// Per segment: MACs.
    pub segment_macs: Vec<u64>,
    /// Per segment: toggles per (unit, cell type) group, as counted.
    #[serde(skip)]
    pub raw_counts: Vec<Vec<u64>>,
}

/// Which simulator runs the gate-level netlist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Simulator {
    /// The built-in zero-delay cycle simulator of [`GateSim`](super::netlist::GateSim) (seconds).
    Builtin,
    /// The netlist written as Verilog and compiled with Verilator (minutes for fp32 PEs).
    Verilator,
}

/// Per segment: toggles per group and the hash of `acc` over the segment's cycles.
type SegmentCounts = Vec<(Vec<u64>, u64)>;

fn run_verilator(net: &ToggleNetlist, dual: bool, records: &[[u32; 5]]) -> Result<SegmentCounts> {
    let h = ToggleHarness {
        top: net.file.module.clone(),
        version: env!("CARGO_PKG_VERSION"),
        g_words: net.words.0,
        q_words: net.words.1,
        groups: net.groups.iter().map(|g| (u8::from(g.flop), g.word, g.words)).collect(),
        dual,
    };
    // Tens of thousands of one-gate assignments: unoptimised C++ builds several times faster.
    let (exe, _) = build_exe_with(
        std::slice::from_ref(&net.file),
        &net.file.module,
        &h.render()?,
        &["-MAKEFLAGS", "OPT_FAST=-O1 OPT_SLOW=-O0 OPT_GLOBAL=-O1"],
    )?;
    let input: Vec<u8> = records.iter().flat_map(|r| r.iter().flat_map(|w| w.to_le_bytes())).collect();
    let mut child = Command::new(&exe)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    let mut stdin = child.stdin.take().context("harness stdin")?;
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output()?;
    writer.join().map_err(|_| anyhow::anyhow!("stimulus writer panicked"))??;
    if !out.status.success() {
        bail!("toggle harness failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    String::from_utf8(out.stdout)?
        .lines()
        .map(|l| {
            let mut v: Vec<u64> = l.split_whitespace().map(|x| x.parse()).collect::<Result<_, _>>()?;
            let hash = v.pop().context("empty harness line")?;
            Ok((v, hash))
        })
        .collect()
}

fn run_builtin(net: &ToggleNetlist, dual: bool, records: &[[u32; 5]]) -> SegmentCounts {
    let mut sim = net.sim.clone();
    let mut counts = vec![0u64; sim.groups()];
    let (mut hash, mut out) = (0u64, Vec::new());
    for r in records {
        sim.set("en", (r[0] & 1) as u64);
        sim.set("first", ((r[0] >> 1) & 1) as u64);
        sim.set("rst", ((r[0] >> 2) & 1) as u64);
        sim.set("a0", r[1] as u64);
        sim.set("b0", r[2] as u64);
        if dual {
            sim.set("a1", r[3] as u64);
            sim.set("b1", r[4] as u64);
        }
        sim.cycle(&mut counts, r[0] & 8 != 0);
        hash = hash.wrapping_mul(1_000_003).wrapping_add(sim.get("acc"));
        if r[0] & 16 != 0 {
            out.push((std::mem::replace(&mut counts, vec![0; sim.groups()]), hash));
            hash = 0;
        }
    }
    out
}

/// Builds the gate-level PE of `cfg` (its policy) and counts toggles on the segments; the
/// netlist's `acc` is checked cycle by cycle (as a hash per segment) against the golden PE model.
pub fn measure(cfg: &Config, segments: &[Segment], simulator: Simulator) -> Result<PolicyActivity> {
    let top = format!("{}_pe", cfg.name);
    let json = synth_json(&pe_files(cfg)?, &top)?;
    let net: ToggleNetlist = toggle_netlist(&json, &top, &cfg.name)?;
    let dual = cfg.policy.is_dual();
    let f = cfg.format;
    let word = |x: f32| f.encode_rne(x);
    let params = crate::golden::pe::PeParams::from(cfg);
    let mut pipe = crate::golden::pe::Pipeline::default();
    let (mut hash, mut hashes) = (0u64, Vec::new());
    let mut records: Vec<[u32; 5]> = Vec::new();
    let mut push = |r: [u32; 5]| {
        let beat = crate::golden::pe::Beat {
            rst: r[0] & 4 != 0,
            en: r[0] & 1 != 0,
            first: r[0] & 2 != 0,
            ops: [r[1], r[2], r[3], r[4]],
        };
        hash = hash.wrapping_mul(1_000_003).wrapping_add(pipe.clock(&params, &beat) as u64);
        if r[0] & 0b1_0000 != 0 {
            hashes.push(hash);
            hash = 0;
        }
        records.push(r);
    };
    for _ in 0..4 {
        push([0b100, 0, 0, 0, 0]);
    }
    let (mut cycles, mut macs) = (Vec::new(), Vec::new());
    for s in segments {
        let step = if dual { 2 } else { 1 };
        let total = s.pairs.len().div_ceil(step);
        let mut next_start = s.starts.iter().peekable();
        for t in 0..total {
            let p = t * step;
            let mut ctl = 0b1001;
            if next_start.peek().is_some_and(|&&st| st <= p) {
                while next_start.peek().is_some_and(|&&st| st <= p) {
                    next_start.next();
                }
                ctl |= 0b10;
            }
            if t + 1 == total {
                ctl |= 0b1_0000;
            }
            let (a0, b0) = s.pairs[p];
            let (a1, b1) = if dual { s.pairs.get(p + 1).copied().unwrap_or((0.0, 0.0)) } else { (0.0, 0.0) };
            push([ctl, word(a0), word(b0), word(a1), word(b1)]);
        }
        cycles.push(total as u64);
        macs.push(s.pairs.len() as u64);
    }
    let counts = match simulator {
        Simulator::Builtin => run_builtin(&net, dual, &records),
        Simulator::Verilator => run_verilator(&net, dual, &records)?,
    };
    if counts.len() != segments.len() {
        bail!("the simulation reported {} segments for {}", counts.len(), segments.len());
    }
    let mut unit_transistors: BTreeMap<String, u64> = BTreeMap::new();
    for g in &net.groups {
        *unit_transistors.entry(g.unit.clone()).or_default() +=
            g.cells as u64 * transistors(&g.kind).unwrap_or(0) as u64;
    }
    let mut segment_toggles = Vec::new();
    for (((c, got), want), s) in counts.iter().map(|(c, h)| (c, h)).zip(&hashes).zip(segments) {
        if got != want || c.len() != net.groups.len() {
            bail!(
                "the gate-level netlist of {top} disagrees with the golden PE model on segment {} (acc hash {got} vs {want}): the netlist is not the PE",
                s.name
            );
        }
        let mut per_unit: BTreeMap<String, f64> = BTreeMap::new();
        for (g, n) in net.groups.iter().zip(c) {
            *per_unit.entry(g.unit.clone()).or_default() += *n as f64 * transistors(&g.kind).unwrap_or(0) as f64;
        }
        segment_toggles.push(per_unit);
    }
    Ok(PolicyActivity {
        policy: cfg.policy.name().into(),
        transistors: unit_transistors.values().sum(),
        unit_transistors,
        segment_toggles,
        segment_cycles: cycles,
        segment_macs: macs,
        raw_counts: counts.into_iter().map(|c| c.0).collect(),
    })
}

/// Energy of one policy.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyEnergy {
    /// Policy name.
    pub policy: String,
    /// PE transistors (gate-level netlist).
    pub transistors: u64,
    /// Dynamic energy per MAC over the whole stimulus, fJ.
    pub dynamic_fj_per_mac: f64,
    /// Static energy per MAC at the stimulus's cycles per MAC, fJ.
    pub static_fj_per_mac: f64,
    /// Dynamic energy per MAC by unit, fJ.
    pub unit_dynamic_fj_per_mac: BTreeMap<String, f64>,
    /// Static energy per MAC by unit, fJ.
    pub unit_static_fj_per_mac: BTreeMap<String, f64>,
    /// Energy of each captured GEMM's stimulus (dynamic + static), fJ.
    pub gemm_fj: Vec<f64>,
    /// Ratio to `single` per captured GEMM.
    pub gemm_ratio_vs_single: Vec<f64>,
    /// Energy of one training step of the workload on the array, joules.
    pub step_joules: f64,
    /// Ratio to `single` of the training step.
    pub step_ratio_vs_single: f64,
    /// Share of that step's energy that is static.
    pub step_static_share: f64,
}

/// The energy model's result for every policy.
#[derive(Clone, Debug, Serialize)]
pub struct EnergyReport {
    /// Format name.
    pub format: String,
    /// Low-path bits.
    pub lo_bits: u32,
    /// Constants used.
    pub constants: EnergyConstants,
    /// Leakage per transistor per cycle derived from `leakage_share`, fJ.
    pub leakage_fj_per_transistor_cycle: f64,
    /// Names of the captured GEMMs, in the order of `gemm_fj`.
    pub gemms: Vec<String>,
    /// Workload of the training-step numbers.
    pub workload: String,
    /// Per policy.
    pub policies: BTreeMap<String, PolicyEnergy>,
    /// Whether the PE skips work for zero operands (it does not: zeros toggle like any value).
    pub zero_gating: bool,
    /// What the numbers assume.
    pub assumptions: Vec<String>,
}

/// Combines measured activity with the constants and the workload's cycles.
pub fn model(
    cfg: &Config,
    k: &EnergyConstants,
    names: Vec<String>,
    acts: &[PolicyActivity],
    step: &super::perf::PerfReport,
) -> Result<EnergyReport> {
    let single = acts.iter().find(|a| a.policy == "single").context("the energy model needs the `single` PE")?;
    let e = k.fj_per_transistor_toggle;
    let dyn_total =
        |a: &PolicyActivity| -> f64 { a.segment_toggles.iter().map(|u| u.values().sum::<f64>()).sum::<f64>() * e };
    let cycles_total = |a: &PolicyActivity| -> f64 { a.segment_cycles.iter().sum::<u64>() as f64 };
    let macs_total = |a: &PolicyActivity| -> f64 { a.segment_macs.iter().sum::<u64>() as f64 };
    // Leakage per transistor-cycle such that static = share x total for `single` on the stimulus.
    let leak = k.leakage_share / (1.0 - k.leakage_share) * dyn_total(single)
        / (cycles_total(single) * single.transistors as f64);
    let pes = (step.rows * step.cols) as f64;
    let mut out: BTreeMap<String, PolicyEnergy> = BTreeMap::new();
    let seg_energy = |a: &PolicyActivity, s: usize| -> f64 {
        a.segment_toggles[s].values().sum::<f64>() * e + leak * a.transistors as f64 * a.segment_cycles[s] as f64
    };
    let step_energy = |a: &PolicyActivity| -> (f64, f64) {
        let dyn_per_mac = dyn_total(a) / macs_total(a);
        let cyc = step.policies[&a.policy].cycles as f64;
        let d = dyn_per_mac * step.macs as f64;
        let s = leak * a.transistors as f64 * pes * cyc;
        (d + s, s)
    };
    let (single_step, _) = step_energy(single);
    for a in acts {
        let macs = macs_total(a);
        let cpm = cycles_total(a) / macs;
        let (st, st_static) = step_energy(a);
        let gemm_fj: Vec<f64> = (0..a.segment_cycles.len()).map(|s| seg_energy(a, s)).collect();
        let ratio = gemm_fj.iter().enumerate().map(|(s, v)| v / seg_energy(single, s)).collect();
        let mut unit_dyn: BTreeMap<String, f64> = BTreeMap::new();
        for seg in &a.segment_toggles {
            for (u, t) in seg {
                *unit_dyn.entry(u.clone()).or_default() += t * e / macs;
            }
        }
        let unit_static = a.unit_transistors.iter().map(|(u, t)| (u.clone(), leak * *t as f64 * cpm)).collect();
        out.insert(
            a.policy.clone(),
            PolicyEnergy {
                policy: a.policy.clone(),
                transistors: a.transistors,
                dynamic_fj_per_mac: dyn_total(a) / macs,
                static_fj_per_mac: leak * a.transistors as f64 * cpm,
                unit_dynamic_fj_per_mac: unit_dyn,
                unit_static_fj_per_mac: unit_static,
                gemm_fj,
                gemm_ratio_vs_single: ratio,
                step_joules: st * 1e-15,
                step_ratio_vs_single: st / single_step,
                step_static_share: st_static / st,
            },
        );
    }
    Ok(EnergyReport {
        format: cfg.format.name(),
        lo_bits: cfg.lo_bits,
        constants: *k,
        leakage_fj_per_transistor_cycle: leak,
        gemms: names,
        workload: step.workload.clone(),
        policies: out,
        zero_gating: false,
        assumptions: vec![
            "dynamic energy = sum over cells of (output toggles x transistors of the cell x fj_per_transistor_toggle); zero-delay simulation, glitches not counted".into(),
            "the netlist is Yosys `synth` (hierarchy kept) + `dffunmap` to plain flip-flops; transistor weights from Yosys `stat -tech cmos`, flip-flops 16".into(),
            "static energy = leakage per transistor-cycle x PE transistors x cycles, every policy alike; the leakage is set so that `single` on the stimulus spends leakage_share of its energy statically".into(),
            "the PE does not gate zero operands: a zero product toggles the datapath like any other".into(),
            "training-step energy: dynamic energy per MAC measured on the stimulus x the step's MACs, plus static energy of all R x C PEs over the step's cycles (fill, drain and padded tiles leak but do not switch)".into(),
            "stimulus: operands of one training step (after warm-up) of the small models, daa golden arithmetic, runs of consecutive reduction steps of random output elements".into(),
        ],
    })
}

/// Captures the stimulus from the small models' training GEMMs, measures every policy's
/// PE on it and applies the model, with the training step of `workload` on `cfg`'s array.
pub fn run_energy(
    cfg: &Config,
    k: &EnergyConstants,
    data: &Dataset,
    workload: &super::workloads::Workload,
    batch: usize,
    simulator: Simulator,
    bar: &indicatif::ProgressBar,
) -> Result<EnergyReport> {
    let mut names = Vec::new();
    let mut segments = Vec::new();
    for (mi, model) in ["lenet5", "vgg-small", "resnet-mini"].iter().enumerate() {
        bar.set_message(format!("capturing {model} training GEMMs"));
        for (gi, (name, c)) in capture_training_gemms(model, cfg, data, k.warmup_steps, 1)?.into_iter().enumerate() {
            segments.push(segment(&name, &c, k.macs_per_gemm, k.max_run, (mi * 1000 + gi) as u64));
            names.push(name);
        }
    }
    let mut acts = Vec::new();
    bar.set_length(Policy::ALL.len() as u64);
    for p in Policy::ALL {
        bar.set_message(format!("gate-level PE ({}): synthesize, build, simulate", p.name()));
        acts.push(measure(&cfg.with_policy(p), &segments, simulator)?);
        bar.inc(1);
    }
    let step = super::perf::perf(cfg, workload, batch);
    model(cfg, k, names, &acts, &step)
}

/// The energy report as markdown.
pub fn markdown(r: &EnergyReport) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "Energy, {} (lo_bits {}), {} training step; constants: {} fJ per transistor toggle, leakage share {} (of `single` on the stimulus) -> {:.4e} fJ per transistor-cycle; zero operands gated: {}\n\n",
        r.format,
        r.lo_bits,
        r.workload,
        r.constants.fj_per_transistor_toggle,
        r.constants.leakage_share,
        r.leakage_fj_per_transistor_cycle,
        if r.zero_gating { "yes" } else { "no" }
    );
    s += "| policy | PE transistors | dynamic fJ/MAC | static fJ/MAC | step energy (J) | vs single | static share | captured GEMMs vs single (min / mean / max) |\n|---|---:|---:|---:|---:|---:|---:|---|\n";
    for (name, p) in &r.policies {
        let rs = &p.gemm_ratio_vs_single;
        let mean = rs.iter().sum::<f64>() / rs.len().max(1) as f64;
        let min = rs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = rs.iter().copied().fold(0.0, f64::max);
        let _ = writeln!(
            s,
            "| {name} | {} | {:.1} | {:.1} | {:.4} | {:.3}x | {:.0} % | {min:.3} / {mean:.3} / {max:.3} |",
            p.transistors,
            p.dynamic_fj_per_mac,
            p.static_fj_per_mac,
            p.step_joules,
            p.step_ratio_vs_single,
            100.0 * p.step_static_share
        );
    }
    s += "\nDynamic energy per MAC by unit (fJ):\n\n| unit |";
    let pols: Vec<&String> = r.policies.keys().collect();
    for p in &pols {
        let _ = write!(s, " {p} |");
    }
    s += "\n|---|";
    s += &"---:|".repeat(pols.len());
    s += "\n";
    let mut units: Vec<&String> = r.policies.values().flat_map(|p| p.unit_dynamic_fj_per_mac.keys()).collect();
    units.sort();
    units.dedup();
    for u in units {
        let _ = write!(s, "| {u} |");
        for p in &pols {
            let v = r.policies[*p].unit_dynamic_fj_per_mac.get(u).copied().unwrap_or(0.0);
            let _ = write!(s, " {v:.1} |");
        }
        s += "\n";
    }
    s += "\nAssumptions:\n";
    for a in &r.assumptions {
        let _ = writeln!(s, "- {a}");
    }
    s
}
