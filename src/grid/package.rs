//! The IP package `daa generate` writes: Verilog, file list, FuseSoC core, self-checking
//! testbench with `$readmemh` vectors from the golden model, configuration, manifest, README.

use super::cycles::Timing;
use super::verify::Gemm;
use super::{grid_files, lanes, row_bits};
use crate::config::Config;
use crate::golden::gemm::{gemm, GemmInput};
use crate::golden::pe::PeParams;
use anyhow::Result;
use askama::Template;

#[derive(Template)]
#[template(path = "tb.v", escape = "none")]
struct Testbench<'a> {
    name: &'a str,
    version: &'static str,
    beats: usize,
    tiles: usize,
    m: usize,
    k: usize,
    n: usize,
    out_rows: usize,
    in_width: usize,
    a_bits: usize,
    b_bits: usize,
    rows: u32,
    tile_rows: u32,
    cols: u32,
    row_bits: u32,
    dual: bool,
    expect_cycles: u64,
}

#[derive(Template)]
#[template(path = "ip_readme.md", escape = "none")]
struct IpReadme<'a> {
    name: &'a str,
    version: &'static str,
    cfg: &'a Config,
    format: String,
    width: u32,
    lanes: u32,
    latency: u32,
    row_bits: u32,
    dual: bool,
    a_bits: u32,
    b_bits: u32,
    done: u64,
    tile_rows: u32,
    bubble_free: u64,
    min_k: u64,
    full_sig: u32,
    lo_sig: u32,
    reduces: bool,
    comparator: bool,
    tb_m: usize,
    tb_k: usize,
    tb_n: usize,
    tb_cycles: u64,
}

#[derive(Template)]
#[template(path = "core.core", escape = "none")]
struct CoreFile<'a> {
    name: &'a str,
    version: &'static str,
    files: Vec<String>,
}

/// Hex digits for `bits` bits.
fn hex_width(bits: usize) -> usize {
    bits.div_ceil(4)
}

/// A number of `bits` bits from little-endian fields, as hex.
fn pack_hex(fields: &[(u32, usize)]) -> String {
    // fields: (value, width) from bit 0 upward.
    let total: usize = fields.iter().map(|f| f.1).sum();
    let mut bits = vec![false; total];
    let mut at = 0;
    for &(v, w) in fields {
        for b in 0..w {
            bits[at + b] = (v >> b) & 1 == 1;
        }
        at += w;
    }
    (0..hex_width(total))
        .rev()
        .map(|d| {
            let nib = (0..4).fold(0, |acc, b| acc | ((*bits.get(d * 4 + b).unwrap_or(&false) as u32) << b));
            char::from_digit(nib, 16).expect("nibble")
        })
        .collect()
}

/// The testbench GEMM: two tile rows, one tile column, K = 2 * R * lanes + 1 (odd), seeded.
fn tb_gemm(cfg: &Config) -> Gemm {
    let (m, n) = (2 * cfg.tile_rows() as usize, cfg.cols as usize);
    let k = 2 * cfg.rows as usize * lanes(cfg) as usize + 1;
    let (a, b) = crate::golden::explore::random_operands(cfg.format, m, k, n, 2023, 0.3);
    Gemm { a, b }
}

/// Every file of the package for `cfg`, as (file name, contents), sorted by name.
pub fn package(cfg: &Config) -> Result<Vec<(String, String)>> {
    let name = &cfg.name;
    let (r, c, l, w) = (cfg.rows as usize, cfg.cols as usize, lanes(cfg) as usize, cfg.format.width() as usize);
    let timing = Timing::of(cfg);
    let mut files: Vec<(String, String)> = grid_files(cfg)?.into_iter().map(|f| (f.file_name(), f.text)).collect();
    let mut verilog: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
    verilog.sort();

    // Testbench vectors.
    let g = tb_gemm(cfg);
    let (m, k, n) = (g.a.rows, g.a.cols, g.b.cols);
    let p = PeParams::from(cfg);
    let cmat = gemm(&p, &GemmInput { m, k, n, a: &g.a.codes, b: &g.b.codes }).0;
    let mut words = Vec::new();
    let tiles = m / cfg.tile_rows() as usize;
    for ti in 0..tiles {
        super::verify::tile_beats(cfg, &g, ti, 0, &mut words);
    }
    let rec = 1 + (r + c) * l;
    let beats = words.len() / rec;
    let in_hex: String = words
        .chunks_exact(rec)
        .map(|b| {
            let mut fields = vec![(b[0], 2)];
            fields.extend(b[1..].iter().map(|&x| (x, w)));
            pack_hex(&fields) + "\n"
        })
        .collect();
    let expect_hex: String =
        (0..m).map(|i| pack_hex(&(0..n).map(|j| (cmat[i * n + j].to_bits(), 32)).collect::<Vec<_>>()) + "\n").collect();
    let (_, tb_cycles) = timing.simulate_with(&vec![timing.beats(k); tiles], |cy| (true, cy % 3 != 2));
    let tb = Testbench {
        name,
        version: env!("CARGO_PKG_VERSION"),
        beats,
        tiles,
        m,
        k,
        n,
        out_rows: m,
        in_width: 2 + (r + c) * l * w,
        a_bits: r * l * w,
        b_bits: c * l * w,
        rows: cfg.rows,
        cols: cfg.cols,
        tile_rows: cfg.tile_rows(),
        row_bits: row_bits(cfg.tile_rows()),
        dual: cfg.policy.is_dual(),
        expect_cycles: tb_cycles,
    };
    files.push((format!("{name}_tb.v"), tb.render()? + "\n"));
    files.push((format!("{name}_in.hex"), in_hex));
    files.push((format!("{name}_expect.hex"), expect_hex));
    files.push((format!("{name}.f"), verilog.iter().map(|f| format!("{f}\n")).collect()));
    files.push((
        format!("{name}.core"),
        CoreFile { name, version: env!("CARGO_PKG_VERSION"), files: verilog.clone() }.render()? + "\n",
    ));
    files.push((format!("{name}.toml"), cfg.to_toml()));
    let readme = IpReadme {
        name,
        version: env!("CARGO_PKG_VERSION"),
        cfg,
        format: format!("{} (e{}m{})", cfg.format.name(), cfg.format.exp_bits(), cfg.format.frac_bits()),
        width: w as u32,
        lanes: l as u32,
        latency: timing.latency,
        row_bits: row_bits(cfg.tile_rows()),
        dual: cfg.policy.is_dual(),
        a_bits: (r * l * w) as u32,
        b_bits: (c * l * w) as u32,
        done: timing.done_delay(),
        tile_rows: cfg.tile_rows(),
        bubble_free: timing.done_delay() + cfg.tile_rows() as u64,
        min_k: ((timing.done_delay() + cfg.tile_rows() as u64).div_ceil(cfg.interleave as u64) - 1) * l as u64 + 1,
        full_sig: cfg.format.frac_bits() + 1,
        reduces: cfg.policy.reduces(),
        comparator: cfg.policy == crate::config::Policy::Daa,
        lo_sig: if cfg.policy.reduces() { cfg.lo_bits + 1 } else { cfg.format.frac_bits() + 1 },
        tb_m: m,
        tb_k: k,
        tb_n: n,
        tb_cycles,
    };
    files.push(("README.md".into(), readme.render()? + "\n"));
    files.sort();
    let manifest = serde_json::json!({
        "tool": "daa-gen",
        "version": env!("CARGO_PKG_VERSION"),
        "name": name,
        "top": name,
        "pipeline": cfg.pipeline,
        "interleave": cfg.interleave,
        "tile_rows": cfg.tile_rows(),
        "pe_latency": timing.latency,
        "lanes": l,
        "files": crate::files::manifest_files(&files),
    });
    files.push(("manifest.json".into(), serde_json::to_string_pretty(&manifest)? + "\n"));
    files.sort();
    Ok(files)
}
