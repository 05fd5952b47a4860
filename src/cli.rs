//! The `daa` command line: argument definitions and the dispatch to library calls.

use crate::config::{Config, EnergyConstants, Policy, Settings};
use crate::error::InputError;
use crate::files::{check_distinct, check_output_file, write_atomic, write_string_atomic, OutputSet};
use crate::golden::explore::{evaluate, exact_product, random_operands, table, PolicyResult};
use crate::golden::gemm::{check_shapes, gemm, GemmInput};
use crate::golden::pe::PeParams;
use crate::golden::vectors::{generate, to_line};
use crate::limits;
use crate::npy::{read_codes, write_f32_to};
use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

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
    #[command(after_help = GEMM_COLUMNS)]
    Gemm(GemmArgs),
    /// Write PE-level test vectors from the golden model (`acc a0 b0 a1 b1 expected` per line).
    Vectors(VectorArgs),
    /// Time the golden GEMM of every policy against an sgemm of the same instruction set, in one run.
    Bench(BenchArgs),
    /// Write the Verilog of one configuration to `<out>/<name>/`.
    Generate(GenerateArgs),
    /// Simulate the emitted Verilog in Verilator and compare it bit for bit with the golden model.
    Verify(VerifyArgs),
    /// Write the package testbench's input and expected hex files for your own A and B.
    TbVectors(TbVectorArgs),
    /// Synthesize the units and the PE of every policy with Yosys and print their sizes.
    Area(PeConfig),
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
        w.check_step(batch)?;
        Ok((w, batch))
    }
}

/// `daa report` arguments.
#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    /// Configuration (an `[energy]` table in the file overrides the energy constants).
    pub cfg: ArrayConfig,
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
    pub cfg: ArrayConfig,
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
    pub cfg: ArrayConfig,
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
    pub cfg: GridConfig,
    #[command(flatten)]
    /// Workload (its training GEMMs) and mini-batch.
    pub wl: WorkloadArgs,
    /// Print JSON (top-level `policies` with `cycles` and `speedup_vs_single`) instead of markdown.
    #[arg(long)]
    pub json: bool,
}

/// The arithmetic: what every command that computes takes.
#[derive(Args, Debug, Clone, Default)]
pub struct ArithFlags {
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
}

/// The array's shape.
#[derive(Args, Debug, Clone, Default)]
pub struct ArrayFlags {
    /// Array rows R, 1..=256 (default 8).
    #[arg(long)]
    pub rows: Option<u32>,
    /// Array columns C, 1..=256 (default 8).
    #[arg(long)]
    pub cols: Option<u32>,
}

/// The PE's pipelining.
#[derive(Args, Debug, Clone, Default)]
pub struct PeFlags {
    /// Extra PE pipeline registers, 0..=5 (default 0): after the products, after the product
    /// adder's alignment, after its normalisation, after unpack and reduction, after the
    /// controller (single: after the product, after unpacking; docs/pe.md).
    #[arg(long)]
    pub pipeline: Option<u32>,
    /// Output elements per PE, accumulated round-robin, 1..=8 (default 1): a tile is
    /// interleave*R x C and the accumulation adder is pipelined min(interleave, 4) deep (docs/pe.md).
    #[arg(long)]
    pub interleave: Option<u32>,
}

/// How a command's flags become [`Settings`]: each command takes only the flags that change
/// what it does (a configuration file may hold every key; the ones a command does not use
/// are ignored).
pub trait ConfigFlags {
    /// The `--config` file.
    fn file(&self) -> Option<&Path>;
    /// The flags given, as settings (unset flags stay unset).
    fn flags(&self) -> Settings;

    /// File, then flags, validated.
    fn resolve(&self) -> Result<Config, InputError> {
        let base = match self.file() {
            Some(path) => Settings::from_toml_file(path)?,
            None => Settings::default(),
        };
        base.overridden_by(&self.flags()).resolve()
    }

    /// The energy model's constants: defaults, overridden by the config file's `[energy]` table.
    fn energy(&self) -> Result<EnergyConstants, InputError> {
        let k = match self.file() {
            Some(path) => Settings::from_toml_file(path)?.energy.unwrap_or_default(),
            None => Default::default(),
        };
        k.validate()?;
        Ok(k)
    }
}

impl ArithFlags {
    fn set(&self, s: &mut Settings) {
        s.format = self.format.clone();
        s.policy = self.policy.clone();
        s.lo_bits = self.lo_bits;
        s.lo_rounding = self.lo_rounding.clone();
    }
}

impl ArrayFlags {
    fn set(&self, s: &mut Settings) {
        s.rows = self.rows;
        s.cols = self.cols;
    }
}

impl PeFlags {
    fn set(&self, s: &mut Settings) {
        s.pipeline = self.pipeline;
        s.interleave = self.interleave;
    }
}

/// The `--config` help, the same for every command.
const CONFIG_HELP: &str = "TOML file with any of the keys format, policy, lo_bits, lo_rounding, rows, cols, pipeline, interleave, name and an [energy] table (keys this command does not use are ignored); a flag overrides the file's value";

/// Declares a configuration struct: `--config` plus the given flag groups.
macro_rules! config_args {
    ($(#[$doc:meta])* $name:ident { $($group:ident: $ty:ty),* }) => {
        $(#[$doc])*
        #[derive(Args, Debug, Clone, Default)]
        pub struct $name {
            #[arg(long, value_name = "FILE", help = CONFIG_HELP)]
            /// The configuration file.
            pub config: Option<PathBuf>,
            $(
                #[command(flatten)]
                #[allow(missing_docs)]
                pub $group: $ty,
            )*
        }

        impl ConfigFlags for $name {
            fn file(&self) -> Option<&Path> {
                self.config.as_deref()
            }
            fn flags(&self) -> Settings {
                let mut s = Settings::default();
                $(self.$group.set(&mut s);)*
                s
            }
        }
    };
}

/// Every setting: `daa config`, `daa generate`.
#[derive(Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    #[arg(long, value_name = "FILE", help = CONFIG_HELP)]
    /// The configuration file.
    pub config: Option<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub arith: ArithFlags,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub array: ArrayFlags,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub pe: PeFlags,
    /// Name of the generated IP: a Verilog identifier that is not a Verilog or SystemVerilog
    /// keyword (default daa_<format>_<policy>_<R>x<C>, plus _l<L>, _tz, _p<P>, _i<N> for the
    /// settings that are not at their default).
    #[arg(long)]
    pub name: Option<String>,
}

impl ConfigFlags for ConfigArgs {
    fn file(&self) -> Option<&Path> {
        self.config.as_deref()
    }
    fn flags(&self) -> Settings {
        let mut s = Settings { name: self.name.clone(), ..Default::default() };
        self.arith.set(&mut s);
        self.array.set(&mut s);
        self.pe.set(&mut s);
        s
    }
}

config_args!(
    /// The arithmetic only (the golden model does not depend on the array): `daa gemm`,
    /// `daa vectors`, `daa train`.
    ArithConfig { arith: ArithFlags }
);
config_args!(
    /// The arithmetic and the PE's pipelining: `daa area`.
    PeConfig { arith: ArithFlags, pe: PeFlags }
);
config_args!(
    /// The arithmetic and the array: `daa verify`, `daa energy`, `daa fpga`, `daa report`.
    ArrayConfig { arith: ArithFlags, array: ArrayFlags, pe: PeFlags }
);
config_args!(
    /// The array alone (`daa perf` counts every policy, whatever the format): `daa perf`.
    GridConfig { array: ArrayFlags, pe: PeFlags }
);

/// What the columns of `daa gemm`'s random-mode table mean (in its `--help`).
const GEMM_COLUMNS: &str = "Without --a/--b, one row per policy on the same seeded random GEMM:
  rel_err_F    ||C - exact||_F / ||exact||_F: the whole result's relative error against the
               exact (f64) product of the F_in operands
  max_err_rel  max |C - exact| / max |exact| over all elements
  high_s0      share of PE steps in which stream 0 got the full multiplier (daa, static)
  high_s1      share of PE steps in which stream 1 got it (daa only; '-' where no controller)
  zero_prod    share of products that were zero (after flushing subnormals)
  q_changed    share of low-path operands that the reduction to lo_bits changed
  seconds      wall time of that policy's golden GEMM
--stats FILE writes the same as JSON.";

/// `daa gemm` arguments.
#[derive(Args, Debug)]
pub struct GemmArgs {
    #[command(flatten)]
    /// Configuration.
    pub cfg: ArithConfig,
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
    /// Random mode (no --a/--b): shape M,K,N of the seeded random GEMM, M*K*N at most 2^30 (docs/limits.md).
    #[arg(long, default_value = "256,256,256", value_name = "M,K,N", conflicts_with = "a")]
    pub shape: String,
    /// Random mode: seed of the operand generator.
    #[arg(long, default_value_t = 1, conflicts_with = "a")]
    pub seed: u64,
    /// Random mode: share of zeros in A, like post-ReLU activations, 0 <= p < 1.
    #[arg(long, default_value_t = 0.5, conflicts_with = "a")]
    pub sparsity: f64,
}

/// `daa vectors` arguments.
#[derive(Args, Debug)]
pub struct VectorArgs {
    #[command(flatten)]
    /// Configuration.
    pub cfg: ArithConfig,
    /// Number of vectors, 1 ..= 4194304.
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    /// Seed of the vector generator; same seed, same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file (one vector per line, loadable with $readmemh).
    #[arg(long)]
    pub out: PathBuf,
}

/// `daa tb-vectors` arguments.
#[derive(Args, Debug)]
pub struct TbVectorArgs {
    #[command(flatten)]
    /// Configuration: the package's `<name>.toml`.
    pub cfg: ConfigArgs,
    /// A (M x K) as .npy: uint16/uint32 F_in codes, or float32 (rounded to F_in with RNE).
    #[arg(long)]
    pub a: PathBuf,
    /// B (K x N) as .npy, same dtypes as A.
    #[arg(long)]
    pub b: PathBuf,
    /// Directory for `in.hex` (one beat per line) and `expect.hex` (one result row per line).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `daa bench` arguments.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// M = N = K, 1 ..= 1024.
    #[arg(long, default_value_t = 512)]
    pub size: u64,
    /// Repetitions of each golden GEMM, 1 ..= 100 (sgemm gets ten times as many); the best time is kept.
    #[arg(long, default_value_t = 5)]
    pub reps: u64,
    /// Threads for the golden GEMM and the sgemms, 1 ..= 1024 (default: all cores).
    #[arg(long)]
    pub threads: Option<u64>,
    /// Also write the measurements as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Instead of one square GEMM, every GEMM of one training step of this workload (resnet18, lenet5, vgg-small, resnet-mini, or a layer-table TOML file): sgemm and each policy's golden GEMM, per GEMM and summed
    #[arg(long, conflicts_with = "size")]
    pub workload: Option<String>,
    /// Mini-batch of `--workload` (default: the workload's).
    #[arg(long, requires = "workload")]
    pub batch: Option<usize>,
    /// Format of the golden GEMMs of `--workload` (default fp32): fp32, tf32, bf16, fp16, or eXmY.
    #[arg(long, requires = "workload")]
    pub format: Option<String>,
}

/// `daa generate` arguments.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    #[command(flatten)]
    /// Configuration.
    pub cfg: ConfigArgs,
    /// Only the PE and its units, into their own directory `<name>_pe/` (no grid, testbench or package files).
    #[arg(long)]
    pub pe_only: bool,
    /// Parent directory of the package directory `<name>/`.
    #[arg(long, default_value = "rtl_out")]
    pub out: PathBuf,
    /// Replace the package directory even if it holds files this tool did not write (not in
    /// its manifest.json, or changed since): they are deleted. Without it such a directory,
    /// or a file at its place, is left alone and the run fails.
    #[arg(long)]
    pub force: bool,
}

/// `daa verify` arguments.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    /// Configuration.
    pub cfg: ArrayConfig,
    /// Check only the units and the PE (without it: those checks, then the grid).
    #[arg(long)]
    pub pe: bool,
    /// Random GEMMs through the grid (random shapes, valid gaps and output back-pressure), 1 ..= 1000000.
    #[arg(long, default_value_t = 1000)]
    pub gemms: u64,
    /// Random vectors for the units and PE cycles, at most 2^32 (formats of <= 16 bits also get every code through unpack and reduce).
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
    pub cfg: ArithConfig,
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
    /// Steps of linear learning-rate warmup: step s (from 0) uses the cosine rate times
    /// min(1, (s + 1) / N); 0 turns it off. Default: 500 for vgg-small (no batch norm), 0 otherwise.
    #[arg(long, value_name = "N")]
    pub warmup_steps: Option<usize>,
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
    /// Run native, single, full, daa and static on the same seed, or only the runs named
    /// (e.g. `--compare single,daa,static`); one table and one plot.
    #[arg(long, conflicts_with = "sweep_lo_bits", num_args = 0.., value_delimiter = ',', value_name = "RUN,...")]
    pub compare: Option<Vec<String>>,
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
    /// end), bit for bit the run that was interrupted; a run without one starts afresh, or
    /// is done if its directory holds its finished summary.json.
    #[arg(long)]
    pub resume: bool,
    /// Stop each run after this many of its epochs, leaving its checkpoint for `--resume`.
    #[arg(long, value_name = "N")]
    pub stop_after: Option<usize>,
}

/// Runs one parsed command line, writing human-readable output to `out`.
pub fn run(cli: Cli, out: &mut (dyn Write + Send)) -> Result<()> {
    // A bad `DAA_GEMM_ISA` is an input error before any GEMM runs, not a silent fallback.
    crate::golden::simd::check_env()?;
    match cli.command {
        Command::Config(c) => {
            write!(out, "{}", c.resolve()?.to_toml())?;
        }
        Command::Gemm(g) => run_gemm(g, out)?,
        Command::Vectors(v) => {
            let cfg = v.cfg.resolve()?;
            let count = limits::positive("count", v.count, limits::MAX_VECTORS)?;
            check_output_file("out", &v.out)?;
            let vs = generate(&cfg, count as usize, v.seed);
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
        Command::TbVectors(t) => run_tb_vectors(t, out)?,
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
            check_output_dir("out", &r.out)?;
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
            let written = crate::cost::report::write(&r.out, &cfg, &rep)?;
            for (name, p) in &rep.policies {
                writeln!(
                    out,
                    "{name}: throughput {:.3}x, area {:.3}x, energy {:.3}x of single",
                    p.throughput_ratio, p.area_ratio, p.energy_ratio
                )?;
            }
            writeln!(out, "wrote {}/{}", r.out.display(), written.join(", "))?;
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
            let size = limits::positive("size", b.size, limits::MAX_BENCH_SIZE)?;
            let reps = limits::positive("reps", b.reps, 100)?;
            let threads = match b.threads {
                Some(t) => limits::positive("threads", t, limits::MAX_THREADS)?,
                None => std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
            };
            if let Some(path) = &b.json {
                check_output_file("json", path)?;
            }
            if let Some(workload) = &b.workload {
                let (w, batch) = WorkloadArgs { workload: workload.clone(), batch: b.batch }.load()?;
                let format = Settings { format: b.format.clone(), ..Default::default() }.resolve()?.format;
                let gemms: Vec<crate::golden::bench::StepGemm> = w
                    .training_gemms(batch)
                    .iter()
                    .map(|g| crate::golden::bench::StepGemm {
                        name: format!("{} {}", g.layer, g.pass.short()),
                        m: g.m,
                        k: g.k,
                        n: g.n,
                    })
                    .collect();
                let bar = crate::train::run::progress_bar(std::io::IsTerminal::is_terminal(&std::io::stderr()));
                let r = crate::golden::bench::run_step(
                    &w.name,
                    batch,
                    &gemms,
                    format,
                    reps as usize,
                    threads as usize,
                    &bar,
                )?;
                bar.finish_and_clear();
                write!(out, "{}", crate::golden::bench::step_table(&r))?;
                if let Some(path) = b.json {
                    write_string_atomic(&path, &serde_json::to_string_pretty(&r)?)?;
                }
                return Ok(());
            }
            let r = crate::golden::bench::run(size as usize, reps as usize, threads as usize)?;
            write!(out, "{}", crate::golden::bench::table(&r))?;
            if let Some(path) = b.json {
                write_string_atomic(&path, &serde_json::to_string_pretty(&r)?)?;
            }
        }
    }
    Ok(())
}

/// Checks that `path` (the value of `--<field>`) can be an output directory: not an
/// existing file, and no file on the way to it.
fn check_output_dir(field: &str, path: &Path) -> Result<(), InputError> {
    match path.ancestors().find(|a| !a.as_os_str().is_empty() && a.exists()) {
        Some(a) if !a.is_dir() => Err(InputError::field(
            field,
            &path.display().to_string(),
            &format!("a directory path ({} is a file)", a.display()),
        )),
        _ => Ok(()),
    }
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
    if let Some(sp) = &g.stats {
        check_output_file("stats", sp)?;
    }
    if let (Some(pa), Some(pb), Some(pc)) = (&g.a, &g.b, &g.out) {
        check_output_file("out", pc)?;
        if let Some(sp) = &g.stats {
            check_distinct(("out", pc), ("stats", sp))?;
        }
        let a = read_codes(pa, "A", cfg.format)?;
        let b = read_codes(pb, "B", cfg.format)?;
        check_shapes(a.rows, a.cols, b.rows, b.cols)?;
        limits::gemm("a, b", a.rows, a.cols, b.cols, limits::MAX_GEMM_MACS)?;
        let p = PeParams::from(&cfg);
        let (c, stats) = gemm(&p, &GemmInput { m: a.rows, k: a.cols, n: b.cols, a: &a.codes, b: &b.codes });
        // C and its statistics are written together or not at all.
        let mut set = OutputSet::new();
        set.add(pc, |w| write_f32_to(w, a.rows, b.cols, &c))?;
        if let Some(sp) = &g.stats {
            set.add_bytes(sp, serde_json::to_string_pretty(&stats)?.as_bytes())?;
        }
        set.commit()?;
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
    limits::gemm("shape", m, k, n, limits::MAX_RANDOM_GEMM_MACS)?;
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

fn run_tb_vectors(t: TbVectorArgs, out: &mut dyn Write) -> Result<()> {
    let cfg = t.cfg.resolve()?;
    let a = read_codes(&t.a, "A", cfg.format)?;
    let b = read_codes(&t.b, "B", cfg.format)?;
    check_shapes(a.rows, a.cols, b.rows, b.cols)?;
    // The operands padded to whole tiles are what the files hold and the golden model runs on.
    let (tr, c) = (cfg.tile_rows() as usize, cfg.cols as usize);
    let (mp, np) = (a.rows.div_ceil(tr).max(1) * tr, b.cols.div_ceil(c).max(1) * c);
    limits::gemm("a, b (padded to whole tiles)", mp, a.cols.max(1), np, limits::MAX_GEMM_MACS)?;
    let g = crate::grid::verify::Gemm { a, b };
    let v = crate::grid::package::tb_vectors(&cfg, &g);
    let (in_path, expect_path) = (t.out.join("in.hex"), t.out.join("expect.hex"));
    // Both files or neither.
    let mut set = OutputSet::new();
    set.add_bytes(&in_path, v.in_hex.as_bytes())?;
    set.add_bytes(&expect_path, v.expect_hex.as_bytes())?;
    set.commit()?;
    let name = &cfg.name;
    let mut params = vec![("BEATS", v.beats as i64), ("ROWS", v.rows as i64), ("CYCLES", v.cycles as i64)];
    if cfg.policy.is_dual() {
        params.push(("HIGH1", v.high1 as i64));
    }
    let icarus: String = params.iter().map(|(p, x)| format!(" -P{name}_tb.{p}={x}")).collect();
    let verilator: String = params.iter().map(|(p, x)| format!(" -G{p}={x}")).collect();
    let plus = format!("+in={} +expect={}", in_path.display(), expect_path.display());
    writeln!(
        out,
        "wrote {} beats ({} tiles) to {} and {} result rows to {}\n\
         From the package directory, Icarus Verilog:\n  \
         mkdir -p build && iverilog -g2005{icarus} -o build/tb.vvp -s {name}_tb -c {name}.f {name}_tb.v && vvp -n build/tb.vvp {plus}\n\
         Verilator 5:\n  \
         verilator --binary -Wno-fatal{verilator} --top-module {name}_tb --Mdir build/obj_dir -f {name}.f {name}_tb.v && build/obj_dir/V{name}_tb {plus}",
        v.beats,
        v.tiles,
        in_path.display(),
        v.rows,
        expect_path.display(),
    )?;
    Ok(())
}

fn run_generate(g: GenerateArgs, out: &mut dyn Write) -> Result<()> {
    let cfg = g.cfg.resolve()?;
    check_output_dir("out", &g.out)?;
    let (dir, files, what) = if g.pe_only {
        let top = format!("{}_pe", cfg.name);
        let mut files: Vec<(String, String)> =
            crate::rtl::emit::pe_files(&cfg)?.into_iter().map(|f| (f.file_name(), f.text)).collect();
        files.sort();
        // The record of what this run wrote: what the next run may replace.
        let manifest = serde_json::json!({
            "tool": "daa-gen",
            "version": env!("CARGO_PKG_VERSION"),
            "name": cfg.name,
            "top": top,
            "files": crate::files::manifest_files(&files),
        });
        files.push((crate::files::MANIFEST.into(), serde_json::to_string_pretty(&manifest)? + "\n"));
        (g.out.join(&top), files, format!("the PE (top {top})"))
    } else {
        (g.out.join(&cfg.name), crate::grid::package::package(&cfg)?, format!("the array (top {})", cfg.name))
    };
    crate::files::write_package(&dir, &files, g.force)?;
    writeln!(out, "wrote {} files for {what} to {}", files.len(), dir.display())?;
    Ok(())
}

fn run_verify(v: VerifyArgs, out: &mut dyn Write) -> Result<()> {
    let cfg = v.cfg.resolve()?;
    limits::positive("gemms", v.gemms, limits::MAX_VERIFY_GEMMS)?;
    if v.vectors > limits::MAX_VERIFY_VECTORS {
        let allowed = format!("0 ..= {}", limits::MAX_VERIFY_VECTORS);
        return Err(InputError::field("vectors", &v.vectors.to_string(), &allowed).into());
    }
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
        bad += r.failures();
    }
    if bad > 0 {
        anyhow::bail!("{bad} mismatches between the Verilog and the golden model or the cycle model");
    }
    Ok(())
}

fn run_train(t: TrainArgs, out: &mut (dyn Write + Send)) -> Result<()> {
    use crate::train::optim::Sgd;
    use crate::train::run::{
        default_loss_scaling, epoch_line, plan, progress_bar, train_checkpointed, write_comparison, write_run,
        Checkpointing, Prior, TrainSpec,
    };
    let native = t.cfg.arith.policy.as_deref() == Some("native");
    let mut cfg_args = t.cfg.clone();
    if native {
        cfg_args.arith.policy = Some("single".into());
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
    // vgg-small has no batch norm: at full rate from the first step, some seeds' ReLUs all die
    // within 100 steps and the net stays at chance (seed 2 at 60,000 images; docs/training.md).
    let warmup_steps = t.warmup_steps.unwrap_or(if t.model == "vgg-small" { 500 } else { 0 });
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
        sgd: Sgd { lr, momentum: t.momentum, weight_decay: t.weight_decay, warmup_steps },
        train_subset,
        test_subset,
        seed: t.seed,
        loss_scaling,
        stats: t.stats,
    };
    let compare = t.compare.as_deref().map(crate::train::run::compare_runs).transpose()?;
    let (runs, stem) = plan(&base, compare.as_deref(), &t.sweep_lo_bits)?;
    let data = crate::train::data::load(t.data.as_deref())?;
    let what = stem.map_or_else(|| base.policy_name(), str::to_string);
    let dir = t.out.clone().unwrap_or_else(|| {
        PathBuf::from("train_out").join(format!("{}-{}-{what}-seed{}", t.model, base.cfg.format.name(), t.seed))
    });
    check_output_dir("out", &dir)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(t.threads.unwrap_or(0)).build()?;
    let bar = progress_bar(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // Lines go through the bar (hidden while they print), so it never draws over them; with
    // no terminal the bar is hidden and they are plain lines, one per epoch.
    let say = |out: &mut (dyn Write + Send), line: String| bar.suspend(|| writeln!(out, "{line}"));
    if let Some(n) = t.stop_after {
        positive("stop-after", n, 100_000)?;
    }
    let mut done = Vec::new();
    let mut stopped = false;
    for (label, spec) in &runs {
        let run_dir = if stem.is_some() { dir.join(label) } else { dir.clone() };
        let ck = Checkpointing { dir: Some(run_dir.clone()), resume: t.resume, stop_after: t.stop_after };
        let prior = Prior::read(&ck)?;
        if let Some(n) = prior.epochs_done() {
            say(out, format!("{label}: resuming after epoch {n} of {} from {}", spec.epochs, run_dir.display()))?;
        }
        let Some(s) = pool.install(|| {
            train_checkpointed(spec, &data, &bar, &ck, prior, &mut |e| {
                let line = epoch_line(label, spec.epochs, e);
                let _ = bar.suspend(|| writeln!(out, "{line}").and_then(|_| out.flush()));
            })
        })?
        else {
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
        say(
            out,
            format!(
                "{label}: {} {} test accuracy {:.2} % after {} epoch(s), {:.1} s ({:.0} % in GEMMs) -> {}",
                s.run.model,
                s.run.format,
                100.0 * s.test_accuracy,
                s.run.epochs,
                s.seconds,
                100.0 * s.gemm_share,
                run_dir.display()
            ),
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
