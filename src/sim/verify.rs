//! `daa verify --pe`: the emitted units and PE simulated in Verilator and compared,
//! bit for bit and cycle by cycle, with the golden model.

use crate::config::Config;
use crate::format::{describe_f32, Format};
use crate::golden::pe::{high_stream, Beat, PeParams, Pipeline};
use crate::golden::vectors::{adder_corners, generate, operand_corners};
use crate::rtl::emit::{pe_files, RtlFile};
use crate::rtl::units::{units_config, Record, UNITS};
use crate::sim::verilator::{Harness, HarnessSpec};
use anyhow::{bail, Result};
use askama::Template;
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// Records per chunk streamed through a harness.
const CHUNK: usize = 1 << 16;
/// Mismatch reports kept in full.
const MAX_REPORTS: usize = 8;

/// The outcome of one verification run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// What was checked.
    pub label: String,
    /// Vectors (unit records or PE cycles) checked.
    pub checked: u64,
    /// Comparisons that failed.
    pub mismatches: u64,
    /// Full reports of the first mismatches.
    pub examples: Vec<String>,
    /// Simulation time in seconds (excluding the build).
    pub seconds: f64,
    /// Verilator build time in seconds (0 when cached).
    pub build_seconds: f64,
}

impl Report {
    /// One summary line.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} vectors checked, {} mismatches, {:.1} s simulation ({:.2} M vectors/s), build {}",
            self.label,
            self.checked,
            self.mismatches,
            self.seconds,
            self.checked as f64 / self.seconds.max(1e-9) / 1e6,
            if self.build_seconds > 0.0 { format!("{:.1} s", self.build_seconds) } else { "cached".into() }
        )
    }
}

#[derive(Template)]
#[template(path = "units.v", escape = "none")]
struct UnitsTop<'a> {
    name: &'a str,
    version: &'static str,
    ports: Vec<String>,
    instances: Vec<String>,
}

/// Every unit file of `cfg` (each module once) plus the simulation-only top `<name>_units`.
pub fn unit_files(cfg: &Config) -> Result<Vec<RtlFile>> {
    let mut files: Vec<RtlFile> = Vec::new();
    for u in UNITS {
        for f in (u.build)(cfg)? {
            match files.iter().find(|g| g.module == f.module) {
                Some(g) if *g != f => bail!("two units emit different modules named {}", f.module),
                Some(_) => {}
                None => files.push(f),
            }
        }
    }
    let mut ports = Vec::new();
    let mut instances = Vec::new();
    for u in UNITS {
        let mut conns = Vec::new();
        for (dir, p) in u.inputs.iter().map(|p| ("input ", p)).chain(u.outputs.iter().map(|p| ("output", p))) {
            let range = if p.width == 1 { String::new() } else { format!("[{}:0] ", p.width - 1) };
            ports.push(format!("{dir} wire {range}{}_{}", u.name, p.name));
            conns.push(format!(".{}({}_{})", p.name, u.name, p.name));
        }
        instances.push(format!("{}_{} u_{} ({});", cfg.name, u.name, u.name, conns.join(", ")));
    }
    let n = ports.len();
    for (k, p) in ports.iter_mut().enumerate() {
        if k + 1 < n {
            p.push(',');
        }
    }
    let top = UnitsTop { name: &cfg.name, version: env!("CARGO_PKG_VERSION"), ports, instances };
    files.push(RtlFile { module: format!("{}_units", cfg.name), text: top.render()? + "\n" });
    Ok(files)
}

/// A progress bar with the label, position, rate and ETA (hidden when stderr is not a terminal).
pub(crate) fn progress(total: u64, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}

fn chunk_seed(seed: u64, chunk: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ chunk.wrapping_mul(0xD1B5_4A32_D192_ED03)
}

/// The corner pairs the first unit records carry: (multiplier operand codes, adder operands).
struct Corners {
    mul: Vec<(u32, u32)>,
    add: Vec<(u32, u32)>,
}

impl Corners {
    fn of(f: Format) -> Corners {
        let codes = operand_corners(f);
        Corners { mul: codes.iter().flat_map(|&a| codes.iter().map(move |&b| (a, b))).collect(), add: adder_corners() }
    }
}

/// Input words of the units harness for records `start..start+count` (every unit's inputs, in registry order).
fn unit_records(cfg: &Config, corners: &Corners, start: u64, count: usize, seed: u64) -> Vec<u32> {
    let p = PeParams::from(cfg);
    let vectors = generate(cfg, count, chunk_seed(seed, start));
    let mut rng = ChaCha8Rng::seed_from_u64(chunk_seed(seed ^ 0x5555, start));
    let mut words = Vec::with_capacity(count * UNITS.iter().map(|u| u.inputs.len()).sum::<usize>());
    for (j, v) in vectors.iter().enumerate() {
        let g = start + j as u64;
        let mul_corner = corners.mul.get(g as usize).copied();
        let mut ops = [v.ops[0], v.ops[1], v.ops[2], v.ops[3]];
        // The first records pair every corner operand with every other, on both paths.
        if let Some((a, b)) = mul_corner {
            ops = [a, b, b, a];
        }
        let r = Record {
            index: g,
            vector: v,
            ops,
            mul_corner,
            add_corner: corners.add.get(g as usize).copied(),
            random: (rng.random(), rng.random()),
        };
        for u in UNITS {
            words.extend((u.stimulus)(&p, &r));
        }
    }
    words
}

/// Runs the units harness for `records` records (at least every code for formats of <= 16 bits).
pub fn verify_units(cfg: &Config, records: u64, seed: u64, repro: &str) -> Result<Report> {
    let ucfg = units_config(cfg);
    verify_unit_files(&ucfg, &unit_files(&ucfg)?, records, seed, repro)
}

/// [`verify_units`] on given unit files (those of `unit_files(ucfg)`, possibly altered).
pub fn verify_unit_files(ucfg: &Config, files: &[RtlFile], records: u64, seed: u64, repro: &str) -> Result<Report> {
    let p = PeParams::from(ucfg);
    let f = ucfg.format;
    let top = format!("{}_units", ucfg.name);
    let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
    for u in UNITS {
        for port in u.inputs {
            inputs.push(format!("top->{}_{} = i[{}]", u.name, port.name, inputs.len()));
        }
        for port in u.outputs {
            outputs.push(format!("o[{}] = top->{}_{}", outputs.len(), u.name, port.name));
        }
    }
    let (words_in, words_out) = (inputs.len(), outputs.len());
    let spec = HarnessSpec::comb(&top, inputs, outputs);
    let t0 = Instant::now();
    let harness = Harness::build(files, &spec)?;
    let build_seconds = if harness.built { t0.elapsed().as_secs_f64() } else { 0.0 };
    let exhaustive = if f.width() <= 16 { 1u64 << f.width() } else { 0 };
    let corners = Corners::of(f);
    let total = records.max(exhaustive).max(corners.mul.len().max(corners.add.len()) as u64);
    let label = format!("units of {} (L={}, {})", f.name(), ucfg.lo_bits, ucfg.lo_rounding.name());
    let bar = progress(total, &label);
    let mut report = Report { label, build_seconds, ..Default::default() };
    let t1 = Instant::now();
    let mut start = 0u64;
    let chunks = std::iter::from_fn(|| {
        if start >= total {
            return None;
        }
        let n = CHUNK.min((total - start) as usize);
        let words = unit_records(ucfg, &corners, start, n, seed);
        let ctx = (start, words.clone());
        start += n as u64;
        Some((words, ctx))
    });
    harness.run(chunks, |(first, all_in), all_out| {
        for (r, (i, o)) in all_in.chunks_exact(words_in).zip(all_out.chunks_exact(words_out)).enumerate() {
            let (mut at_in, mut at_out) = (0, 0);
            for u in UNITS {
                let (ui, uo) = (&i[at_in..at_in + u.inputs.len()], &o[at_out..at_out + u.outputs.len()]);
                at_in += u.inputs.len();
                at_out += u.outputs.len();
                let want = (u.golden)(&p, ui);
                for (k, port) in u.outputs.iter().enumerate() {
                    if uo[k] == want[k] {
                        continue;
                    }
                    report.mismatches += 1;
                    if report.examples.len() < MAX_REPORTS {
                        let mut text =
                            format!("MISMATCH in {} (record {}, output {}):\n", u.name, first + r as u64, port.name);
                        for (x, ip) in u.inputs.iter().enumerate() {
                            text += &format!("  {:>4} = {}\n", ip.name, ip.kind.describe(f, ui[x]));
                        }
                        text += &format!("  expected {}\n", port.kind.describe(f, want[k]));
                        text += &format!("  actual   {}\n", port.kind.describe(f, uo[k]));
                        text += &format!("  reproduce: {repro}\n");
                        report.examples.push(text);
                    }
                }
            }
        }
        report.checked += (all_in.len() / words_in) as u64;
        bar.set_position(report.checked);
        Ok(())
    })?;
    bar.finish_and_clear();
    report.seconds = t1.elapsed().as_secs_f64();
    Ok(report)
}

/// Random PE stimulus: valid gaps, accumulations of random length, rare resets.
struct Stimulus {
    rng: ChaCha8Rng,
    left: u32,
    cycle: u64,
}

impl Stimulus {
    fn beat(&mut self, ops: [u32; 4]) -> Beat {
        let c = self.cycle;
        self.cycle += 1;
        let rst = c < 2 || self.rng.random_ratio(1, 5000);
        let en = !rst && self.rng.random_ratio(9, 10);
        let mut first = false;
        if rst {
            self.left = 0;
        }
        if en {
            if self.left == 0 {
                first = true;
                self.left = match self.rng.random_range(0..10) {
                    0..=4 => self.rng.random_range(1..=8),
                    5..=8 => self.rng.random_range(9..=64),
                    _ => self.rng.random_range(65..=1000),
                };
            }
            self.left -= 1;
        } else if self.rng.random_ratio(1, 20) {
            // `first` is ignored on an invalid beat; drive it anyway.
            first = true;
        }
        Beat { rst, en, first, ops }
    }
}

fn beat_words(b: &Beat, dual: bool, out: &mut Vec<u32>) {
    out.push(b.rst as u32 | (b.en as u32) << 1 | (b.first as u32) << 2);
    out.extend_from_slice(if dual { &b.ops[..] } else { &b.ops[..2] });
}

/// The emitted PE of `cfg` in Verilator for `cycles` cycles, against [`Pipeline`].
pub fn verify_pe(cfg: &Config, cycles: u64, seed: u64, repro: &str) -> Result<Report> {
    verify_pe_files(cfg, &pe_files(cfg)?, cycles, seed, repro)
}

/// [`verify_pe`] on given PE files (those of `pe_files(cfg)`, possibly altered).
pub fn verify_pe_files(cfg: &Config, files: &[RtlFile], cycles: u64, seed: u64, repro: &str) -> Result<Report> {
    let p = PeParams::from(cfg);
    let f = cfg.format;
    let dual = cfg.policy.is_dual();
    let top = format!("{}_pe", cfg.name);
    let mut inputs =
        vec!["top->rst = i[0] & 1".into(), "top->en = (i[0] >> 1) & 1".into(), "top->first = (i[0] >> 2) & 1".into()];
    let ports: &[&str] = if dual { &["a0", "b0", "a1", "b1"] } else { &["a0", "b0"] };
    inputs.extend(ports.iter().enumerate().map(|(k, n)| format!("top->{n} = i[{}]", k + 1)));
    let spec = HarnessSpec {
        top: top.clone(),
        words_in: 1 + ports.len(),
        inputs,
        comb_outputs: if dual { vec!["o[1] = top->high".into()] } else { vec![] },
        reg_outputs: vec!["o[0] = top->acc".into()],
        clocked: true,
        version: env!("CARGO_PKG_VERSION"),
    };
    let words_out = if dual { 2 } else { 1 };
    let t0 = Instant::now();
    let harness = Harness::build(files, &spec)?;
    let build_seconds = if harness.built { t0.elapsed().as_secs_f64() } else { 0.0 };
    let label = format!("PE {} {} (L={}, {})", f.name(), cfg.policy.name(), cfg.lo_bits, cfg.lo_rounding.name());
    let bar = progress(cycles, &label);
    let mut report = Report { label, build_seconds, ..Default::default() };
    let t1 = Instant::now();
    let mut stim = Stimulus { rng: ChaCha8Rng::seed_from_u64(chunk_seed(seed, u64::MAX)), left: 0, cycle: 0 };
    let mut start = 0u64;
    let chunks = std::iter::from_fn(|| {
        if start >= cycles {
            return None;
        }
        let n = CHUNK.min((cycles - start) as usize);
        let vectors = generate(cfg, n, chunk_seed(seed, start));
        let beats: Vec<Beat> = vectors
            .iter()
            .map(|v| {
                let mut ops = [0u32; 4];
                ops[..v.ops.len()].copy_from_slice(&v.ops);
                stim.beat(ops)
            })
            .collect();
        let mut words = Vec::with_capacity(n * 5);
        for b in &beats {
            beat_words(b, dual, &mut words);
        }
        start += n as u64;
        Some((words, beats))
    });
    let mut model = Pipeline::default();
    let mut history: Vec<(u64, Beat, u32)> = Vec::new();
    let mut cycle = 0u64;
    harness.run(chunks, |beats, outputs| {
        for (b, o) in beats.iter().zip(outputs.chunks_exact(words_out)) {
            let want_high = if dual { high_stream(&p, b.ops[0], b.ops[1], b.ops[2], b.ops[3]) as u32 } else { 0 };
            let want = model.clock(&p, b);
            if b.first || b.rst {
                history.clear();
            }
            history.push((cycle, *b, want));
            if history.len() > 6 {
                history.remove(0);
            }
            let high_bad = dual && o[1] != want_high;
            if o[0] != want || high_bad {
                report.mismatches += 1;
                if report.examples.len() < MAX_REPORTS {
                    let mut text = format!("MISMATCH in the PE at cycle {cycle} (latency {}):\n", cfg.latency());
                    text += "  recent beats (cycle rst en first operands -> golden acc after the edge):\n";
                    for (c, hb, acc) in &history {
                        let ops: Vec<String> =
                            hb.ops[..if dual { 4 } else { 2 }].iter().map(|x| f.describe(*x)).collect();
                        text += &format!(
                            "    {c}: rst={} en={} first={} [{}] -> {:08x}\n",
                            hb.rst as u8,
                            hb.en as u8,
                            hb.first as u8,
                            ops.join(", "),
                            acc
                        );
                    }
                    if high_bad {
                        text += &format!("  high: expected {want_high}, actual {}\n", o[1]);
                    }
                    text += &format!("  acc expected {}\n", describe_f32(want));
                    text += &format!("  acc actual   {}\n", describe_f32(o[0]));
                    text += &format!("  reproduce: {repro}\n");
                    report.examples.push(text);
                }
            }
            cycle += 1;
        }
        report.checked += beats.len() as u64;
        bar.set_position(report.checked);
        Ok(())
    })?;
    bar.finish_and_clear();
    report.seconds = t1.elapsed().as_secs_f64();
    Ok(report)
}
