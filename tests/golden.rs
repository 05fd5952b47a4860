//! The golden model against independent oracles: host f32, `half`, the integer softfloat,
//! hand-written expected values for every corner class, and its own ordered reference.

use daa_gen::config::{Policy, Rounding, Settings};
use daa_gen::format::{Format, CANONICAL_NAN};
use daa_gen::golden::arith::{add, mul, q};
use daa_gen::golden::gemm::{gemm, gemm_nostats_isa, gemm_reference, GemmInput, Isa};
use daa_gen::golden::pe::{high_stream, key, step_dual, PeParams};
use daa_gen::golden::softfloat;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn f(bits: u32) -> f32 {
    f32::from_bits(bits)
}
fn bits(x: f32) -> u32 {
    x.to_bits()
}

/// Host f32 plus the amendments of docs/arithmetic.md, written here independently of `arith`.
fn host_flush(x: f32) -> f32 {
    if x.is_nan() {
        f(CANONICAL_NAN)
    } else if x != 0.0 && x.abs() < f32::MIN_POSITIVE {
        if x < 0.0 {
            -0.0
        } else {
            0.0
        }
    } else {
        x
    }
}
fn host_mul(a: f32, b: f32) -> f32 {
    host_flush(host_flush(a) * host_flush(b))
}
fn host_add(a: f32, b: f32) -> f32 {
    host_flush(host_flush(a) + host_flush(b))
}

fn params(format: Format, policy: Policy, lo_bits: u32, r: Rounding) -> PeParams {
    PeParams { format, policy, lo_bits, lo_rounding: r, pipeline: 0, interleave: 1 }
}

// ---------------------------------------------------------------- formats

#[test]
fn parse_formats_and_reject_out_of_range() {
    assert_eq!(Format::parse("fp32").unwrap(), Format::FP32);
    assert_eq!(Format::parse("BF16").unwrap(), Format::BF16);
    assert_eq!(Format::parse("e5m10").unwrap(), Format::FP16);
    assert_eq!(Format::parse("e5m2").unwrap().width(), 8);
    for bad in ["e1m3", "e9m3", "e5m0", "e5m24", "fp8", "5m2", "e5", ""] {
        let e = Format::parse(bad).unwrap_err().0;
        assert!(e.contains("`format`") && e.contains("eXmY"), "{bad}: {e}");
    }
}

#[test]
fn decode_matches_half_for_every_bf16_and_fp16_code() {
    for code in 0..=u16::MAX {
        let h = half::f16::from_bits(code).to_f32();
        let b = half::bf16::from_bits(code).to_f32();
        for (fmt, want) in [(Format::FP16, h), (Format::BF16, b)] {
            let got = fmt.decode(code as u32);
            if want.is_nan() {
                assert_eq!(bits(got), CANONICAL_NAN);
            } else if want != 0.0 && want.abs() < (2.0f32).powi(1 - fmt.bias()) {
                // F_in subnormal: DAZ.
                assert_eq!(bits(got), bits(want) & 0x8000_0000, "{fmt} {code:#x}");
            } else {
                assert_eq!(bits(got), bits(want), "{fmt} {code:#x}");
            }
        }
    }
}

#[test]
fn encode_rne_matches_half_and_round_trips() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for i in 0..400_000u32 {
        let x = if i < 1000 { f((i << 13) ^ 0x3F80_0000) } else { f(rng.random()) };
        if x.is_nan() || (x != 0.0 && x.abs() < f32::MIN_POSITIVE) {
            continue;
        }
        assert_eq!(Format::FP16.encode_rne(x), half::f16::from_f32(x).to_bits() as u32, "fp16 {x:e}");
        assert_eq!(Format::BF16.encode_rne(x), half::bf16::from_f32(x).to_bits() as u32, "bf16 {x:e}");
    }
    // Every finite code of a few formats survives decode -> encode.
    for fmt in [Format::FP16, Format::BF16, Format::parse("e5m2").unwrap(), Format::parse("e3m4").unwrap()] {
        for code in 0..(1u32 << fmt.width()) {
            let e = fmt.exp_field(code);
            if e != 0 && e != fmt.exp_max() {
                assert_eq!(fmt.encode_rne(fmt.decode(code)), code, "{fmt} {code:#x}");
            }
        }
    }
}

#[test]
fn encode_rne_specials() {
    let e5m2 = Format::parse("e5m2").unwrap();
    assert_eq!(e5m2.encode_rne(f32::INFINITY), 0x7C);
    assert_eq!(e5m2.encode_rne(f32::NEG_INFINITY), 0xFC);
    assert_eq!(e5m2.encode_rne(f32::NAN), 0x7E);
    assert_eq!(e5m2.encode_rne(-0.0), 0x80);
    // 57344 is e5m2's max; 61440 is the midpoint to 65536 (odd mantissa 11 -> ties up to Inf).
    assert_eq!(e5m2.encode_rne(57344.0), 0x7B);
    assert_eq!(e5m2.encode_rne(61440.0), 0x7C);
    assert_eq!(e5m2.encode_rne(1.125), 0x3C); // tie 1.0/1.25 -> even 1.0
    assert_eq!(e5m2.encode_rne(1.375), 0x3E); // tie 1.25/1.5 -> even 1.5
                                              // A binary32 subnormal is read as zero before rounding (DAZ).
    assert_eq!(Format::BF16.encode_rne(f(0x007F_FFFF)), 0);
    assert_eq!(Format::FP32.encode_rne(f(0x8000_0001)), 0x8000_0000);
}

// ---------------------------------------------------------------- arithmetic corner classes

#[test]
fn mul_corner_cases_by_hand() {
    let one = 1.0f32;
    assert_eq!(bits(mul(0.0, -3.0)), 0x8000_0000, "+0 * -x = -0");
    assert_eq!(bits(mul(-0.0, -3.0)), 0, "-0 * -x = +0");
    assert_eq!(bits(mul(f(0x0000_0001), 2.0)), 0, "subnormal input is zero");
    assert_eq!(bits(mul(f(0x8040_0000), one)), 0x8000_0000, "negative subnormal is -0");
    assert_eq!(bits(mul(f32::INFINITY, 0.0)), CANONICAL_NAN);
    assert_eq!(bits(mul(f32::INFINITY, -2.0)), 0xFF80_0000);
    assert_eq!(bits(mul(f(0xFFC0_1234), one)), CANONICAL_NAN, "NaN is canonical");
    assert_eq!(bits(mul(f32::MAX, 2.0)), 0x7F80_0000, "overflow to Inf");
    assert_eq!(bits(mul(f32::MIN_POSITIVE, 0.5)), 0, "FTZ of a subnormal product");
    assert_eq!(bits(mul(-f32::MIN_POSITIVE, 0.5)), 0x8000_0000);
    assert_eq!(bits(mul(f32::MIN_POSITIVE, 1.0)), 0x0080_0000, "smallest normal survives");
    // (1 + 2^-23)(1 + 2^-23) = 1 + 2^-22 + 2^-46: rounds down to 1 + 2^-22.
    assert_eq!(bits(mul(f(0x3F80_0001), f(0x3F80_0001))), 0x3F80_0002);
    // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: an exact tie, even is 1 + 2^-11.
    assert_eq!(bits(mul(f(0x3F80_0800), f(0x3F80_0800))), 0x3F80_1000);
    // (1 + 2^-12)(1 + 3*2^-12) = 1 + 2^-10 + 3*2^-24: tie above odd 1+2^-10+2^-23 -> up.
    assert_eq!(bits(mul(f(0x3F80_0800), f(0x3F80_1800))), 0x3F80_2002);
    // (1 - 2^-23) * 2^-126 = 2^-126 - 2^-149 is an exact subnormal: flushed.
    assert_eq!(bits(mul(f(0x3F7F_FFFE), f32::MIN_POSITIVE)), 0);
    // (1 - 2^-24) * 2^-126 is a tie at the subnormal quantum 2^-149 and rounds (even) up to
    // 2^-126, which survives FTZ; x86's FTZ mode, which judges before that rounding, would flush it.
    assert_eq!(bits(mul(f(0x3F7F_FFFF), f32::MIN_POSITIVE)), 0x0080_0000);
    assert_eq!(softfloat::mul(0x3F7F_FFFF, 0x0080_0000), 0x0080_0000);
}

#[test]
fn add_corner_cases_by_hand() {
    assert_eq!(bits(add(0.0, -0.0)), 0, "+0 + -0 = +0");
    assert_eq!(bits(add(-0.0, -0.0)), 0x8000_0000, "-0 + -0 = -0");
    assert_eq!(bits(add(1.5, -1.5)), 0, "exact cancellation gives +0");
    assert_eq!(bits(add(f32::INFINITY, f32::NEG_INFINITY)), CANONICAL_NAN);
    assert_eq!(bits(add(f32::MAX, f32::MAX)), 0x7F80_0000);
    assert_eq!(bits(add(f(0x0000_0010), 1.0)), 0x3F80_0000, "subnormal input is zero");
    // 1.5 * 2^-126 - 2^-126 = 2^-127: subnormal result, flushed.
    assert_eq!(bits(add(1.5 * f32::MIN_POSITIVE, -f32::MIN_POSITIVE)), 0);
    assert_eq!(bits(add(-1.5 * f32::MIN_POSITIVE, f32::MIN_POSITIVE)), 0x8000_0000);
    // Ties: 1 + 2^-24 -> 1 (even); (1 + 2^-23) + 2^-24 -> 1 + 2^-22 (even).
    assert_eq!(bits(add(1.0, f(0x3380_0000))), 0x3F80_0000);
    assert_eq!(bits(add(f(0x3F80_0001), f(0x3380_0000))), 0x3F80_0002);
    // Carry into the exponent: (2 - 2^-23) + 2^-23 = 2.
    assert_eq!(bits(add(f(0x3FFF_FFFF), f(0x3400_0000))), 0x4000_0000);
}

#[test]
fn q_corner_cases_by_hand() {
    let ne = Rounding::NearestEven;
    let tz = Rounding::TowardZero;
    // 1 + 2^-8 with L = 7: a tie, even is 1.0; 1 + 3*2^-8: tie, odd, rounds up to 1 + 2^-6.
    assert_eq!(bits(q(f(0x3F80_8000), 7, ne)), 0x3F80_0000);
    assert_eq!(bits(q(f(0x3F81_8000), 7, ne)), 0x3F82_0000);
    assert_eq!(bits(q(f(0x3F81_8000), 7, tz)), 0x3F81_0000);
    // Carry into the exponent: 1.11111111b with L = 7 -> 2.0.
    assert_eq!(bits(q(f(0x3FFF_8000), 7, ne)), 0x4000_0000);
    assert_eq!(bits(q(f(0x3FFF_8000), 7, tz)), 0x3FFF_0000);
    // Out of the largest binade: Inf.
    assert_eq!(bits(q(f32::MAX, 7, ne)), 0x7F80_0000);
    assert_eq!(bits(q(-f32::MAX, 0, ne)), 0xFF80_0000);
    // L = 0 keeps one significant bit: 1.5 -> 2 (tie, odd), 1.25 -> 1.
    assert_eq!(q(1.5, 0, ne), 2.0);
    assert_eq!(q(1.25, 0, ne), 1.0);
    for special in [0.0f32, -0.0, f32::INFINITY, f32::NEG_INFINITY] {
        assert_eq!(bits(q(special, 3, ne)), bits(special));
    }
    assert!(q(f32::NAN, 3, ne).is_nan());
    assert_eq!(bits(q(f(0x8000_0003), 3, ne)), 0x8000_0000, "subnormal read as -0");
}

#[test]
fn controller_keys_and_ties() {
    let fp16 = Format::FP16;
    let p = params(fp16, Policy::Daa, 3, Rounding::NearestEven);
    let one = 0x3C00; // e = 15
    let two = 0x4000; // e = 16
    assert_eq!(key(fp16, one, two), 31);
    assert_eq!(key(fp16, 0x0001, two), 0, "subnormal operand: key 0");
    assert_eq!(key(fp16, 0x7C00, one), 31 + 15, "Inf counts with its all-ones field");
    assert_eq!(high_stream(&p, one, two, two, one), 0, "tie goes to stream 0");
    assert_eq!(high_stream(&p, one, one, two, one), 1);
    assert_eq!(high_stream(&p, 0, two, one, one), 1, "zero stream 0 has key 0");
    assert_eq!(high_stream(&p, one, one, 0x8000, two), 0);
    let st = params(fp16, Policy::Static, 3, Rounding::NearestEven);
    assert_eq!(high_stream(&st, one, one, two, two), 0, "static: always stream 0");
    // The low path really is reduced: 1 + 2^-10 has its last bit dropped on stream 1 only.
    let fine = 0x3C01;
    let t = step_dual(&p, 0.0, two, one, fine, one);
    assert_eq!((t.high, t.p_high, t.p_low), (0, 2.0, 1.0));
    let t = step_dual(&params(fp16, Policy::Full, 3, Rounding::NearestEven), 0.0, two, one, fine, one);
    assert_eq!(t.p_low, 1.0 + 2f32.powi(-10));
}

// ---------------------------------------------------------------- softfloat vs host

fn interesting_bits(rng: &mut ChaCha8Rng) -> u32 {
    let s = rng.random::<u32>() & 0x8000_0000;
    match rng.random_range(0..10) {
        0 => s,
        1 => s | rng.random_range(1..0x80_0000),
        2 => s | 0x7F80_0000,
        3 => s | 0x7F80_0000 | rng.random_range(1..0x80_0000),
        4 => s | (rng.random_range(1..6u32) << 23) | rng.random_range(0..0x80_0000),
        5 => s | (rng.random_range(250..255u32) << 23) | rng.random_range(0..0x80_0000),
        6 => s | (rng.random_range(100..160u32) << 23) | (rng.random_range(0..0x80_0000) & 0x7F_F000),
        _ => rng.random(),
    }
}

#[test]
fn softfloat_equals_host_arithmetic_on_1_2_million_pairs() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..1_000_000 {
        let (a, b) = (interesting_bits(&mut rng), interesting_bits(&mut rng));
        assert_eq!(softfloat::mul(a, b), bits(mul(f(a), f(b))), "mul {a:08x} {b:08x}");
        assert_eq!(softfloat::add(a, b), bits(add(f(a), f(b))), "add {a:08x} {b:08x}");
        assert_eq!(bits(mul(f(a), f(b))), bits(host_mul(f(a), f(b))));
        assert_eq!(bits(add(f(a), f(b))), bits(host_add(f(a), f(b))));
    }
    // Sums of nearby values exercise cancellation and the subnormal boundary.
    for _ in 0..200_000 {
        let a = interesting_bits(&mut rng) & 0x7FFF_FFFF;
        let b = (a ^ 0x8000_0000).wrapping_add(rng.random_range(0..64)) ^ (rng.random::<u32>() & 1);
        assert_eq!(softfloat::add(a, b), bits(add(f(a), f(b))), "add {a:08x} {b:08x}");
    }
}

proptest! {
    #[test]
    fn softfloat_mul_add_equal_host(a in any::<u32>(), b in any::<u32>()) {
        prop_assert_eq!(softfloat::mul(a, b), bits(host_mul(f(a), f(b))));
        prop_assert_eq!(softfloat::add(a, b), bits(host_add(f(a), f(b))));
    }
}

// ---------------------------------------------------------------- GEMM

fn random_codes(rng: &mut ChaCha8Rng, fmt: Format, len: usize, narrow: bool) -> Vec<u32> {
    (0..len)
        .map(|_| {
            let c = rng.random::<u32>() & fmt.code_mask();
            match rng.random_range(0..10) {
                0 => 0,
                1 if narrow => c,
                _ => {
                    // Keep the exponent near the bias so products stay in range.
                    let spread = (fmt.bias() / 3).max(1);
                    let e = (fmt.bias() + rng.random_range(-spread..=spread)).clamp(1, fmt.exp_max() as i32 - 1) as u32;
                    (c & !(fmt.exp_max() << fmt.frac_bits())) | (e << fmt.frac_bits())
                }
            }
        })
        .collect()
}

fn random_params(rng: &mut ChaCha8Rng) -> PeParams {
    let x = rng.random_range(2..=8);
    let y = rng.random_range(1..=23);
    let fmt = Format::new(x, y).unwrap();
    let policy = Policy::ALL[rng.random_range(0..4)];
    let r = if rng.random_bool(0.5) { Rounding::NearestEven } else { Rounding::TowardZero };
    params(fmt, policy, rng.random_range(0..y), r)
}

#[test]
fn fast_gemm_equals_ordered_reference_with_statistics() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for case in 0..300 {
        let p = random_params(&mut rng);
        let (m, k, n) = (rng.random_range(1..12), rng.random_range(1..40), rng.random_range(1..40));
        // Every third case draws raw codes: subnormals, Inf, NaN and the FTZ kernels.
        let narrow = case % 3 == 0;
        let a = random_codes(&mut rng, p.format, m * k, narrow);
        let b = random_codes(&mut rng, p.format, k * n, narrow);
        let g = GemmInput { m, k, n, a: &a, b: &b };
        let (fast, fs) = gemm(&p, &g);
        let (slow, ss) = gemm_reference(&p, &g);
        let fb: Vec<u32> = fast.iter().map(|x| x.to_bits()).collect();
        let sb: Vec<u32> = slow.iter().map(|x| x.to_bits()).collect();
        assert_eq!(fb, sb, "case {case}: {p:?} {m}x{k}x{n}");
        assert_eq!(fs, ss, "case {case}: statistics, {p:?} {m}x{k}x{n}");
        assert_nostats_equal(&p, &g, &slow, &format!("case {case}"));
    }
}

/// Every statistics-free kernel this CPU can run (the ISAs `DAA_GEMM_ISA` selects) gives `want` bit for bit,
/// on 1, 2 and 3 threads (the thread count sets how strips and row groups are cut).
fn assert_nostats_equal(p: &PeParams, g: &GemmInput, want: &[f32], what: &str) {
    static POOLS: std::sync::OnceLock<Vec<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pools = POOLS.get_or_init(|| {
        (1..=3).map(|t| rayon::ThreadPoolBuilder::new().num_threads(t).build().expect("thread pool")).collect()
    });
    let want: Vec<u32> = want.iter().map(|x| x.to_bits()).collect();
    for (isa, pool) in Isa::available().into_iter().flat_map(|isa| pools.iter().map(move |pool| (isa, pool))) {
        let got: Vec<u32> = pool.install(|| gemm_nostats_isa(p, g, isa)).iter().map(|x| x.to_bits()).collect();
        if let Some(i) = (0..want.len()).find(|&i| got[i] != want[i]) {
            panic!(
                "{what}: {isa:?} kernel, {} threads, {p:?} {}x{}x{}: C[{}][{}] = {:#010x} ({:e}), reference {:#010x} ({:e})",
                pool.current_num_threads(),
                g.m,
                g.k,
                g.n,
                i / g.n,
                i % g.n,
                got[i],
                f32::from_bits(got[i]),
                want[i],
                f32::from_bits(want[i])
            );
        }
    }
}

/// The statistics-free GEMM reuses its result buffer from call to call on a thread: a
/// GEMM with K = 0 after one that filled it must still give zeros, and a smaller GEMM after
/// a larger one its own values.
#[test]
fn fast_gemm_results_do_not_leak_between_calls() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    for policy in [Policy::Daa, Policy::Static, Policy::Single] {
        let p = params(Format::BF16, policy, 3, Rounding::NearestEven);
        let (a, b) = (
            random_codes(&mut rng, Format::BF16, 40 * 50, false),
            random_codes(&mut rng, Format::BF16, 50 * 70, false),
        );
        let big = GemmInput { m: 40, k: 50, n: 70, a: &a, b: &b };
        let small = GemmInput { m: 7, k: 9, n: 33, a: &a[..63], b: &b[..9 * 33] };
        let empty = GemmInput { m: 7, k: 0, n: 33, a: &[], b: &[] };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("thread pool");
        for isa in Isa::available() {
            let (z, s) = pool.install(|| {
                let _ = gemm_nostats_isa(&p, &big, isa);
                let z = gemm_nostats_isa(&p, &empty, isa);
                let _ = gemm_nostats_isa(&p, &big, isa);
                (z, gemm_nostats_isa(&p, &small, isa))
            });
            assert!(z.iter().all(|x| x.to_bits() == 0), "{policy:?} {isa:?}: K = 0 gives +0 everywhere");
            let want = gemm_reference(&p, &small).0;
            assert_eq!(
                s.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "{policy:?} {isa:?}"
            );
        }
    }
}

#[test]
fn fast_gemm_takes_the_ftz_kernel_when_products_can_underflow() {
    // fp32 operands around 2^-60: products near 2^-120 and partial sums cross 2^-126.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let p = params(Format::FP32, Policy::Daa, 7, Rounding::NearestEven);
    let (m, k, n) = (9, 33, 21);
    let gen = |rng: &mut ChaCha8Rng, len| -> Vec<u32> {
        (0..len).map(|_| (rng.random::<u32>() & 0x807F_FFFF) | (rng.random_range(60..70u32) << 23)).collect()
    };
    let (a, b) = (gen(&mut rng, m * k), gen(&mut rng, k * n));
    let g = GemmInput { m, k, n, a: &a, b: &b };
    let (fast, fs) = gemm(&p, &g);
    let (slow, ss) = gemm_reference(&p, &g);
    // No operand is zero, so every zero product is a flushed one.
    assert!(ss.zero_products > 0, "the case must flush something");
    assert_eq!(fs, ss);
    assert_eq!(
        fast.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        slow.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
    assert_nostats_equal(&p, &g, &slow, "all operands tiny");
    // Only the first rows tiny: the statistics-free GEMM chooses FTZ per row panel, so some
    // panels of one GEMM take the FTZ kernel and others do not.
    let mut a2: Vec<u32> = (0..m * k).map(|_| (rng.random::<u32>() & 0x807F_FFFF) | (127 << 23)).collect();
    a2[..2 * k].copy_from_slice(&a[..2 * k]);
    for policy in Policy::ALL {
        let p = params(Format::FP32, policy, 7, Rounding::NearestEven);
        let g = GemmInput { m, k, n, a: &a2, b: &b };
        let (slow, _) = gemm_reference(&p, &g);
        assert_nostats_equal(&p, &g, &slow, "first two rows tiny");
    }
    // A tiny throughout; B tiny in rows 300-449 only, zero elsewhere, over several chunks of
    // the fold (K = 601): the tiny products, which nothing larger hides, must be flushed
    // although the fold's first chunks hold no tiny operand.
    // The statistics-free GEMM decodes B one chunk at a time and takes the FTZ kernel from
    // the chunk on where it first meets a tiny operand: also the first and the last chunk.
    let (m, k, n) = (7, 601, 40);
    let a3 = gen(&mut rng, m * k);
    for tiny in [300..450, 0..40, 560..601] {
        let b3: Vec<u32> = (0..k * n)
            .map(|i| match tiny.contains(&(i / n)) {
                true => (rng.random::<u32>() & 0x807F_FFFF) | (rng.random_range(60..70u32) << 23),
                false => 0,
            })
            .collect();
        for policy in Policy::ALL {
            let p = params(Format::FP32, policy, 7, Rounding::NearestEven);
            let g = GemmInput { m, k, n, a: &a3, b: &b3 };
            let (slow, ss) = gemm_reference(&p, &g);
            assert!(ss.zero_products > 0, "{policy}: the case must flush something");
            assert_nostats_equal(&p, &g, &slow, &format!("B tiny in rows {tiny:?}"));
        }
    }
}

/// The plain fold with host f32: what `full` and `single` must equal bit for bit.
fn host_fold(fmt: Format, a: &[u32], b: &[u32], m: usize, k: usize, n: usize, dual: bool) -> Vec<u32> {
    let mut c = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            let x = |kk: usize| if kk < k { fmt.decode(a[i * k + kk]) } else { 0.0 };
            let y = |kk: usize| if kk < k { fmt.decode(b[kk * n + j]) } else { 0.0 };
            let mut acc = 0f32;
            if dual {
                for t in 0..k.div_ceil(2) {
                    let s = host_add(host_mul(x(2 * t), y(2 * t)), host_mul(x(2 * t + 1), y(2 * t + 1)));
                    acc = host_add(acc, s);
                }
            } else {
                for kk in 0..k {
                    acc = host_add(acc, host_mul(x(kk), y(kk)));
                }
            }
            c.push(acc.to_bits());
        }
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn full_and_single_equal_the_host_fold(seed in any::<u64>(), m in 1usize..10, k in 1usize..50, n in 1usize..40, x in 2u32..=8, y in 1u32..=23) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let fmt = Format::new(x, y).unwrap();
        let a = random_codes(&mut rng, fmt, m * k, seed % 2 == 0);
        let b = random_codes(&mut rng, fmt, k * n, seed % 2 == 0);
        let g = GemmInput { m, k, n, a: &a, b: &b };
        for (policy, dual) in [(Policy::Full, true), (Policy::Single, false)] {
            let (c, _) = gemm(&params(fmt, policy, 0, Rounding::NearestEven), &g);
            prop_assert_eq!(c.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), host_fold(fmt, &a, &b, m, k, n, dual));
        }
    }

    #[test]
    fn results_do_not_depend_on_tiling(seed in any::<u64>(), m in 2usize..30, k in 1usize..30, n in 2usize..40, rm in 1usize..30, cn in 1usize..40) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let p = random_params(&mut rng);
        let a = random_codes(&mut rng, p.format, m * k, true);
        let b = random_codes(&mut rng, p.format, k * n, true);
        let (whole, _) = gemm(&p, &GemmInput { m, k, n, a: &a, b: &b });
        let (rm, cn) = (rm.min(m), cn.min(n));
        // Tiles of rm rows x cn columns, each its own GEMM.
        for i0 in (0..m).step_by(rm) {
            for j0 in (0..n).step_by(cn) {
                let (tm, tn) = (rm.min(m - i0), cn.min(n - j0));
                let ta: Vec<u32> = (i0..i0 + tm).flat_map(|i| a[i * k..(i + 1) * k].to_vec()).collect();
                let tb: Vec<u32> = (0..k).flat_map(|kk| b[kk * n + j0..kk * n + j0 + tn].to_vec()).collect();
                let (tile, _) = gemm(&p, &GemmInput { m: tm, k, n: tn, a: &ta, b: &tb });
                for i in 0..tm {
                    for j in 0..tn {
                        prop_assert_eq!(tile[i * tn + j].to_bits(), whole[(i0 + i) * n + j0 + j].to_bits());
                    }
                }
            }
        }
    }
}

#[test]
fn odd_k_pads_stream_one_with_zero() {
    let p = params(Format::BF16, Policy::Daa, 3, Rounding::NearestEven);
    let one = Format::BF16.encode_rne(1.0);
    let three = Format::BF16.encode_rne(3.0);
    // K = 3: steps (1*1 + 3*3) then (1*3 + 0).
    let a = [one, three, one];
    let b = [one, three, three];
    let (c, st) = gemm(&p, &GemmInput { m: 1, k: 3, n: 1, a: &a, b: &b });
    assert_eq!(c[0], 13.0);
    assert_eq!(st.steps, 2);
    assert_eq!(st.products, 4);
    assert_eq!(st.zero_products, 1);
    assert_eq!((st.high_stream0, st.high_stream1), (1, 1));
}

#[test]
fn config_defaults_follow_the_documented_rule() {
    for (fmt, lo) in [("fp32", 7), ("tf32", 7), ("bf16", 3), ("fp16", 3), ("e5m2", 1), ("e4m1", 0), ("e8m15", 7)] {
        let c = Settings { format: Some(fmt.into()), ..Default::default() }.resolve().unwrap();
        assert_eq!(c.lo_bits, lo, "{fmt}");
    }
}

#[test]
fn fast_gemm_equals_reference_across_strips_and_row_tiles() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for policy in Policy::ALL {
        let p = params(Format::FP32, policy, 7, Rounding::NearestEven);
        // The second shape folds more than two chunks of steps (the statistics-free GEMM cuts
        // the fold every 128 steps) over strips of one and two vectors and a partial last strip;
        // the third has tens of row panels and several chunks, so each strip's decoded chunk
        // serves many panels before the next chunk is decoded.
        for (m, k, n) in [(37, 65, 53), (29, 601, 70), (181, 301, 45)] {
            let a = random_codes(&mut rng, p.format, m * k, false);
            let b = random_codes(&mut rng, p.format, k * n, false);
            let g = GemmInput { m, k, n, a: &a, b: &b };
            let (fast, fs) = gemm(&p, &g);
            let (slow, ss) = gemm_reference(&p, &g);
            assert_eq!(
                fast.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                slow.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "{policy}"
            );
            assert_eq!(fs, ss, "{policy}");
            assert_nostats_equal(&p, &g, &slow, &format!("{policy} {m}x{k}x{n}"));
        }
    }
}

/// The cycle-accurate pipeline model folds exactly the steps of docs/arithmetic.md, `latency` cycles later,
/// through valid gaps and accumulation boundaries; with `interleave` N, the beat of cycle i
/// folds into element i mod N.
#[test]
fn pipeline_model_equals_the_step_fold_after_its_latency() {
    use daa_gen::golden::pe::{step_dual, step_single, Beat, Pipeline};
    use rand::{Rng, SeedableRng};
    let cases = [("fp32", "daa"), ("bf16", "static"), ("fp16", "full"), ("e5m2", "single")];
    let settings = (0..=daa_gen::config::MAX_PIPELINE).flat_map(|p| [1, 2, 3, 5, 8].map(move |n| (p, n)));
    for ((format, policy), (pipeline, interleave)) in
        cases.into_iter().flat_map(|c| settings.clone().map(move |s| (c, s)))
    {
        let cfg = daa_gen::config::Settings {
            format: Some(format.into()),
            policy: Some(policy.into()),
            pipeline: Some(pipeline),
            interleave: Some(interleave),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        let p = PeParams::from(&cfg);
        let n = interleave as usize;
        let latency = cfg.latency() as usize;
        assert_eq!(p.latency() as usize, latency);
        let vs = daa_gen::golden::vectors::generate(&cfg, 4000, 5);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut model = Pipeline::default();
        let mut accs = Vec::new();
        let mut fold = vec![0f32; n];
        let mut expect = Vec::new();
        for (i, v) in vs.iter().enumerate() {
            let en = rng.random_ratio(4, 5);
            let first = i == 0 || rng.random_ratio(1, 10);
            let mut ops = [0u32; 4];
            ops[..v.ops.len()].copy_from_slice(&v.ops);
            accs.push(model.clock(&p, &Beat { rst: false, en, first: first && en, ops }));
            let e = i % n;
            if en {
                let base = if first { 0.0 } else { fold[e] };
                fold[e] = if cfg.policy.is_dual() {
                    step_dual(&p, base, ops[0], ops[1], ops[2], ops[3]).acc
                } else {
                    step_single(&p, base, ops[0], ops[1])
                };
            }
            expect.push(fold[e].to_bits());
        }
        // The accumulator after cycle i + latency - 1 holds the fold through beat i; with
        // gaps it can only be later, never different, so compare at the beats' latency.
        for i in 0..vs.len() - latency {
            assert_eq!(
                accs[i + latency - 1],
                expect[i],
                "{format} {policy} pipeline {pipeline} interleave {interleave} cycle {i}"
            );
        }
    }
}
