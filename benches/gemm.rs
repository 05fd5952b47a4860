//! Criterion benchmark: golden GEMM per policy against matrixmultiply's sgemm (M = N = K = 256).
//! `daa bench` prints the same comparison as ratios in one run at 512.

use criterion::{criterion_group, criterion_main, Criterion};
use daa_gen::config::{Policy, Settings};
use daa_gen::format::Format;
use daa_gen::golden::bench::sgemm_square;
use daa_gen::golden::explore::random_operands;
use daa_gen::golden::gemm::{gemm, gemm_nostats, GemmInput};
use daa_gen::golden::pe::PeParams;

fn bench(c: &mut Criterion) {
    let n = 256;
    let (a, b) = random_operands(Format::FP32, n, n, n, 1, 0.5);
    let mut group = c.benchmark_group("gemm256");
    group.sample_size(20);
    for policy in Policy::ALL {
        let cfg = Settings { policy: Some(policy.name().into()), ..Default::default() }.resolve().unwrap();
        let p = PeParams::from(&cfg);
        let g = GemmInput { m: n, k: n, n, a: &a.codes, b: &b.codes };
        group.bench_function(format!("golden_fp32_{policy}"), |bn| bn.iter(|| gemm(&p, &g)));
        group.bench_function(format!("golden_fp32_{policy}_nostats"), |bn| bn.iter(|| gemm_nostats(&p, &g)));
    }
    let af: Vec<f32> = a.codes.iter().map(|&x| f32::from_bits(x)).collect();
    let bf: Vec<f32> = b.codes.iter().map(|&x| f32::from_bits(x)).collect();
    let mut cf = vec![0f32; n * n];
    group.bench_function("sgemm", |bn| bn.iter(|| sgemm_square(n, &af, &bf, &mut cf)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
