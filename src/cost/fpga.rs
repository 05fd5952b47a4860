//! FPGA sanity run: the generated array through Yosys's FPGA flows (`synth_ice40` then
//! `nextpnr-ice40` for LUTs and the maximum clock; `synth_xilinx`, `synth_ecp5` for LUTs).

use crate::config::Config;
use crate::rtl::emit::RtlFile;
use crate::sim::{require_tool, run_tool, Expect};
use anyhow::{Context, Result};
use serde::Serialize;
use std::process::Command;

/// What one FPGA flow reported.
#[derive(Clone, Debug, Serialize)]
pub struct FpgaResult {
    /// Flow name.
    pub flow: String,
    /// LUTs (LUT4 for iCE40 and ECP5, all LUT sizes for Xilinx).
    pub luts: u64,
    /// Flip-flops.
    pub flops: u64,
    /// DSP/multiplier blocks (kept 0: the flows are run with DSP inference off so LUT counts compare).
    pub dsps: u64,
    /// Maximum clock after place and route, MHz (iCE40 only).
    pub fmax_mhz: Option<f64>,
    /// Device used for place and route.
    pub device: Option<String>,
}

fn yosys_stat(files: &[RtlFile], top: &str, synth: &str, json: Option<&std::path::Path>) -> Result<String> {
    let dir = tempfile::tempdir()?;
    let stat = dir.path().join("stat.txt");
    let write = json.map_or(String::new(), |j| format!("; write_json {}", j.display()));
    crate::sim::yosys::run(
        files,
        top,
        dir.path(),
        &format!("{synth} -top {top}{write}; tee -o {} stat", stat.display()),
    )?;
    Ok(std::fs::read_to_string(stat)?)
}

fn count(stat: &str, prefixes: &[&str]) -> u64 {
    stat.lines()
        .filter(|l| prefixes.iter().any(|p| l.trim_start().starts_with(p)))
        .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
        .sum()
}

/// Runs the three flows on the array of `cfg` (the generated top and its PE files).
pub fn fpga(cfg: &Config, bar: &indicatif::ProgressBar) -> Result<Vec<FpgaResult>> {
    let files: Vec<RtlFile> = crate::grid::package::package(cfg)?
        .into_iter()
        .filter(|(n, _)| n.ends_with(".v") && !n.ends_with("_tb.v"))
        .map(|(n, text)| RtlFile { module: n.trim_end_matches(".v").to_string(), text })
        .collect();
    let top = cfg.name.as_str();
    let mut out = Vec::new();
    bar.set_message("yosys synth_ice40");
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("ice40.json");
    let stat = yosys_stat(&files, top, "synth_ice40", Some(&json))?;
    let luts = count(&stat, &["SB_LUT4"]);
    let flops = count(&stat, &["SB_DFF"]);
    // The smallest iCE40 that holds the design, then place and route for the maximum clock.
    let device = if luts <= 7000 { Some("hx8k") } else { None };
    let mut fmax = None;
    if let Some(dev) = device {
        bar.set_message(format!("nextpnr-ice40 --{dev}"));
        let nextpnr = require_tool("nextpnr-ice40")?;
        let log = dir.path().join("nextpnr.log");
        let mut cmd = Command::new(nextpnr);
        cmd.arg(format!("--{dev}"))
            .args(["--package", "ct256", "--json"])
            .arg(&json)
            .args(["--pcf-allow-unconstrained", "--seed", "1", "--freq", "12", "--log"])
            .arg(&log)
            .arg("--quiet");
        run_tool(&mut cmd, "nextpnr-ice40 failed", Expect::Success)?;
        let text = std::fs::read_to_string(&log).context("nextpnr-ice40 wrote no log")?;
        // "Max frequency for clock 'clock': 45.67 MHz (PASS at 12.00 MHz)", last one is after routing.
        fmax = text.lines().rev().find_map(|l| {
            l.split("Max frequency for clock").nth(1)?.split(": ").nth(1)?.split(" MHz").next()?.trim().parse().ok()
        });
    }
    out.push(FpgaResult {
        flow: "ice40 (synth_ice40, nextpnr-ice40)".into(),
        luts,
        flops,
        dsps: 0,
        fmax_mhz: fmax,
        device: device.map(|d| format!("iCE40 {d}")),
    });
    // LUT counts only: (flow, Yosys script, LUT cells, flip-flop cells).
    let lut_only: [(&str, &str, &[&str], &[&str]); 2] = [
        ("ecp5 (synth_ecp5 -nodsp)", "synth_ecp5 -nodsp", &["LUT4"], &["TRELLIS_FF"]),
        ("xilinx 7-series (synth_xilinx -nodsp)", "synth_xilinx -nodsp", &["LUT"], &["FD"]),
    ];
    for (flow, synth, lut_cells, ff_cells) in lut_only {
        bar.set_message(format!("yosys {synth}"));
        let stat = yosys_stat(&files, top, synth, None)?;
        out.push(FpgaResult {
            flow: flow.into(),
            luts: count(&stat, lut_cells),
            flops: count(&stat, ff_cells),
            dsps: 0,
            fmax_mhz: None,
            device: None,
        });
    }
    Ok(out)
}

/// The results as markdown.
pub fn markdown(cfg: &Config, r: &[FpgaResult]) -> String {
    let mut s = format!(
        "FPGA sanity run of {} ({}, policy {}, lo_bits {}, {}x{} array):\n\n| flow | LUTs | flip-flops | device | max clock |\n|---|---:|---:|---|---:|\n",
        cfg.name,
        cfg.format.name(),
        cfg.policy.name(),
        cfg.lo_bits,
        cfg.rows,
        cfg.cols
    );
    for x in r {
        s += &format!(
            "| {} | {} | {} | {} | {} |\n",
            x.flow,
            x.luts,
            x.flops,
            x.device.clone().unwrap_or_else(|| "-".into()),
            x.fmax_mhz.map_or("-".into(), |f| format!("{f:.1} MHz"))
        );
    }
    s
}
