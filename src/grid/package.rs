//! The IP package `daa generate` writes: Verilog, file list, FuseSoC core, self-checking
//! testbench with `$readmemh` vectors from the golden model, configuration, manifest, README.

use super::cycles::Timing;
use super::verify::Gemm;
use super::{
    axil_constant, axil_registers, axis_top, beat_bits, grid_files, lanes, row_bits, s_tdata_bits, AxilSource,
    AXIL_REGISTERS,
};
use crate::config::Config;
use crate::golden::gemm::{gemm, GemmInput};
use crate::golden::pe::PeParams;
use crate::npy::CodeMatrix;
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
    expect_high1: u64,
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
    bias: u32,
    exact_products: bool,
    toward_zero: bool,
    s_tdata_bits: u32,
    regs: Vec<ReadmeRegister>,
}

/// One row of the README's register table.
struct ReadmeRegister {
    offset: String,
    name: &'static str,
    bits: u32,
    meaning: &'static str,
    /// The value of a constant register in this package, or empty.
    value: String,
}

#[derive(Template)]
#[template(path = "core.core", escape = "none")]
struct CoreFile<'a> {
    name: &'a str,
    version: &'static str,
    files: Vec<String>,
}

/// The cocotb testbench, the same for every package: it reads the package's manifest.json
/// and `<name>.toml`, so nothing in it is per configuration.
const COCOTB_TB: &[(&str, &str)] = &[
    ("Makefile", include_str!("../../templates/tb/Makefile")),
    ("axis_tests.py", include_str!("../../templates/tb/axis_tests.py")),
    ("native_tests.py", include_str!("../../templates/tb/native_tests.py")),
    ("reference.py", include_str!("../../templates/tb/reference.py")),
    ("scenario.py", include_str!("../../templates/tb/scenario.py")),
    ("test_package.py", include_str!("../../templates/tb/test_package.py")),
];

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

/// What the plain testbench streams and expects for one GEMM, and its parameters.
#[derive(Clone, Debug)]
pub struct TbVectors {
    /// One line per beat: {B lanes, A lanes, in_last, in_first} in hex.
    pub in_hex: String,
    /// One line per output row: C binary32 results in hex, column 0 in the low bits.
    pub expect_hex: String,
    /// Input beats (parameter `BEATS`).
    pub beats: usize,
    /// Output rows (parameter `ROWS`).
    pub rows: usize,
    /// Tiles, in the order (tile row, tile column), tile columns fastest.
    pub tiles: usize,
    /// Cycles from reset release to the last row with the source always valid and the sink
    /// ready two cycles in three (parameter `CYCLES`).
    pub cycles: u64,
    /// PE steps whose full multiplier goes to stream 1, over every tile (parameter `HIGH1`).
    pub high1: u64,
}

/// The plain testbench's stimulus for `g`: A and B padded with +0 codes to whole tiles
/// (NR x C outputs), tiles in row-major order, every output row of every tile expected,
/// padding included (the golden model on the padded operands is what the array computes).
pub fn tb_vectors(cfg: &Config, g: &Gemm) -> TbVectors {
    let (r, c, l, w) = (cfg.rows as usize, cfg.cols as usize, lanes(cfg) as usize, cfg.format.width() as usize);
    let (tr, k) = (cfg.tile_rows() as usize, g.a.cols);
    let (tiles_m, tiles_n) = (g.a.rows.div_ceil(tr).max(1), g.b.cols.div_ceil(c).max(1));
    let (mp, np) = (tiles_m * tr, tiles_n * c);
    let mut a = vec![0u32; mp * k];
    for i in 0..g.a.rows {
        a[i * k..(i + 1) * k].copy_from_slice(&g.a.codes[i * k..(i + 1) * k]);
    }
    let mut b = vec![0u32; k * np];
    for kk in 0..k {
        b[kk * np..kk * np + g.b.cols].copy_from_slice(&g.b.codes[kk * g.b.cols..(kk + 1) * g.b.cols]);
    }
    let padded = Gemm { a: CodeMatrix { rows: mp, cols: k, codes: a }, b: CodeMatrix { rows: k, cols: np, codes: b } };
    let (cmat, stats) =
        gemm(&PeParams::from(cfg), &GemmInput { m: mp, k, n: np, a: &padded.a.codes, b: &padded.b.codes });
    let (mut words, mut expect_hex) = (Vec::new(), String::new());
    for ti in 0..tiles_m {
        for tj in 0..tiles_n {
            super::verify::tile_beats(cfg, &padded, ti, tj, &mut words);
            for i in ti * tr..(ti + 1) * tr {
                let row: Vec<(u32, usize)> = (tj * c..(tj + 1) * c).map(|j| (cmat[i * np + j].to_bits(), 32)).collect();
                expect_hex += &(pack_hex(&row) + "\n");
            }
        }
    }
    let rec = 1 + (r + c) * l;
    let in_hex: String = words
        .chunks_exact(rec)
        .map(|b| {
            let mut fields = vec![(b[0], 2)];
            fields.extend(b[1..].iter().map(|&x| (x, w)));
            pack_hex(&fields) + "\n"
        })
        .collect();
    let timing = Timing::of(cfg);
    let tiles = tiles_m * tiles_n;
    let (_, cycles) = timing.simulate_with(&vec![timing.beats(k); tiles], |cy| (true, cy % 3 != 2));
    TbVectors {
        in_hex,
        expect_hex,
        beats: words.len() / rec,
        rows: tiles * tr,
        tiles,
        cycles,
        high1: stats.high_stream1,
    }
}

/// Every file of the package for `cfg`, as (file name, contents), sorted by name.
pub fn package(cfg: &Config) -> Result<Vec<(String, String)>> {
    let name = &cfg.name;
    let (r, c, l, w) = (cfg.rows as usize, cfg.cols as usize, lanes(cfg) as usize, cfg.format.width() as usize);
    let timing = Timing::of(cfg);
    let mut rtl = grid_files(cfg)?;
    rtl.push(axis_top(cfg)?);
    let mut files: Vec<(String, String)> = rtl.into_iter().map(|f| (f.file_name(), f.text)).collect();
    let mut verilog: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
    verilog.sort();

    let g = tb_gemm(cfg);
    let (m, k, n) = (g.a.rows, g.a.cols, g.b.cols);
    let v = tb_vectors(cfg, &g);
    let (tiles, beats, tb_cycles, in_hex, expect_hex) = (v.tiles, v.beats, v.cycles, v.in_hex, v.expect_hex);
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
        expect_high1: v.high1,
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
        bias: (1 << (cfg.format.exp_bits() - 1)) - 1,
        exact_products: 2 * (cfg.format.frac_bits() + 1) <= 24,
        toward_zero: cfg.lo_rounding == crate::config::Rounding::TowardZero,
        s_tdata_bits: s_tdata_bits(cfg),
        regs: axil_registers(cfg)
            .into_iter()
            .map(|r| ReadmeRegister {
                offset: format!("0x{:02X}", r.offset),
                name: r.name,
                bits: if matches!(r.source, AxilSource::Counter(_)) { 64 } else { 32 },
                meaning: r.meaning,
                value: axil_constant(cfg, r.name).map(|v| format!("0x{v:08X}")).unwrap_or_default(),
            })
            .collect(),
    };
    files.push(("README.md".into(), readme.render()? + "\n"));
    files.extend(COCOTB_TB.iter().map(|(f, text)| (format!("tb/{f}"), text.to_string())));
    files.sort();
    let d = timing.done_delay();
    let nr = cfg.tile_rows() as u64;
    let (a_bits, b_bits) = beat_bits(cfg);
    let manifest = serde_json::json!({
        "tool": "daa-gen",
        "version": env!("CARGO_PKG_VERSION"),
        "name": name,
        "top": name,
        "axis_top": format!("{name}_axis"),
        "config": {
            "format": cfg.format.name(),
            "exp_bits": cfg.format.exp_bits(),
            "frac_bits": cfg.format.frac_bits(),
            "width": w,
            "policy": cfg.policy.name(),
            "lo_bits": cfg.lo_bits,
            "lo_rounding": cfg.lo_rounding.name(),
            "rows": cfg.rows,
            "cols": cfg.cols,
            "pipeline": cfg.pipeline,
            "interleave": cfg.interleave,
        },
        "pipeline": cfg.pipeline,
        "interleave": cfg.interleave,
        "tile_rows": cfg.tile_rows(),
        "pe_latency": timing.latency,
        "lanes": l,
        "beat": {
            "a_bits": a_bits,
            "b_bits": b_bits,
            "a_operand": "in_a[(r*LANES + l)*W +: W] = A[tile row g*R + r][LANES*t + l] in beat N*t + g",
            "b_operand": "in_b[(c*LANES + l)*W +: W] = B[LANES*t + l][tile column c] in every beat of round t",
            "padding": "+0 codes outside A and B",
        },
        "axis": {
            "s_tdata_bits": s_tdata_bits(cfg),
            "s_tdata": format!("[{}:0] in_a, [{}:{}] in_b", a_bits - 1, a_bits + b_bits - 1, a_bits),
            "s_tuser_bits": u32::from(cfg.interleave > 1),
            "s_tlast": "last beat of a tile",
            "m_tdata_bits": 32 * cfg.cols,
            "m_tlast": "last row of a tile",
        },
        "axil": {
            "constants": AXIL_REGISTERS.iter().filter_map(|r| Some((r.name.to_string(), serde_json::json!(axil_constant(cfg, r.name)?)))).collect::<serde_json::Map<_, _>>(),
            "registers": axil_registers(cfg).into_iter().map(|r| serde_json::json!({
                "name": r.name,
                "offset": r.offset,
                "bits": if matches!(r.source, AxilSource::Counter(_)) { 64 } else { 32 },
                "meaning": r.meaning,
            })).collect::<Vec<_>>(),
        },
        "timing": {
            "R": cfg.rows,
            "C": cfg.cols,
            "N": cfg.interleave,
            "LAT": timing.latency,
            "LANES": l,
            "D": d,
            "beats_per_tile": "T = N * ceil(K / LANES)",
            "beat_reaches_pe": "a beat taken in cycle n reaches PE (r, c) in cycle n + 1 + r + c",
            "first_row": "a + D + 1, for the tile whose last beat was taken in cycle a",
            "first_row_delay": d + 1,
            "bubble_free_beats": d + nr,
            "bubble_free": "tiles run back to back at full speed exactly when T >= D + N*R",
            "gemm_cycles_bubble_free": "tiles * T + D + N*R",
            "tile_start": "s_i = the first cycle >= max(a_(i-1) + 1, e_(i-2) + 1) with s_i mod N = 0",
            "tile_last_beat": "a_i = s_i + T - 1 (no input gaps)",
            "tile_rows_out": "f_i = max(a_i + D + 1, e_(i-1) + 1), e_i = f_i + N*R - 1 (sink always ready)",
        },
        "files": crate::files::manifest_files(&files),
    });
    files.push(("manifest.json".into(), serde_json::to_string_pretty(&manifest)? + "\n"));
    files.sort();
    Ok(files)
}
