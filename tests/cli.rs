//! The `daa` command line: configuration, errors with exit status 2 and no output left, gemm,
//! vectors, limits, how `generate` writes and refuses to overwrite.

mod common;

use common::{daa, dir_contents as contents};
use daa_gen::config::Settings;
use daa_gen::format::Format;
use daa_gen::golden::gemm::{gemm, GemmInput};
use daa_gen::golden::pe::PeParams;
use daa_gen::npy::{read_codes, write_codes, write_f32, CodeMatrix};
use std::path::Path;

/// Runs `daa` and returns (status, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = daa().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn config_prints_defaults_and_overrides() {
    let (code, out, _) = run(&["config"]);
    assert_eq!(code, 0);
    let s: Settings = toml::from_str(&out).unwrap();
    assert_eq!(s.format.as_deref(), Some("fp32"));
    assert_eq!(s.policy.as_deref(), Some("daa"));
    assert_eq!(s.lo_bits, Some(7));
    assert_eq!(s.lo_rounding.as_deref(), Some("nearest-even"));
    assert_eq!((s.rows, s.cols), (Some(8), Some(8)));
    assert_eq!(s.name.as_deref(), Some("daa_fp32_daa_8x8"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "format = \"bf16\"\npolicy = \"static\"\nrows = 4\n").unwrap();
    let (code, out, _) =
        run(&["config", "--config", file.to_str().unwrap(), "--rows", "3", "--lo-rounding", "toward-zero"]);
    assert_eq!(code, 0);
    let s: Settings = toml::from_str(&out).unwrap();
    assert_eq!(s.format.as_deref(), Some("bf16"));
    assert_eq!(s.lo_bits, Some(3), "bf16 default");
    assert_eq!(s.rows, Some(3), "the flag wins over the file");
    assert_eq!(s.cols, Some(8));
    assert_eq!(s.lo_rounding.as_deref(), Some("toward-zero"));
}

#[test]
fn invalid_values_name_field_value_and_allowed_with_exit_2() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["--format", "fp8"], &["`format`", "fp8", "eXmY"]),
        (&["--format", "e9m3"], &["`format`", "e9m3", "2 <= X <= 8"]),
        (&["--policy", "fancy"], &["`policy`", "fancy", "daa, static, full, single"]),
        (&["--lo-bits", "7", "--format", "bf16"], &["`lo_bits`", "'7'", "0 <= lo_bits < 7"]),
        (&["--lo-rounding", "up"], &["`lo_rounding`", "up", "nearest-even, toward-zero"]),
        (&["--rows", "0"], &["`rows`", "'0'", "1 ..= 256"]),
        (&["--cols", "999"], &["`cols`", "'999'", "1 ..= 256"]),
        (&["--name", "9lives"], &["`name`", "9lives", "Verilog identifier"]),
    ];
    for (args, words) in cases {
        let mut all = vec!["config"];
        all.extend_from_slice(args);
        let (code, out, err) = run(&all);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty());
        for w in *words {
            assert!(err.contains(w), "{args:?}: '{w}' not in: {err}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "formt = \"bf16\"\n").unwrap();
    let (code, _, err) = run(&["config", "--config", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("formt") && err.contains("allowed keys"), "{err}");
    std::fs::write(&file, "rows = \"four\"\n").unwrap();
    let (code, _, err) = run(&["config", "--config", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("rows"), "{err}");
    let (code, _, err) = run(&["config", "--config", "/nonexistent/c.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/c.toml"), "{err}");
}

fn codes(fmt: Format, rows: usize, cols: usize, seed: u32) -> CodeMatrix {
    let v = (0..rows * cols)
        .map(|i| fmt.encode_rne((((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 97.0 - 4.0))
        .collect();
    CodeMatrix { rows, cols, codes: v }
}

#[test]
fn gemm_on_npy_files_equals_the_library_and_accepts_all_dtypes() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let fmt = Format::BF16;
    let (a, b) = (codes(fmt, 5, 7, 1), codes(fmt, 7, 3, 2));
    write_codes(&p("a.npy"), &a).unwrap();
    write_codes(&p("b.npy"), &b).unwrap();
    let (code, _, err) = run(&[
        "gemm",
        "--format",
        "bf16",
        "--a",
        p("a.npy").to_str().unwrap(),
        "--b",
        p("b.npy").to_str().unwrap(),
        "--out",
        p("c.npy").to_str().unwrap(),
        "--stats",
        p("s.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let cfg = Settings { format: Some("bf16".into()), ..Default::default() }.resolve().unwrap();
    let (want, stats) = gemm(&PeParams::from(&cfg), &GemmInput { m: 5, k: 7, n: 3, a: &a.codes, b: &b.codes });
    let bytes = std::fs::read(p("c.npy")).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(npy.shape(), &[5, 3]);
    let got: Vec<f32> = npy.into_vec().unwrap();
    assert_eq!(
        got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        want.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
    let js: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p("s.json")).unwrap()).unwrap();
    assert_eq!(js["steps"], stats.steps);
    assert_eq!(js["high_stream1"], stats.high_stream1);

    // float32 input rounds to F_in first: same result as the codes; uint16 codes too.
    let af: Vec<f32> = a.codes.iter().map(|&c| fmt.decode(c)).collect();
    write_f32(&p("af.npy"), 5, 7, &af).unwrap();
    let a16: Vec<u16> = a.codes.iter().map(|&c| c as u16).collect();
    let mut buf = vec![];
    {
        use npyz::WriterBuilder;
        let mut w = npyz::WriteOptions::new().default_dtype().shape(&[5, 7]).writer(&mut buf).begin_nd().unwrap();
        w.extend(a16).unwrap();
        w.finish().unwrap();
    }
    std::fs::write(p("a16.npy"), buf).unwrap();
    for src in ["af.npy", "a16.npy"] {
        let (code, _, err) = run(&[
            "gemm",
            "--format",
            "bf16",
            "--a",
            p(src).to_str().unwrap(),
            "--b",
            p("b.npy").to_str().unwrap(),
            "--out",
            p("c2.npy").to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(std::fs::read(p("c2.npy")).unwrap(), std::fs::read(p("c.npy")).unwrap(), "{src}");
    }
}

fn assert_rejected(dir: &Path, a: &str, b: &str, fmt: &str, words: &[&str]) {
    let out = dir.join("out.npy");
    let (code, _, err) = run(&["gemm", "--format", fmt, "--a", a, "--b", b, "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    for w in words {
        assert!(err.contains(w), "'{w}' not in: {err}");
    }
    assert!(!out.exists(), "no output file may be left behind");
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".daa-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn malformed_inputs_are_clear_errors_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = |n: &str| d.join(n).to_str().unwrap().to_string();
    let fmt = Format::FP16;
    write_codes(&d.join("a.npy"), &codes(fmt, 4, 6, 1)).unwrap();
    write_codes(&d.join("b.npy"), &codes(fmt, 6, 2, 2)).unwrap();
    write_codes(&d.join("b5.npy"), &codes(fmt, 5, 2, 2)).unwrap();
    // float64 array
    let mut buf = vec![];
    {
        use npyz::WriterBuilder;
        let mut w = npyz::WriteOptions::new().default_dtype().shape(&[4, 6]).writer(&mut buf).begin_nd().unwrap();
        w.extend((0..24).map(|x| x as f64)).unwrap();
        w.finish().unwrap();
    }
    std::fs::write(d.join("f64.npy"), &buf).unwrap();
    // 1-D array
    let mut buf1 = vec![];
    {
        use npyz::WriterBuilder;
        let mut w = npyz::WriteOptions::new().default_dtype().shape(&[6]).writer(&mut buf1).begin_nd().unwrap();
        w.extend((0..6).map(|x| x as f32)).unwrap();
        w.finish().unwrap();
    }
    std::fs::write(d.join("rank1.npy"), &buf1).unwrap();
    std::fs::write(d.join("junk.npy"), b"not an npy file at all").unwrap();
    let good = std::fs::read(d.join("a.npy")).unwrap();
    std::fs::write(d.join("trunc.npy"), &good[..good.len() - 5]).unwrap();
    // uint32 codes too wide for fp16
    write_codes(&d.join("wide.npy"), &CodeMatrix { rows: 4, cols: 6, codes: vec![0x1_0000; 24] }).unwrap();

    assert_rejected(
        d,
        &s("f64.npy"),
        &s("b.npy"),
        "fp16",
        &["A (", "dtype '<f8'", "uint16 or uint32", "astype(numpy.float32)"],
    );
    assert_rejected(d, &s("rank1.npy"), &s("b.npy"), "fp16", &["2-D", "[6]"]);
    assert_rejected(d, &s("a.npy"), &s("b5.npy"), "fp16", &["4x6", "5x2", "(K)"]);
    assert_rejected(d, &s("missing.npy"), &s("b.npy"), "fp16", &["missing.npy", "cannot read"]);
    assert_rejected(d, &s("a.npy"), &s("junk.npy"), "fp16", &["B (", "not a valid .npy"]);
    assert_rejected(d, &s("trunc.npy"), &s("b.npy"), "fp16", &["A ("]);
    assert_rejected(d, &s("wide.npy"), &s("b.npy"), "fp16", &["0x10000", "16-bit fp16 code"]);

    // A previous output survives a failed run untouched.
    let out = d.join("keep.npy");
    std::fs::write(&out, b"previous").unwrap();
    let (code, _, _) = run(&["gemm", "--a", &s("f64.npy"), "--b", &s("b.npy"), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
    // Reading back what we wrote works (the reader is not just rejecting everything).
    assert_eq!(read_codes(&d.join("a.npy"), "A", fmt).unwrap(), codes(fmt, 4, 6, 1));
}

#[test]
fn random_gemm_reports_every_policy_deterministically() {
    let args = ["gemm", "--shape", "24,33,20", "--seed", "3", "--format", "bf16"];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    for p in ["daa", "static", "full", "single"] {
        assert!(out.lines().any(|l| l.starts_with(p)), "{p} missing: {out}");
    }
    // The error columns are deterministic (timings are the last column and may differ).
    let strip = |s: &str| s.lines().map(|l| l.rsplit_once(' ').map_or(l, |x| x.0).to_string()).collect::<Vec<_>>();
    assert_eq!(strip(&out), strip(&run(&args).1));
    let (code, _, err) = run(&["gemm", "--shape", "2,0,3"]);
    assert_eq!(code, 2);
    assert!(err.contains("`shape`"), "{err}");
    let (code, _, err) = run(&["gemm", "--sparsity", "1.5"]);
    assert_eq!(code, 2);
    assert!(err.contains("`sparsity`"), "{err}");
}

#[test]
fn vectors_command_writes_the_same_file_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let f1 = dir.path().join("v1.hex");
    let f2 = dir.path().join("v2.hex");
    for f in [&f1, &f2] {
        let (code, _, err) =
            run(&["vectors", "--count", "500", "--seed", "9", "--format", "e6m9", "--out", f.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
    }
    let text = std::fs::read_to_string(&f1).unwrap();
    assert_eq!(text, std::fs::read_to_string(&f2).unwrap());
    assert_eq!(text.lines().count(), 500);
    assert!(text.lines().all(|l| l.len() == 8 + 4 * 5 + 9), "e6m9 is 16 bits: 4 hex digits");
    let (code, _, _) = run(&["vectors", "--count", "5", "--policy", "single", "--out", f1.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(std::fs::read_to_string(&f1).unwrap().lines().all(|l| l.split(' ').count() == 4));
}

#[test]
fn generate_replaces_only_what_it_wrote_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rtl");
    let o = out.to_str().unwrap();
    let gen = |extra: &[&str]| {
        let mut a = vec!["generate", "--format", "bf16", "--rows", "2", "--cols", "2", "--out", o];
        a.extend_from_slice(extra);
        run(&a)
    };
    let (code, stdout, err) = gen(&[]);
    assert_eq!(code, 0, "{err}");
    let pkg = out.join("daa_bf16_daa_2x2");
    assert!(stdout.contains(pkg.to_str().unwrap()), "{stdout}");
    let fresh = contents(&pkg);
    // Files get the mode the umask gives, as std::fs::write's files do.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let probe = dir.path().join("probe");
        std::fs::write(&probe, "").unwrap();
        let want = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
        let got = std::fs::metadata(pkg.join("manifest.json")).unwrap().permissions().mode() & 0o777;
        assert_eq!(got, want, "mode {got:o}, the umask gives {want:o}");
        std::fs::remove_file(probe).unwrap();
    }
    // Its own package (manifest and hashes match) is replaced without asking.
    assert_eq!(gen(&[]).0, 0);
    assert_eq!(contents(&pkg), fresh);

    // A file the user put there: refused, named, and left alone.
    std::fs::write(pkg.join("notes.txt"), "mine").unwrap();
    let (code, _, err) = gen(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("notes.txt") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(pkg.join("notes.txt")).unwrap(), "mine");
    std::fs::remove_file(pkg.join("notes.txt")).unwrap();

    // A file it wrote and the user edited since: refused, named.
    let top = pkg.join("daa_bf16_daa_2x2.v");
    std::fs::write(&top, "// edited\n").unwrap();
    let (code, _, err) = gen(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("daa_bf16_daa_2x2.v") && err.contains("sha256"), "{err}");
    assert_eq!(std::fs::read_to_string(&top).unwrap(), "// edited\n");
    // --force replaces it.
    let (code, _, err) = gen(&["--force"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(contents(&pkg), fresh);

    // A regular file at the package's place is not moved aside or deleted.
    let other = out.join("daa_bf16_daa_4x4");
    std::fs::write(&other, "a user's file").unwrap();
    let (code, _, err) = run(&["generate", "--format", "bf16", "--rows", "4", "--cols", "4", "--out", o]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a file that daa generate did not write"), "{err}");
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "a user's file");

    // A directory without a manifest is not ours either.
    let foreign = out.join("daa_bf16_daa_3x3");
    std::fs::create_dir(&foreign).unwrap();
    let (code, _, err) = run(&["generate", "--format", "bf16", "--rows", "3", "--cols", "3", "--out", o]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("has no manifest.json"), "{err}");

    // --pe-only writes its own directory and leaves the array's package alone.
    let (code, _, err) = gen(&["--pe-only"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.join("daa_bf16_daa_2x2_pe").join("manifest.json").is_file());
    assert_eq!(contents(&pkg), fresh);

    // Nothing but the packages and the user's things: no temporaries.
    let mut left: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    left.sort();
    assert_eq!(left, ["daa_bf16_daa_2x2", "daa_bf16_daa_2x2_pe", "daa_bf16_daa_3x3", "daa_bf16_daa_4x4"]);
}

#[test]
fn default_names_encode_every_rtl_setting_and_keywords_are_refused() {
    let name = |extra: &[&str]| {
        let mut a = vec!["config"];
        a.extend_from_slice(extra);
        let (code, out, err) = run(&a);
        assert_eq!(code, 0, "{err}");
        toml::from_str::<Settings>(&out).unwrap().name.unwrap()
    };
    assert_eq!(name(&[]), "daa_fp32_daa_8x8", "the default configuration keeps its name");
    assert_eq!(name(&["--lo-bits", "5"]), "daa_fp32_daa_8x8_l5");
    assert_eq!(name(&["--format", "bf16", "--lo-bits", "3"]), "daa_bf16_daa_8x8", "3 is bf16's default");
    assert_eq!(
        name(&["--lo-bits", "5", "--lo-rounding", "toward-zero", "--pipeline", "3", "--interleave", "2"]),
        "daa_fp32_daa_8x8_l5_tz_p3_i2"
    );
    for kw in ["module", "wire", "always_ff", "logic", "endmodule"] {
        let (code, _, err) = run(&["config", "--name", kw]);
        assert_eq!(code, 2, "{kw}: {err}");
        assert!(err.contains("`name`") && err.contains("keyword"), "{err}");
    }
    // A huge value is not echoed whole.
    let long = "n".repeat(100_000);
    let (code, _, err) = run(&["config", "--name", &long]);
    assert_eq!(code, 2);
    assert!(err.len() < 500 && err.contains("100000 bytes"), "{} bytes: {}", err.len(), &err[..200]);
}

#[test]
fn gemm_writes_c_and_its_stats_together_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fmt = Format::FP16;
    write_codes(&d.join("a.npy"), &codes(fmt, 4, 6, 1)).unwrap();
    write_codes(&d.join("b.npy"), &codes(fmt, 6, 2, 2)).unwrap();
    let s = |n: &str| d.join(n).to_str().unwrap().to_string();
    let gemm = |out: &str, stats: &str| {
        run(&["gemm", "--format", "fp16", "--a", &s("a.npy"), "--b", &s("b.npy"), "--out", out, "--stats", stats])
    };
    // --stats equal to --out, also spelled differently.
    let (code, _, err) = gemm(&s("c.npy"), &format!("{}/./c.npy", d.display()));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`stats`") && err.contains("--out"), "{err}");
    // --stats where it cannot be written (under a file): C is not written either.
    let (code, _, err) = gemm(&s("c.npy"), &s("a.npy/s.json"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`stats`"), "{err}");
    assert!(!d.join("c.npy").exists());
    // --out a directory.
    let (code, _, err) = gemm(d.to_str().unwrap(), &s("s.json"));
    assert_eq!(code, 2, "{err}");
    assert!(!d.join("s.json").exists());
    let (code, _, err) = gemm(&s("c.npy"), &s("s.json"));
    assert_eq!(code, 0, "{err}");
    assert!(d.join("c.npy").is_file() && d.join("s.json").is_file());
    let mut left: Vec<String> =
        std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    left.sort();
    assert_eq!(left, ["a.npy", "b.npy", "c.npy", "s.json"]);
}

#[test]
fn sizes_past_the_limits_are_input_errors() {
    let cases: &[(&[&str], &str)] = &[
        (&["gemm", "--shape", "18446744073709551615,2,1"], "more than 2^64"),
        (&["gemm", "--shape", "100000,100000,100000"], "elements per matrix"),
        (&["gemm", "--shape", "4096,4096,4096"], "multiply-accumulates"),
        (&["vectors", "--count", "18446744073709551615", "--out", "v.txt"], "`count`"),
        (&["vectors", "--count", "0", "--out", "v.txt"], "`count`"),
        (&["bench", "--size", "0"], "`size`"),
        (&["bench", "--threads", "0"], "`threads`"),
        (&["bench", "--workload", "nope"], "nope"),
        (&["bench", "--workload", "lenet5", "--batch", "0"], "`batch`"),
        (&["bench", "--workload", "lenet5", "--format", "e9m2"], "e9m2"),
        (&["bench", "--workload", "lenet5", "--size", "8"], "--size"),
        (&["bench", "--batch", "8"], "--workload"),
        (&["perf", "--batch", "0"], "`batch`"),
        (&["perf", "--batch", "1048577"], "`batch`"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (args, word) in cases {
        let o = daa().args(*args).current_dir(dir.path()).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(word), "{args:?}: '{word}' not in {err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{args:?} wrote something");
    }
}

#[test]
fn energy_constants_are_validated_wherever_a_config_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("c.toml");
    for (table, field) in [
        ("leakage_share = 2.0", "leakage_share"),
        ("leakage_share = nan", "leakage_share"),
        ("fj_per_transistor_toggle = -1.0", "fj_per_transistor_toggle"),
    ] {
        std::fs::write(&c, format!("[energy]\n{table}\n")).unwrap();
        for cmd in [&["config"][..], &["generate", "--out", dir.path().join("o").to_str().unwrap()]] {
            let mut a = cmd.to_vec();
            a.extend(["--config", c.to_str().unwrap()]);
            let (code, _, err) = run(&a);
            assert_eq!(code, 2, "{a:?}: {err}");
            assert!(err.contains(field), "{a:?}: {err}");
        }
        assert!(!dir.path().join("o").exists());
    }
}

#[test]
fn a_bad_gemm_isa_is_an_input_error() {
    let out = daa().args(["config"]).env("DAA_GEMM_ISA", "sse9").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("DAA_GEMM_ISA") && err.contains("sse9") && err.contains("portable"), "{err}");
    let out = daa().args(["config"]).env("DAA_GEMM_ISA", "portable").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// `daa bench` compares the golden kernels with the sgemm of their own instruction set.
#[test]
fn bench_ratios_are_against_the_sgemm_of_the_same_instruction_set() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("b.json");
    for isa in ["avx512", "avx2", "portable"] {
        let out = daa()
            .args(["bench", "--size", "24", "--reps", "1", "--threads", "1", "--json"])
            .arg(&json)
            .env("DAA_GEMM_ISA", isa)
            .output()
            .unwrap();
        if out.status.code() == Some(2) {
            // This CPU cannot run the instruction set (the error is tested above).
            continue;
        }
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        let sgemms = r["sgemms"].as_array().unwrap();
        let reference = &sgemms[r["reference"].as_u64().unwrap() as usize];
        let same = sgemms.iter().any(|t| t["isa"] == isa);
        assert_eq!(reference["isa"] == isa, same, "{isa}: reference {reference} of {sgemms:?}");
        // The fastest of that instruction set: a ratio against a slower sgemm would flatter.
        let seconds = |t: &serde_json::Value| t["seconds"].as_f64().unwrap();
        assert!(
            !same || sgemms.iter().filter(|t| t["isa"] == isa).all(|t| seconds(t) >= seconds(reference)),
            "{isa}: reference {reference} of {sgemms:?}"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("<- reference"), "{stdout}");
    }
}

/// `daa bench --workload` times every GEMM of the step, sgemm and each policy, and sums them.
#[test]
fn bench_times_every_gemm_of_a_training_step() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("s.json");
    let out = daa()
        .args(["bench", "--workload", "lenet5", "--batch", "2", "--format", "bf16", "--reps", "1", "--threads", "1"])
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let want = daa_gen::cost::workloads::Workload::load("lenet5").unwrap().training_gemms(2);
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), want.len());
    for (row, g) in rows.iter().zip(&want) {
        assert_eq!(
            (row["m"].as_u64(), row["k"].as_u64(), row["n"].as_u64()),
            (Some(g.m as u64), Some(g.k as u64), Some(g.n as u64))
        );
        assert_eq!(row["name"], format!("{} {}", g.layer, g.pass.short()));
        for p in ["daa", "static", "full", "single"] {
            assert!(row["golden_seconds"][p].as_f64().is_some_and(|t| t > 0.0), "{p}: {row}");
        }
    }
    assert_eq!((r["format"].as_str(), r["batch"].as_u64()), (Some("bf16"), Some(2)));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("lenet5 training step at batch 2, bf16") && stdout.contains("step / sgemm"), "{stdout}");
}

/// `daa gemm` (the counting GEMM) with every kernel ISA this CPU runs, forced through
/// `DAA_GEMM_ISA`, gives the library's C and statistics, over every policy.
#[test]
fn gemm_is_the_same_with_every_forced_isa() {
    use daa_gen::golden::gemm::Isa;
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let fmt = Format::FP32;
    let (m, k, n) = (13, 67, 37);
    let (a, b) = (codes(fmt, m, k, 3), codes(fmt, k, n, 4));
    write_codes(&p("a.npy"), &a).unwrap();
    write_codes(&p("b.npy"), &b).unwrap();
    for policy in ["daa", "static", "full", "single"] {
        let cfg = Settings { policy: Some(policy.into()), ..Default::default() }.resolve().unwrap();
        let (want, stats) = gemm(&PeParams::from(&cfg), &GemmInput { m, k, n, a: &a.codes, b: &b.codes });
        for isa in Isa::available() {
            let (c, s) = (p(&format!("c-{policy}-{}.npy", isa.name())), p(&format!("s-{policy}-{}.json", isa.name())));
            let out = daa()
                .args([
                    "gemm",
                    "--policy",
                    policy,
                    "--a",
                    p("a.npy").to_str().unwrap(),
                    "--b",
                    p("b.npy").to_str().unwrap(),
                ])
                .args(["--out", c.to_str().unwrap(), "--stats", s.to_str().unwrap()])
                .env("DAA_GEMM_ISA", isa.name())
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
            let bytes = std::fs::read(&c).unwrap();
            let got: Vec<f32> = npyz::NpyFile::new(&bytes[..]).unwrap().into_vec().unwrap();
            assert_eq!(
                got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "{policy} with DAA_GEMM_ISA={}",
                isa.name()
            );
            let js: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&s).unwrap()).unwrap();
            assert_eq!(js["high_stream1"], stats.high_stream1, "{policy} {}", isa.name());
            assert_eq!(js["zero_products"], stats.zero_products, "{policy} {}", isa.name());
        }
    }
}

/// A FIFO (or device) given as an input is refused before it is opened: opening a FIFO with
/// no writer would block for ever.
#[cfg(unix)]
#[test]
fn a_fifo_as_input_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("in.npy");
    rustix::fs::mknodat(rustix::fs::CWD, &fifo, rustix::fs::FileType::Fifo, rustix::fs::Mode::from_raw_mode(0o600), 0)
        .unwrap();
    let f = fifo.to_str().unwrap();
    let out = dir.path().join("c.npy");
    for args in [
        vec!["gemm", "--a", f, "--b", f, "--out", out.to_str().unwrap()],
        vec!["config", "--config", f],
        vec!["tb-vectors", "--a", f, "--b", f, "--out", dir.path().join("v").to_str().unwrap()],
    ] {
        let mut child = daa().args(&args).stderr(std::process::Stdio::piped()).spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                panic!("{args:?} waited on the FIFO");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
    }
    assert!(!out.exists() && !dir.path().join("v").exists());
}
