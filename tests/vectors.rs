//! PE-level vector files: determinism, format, and that every expected value is the golden step.

use daa_gen::config::Settings;
use daa_gen::golden::pe::PeParams;
use daa_gen::golden::vectors::{expected, generate, parse_line, to_line};

fn cfg(format: &str, policy: &str) -> daa_gen::config::Config {
    Settings { format: Some(format.into()), policy: Some(policy.into()), ..Default::default() }.resolve().unwrap()
}

#[test]
fn vectors_are_deterministic_well_formed_and_golden() {
    for (fmt, pol) in
        [("fp32", "daa"), ("bf16", "static"), ("fp16", "full"), ("e5m2", "single"), ("e6m9", "daa"), ("e2m1", "daa")]
    {
        let c = cfg(fmt, pol);
        let p = PeParams::from(&c);
        let a = generate(&c, 3000, 42);
        assert_eq!(a, generate(&c, 3000, 42), "same seed, same vectors");
        assert_ne!(a, generate(&c, 3000, 43));
        let hex = c.format.hex_digits();
        for (i, v) in a.iter().enumerate() {
            let line = to_line(c.format, v);
            let fields: Vec<&str> = line.split(' ').collect();
            assert_eq!(fields.len(), if c.policy.is_dual() { 6 } else { 4 });
            assert_eq!(fields[0].len(), 8);
            assert!(fields[1..fields.len() - 1].iter().all(|f| f.len() == hex));
            assert_eq!(line, line.to_lowercase());
            let back = parse_line(c.format, c.policy.is_dual(), &line, i + 1).unwrap();
            assert_eq!(&back, v);
            assert_eq!(v.expected, expected(&p, v.acc, &v.ops));
        }
    }
}

#[test]
fn vector_mix_covers_the_corner_classes() {
    let c = cfg("fp32", "daa");
    let vs = generate(&c, 20_000, 1);
    let f = c.format;
    let ops = || vs.iter().flat_map(|v| v.ops.iter().copied());
    let has = |pred: &dyn Fn(u32) -> bool| ops().any(pred);
    assert!(has(&|x| x == 0) && has(&|x| x == 0x8000_0000), "signed zeros");
    assert!(has(&|x| f.exp_field(x) == 0 && f.frac_field(x) != 0), "subnormals");
    assert!(has(&|x| f.exp_field(x) == 255 && f.frac_field(x) == 0), "Inf");
    assert!(has(&|x| f.exp_field(x) == 255 && f.frac_field(x) != 0), "NaN");
    assert!(has(&|x| x & 0x7FFF_FFFF == 0x7F7F_FFFF), "largest normal");
    assert!(has(&|x| x & 0x7FFF_FFFF == 0x0080_0000), "smallest normal");
    assert!(vs.iter().any(|v| v.expected == 0x7F80_0000 || v.expected == 0xFF80_0000), "overflow");
    assert!(vs.iter().any(|v| v.expected == 0 && v.acc != 0), "cancellation");
    assert!(vs.iter().any(|v| v.expected == 0x7FC0_0000), "NaN results");
    // Reduction ties: dropped bits exactly 100..0 on the low path.
    assert!(has(&|x| x & 0xFFFF == 0x8000 && f.exp_field(x) != 0), "reduction ties");
}

#[test]
fn parse_line_rejects_malformed_lines() {
    let c = cfg("bf16", "daa");
    for bad in [
        "",
        "00000000 3f80 3f80 3f80 3f80",
        "00000000 3f80 3f80 3f80 3f80 3f800000 00",
        "0000000g 3f80 3f80 3f80 3f80 3f800000",
        "00000000 3F80 3f80 3f80 3f80 3f800000",
        "00000000  3f80 3f80 3f80 3f80 3f800000",
        "00000000 03f80 3f80 3f80 3f80 3f800000",
    ] {
        assert!(parse_line(c.format, true, bad, 7).is_err(), "{bad:?}");
    }
    assert!(parse_line(c.format, true, "00000000 3f80 3f80 3f80 3f80 3f800000", 1).is_ok());
}
