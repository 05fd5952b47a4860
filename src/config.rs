//! One configuration: TOML file plus command-line overrides, validated in one place.

use crate::error::InputError;
use crate::format::Format;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// Which stream gets the full-precision multiplier (docs/arithmetic.md section 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Value-based controller: the larger exponent-sum key gets the full multiplier.
    Daa,
    /// Stream 0 always gets the full multiplier.
    Static,
    /// Two full multipliers.
    Full,
    /// One full multiplier, one stream: the conventional PE.
    Single,
}

impl Policy {
    /// Every policy, in report order.
    pub const ALL: [Policy; 4] = [Policy::Daa, Policy::Static, Policy::Full, Policy::Single];
    /// Allowed values as shown in errors and help.
    pub const ALLOWED: &'static str = "daa, static, full, single";

    /// The lowercase name used in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Daa => "daa",
            Policy::Static => "static",
            Policy::Full => "full",
            Policy::Single => "single",
        }
    }

    /// Parses a policy name.
    pub fn parse(text: &str) -> Result<Policy, InputError> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name() == text.trim().to_ascii_lowercase())
            .ok_or_else(|| InputError::field("policy", text, Policy::ALLOWED))
    }

    /// True for the policies that take two operand streams per cycle.
    pub fn is_dual(self) -> bool {
        self != Policy::Single
    }

    /// True when the second stream goes through the low-precision multiplier.
    pub fn reduces(self) -> bool {
        matches!(self, Policy::Daa | Policy::Static)
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Rounding of the low-path operands to `lo_bits` fraction bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Round to nearest, ties to even.
    NearestEven,
    /// Truncate.
    TowardZero,
}

impl Rounding {
    /// Allowed values as shown in errors and help.
    pub const ALLOWED: &'static str = "nearest-even, toward-zero";

    /// The name used in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Rounding::NearestEven => "nearest-even",
            Rounding::TowardZero => "toward-zero",
        }
    }

    /// Parses a rounding name.
    pub fn parse(text: &str) -> Result<Rounding, InputError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "nearest-even" => Ok(Rounding::NearestEven),
            "toward-zero" => Ok(Rounding::TowardZero),
            _ => Err(InputError::field("lo_rounding", text, Rounding::ALLOWED)),
        }
    }
}

/// Deepest `pipeline` setting: registers after the products, after the product adder's
/// alignment, after its normalisation, after unpack and reduction, and after the
/// controller (`docs/pe.md`).
pub const MAX_PIPELINE: u32 = 5;

/// Largest `interleave`: output elements a PE accumulates round-robin (C-slow).
pub const MAX_INTERLEAVE: u32 = 8;

/// Register stages of the accumulation adder the loop can hold: after its alignment, after
/// its normalisation, after its operand ordering, and the accumulator itself (`docs/pe.md`).
pub const MAX_ACC_STAGES: u32 = 4;

/// Stages of the accumulation adder with `interleave` N: the loop spans N cycles, so up to N
/// of its registers may sit in the adder; beyond [`MAX_ACC_STAGES`] the rest are plain
/// delay registers closing the ring.
pub fn acc_stages(interleave: u32) -> u32 {
    interleave.clamp(1, MAX_ACC_STAGES)
}

/// Cycles from a beat at the PE's inputs to its effect on the accumulator: the products,
/// the product adder (dual-stream only) and the accumulation adder's stages are registered,
/// plus the registers `pipeline` adds (`single` has no product adder, so only the first
/// one).
pub fn pe_latency(policy: Policy, pipeline: u32, interleave: u32) -> u32 {
    let products = if policy.is_dual() { 2 } else { 1 };
    products + pipeline.min(useful_pipeline(policy)) + acc_stages(interleave)
}

/// Deepest `pipeline` value that still changes `policy`'s PE: `single` has no product
/// adder, so only the registers after its product and after unpacking exist; deeper
/// values equal the deepest.
pub fn useful_pipeline(policy: Policy) -> u32 {
    if policy.is_dual() {
        MAX_PIPELINE
    } else {
        2
    }
}

/// Largest array side accepted (the grid is verified up to 64 x 64).
pub const MAX_SIDE: u32 = 256;
/// Default array side.
pub const DEFAULT_SIDE: u32 = 8;

/// Settings as they appear in a TOML file or on the command line; every field optional.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `fp32`, `tf32`, `bf16`, `fp16` or `eXmY`.
    pub format: Option<String>,
    /// `daa`, `static`, `full` or `single`.
    pub policy: Option<String>,
    /// Fraction bits kept on the low path.
    pub lo_bits: Option<u32>,
    /// `nearest-even` or `toward-zero`.
    pub lo_rounding: Option<String>,
    /// Array rows R.
    pub rows: Option<u32>,
    /// Array columns C.
    pub cols: Option<u32>,
    /// Extra pipeline registers in the PE (0 ..= MAX_PIPELINE).
    pub pipeline: Option<u32>,
    /// Output elements per PE, accumulated round-robin (1 ..= MAX_INTERLEAVE).
    pub interleave: Option<u32>,
    /// Name of the generated IP (a Verilog identifier).
    pub name: Option<String>,
    /// Constants of the energy model (`[energy]` table; `daa energy`, `daa report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy: Option<EnergyConstants>,
}

impl Settings {
    /// Reads a TOML file; unknown keys and wrong types are errors naming the key.
    pub fn from_toml_file(path: &Path) -> Result<Settings, InputError> {
        let text = crate::limits::read_text_bounded(path, "config file")?;
        Settings::from_toml_str(&text).map_err(|e| InputError::msg(format!("config file {}: {}", path.display(), e.0)))
    }

    /// Parses TOML text.
    pub fn from_toml_str(text: &str) -> Result<Settings, InputError> {
        toml::from_str(text).map_err(|e| {
            InputError::msg(format!(
                "{}(allowed keys: format, policy, lo_bits, lo_rounding, rows, cols, pipeline, interleave, name, and an [energy] table)",
                e.to_string().trim_end().to_owned() + "\n"
            ))
        })
    }

    /// Layers `over` on top of `self`: every field set in `over` wins.
    pub fn overridden_by(self, over: &Settings) -> Settings {
        Settings {
            format: over.format.clone().or(self.format),
            policy: over.policy.clone().or(self.policy),
            lo_bits: over.lo_bits.or(self.lo_bits),
            lo_rounding: over.lo_rounding.clone().or(self.lo_rounding),
            rows: over.rows.or(self.rows),
            cols: over.cols.or(self.cols),
            pipeline: over.pipeline.or(self.pipeline),
            interleave: over.interleave.or(self.interleave),
            name: over.name.clone().or(self.name),
            energy: over.energy.or(self.energy),
        }
    }

    /// Validates and fills defaults.
    pub fn resolve(&self) -> Result<Config, InputError> {
        let format = match &self.format {
            Some(f) => Format::parse(f)?,
            None => Format::FP32,
        };
        let policy = match &self.policy {
            Some(p) => Policy::parse(p)?,
            None => Policy::Daa,
        };
        let lo_bits = self.lo_bits.unwrap_or_else(|| format.default_lo_bits());
        if lo_bits >= format.frac_bits() {
            return Err(InputError::field(
                "lo_bits",
                &lo_bits.to_string(),
                &format!("0 <= lo_bits < {} (the fraction width of {format})", format.frac_bits()),
            ));
        }
        let lo_rounding = match &self.lo_rounding {
            Some(r) => Rounding::parse(r)?,
            None => Rounding::NearestEven,
        };
        let side = |field: &str, v: Option<u32>| match v {
            None => Ok(DEFAULT_SIDE),
            Some(n) if (1..=MAX_SIDE).contains(&n) => Ok(n),
            Some(n) => Err(InputError::field(field, &n.to_string(), &format!("1 ..= {MAX_SIDE}"))),
        };
        let rows = side("rows", self.rows)?;
        let cols = side("cols", self.cols)?;
        let pipeline = match self.pipeline {
            None => 0,
            Some(p) if p <= MAX_PIPELINE => p,
            Some(p) => return Err(InputError::field("pipeline", &p.to_string(), &format!("0 ..= {MAX_PIPELINE}"))),
        };
        let interleave = match self.interleave {
            None => 1,
            Some(n) if (1..=MAX_INTERLEAVE).contains(&n) => n,
            Some(n) => return Err(InputError::field("interleave", &n.to_string(), &format!("1 ..= {MAX_INTERLEAVE}"))),
        };
        if let Some(k) = &self.energy {
            k.validate()?;
        }
        let mut cfg =
            Config { format, policy, lo_bits, lo_rounding, rows, cols, pipeline, interleave, name: String::new() };
        cfg.name = match &self.name {
            Some(n) if !is_identifier(n) => {
                return Err(InputError::field(
                    "name",
                    n,
                    "a Verilog identifier: a letter or '_' then letters, digits or '_', at most 64 characters",
                ))
            }
            Some(n) if is_keyword(n) => {
                return Err(InputError::field(
                    "name",
                    n,
                    "an identifier that is not a Verilog (IEEE 1364) or SystemVerilog (IEEE 1800) keyword",
                ))
            }
            Some(n) => n.clone(),
            None => full_default_name(&cfg),
        };
        Ok(cfg)
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 64
}

/// The reserved keywords of Verilog, IEEE 1364-2005 Annex B.
pub const VERILOG_KEYWORDS: [&str; 124] = [
    "always",
    "and",
    "assign",
    "automatic",
    "begin",
    "buf",
    "bufif0",
    "bufif1",
    "case",
    "casex",
    "casez",
    "cell",
    "cmos",
    "config",
    "deassign",
    "default",
    "defparam",
    "design",
    "disable",
    "edge",
    "else",
    "end",
    "endcase",
    "endconfig",
    "endfunction",
    "endgenerate",
    "endmodule",
    "endprimitive",
    "endspecify",
    "endtable",
    "endtask",
    "event",
    "for",
    "force",
    "forever",
    "fork",
    "function",
    "generate",
    "genvar",
    "highz0",
    "highz1",
    "if",
    "ifnone",
    "incdir",
    "include",
    "initial",
    "inout",
    "input",
    "instance",
    "integer",
    "join",
    "large",
    "liblist",
    "library",
    "localparam",
    "macromodule",
    "medium",
    "module",
    "nand",
    "negedge",
    "nmos",
    "nor",
    "noshowcancelled",
    "not",
    "notif0",
    "notif1",
    "or",
    "output",
    "parameter",
    "pmos",
    "posedge",
    "primitive",
    "pull0",
    "pull1",
    "pulldown",
    "pullup",
    "pulsestyle_onevent",
    "pulsestyle_ondetect",
    "rcmos",
    "real",
    "realtime",
    "reg",
    "release",
    "repeat",
    "rnmos",
    "rpmos",
    "rtran",
    "rtranif0",
    "rtranif1",
    "scalared",
    "showcancelled",
    "signed",
    "small",
    "specify",
    "specparam",
    "strong0",
    "strong1",
    "supply0",
    "supply1",
    "table",
    "task",
    "time",
    "tran",
    "tranif0",
    "tranif1",
    "tri",
    "tri0",
    "tri1",
    "triand",
    "trior",
    "trireg",
    "unsigned",
    "use",
    "uwire",
    "vectored",
    "wait",
    "wand",
    "weak0",
    "weak1",
    "while",
    "wire",
    "wor",
    "xnor",
    "xor",
];

/// The keywords IEEE 1800-2017 (SystemVerilog) Annex B adds to [`VERILOG_KEYWORDS`]: Verilator and
/// most synthesis tools read Verilog files with them reserved.
pub const SYSTEMVERILOG_KEYWORDS: [&str; 124] = [
    "accept_on",
    "alias",
    "always_comb",
    "always_ff",
    "always_latch",
    "assert",
    "assume",
    "before",
    "bind",
    "bins",
    "binsof",
    "bit",
    "break",
    "byte",
    "chandle",
    "checker",
    "class",
    "clocking",
    "const",
    "constraint",
    "context",
    "continue",
    "cover",
    "covergroup",
    "coverpoint",
    "cross",
    "dist",
    "do",
    "endchecker",
    "endclass",
    "endclocking",
    "endgroup",
    "endinterface",
    "endpackage",
    "endprogram",
    "endproperty",
    "endsequence",
    "enum",
    "eventually",
    "expect",
    "export",
    "extends",
    "extern",
    "final",
    "first_match",
    "foreach",
    "forkjoin",
    "global",
    "iff",
    "ignore_bins",
    "illegal_bins",
    "implements",
    "implies",
    "import",
    "inside",
    "int",
    "interconnect",
    "interface",
    "intersect",
    "join_any",
    "join_none",
    "let",
    "local",
    "logic",
    "longint",
    "matches",
    "modport",
    "nettype",
    "new",
    "nexttime",
    "null",
    "package",
    "packed",
    "priority",
    "program",
    "property",
    "protected",
    "pure",
    "rand",
    "randc",
    "randcase",
    "randsequence",
    "ref",
    "reject_on",
    "restrict",
    "return",
    "s_always",
    "s_eventually",
    "s_nexttime",
    "s_until",
    "s_until_with",
    "sequence",
    "shortint",
    "shortreal",
    "soft",
    "solve",
    "static",
    "string",
    "strong",
    "struct",
    "super",
    "sync_accept_on",
    "sync_reject_on",
    "tagged",
    "this",
    "throughout",
    "timeprecision",
    "timeunit",
    "type",
    "typedef",
    "union",
    "unique",
    "unique0",
    "until",
    "until_with",
    "untyped",
    "var",
    "virtual",
    "void",
    "wait_order",
    "weak",
    "wildcard",
    "with",
    "within",
];

/// Whether `s` is a reserved word of Verilog or SystemVerilog (case matters: `Module` is not).
pub fn is_keyword(s: &str) -> bool {
    VERILOG_KEYWORDS.contains(&s) || SYSTEMVERILOG_KEYWORDS.contains(&s)
}

/// `daa_<format>_<policy>_<R>x<C>`: the array's base name, and the whole default name when
/// every other setting has its default value.
pub fn default_name(format: Format, policy: Policy, rows: u32, cols: u32) -> String {
    format!("daa_{}_{}_{}x{}", format.name(), policy.name(), rows, cols)
}

/// The name used when none is given: [`default_name`] plus a suffix for every other
/// setting that changes the RTL and is not at its default: `_l<L>` (lo_bits), `_tz`
/// (toward-zero), `_p<P>` (pipeline), `_i<N>` (interleave). Two configurations with
/// different RTL never share a default name.
pub fn full_default_name(c: &Config) -> String {
    let mut name = default_name(c.format, c.policy, c.rows, c.cols);
    if c.lo_bits != c.format.default_lo_bits() {
        name += &format!("_l{}", c.lo_bits);
    }
    if c.lo_rounding == Rounding::TowardZero {
        name += "_tz";
    }
    if c.pipeline != 0 {
        name += &format!("_p{}", c.pipeline);
    }
    if c.interleave != 1 {
        name += &format!("_i{}", c.interleave);
    }
    name
}

/// A validated configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    /// Input format F_in.
    pub format: Format,
    /// Controller policy.
    pub policy: Policy,
    /// Fraction bits kept on the low path (L).
    pub lo_bits: u32,
    /// Rounding of the low path.
    pub lo_rounding: Rounding,
    /// Array rows.
    pub rows: u32,
    /// Array columns.
    pub cols: u32,
    /// Extra pipeline registers in the PE (`docs/pe.md`); see [`Config::latency`].
    pub pipeline: u32,
    /// Output elements per PE, accumulated round-robin (`docs/pe.md`): a tile is
    /// `interleave * rows` x `cols`.
    pub interleave: u32,
    /// Name of the generated IP.
    pub name: String,
}

impl Default for Config {
    fn default() -> Self {
        Settings::default().resolve().expect("defaults are valid")
    }
}

impl Config {
    /// Every field made explicit, for echoing as TOML.
    pub fn to_settings(&self) -> Settings {
        Settings {
            format: Some(self.format.name()),
            policy: Some(self.policy.name().into()),
            lo_bits: Some(self.lo_bits),
            lo_rounding: Some(self.lo_rounding.name().into()),
            rows: Some(self.rows),
            cols: Some(self.cols),
            pipeline: Some(self.pipeline),
            interleave: Some(self.interleave),
            name: Some(self.name.clone()),
            energy: None,
        }
    }

    /// PE latency in cycles ([`pe_latency`]).
    pub fn latency(&self) -> u32 {
        pe_latency(self.policy, self.pipeline, self.interleave)
    }

    /// Output rows of one tile: `interleave` row groups of `rows`.
    pub fn tile_rows(&self) -> u32 {
        self.interleave * self.rows
    }

    /// The effective configuration as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.to_settings()).expect("settings serialize")
    }

    /// The same configuration with another policy (and the default name for it, if the name was defaulted).
    pub fn with_policy(&self, policy: Policy) -> Config {
        let mut c = Config { policy, ..self.clone() };
        if self.name == full_default_name(self) {
            c.name = full_default_name(&c);
        }
        c
    }
}

/// Every constant of the energy model, in one place; printed with each result and
/// overridable in the configuration file's `[energy]` table.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EnergyConstants {
    /// Energy of one transistor's share of a cell output toggle, femtojoules. Only scales
    /// absolute numbers; every ratio is independent of it. 0.4 fJ: a NanGate-45-like
    /// 2-input NAND (4 transistors) switching about 1.6 fJ.
    pub fj_per_transistor_toggle: f64,
    /// Share of static (leakage) energy in the total energy of the `single` PE running the
    /// stimulus. Sets the leakage per transistor-cycle that every policy then pays.
    pub leakage_share: f64,
    /// Multiply-accumulates per captured GEMM in the stimulus.
    pub macs_per_gemm: usize,
    /// Longest stretch of one output element's reduction taken into the stimulus.
    pub max_run: usize,
    /// Training steps before the operands are captured (weights away from their init).
    pub warmup_steps: usize,
}

impl Default for EnergyConstants {
    fn default() -> Self {
        EnergyConstants {
            fj_per_transistor_toggle: 0.4,
            leakage_share: 0.25,
            macs_per_gemm: 4096,
            max_run: 256,
            warmup_steps: 20,
        }
    }
}

impl EnergyConstants {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), InputError> {
        if !(self.fj_per_transistor_toggle.is_finite() && self.fj_per_transistor_toggle > 0.0) {
            return Err(InputError::field(
                "energy.fj_per_transistor_toggle",
                &self.fj_per_transistor_toggle.to_string(),
                "a positive number",
            ));
        }
        if !(0.0..1.0).contains(&self.leakage_share) {
            return Err(InputError::field("energy.leakage_share", &self.leakage_share.to_string(), "0 <= share < 1"));
        }
        if !(64..=1 << 24).contains(&self.macs_per_gemm) {
            return Err(InputError::field("energy.macs_per_gemm", &self.macs_per_gemm.to_string(), "64 ..= 16777216"));
        }
        if !(2..=1 << 20).contains(&self.max_run) {
            return Err(InputError::field("energy.max_run", &self.max_run.to_string(), "2 ..= 1048576"));
        }
        if self.warmup_steps > 10_000 {
            return Err(InputError::field("energy.warmup_steps", &self.warmup_steps.to_string(), "0 ..= 10000"));
        }
        Ok(())
    }
}
