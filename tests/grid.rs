//! The systolic grid and its IP package: committed packages up to date, determinism, the
//! cycle model's formulas, and the gates (Verilator lint, Yosys, Icarus testbench,
//! Verilator bit- and cycle-exact GEMMs) on the default and on seeded random configurations.
//!
//! Tests that need a tool skip when it is missing, except under CI, where they fail.

mod common;

use common::{have, write_package};
use daa_gen::config::{Config, Settings};
use daa_gen::grid::cycles::{Pattern, Timing};
use daa_gen::grid::package::package;
use daa_gen::grid::verify::verify_grid;
use daa_gen::grid::{axis_top, grid_files, grid_top};
use daa_gen::rtl::emit::RtlFile;
use daa_gen::sim::{icarus, verilator, yosys};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use std::path::Path;

fn cfg(format: &str, policy: &str, rows: u32, cols: u32, lo: Option<u32>) -> Config {
    cfg_n(format, policy, rows, cols, lo, 1)
}

fn cfg_n(format: &str, policy: &str, rows: u32, cols: u32, lo: Option<u32>, interleave: u32) -> Config {
    Settings {
        format: Some(format.into()),
        policy: Some(policy.into()),
        rows: Some(rows),
        cols: Some(cols),
        lo_bits: lo,
        interleave: Some(interleave),
        ..Settings::default()
    }
    .resolve()
    .unwrap()
}

/// The packages committed in rtl_out/.
fn committed() -> Vec<Config> {
    vec![cfg("fp32", "daa", 8, 8, None), cfg("fp32", "single", 8, 8, None), cfg("bf16", "daa", 4, 4, None)]
}

/// Seeded random small configurations: format, L, policy, rounding, R, C, pipeline, interleave.
fn random_configs(count: usize) -> Vec<Config> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let policies = ["daa", "static", "full", "single"];
    (0..count)
        .map(|_| {
            let x = rng.random_range(2..=8u32);
            let y = rng.random_range(1..=12u32);
            Settings {
                format: Some(format!("e{x}m{y}")),
                policy: Some(policies[rng.random_range(0..4)].into()),
                lo_bits: Some(rng.random_range(0..y)),
                lo_rounding: Some(if rng.random_bool(0.5) { "nearest-even" } else { "toward-zero" }.into()),
                rows: Some(rng.random_range(1..=4)),
                cols: Some(rng.random_range(1..=4)),
                pipeline: Some(rng.random_range(0..=daa_gen::config::MAX_PIPELINE)),
                interleave: Some(rng.random_range(1..=4)),
                ..Settings::default()
            }
            .resolve()
            .unwrap()
        })
        .collect()
}

#[test]
fn committed_packages_are_up_to_date() {
    for c in committed() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rtl_out").join(&c.name);
        let files = package(&c).unwrap();
        let mut on_disk = Vec::new();
        let mut pending = vec![dir.clone()];
        while let Some(d) = pending.pop() {
            let entries = std::fs::read_dir(&d)
                .unwrap_or_else(|e| panic!("{}: {e}; run `daa generate` for {}", d.display(), c.name));
            for e in entries {
                let p = e.unwrap().path();
                // Simulator outputs (the package README sends them to build/) are not the package's.
                if p.is_dir() && p != dir.join("build") {
                    pending.push(p);
                } else if p.is_dir() {
                    continue;
                } else {
                    on_disk.push(p.strip_prefix(&dir).unwrap().to_string_lossy().replace('\\', "/"));
                }
            }
        }
        on_disk.sort();
        let names: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
        assert_eq!(on_disk, names, "{}: file set differs; regenerate rtl_out", c.name);
        for (name, text) in &files {
            let disk = std::fs::read_to_string(dir.join(name)).unwrap();
            assert!(disk == *text, "rtl_out/{}/{name} differs from `daa generate`; regenerate it", c.name);
        }
    }
}

#[test]
fn packages_are_deterministic_and_manifest_hashes_match() {
    use sha2::{Digest, Sha256};
    for c in committed().into_iter().chain(random_configs(3)) {
        let a = package(&c).unwrap();
        assert_eq!(a, package(&c).unwrap(), "{}", c.name);
        let manifest: serde_json::Value =
            serde_json::from_str(&a.iter().find(|f| f.0 == "manifest.json").unwrap().1).unwrap();
        let listed = manifest["files"].as_array().unwrap();
        assert_eq!(listed.len(), a.len() - 1);
        for entry in listed {
            let (path, sha) = (entry["path"].as_str().unwrap(), entry["sha256"].as_str().unwrap());
            let text = &a.iter().find(|f| f.0 == path).unwrap().1;
            let hex: String = Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, sha, "{path}");
        }
        let names: Vec<&str> = a.iter().map(|f| f.0.as_str()).collect();
        for want in [format!("{}.v", c.name), format!("{}.f", c.name), format!("{}.core", c.name), "README.md".into()] {
            assert!(names.contains(&want.as_str()), "{} lacks {want}", c.name);
        }
    }
}

#[test]
fn cycle_model_matches_the_documented_formulas() {
    let configs = [
        cfg("fp32", "daa", 8, 8, None),
        cfg("fp16", "static", 3, 5, None),
        cfg("bf16", "single", 4, 2, None),
        cfg_n("fp32", "daa", 3, 4, None, 3),
        cfg_n("bf16", "single", 2, 2, None, 8),
    ];
    for c in configs {
        let t = Timing::of(&c);
        let (r, cc, lat, g) = (c.rows as u64, c.cols as u64, t.latency as u64, c.interleave as u64);
        let bubble_free = r + cc + lat - 1 + g * r;
        for beats in (1..=bubble_free as usize / g as usize + 5).map(|rounds| rounds * g as usize) {
            for tiles in [1usize, 2, 3, 7] {
                let (_, total) = t.simulate(&vec![beats; tiles], &Pattern::FULL_SPEED);
                let b = beats as u64;
                let n = tiles as u64;
                let expect = if b >= bubble_free {
                    n * b + bubble_free
                } else {
                    // The documented recursion: tile i starts when its beats can follow the previous
                    // tile's and its bank (tile i-2's) has drained, in a cycle of phase 0 (a tile
                    // starts with row group 0); rows drain one per cycle, in order.
                    let d = r + cc + lat - 1;
                    let (mut a, mut e) = (Vec::new(), Vec::<u64>::new());
                    for i in 0..tiles {
                        let mut s = if i == 0 { 0 } else { a[i - 1] + 1 };
                        if i >= 2 {
                            s = s.max(e[i - 2] + 1);
                        }
                        s = s.next_multiple_of(g);
                        a.push(s + b - 1);
                        let f = if i == 0 { a[i] + d + 1 } else { (a[i] + d + 1).max(e[i - 1] + 1) };
                        e.push(f + g * r - 1);
                    }
                    e[tiles - 1] + 1
                };
                assert_eq!(total, expect, "{} T={beats} tiles={tiles}", c.name);
            }
        }
    }
}

fn lint_all(files: &[RtlFile], top: &str) {
    verilator::lint(files, top).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn verilator_lint_and_icarus_compile_the_templated_tops() {
    if !have(&["verilator", "iverilog"]) {
        return;
    }
    let mut configs = committed();
    configs.extend(random_configs(6));
    configs.par_iter().for_each(|c| {
        let mut files = grid_files(c).unwrap();
        lint_all(&files, &c.name);
        icarus::compile(&files, &c.name).unwrap();
        // The AXI4-Stream top over the native one.
        files.push(axis_top(c).unwrap());
        let axis = format!("{}_axis", c.name);
        lint_all(&files, &axis);
        icarus::compile(&files, &axis).unwrap();
    });
}

#[test]
fn a_64x64_top_generates_and_lints() {
    if !have(&["verilator"]) {
        return;
    }
    // The full 64x64 lint takes about 6 minutes here (4096 PE instances); the templated top
    // is linted at that size against a port-compatible PE shell, and the PE is linted on its own.
    let c = cfg("fp32", "daa", 64, 64, None);
    let top = grid_top(&c).unwrap();
    assert!(grid_files(&c).unwrap().len() > 5);
    let shell = RtlFile {
        module: format!("{}_pe", c.name),
        text: format!(
            "module {}_pe(input wire clock, input wire rst, input wire en, input wire first,\n\
             input wire [31:0] a0, input wire [31:0] b0, input wire [31:0] a1, input wire [31:0] b1,\n\
             output wire high, output reg [31:0] acc);\n\
             always @(posedge clock) acc <= (rst | ~en) ? 32'd0 : (first ? (a0 ^ b0) : (a1 ^ b1));\n\
             assign high = ^acc;\nendmodule\n",
            c.name
        ),
    };
    lint_all(&[top, shell], &c.name);
}

#[test]
fn yosys_synthesizes_and_checks_the_arrays() {
    if !have(&["yosys"]) {
        return;
    }
    let mut configs = committed();
    configs.extend(random_configs(2));
    configs.par_iter().for_each(|c| {
        let mut files = grid_files(c).unwrap();
        yosys::synth_check(&files, &c.name).unwrap();
        files.push(axis_top(c).unwrap());
        yosys::synth_check(&files, &format!("{}_axis", c.name)).unwrap();
    });
}

#[test]
fn icarus_runs_the_package_testbenches() {
    if !have(&["iverilog", "vvp"]) {
        return;
    }
    let mut configs = committed();
    configs.extend(random_configs(4));
    configs.par_iter().for_each(|c| {
        let dir = tempfile::tempdir().unwrap();
        let files = package(c).unwrap();
        write_package(dir.path(), &files);
        let mut sources: Vec<String> = files.iter().filter(|f| f.0.ends_with(".v")).map(|f| f.0.clone()).collect();
        sources.sort();
        let out = icarus::run_testbench(dir.path(), &sources, &format!("{}_tb", c.name)).unwrap();
        assert!(out.contains("PASS:"), "{}: {out}", c.name);
        assert!(!out.contains("FAIL"), "{}: {out}", c.name);
    });
}

#[test]
fn verilator_gemms_are_bit_and_cycle_exact() {
    if !have(&["verilator"]) {
        return;
    }
    let mut runs: Vec<(Config, u64)> = vec![
        (cfg("fp32", "daa", 8, 8, None), 160),
        (cfg("fp16", "static", 3, 5, None), 400),
        (cfg("bf16", "single", 2, 3, None), 200),
        // Interleaved accumulators: row groups, phases, the shifting banks.
        (cfg_n("fp32", "daa", 4, 4, None, 2), 100),
        (cfg_n("fp16", "static", 3, 5, None, 3), 120),
        (cfg_n("bf16", "single", 2, 3, None, 4), 120),
    ];
    runs.extend(random_configs(4).into_iter().map(|c| (c, 120)));
    runs.par_iter().for_each(|(c, gemms)| {
        let r = verify_grid(c, *gemms, 5, "test").unwrap();
        assert_eq!(r.failures(), 0, "{}\n{}", r.summary(), r.examples.join("\n"));
        assert!(r.outputs > 0);
    });
}

/// The array of `c` verified with its top's text altered by `(from, to)` replacements (each
/// `from` must occur).
fn verify_broken(c: &Config, edits: &[(&str, &str)], gemms: u64) -> daa_gen::grid::verify::GridReport {
    let mut files = grid_files(c).unwrap();
    let top = files.iter_mut().find(|f| f.module == c.name).unwrap();
    for (from, to) in edits {
        assert!(top.text.contains(from), "{from} not in {}", top.text);
        top.text = top.text.replace(from, to);
    }
    daa_gen::grid::verify::verify_grid_files(c, &files, gemms, 1, "daa verify --format bf16").unwrap()
}

#[test]
fn a_broken_array_is_caught_and_reported() {
    if !have(&["verilator"]) {
        return;
    }
    // Results captured into the wrong output bank: rows come from the other tile.
    let swap = [
        ("if (k_in[1] & ~k_in[0]) keep0", "if (k_in[1] & k_in[0]) keep0"),
        ("if (k_in[1] & k_in[0]) keep1", "if (k_in[1] & ~k_in[0]) keep1"),
    ];
    let r = verify_broken(&cfg("bf16", "daa", 2, 2, None), &swap, 40);
    assert!(r.mismatches > 0, "{}", r.summary());
    let e = r.examples.iter().find(|e| e.contains("MISMATCH in C[")).expect("a data mismatch report");
    assert!(e.contains("expected ") && e.contains("actual ") && e.contains("reproduce: daa verify"), "{e}");
    // Interleaved: a beat accepted out of its phase lands in another group's accumulator.
    // Several batches, so that some have input gaps inside tiles (a tile shifted by a whole
    // phase only renames its groups' accumulators and still computes the right result).
    let r = verify_broken(&cfg_n("bf16", "daa", 2, 2, None, 3), &[(" & (phase == group);", ";")], 200);
    assert!(r.mismatches + r.timing_mismatches > 0, "{}", r.summary());
    // pe_high not gated by the beat: cycles without a step count the stale operands' decision.
    let r = verify_broken(&cfg("bf16", "daa", 2, 3, None), &[("= h_in[AW] & high;", "= high;")], 80);
    assert_eq!(r.mismatches + r.timing_mismatches, 0, "{}", r.summary());
    assert!(r.decision_mismatches > 0, "{}", r.summary());
    let e = r.examples.iter().find(|e| e.contains("DECISION MISMATCH")).expect("a decision mismatch report");
    assert!(e.contains("golden model counts") && e.contains("reproduce: daa verify"), "{e}");
}
