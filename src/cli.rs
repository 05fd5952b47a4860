//! The `daa` command line: argument definitions and the dispatch to library calls.

use crate::config::{Config, Policy, Settings};
use crate::error::InputError;
use crate::files::{write_atomic, write_string_atomic};
use crate::golden::explore::{evaluate, exact_product, random_operands, table, PolicyResult};
use crate::golden::gemm::{gemm, GemmInput};
use crate::golden::pe::PeParams;
use crate::golden::vectors::{generate, to_line};
use crate::npy::{read_codes, write_f32};
use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

/// Generator and bit-exact golden model for Dynamic Asymmetric Architecture (DAA) systolic arrays.
#[derive(Parser, Debug)]
#[command(name = "daa", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the effective configuration (file plus flags, defaults filled in) as TOML.
    Config(ConfigArgs),
    /// Multiply two matrices with the golden model, or compare every policy on a random GEMM.
    Gemm(GemmArgs),
    /// Write PE-level test vectors from the golden model (`acc a0 b0 a1 b1 expected` per line).
    Vectors(VectorArgs),
    /// Time the golden GEMM of every policy against matrixmultiply's sgemm, in one run.
    Bench(BenchArgs),
    /// Write the Verilog of one configuration to `<out>/<name>/`.
    Generate(GenerateArgs),
    /// Simulate the emitted Verilog in Verilator and compare it bit for bit with the golden model.
    Verify(VerifyArgs),
    /// Synthesize the units and the PE of every policy with Yosys and print their sizes.
    Area(ConfigArgs),
    /// Train a CNN on Fashion-MNIST with every conv/linear GEMM through the golden model.
    Train(TrainArgs),
    /// Cycles, utilisation and speed-up of every policy for a workload's training GEMMs on the array.
    Perf(PerfArgs),
    /// Energy of every policy's PE from gate-level toggle counts on captured training operands.
    Energy(EnergyArgs),
    /// FPGA flows: ECP5 place and route (LUT4, CCU2C, MULT18X18D, FFs, Fmax) of the PE at every
    /// pipeline value, the one-cycle fadd, a reference product and a 2x2 array; iCE40; Xilinx.
    Fpga(FpgaArgs),
    /// The paper-style table: throughput, area, energy and accuracy against `single`, as markdown, JSON and plots.
    Report(ReportArgs),
}

/// Which network's training GEMMs, at which mini-batch.
#[derive(Args, Debug)]
pub struct WorkloadArgs {
    /// resnet18, lenet5, vgg-small, resnet-mini, or a layer-table TOML file.
    #[arg(long, default_value = "resnet18")]
    pub workload: String,
    /// Mini-batch (default: the workload's).
    #[arg(long)]
    pub batch: Option<usize>,
}

impl WorkloadArgs {
    /// The workload's layer table and the mini-batch to use.
    fn load(&self) -> anyhow::Result<(crate::cost::workloads::Workload, usize)> {
        let w = crate::cost::workloads::Workload::load(&self.workload)?;
        let batch = self.batch.unwrap_or(w.batch);
        if batch == 0 || batch > 1 << 20 {
            return Err(InputError::field("batch", &batch.to_string(), "1 ..= 1048576").into());
        }
        Ok((w, batch))
    }
}

/// `daa report` arguments.
#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    /// Configuration (an `[energy]` table in the file overrides the energy constants).
    pub cfg: ConfigArgs,
    #[command(flatten)]
    /// Workload (its training GEMMs) and mini-batch.
    pub wl: WorkloadArgs,
    /// Directory searched for `daa train --compare` results (compare.json).
    #[arg(long, value_name = "DIR", default_value = "docs/training")]
    pub training: PathBuf,
    /// Directory with the Fashion-MNIST IDX files (the energy stimulus comes from training the small models).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "report_out")]
    pub out: PathBuf,
    /// Also benchmark the tool: Verilator speed of 4x4/8x8/16x16 grids and the PE, 64x64 generation, golden GEMM vs sgemm.
    #[arg(long)]
    pub bench: bool,
    /// Also place and route the PE of the policy and of `single` at every (pipeline, interleave) on ECP5 and report each one's time to result (cycles / Fmax; about 15 minutes on 2 cores).
    #[arg(long)]
    pub fpga: bool,
}

/// `daa energy` arguments.
#[derive(Args, Debug)]
pub struct EnergyArgs {
    #[command(flatten)]
    /// Configuration (an `[energy]` table in the file overrides the model's constants).
    pub cfg: ConfigArgs,
    #[command(flatten)]
    /// Workload (its training GEMMs) and mini-batch.
    pub wl: WorkloadArgs,
    /// Directory with the Fashion-MNIST IDX files (the stimulus comes from training the small models).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Print JSON instead of markdown.
    #[arg(long)]
    pub json: bool,
    /// Simulate the netlist with the built-in gate simulator (default) or Verilator (slow builds; same counts).
    #[arg(long, default_value = "builtin", value_parser = ["builtin", "verilator"])]
    pub simulator: String,
}

/// `daa fpga` arguments.
#[derive(Args, Debug)]
pub struct FpgaArgs {
    #[command(flatten)]
    /// Configuration (format, policy, L; rows and cols with --array).
    pub cfg: ConfigArgs,
    /// Also place and route the configured array (rows x cols); one larger than the device is reported as such.
    #[arg(long)]
    pub array: bool,
    #[command(flatten)]
    /// Workload of the time-to-result table (its training step on the rows x cols array).
    pub wl: WorkloadArgs,
    /// Print JSON instead of markdown.
    #[arg(long)]
    pub json: bool,
}

/// `daa perf` arguments.
#[derive(Args, Debug)]
pub struct PerfArgs {
    #[command(flatten)]
    /// Configuration (rows and cols set the array).
    pub cfg: ConfigArgs,
    #[command(flatten)]
    /// Workload (its training GEMMs) and mini-batch.
    pub wl: WorkloadArgs,
    /// Print JSON (top-level `policies` with `cycles` and `speedup_vs_single`) instead of markdown.
    #[arg(long)]
    pub json: bool,
}

/// Configuration: a TOML file plus flags; a flag overrides the file's value of the same name.
#[derive(Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    /// TOML file with any of the keys format, policy, lo_bits, lo_rounding, rows, cols, pipeline, interleave, name.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Input format F_in: fp32 (default), tf32, bf16, fp16, or eXmY with 2 <= X <= 8, 1 <= Y <= 23.
    #[arg(long)]
    pub format: Option<String>,
    /// Who gets the full multiplier: daa (default: larger exponent sum), static (stream 0), full (two full multipliers), single (conventional one-stream PE).
    #[arg(long)]
    pub policy: Option<String>,
    /// Fraction bits of the low multiplier, 0 <= L < Y. Default: 7 for formats wider than 16 bits (fp32, tf32), 3 otherwise (bf16, fp16), never above Y-1.
    #[arg(long, value_name = "L")]
    pub lo_bits: Option<u32>,
    /// Rounding of low-path operands: nearest-even (default) or toward-zero.
    #[arg(long)]
    pub lo_rounding: Option<String>,
    /// Array rows R, 1..=256 (default 8).
    #[arg(long)]
    pub rows: Option<u32>,
    /// Array columns C, 1..=256 (default 8).
    #[arg(long)]
    pub cols: Option<u32>,
    /// Extra PE pipeline registers, 0..=5 (default 0): after the products, after the product
    /// adder's alignment, after its normalisation, after unpack and reduction, after the
    /// controller (single: after the product, after unpacking; docs/pe.md).
    #[arg(long)]
    pub pipeline: Option<u32>,
    /// Output elements per PE, accumulated round-robin, 1..=8 (default 1): a tile is
    /// interleave*R x C and the accumulation adder is pipelined min(interleave, 4) deep (docs/pe.md).
    #[arg(long)]
    pub interleave: Option<u32>,
    /// Name of the generated IP, a Verilog identifier (default daa_<format>_<policy>_<R>x<C>).
    #[arg(long)]
    pub name: Option<String>,
}

impl ConfigArgs {
    /// The flags as settings (unset flags stay unset).
    fn flags(&self) -> Settings {
        Settings {
            format: self.format.clone(),
            policy: self.policy.clone(),
            lo_bits: self.lo_bits,
            lo_rounding: self.lo_rounding.clone(),
            rows: self.rows,
            cols: self.cols,
            pipeline: self.pipeline,
            interleave: self.interleave,
            name: self.name.clone(),
            energy: None,
        }
    }

    /// The energy model's constants: defaults, overridden by the config file's `[energy]` table.
    pub fn energy(&self) -> Result<crate::cost::energy::EnergyConstants, InputError> {
        let k = match &self.config {
            Some(path) => Settings::from_toml_file(path)?.energy.unwrap_or_default(),
            None => Default::default(),
        };
        k.validate()?;
        Ok(k)
    }

    /// File, then flags, validated.
    pub fn resolve(&self) -> Result<Config, InputError> {
        let base = match &self.config {
            Some(path) => Settings::from_toml_file(path)?,
            None => Settings::default(),
        };
        base.overridden_by(&self.flags()).resolve()
    }
}

/// `daa gemm` arguments.
#[derive(Args, Debug)]
pub struct GemmArgs {
    #[command(flatten)]
    /// Configuration.
    pub cfg: ConfigArgs,
    /// A (M x K) as .npy: uint16/uint32 F_in codes, or float32 (rounded to F_in with RNE).
    #[arg(long, requires_all = ["b", "out"])]
    pub a: Option<PathBuf>,
    /// B (K x N) as .npy, same dtypes as A.
    #[arg(long, requires_all = ["a", "out"])]
    pub b: Option<PathBuf>,
    /// Where to write C (M x N) as float32 .npy holding the exact binary32 results.
    #[arg(long, requires_all = ["a", "b"])]
    pub out: Option<PathBuf>,
    /// Write the controller and datapath statistics as JSON here.
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
    /// Random mode (no --a/--b): shape M,K,N of the seeded random GEMM.
    #[arg(long, default_value = "256,256,256", value_name = "M,K,N", conflicts_with = "a")]
    pub shape: String,
    /// Random mode: seed of the operand generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Random mode: share of zeros in A, like post-ReLU activations, 0 <= p < 1.
    #[arg(long, default_value_t = 0.5)]
    pub sparsity: f64,
}

/// `daa vectors` arguments.
#[derive(Args, Debug)]
pub struct VectorArgs {
    #[command(flatten)]
    /// Configuration.
    pub cfg: ConfigArgs,
    /// Number of vectors.
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// Seed of the vector generator; same seed, same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file (one vector per line, loadable with $readmemh).
    #[arg(long)]
    pub out: PathBuf,
}

/// `daa bench` arguments.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// M = N = K.
    #[arg(long, default_value_t = 512)]
    pub size: usize,
    /// Repetitions of each golden GEMM (sgemm gets ten times as many); the best time is kept.
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
    /// Threads for both the golden GEMM and sgemm (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also write the measurements as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// `daa generate` arguments.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    #[command(flatten)]
    /// Configuration.
    pub cfg: ConfigArgs,
    /// Only the PE and its units (no grid, testbench or package files).
    #[arg(long)]
    pub pe_only: bool,
    /// Parent directory of the package directory `<name>/`.
    #[arg(long, default_value = "rtl_out")]
    pub out: PathBuf,
}

/// `daa verify` arguments.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    /// Configuration.
    pub cfg: ConfigArgs,
    /// Check only the units and the PE (without it: those checks, then the grid).
    #[arg(long)]
    pub pe: bool,
    /// Random GEMMs through the grid (random shapes, valid gaps and output back-pressure).
    #[arg(long, default_value_t = 1000)]
    pub gemms: u64,
    /// Random vectors for the units and PE cycles (formats of <= 16 bits also get every code through unpack and reduce).
    #[arg(long, default_value_t = 1_000_000)]
    pub vectors: u64,
    /// Seed of the vector generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `daa train` arguments.
#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    /// Configuration (`--policy native` runs plain f32 GEMMs).
    pub cfg: ConfigArgs,
    /// Network: lenet5, vgg-small or resnet-mini.
    #[arg(long, default_value = "lenet5")]
    pub model: String,
    /// Passes over the training images.
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    /// Use only the first N training images (default: all 60,000).
    #[arg(long, value_name = "N")]
    pub train_subset: Option<usize>,
    /// Use only the first N test images (default: all 10,000).
    #[arg(long, value_name = "N")]
    pub test_subset: Option<usize>,
    /// Mini-batch size, 1..=4096.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Peak learning rate (cosine schedule to 0). Default: 0.05, resnet-mini 0.1.
    #[arg(long)]
    pub lr: Option<f32>,
    /// SGD momentum, 0 <= m < 1.
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f32,
    /// L2 weight decay on conv and linear weights.
    #[arg(long, default_value_t = 5e-4)]
    pub weight_decay: f32,
    /// Seed of weight init and data order; same seed and threads, same run bit for bit.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Directory with the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Output directory (default train_out/<model>-<format>-<policy|compare|sweep>-seed<S>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run native, single, full, daa and static on the same seed; one table and one plot.
    #[arg(long, conflicts_with = "sweep_lo_bits")]
    pub compare: bool,
    /// Run `single` and the policy (daa unless another dual policy is given) at each of these lo_bits, e.g. 7,5,3,1.
    #[arg(long, value_delimiter = ',', value_name = "L,L,...")]
    pub sweep_lo_bits: Vec<u32>,
    /// Dynamic loss scaling: auto (on for formats with fewer than 8 exponent bits), on, off.
    #[arg(long, default_value = "auto")]
    pub loss_scale: String,
    /// Threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Count the controller's and datapath's statistics (stream-1 high share, reductions
    /// changed, zero products) in every GEMM: slower, same results bit for bit.
    #[arg(long)]
    pub stats: bool,
    /// Continue each run from the checkpoint in its output directory (written at every epoch
    /// end), bit for bit the run that was interrupted; a run without one starts afresh.
    #[arg(long)]
    pub resume: bool,
    /// Stop each run after this many of its epochs, leaving its checkpoint for `--resume`.
    #[arg(long, value_name = "N")]
    pub stop_after: Option<usize>,
}

/// Runs one parsed command line, writing human-readable output to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    // A bad `DAA_GEMM_ISA` is an input error before any GEMM runs, not a silent fallback.
    crate::golden::simd::check_env()?;
    match cli.command {
        Command::Config(c) => {
            write!(out, "{}", c.resolve()?.to_toml())?;
        }
        Command::Gemm(g) => run_gemm(g, out)?,
        Command::Vectors(v) => {
            let cfg = v.cfg.resolve()?;
            let vs = generate(&cfg, v.count, v.seed);
            write_atomic(&v.out, |w| {
                for x in &vs {
                    writeln!(w, "{}", to_line(cfg.format, x))?;
                }
                Ok(())
            })?;
            writeln!(out, "wrote {} vectors ({}, policy {}) to {}", vs.len(), cfg.format, cfg.policy, v.out.display())?;
        }
        Command::Generate(g) => run_generate(g, out)?,
        Command::Verify(v) => run_verify(v, out)?,
        Command::Area(c) => {
            let cfg = c.resolve()?;
            let rows = crate::cost::area::area_table(&cfg)?;
            let stages = crate::cost::area::stage_table(&cfg)?;
            write!(out, "{}", crate::cost::area::markdown(&cfg, &rows, &stages))?;
        }
        Command::Train(t) => run_train(t, out)?,
        Command::Energy(e) => {
            let cfg = e.cfg.resolve()?;
            let k = e.cfg.energy()?;
            let (w, batch) = e.wl.load()?;
            let data = crate::train::data::load(e.data.as_deref())?;
            let bar = crate::train::run::progress_bar(std::io::IsTerminal::is_terminal(&std::io::stderr()));
            let sim = if e.simulator == "verilator" {
                crate::cost::energy::Simulator::Verilator
            } else {
                crate::cost::energy::Simulator::Builtin
            };
            let r = crate::cost::energy::run_energy(&cfg, &k, &data.train, &w, batch, sim, &bar)?;
            bar.finish_and_clear();
            if e.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?;
            } else {
                write!(out, "{}", crate::cost::energy::markdown(&r))?;
            }
        }
        Command::Fpga(f) => {
            let cfg = f.cfg.resolve()?;
            let bar = crate::train::run::progress_bar(std::io::IsTerminal::is_terminal(&std::io::stderr()));
            let (w, batch) = f.wl.load()?;
            let r = crate::cost::fpga::fpga(&cfg, f.array, &w, batch, &bar)?;
            bar.finish_and_clear();
            if f.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?;
            } else {
                write!(out, "{}", crate::cost::fpga::markdown(&cfg, &r))?;
            }
        }
        Command::Report(r) => {
            let cfg = r.cfg.resolve()?;
            let k = r.cfg.energy()?;
            let (w, batch) = r.wl.load()?;
            let data = crate::train::data::load(r.data.as_deref())?;
            let bar = crate::train::run::progress_bar(std::io::IsTerminal::is_terminal(&std::io::stderr()));
            let opts = crate::cost::report::ReportOptions {
                workload: &w,
                batch,
                training_dir: &r.training,
                bench: r.bench,
                fpga: r.fpga,
            };
            let rep = crate::cost::report::build(&cfg, &k, &opts, &data.train, &bar)?;
            bar.finish_and_clear();
            crate::cost::report::write(&r.out, &cfg, &rep)?;
            for (name, p) in &rep.policies {
                writeln!(
                    out,
                    "{name}: throughput {:.3}x, area {:.3}x, energy {:.3}x of single",
                    p.throughput_ratio, p.area_ratio, p.energy_ratio
                )?;
            }
            writeln!(
                out,
                "wrote {}/report.md, report.json, speedup.svg, energy_units.svg, accuracy.svg",
                r.out.display()
            )?;
        }
        Command::Perf(p) => {
            let cfg = p.cfg.resolve()?;
            let (w, batch) = p.wl.load()?;
            let r = crate::cost::perf::perf(&cfg, &w, batch);
            if p.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?;
            } else {
                write!(out, "{}", crate::cost::perf::markdown(&r))?;
            }
        }
        Command::Bench(b) => {
            let threads = b.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let r = crate::golden::bench::run(b.size, b.reps, threads)?;
            write!(out, "{}", crate::golden::bench::table(&r))?;
            if let Some(path) = b.json {
                write_string_atomic(&path, &serde_json::to_string_pretty(&r)?)?;
            }
        }
    }
    Ok(())
}

fn parse_shape(text: &str) -> Result<(usize, usize, usize), InputError> {
    let bad = || InputError::field("shape", text, "M,K,N: three positive integers, e.g. 256,256,256");
    let v: Vec<usize> = text.split(',').map(|s| s.trim().parse().map_err(|_| bad())).collect::<Result<_, _>>()?;
    match v[..] {
        [m, k, n] if m > 0 && k > 0 && n > 0 => Ok((m, k, n)),
        _ => Err(bad()),
    }
}

fn run_gemm(g: GemmArgs, out: &mut dyn Write) -> Result<()> {
    let cfg = g.cfg.resolve()?;
    if let (Some(pa), Some(pb), Some(pc)) = (&g.a, &g.b, &g.out) {
        let a = read_codes(pa, "A", cfg.format)?;
        let b = read_codes(pb, "B", cfg.format)?;
        if a.cols != b.rows {
            return Err(InputError::msg(format!(
                "A is {}x{} and B is {}x{}: the columns of A (K) must equal the rows of B",
                a.rows, a.cols, b.rows, b.cols
            ))
            .into());
        }
        let p = PeParams::from(&cfg);
        let (c, stats) = gemm(&p, &GemmInput { m: a.rows, k: a.cols, n: b.cols, a: &a.codes, b: &b.codes });
        write_f32(pc, a.rows, b.cols, &c)?;
        if let Some(sp) = &g.stats {
            write_string_atomic(sp, &serde_json::to_string_pretty(&stats)?)?;
        }
        writeln!(
            out,
            "C = A ({}x{}) * B ({}x{}) with {}, policy {}: wrote {}",
            a.rows,
            a.cols,
            b.rows,
            b.cols,
            cfg.format,
            cfg.policy,
            pc.display()
        )?;
        return Ok(());
    }
    let (m, k, n) = parse_shape(&g.shape)?;
    if !(0.0..1.0).contains(&g.sparsity) {
        return Err(InputError::field("sparsity", &g.sparsity.to_string(), "0 <= sparsity < 1").into());
    }
    let (a, b) = random_operands(cfg.format, m, k, n, g.seed, g.sparsity);
    let exact = exact_product(cfg.format, &a, &b);
    let results: Vec<PolicyResult> = Policy::ALL.iter().map(|&pol| evaluate(&cfg, pol, &a, &b, &exact).1).collect();
    writeln!(
        out,
        "random GEMM M={m} K={k} N={n}, {} (lo_bits {}, {}), seed {}, A sparsity {}; error against the exact (f64) product of the F_in operands:",
        cfg.format,
        cfg.lo_bits,
        cfg.lo_rounding.name(),
        g.seed,
        g.sparsity
    )?;
    write!(out, "{}", table(&results))?;
    if let Some(sp) = &g.stats {
        write_string_atomic(sp, &serde_json::to_string_pretty(&results)?)?;
    }
    Ok(())
}

fn run_generate(g: GenerateArgs, out: &mut dyn Write) -> Result<()> {
    let cfg = g.cfg.resolve()?;
    let files: Vec<(String, String)> = if g.pe_only {
        crate::rtl::emit::pe_files(&cfg)?.into_iter().map(|f| (f.file_name(), f.text)).collect()
    } else {
        crate::grid::package::package(&cfg)?
    };
    let dir = g.out.join(&cfg.name);
    crate::files::write_dir_atomic(&dir, &files)?;
    let what =
        if g.pe_only { format!("the PE (top {}_pe)", cfg.name) } else { format!("the array (top {})", cfg.name) };
    writeln!(out, "wrote {} files for {what} to {}", files.len(), dir.display())?;
    Ok(())
}

fn run_verify(v: VerifyArgs, out: &mut dyn Write) -> Result<()> {
    let cfg = v.cfg.resolve()?;
    let flags = format!(
        "--format {} --policy {} --lo-bits {} --lo-rounding {}",
        cfg.format.name(),
        cfg.policy.name(),
        cfg.lo_bits,
        cfg.lo_rounding.name()
    );
    let repro = format!("daa verify --pe {flags} --vectors {} --seed {}", v.vectors, v.seed);
    let mut bad = 0;
    for r in [
        crate::sim::verify::verify_units(&cfg, v.vectors, v.seed, &repro)?,
        crate::sim::verify::verify_pe(&cfg, v.vectors, v.seed, &repro)?,
    ] {
        writeln!(out, "{}", r.summary())?;
        for e in &r.examples {
            write!(out, "{e}")?;
        }
        bad += r.mismatches;
    }
    if !v.pe {
        let repro =
            format!("daa verify {flags} --rows {} --cols {} --gemms {} --seed {}", cfg.rows, cfg.cols, v.gemms, v.seed);
        let r = crate::grid::verify::verify_grid(&cfg, v.gemms, v.seed, &repro)?;
        writeln!(out, "{}", r.summary())?;
        for e in &r.examples {
            write!(out, "{e}")?;
        }
        bad += r.mismatches + r.timing_mismatches;
    }
    if bad > 0 {
        anyhow::bail!("{bad} mismatches between the Verilog and the golden model or the cycle model");
    }
    Ok(())
}

fn run_train(t: TrainArgs, out: &mut dyn Write) -> Result<()> {
    use crate::train::optim::Sgd;
    use crate::train::run::{
        default_loss_scaling, plan, progress_bar, resume_point, train_checkpointed, write_comparison, write_run,
        Checkpointing, TrainSpec,
    };
    let native = t.cfg.policy.as_deref() == Some("native");
    let mut cfg_args = t.cfg.clone();
    if native {
        cfg_args.policy = Some("single".into());
    }
    let cfg = cfg_args.resolve().map_err(|e| {
        if e.0.contains("`policy`") {
            InputError::msg(e.0.replace("allowed ", "allowed native, "))
        } else {
            e
        }
    })?;
    if !crate::train::models::MODELS.contains(&t.model.as_str()) {
        return Err(InputError::field("model", &t.model, &crate::train::models::MODELS.join(", ")).into());
    }
    let positive = |field: &str, v: usize, max: usize| -> Result<usize, InputError> {
        if (1..=max).contains(&v) {
            Ok(v)
        } else {
            Err(InputError::field(field, &v.to_string(), &format!("1 ..= {max}")))
        }
    };
    positive("epochs", t.epochs, 100_000)?;
    positive("batch", t.batch, 4096)?;
    let train_subset = positive("train-subset", t.train_subset.unwrap_or(60_000), usize::MAX)?;
    let test_subset = positive("test-subset", t.test_subset.unwrap_or(10_000), usize::MAX)?;
    let lr = t.lr.unwrap_or(if t.model == "resnet-mini" { 0.1 } else { 0.05 });
    if !(lr.is_finite() && lr > 0.0) {
        return Err(InputError::field("lr", &lr.to_string(), "a positive number").into());
    }
    if !(0.0..1.0).contains(&t.momentum) {
        return Err(InputError::field("momentum", &t.momentum.to_string(), "0 <= momentum < 1").into());
    }
    if !(t.weight_decay.is_finite() && t.weight_decay >= 0.0) {
        return Err(InputError::field("weight-decay", &t.weight_decay.to_string(), "a number >= 0").into());
    }
    let loss_scaling = match t.loss_scale.as_str() {
        "auto" => default_loss_scaling(&cfg),
        "on" => true,
        "off" => false,
        other => return Err(InputError::field("loss-scale", other, "auto, on, off").into()),
    };
    if let Some(n) = t.threads {
        positive("threads", n, 1024)?;
        // matrixmultiply reads its thread count once, from the environment.
        std::env::set_var("MATMUL_NUM_THREADS", n.to_string());
    }
    let base = TrainSpec {
        model: t.model.clone(),
        cfg,
        native,
        epochs: t.epochs,
        batch: t.batch,
        sgd: Sgd { lr, momentum: t.momentum, weight_decay: t.weight_decay },
        train_subset,
        test_subset,
        seed: t.seed,
        loss_scaling,
        stats: t.stats,
    };
    let (runs, stem) = plan(&base, t.compare, &t.sweep_lo_bits)?;
    let data = crate::train::data::load(t.data.as_deref())?;
    let what = stem.map_or_else(|| base.policy_name(), str::to_string);
    let dir = t.out.clone().unwrap_or_else(|| {
        PathBuf::from("train_out").join(format!("{}-{}-{what}-seed{}", t.model, base.cfg.format.name(), t.seed))
    });
    let pool = rayon::ThreadPoolBuilder::new().num_threads(t.threads.unwrap_or(0)).build()?;
    let bar = progress_bar(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if let Some(n) = t.stop_after {
        positive("stop-after", n, 100_000)?;
    }
    let mut done = Vec::new();
    let mut stopped = false;
    for (label, spec) in &runs {
        let run_dir = if stem.is_some() { dir.join(label) } else { dir.clone() };
        let ck = Checkpointing { dir: Some(run_dir.clone()), resume: t.resume, stop_after: t.stop_after };
        if let Some(n) = resume_point(&ck)? {
            writeln!(out, "{label}: resuming after epoch {n} of {} from {}", spec.epochs, run_dir.display())?;
        }
        let Some(s) = pool.install(|| train_checkpointed(spec, &data, &bar, &ck))? else {
            writeln!(
                out,
                "{label}: stopped after epoch {} of {}; continue with --resume -> {}",
                t.stop_after.unwrap_or(0),
                spec.epochs,
                run_dir.display()
            )?;
            stopped = true;
            continue;
        };
        write_run(&run_dir, &s)?;
        writeln!(
            out,
            "{label}: {} {} test accuracy {:.2} % after {} epoch(s), {:.1} s ({:.0} % in GEMMs) -> {}",
            s.run.model,
            s.run.format,
            100.0 * s.test_accuracy,
            s.run.epochs,
            s.seconds,
            100.0 * s.gemm_share,
            run_dir.display()
        )?;
        done.push((label.clone(), s));
    }
    bar.finish_and_clear();
    if let Some(stem) = stem.filter(|_| !stopped) {
        let title = format!("{} on Fashion-MNIST, {}, seed {}", t.model, base.cfg.format.name(), t.seed);
        let table = write_comparison(&dir, stem, &title, &done)?;
        write!(out, "{table}")?;
        writeln!(out, "wrote {}/{stem}.md, .json, .svg", dir.display())?;
    }
    Ok(())
}
