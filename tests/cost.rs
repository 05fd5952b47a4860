//! The cost model: cycle counts for any tile count, workload tables against the GEMMs
//! training really runs, `daa perf` output.

use assert_cmd::Command;
use daa_gen::config::Settings;
use daa_gen::cost::workloads::{Workload, BUILTIN};
use daa_gen::grid::cycles::{Pattern, Timing};
use daa_gen::train::engine::{Arith, Engine};
use daa_gen::train::layers::Layer;
use daa_gen::train::models::build;
use daa_gen::train::tensor::Tensor;

fn daa() -> Command {
    Command::cargo_bin("daa").unwrap()
}

/// The closed-form extrapolation equals stepping the control logic, for short and long tiles.
#[test]
fn equal_tile_cycles_match_stepping_for_any_tile_count() {
    for (rows, cols, latency, lanes) in [(16, 16, 3, 2), (16, 16, 2, 1), (3, 5, 3, 2), (8, 2, 2, 1), (1, 1, 3, 2)] {
        let t = Timing { rows, cols, latency, lanes };
        for beats in [1, 2, 5, 17, 31, 32, 33, 49, 50, 51, 64, 200] {
            for tiles in (1..=40).chain([41, 63, 64, 99, 150, 151]) {
                let stepped = t.simulate(&vec![beats; tiles], &Pattern::FULL_SPEED).1;
                assert_eq!(t.equal_tiles_cycles(tiles as u64, beats), stepped, "{t:?} beats {beats} tiles {tiles}");
            }
        }
    }
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
