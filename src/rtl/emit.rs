//! Verilog emission: rust-hdl's output split into one module per file, named after the
//! configuration, with a header naming the tool and the configuration.
//!
//! rust-hdl names a child module by its path (`pe$fadd_acc`) and emits one copy per
//! instance. Here every child is renamed to its unit (`<name>_fadd`), and copies of one
//! unit are checked to be identical before they collapse into one file.

use super::pe::{PeDual, PeSingle};
use super::{Controller, Fadd, Fmul, Reduce, UnitParams, Unpack};
use crate::config::{Config, Policy};
use anyhow::{bail, Result};
use askama::Template;
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

/// One emitted Verilog file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtlFile {
    /// Module name; the file is `<module>.v`.
    pub module: String,
    /// Full file text.
    pub text: String,
}

impl RtlFile {
    /// The file name.
    pub fn file_name(&self) -> String {
        format!("{}.v", self.module)
    }
}

/// The Verilog of a rust-hdl block whose top module is called `top`.
pub fn raw_verilog<B: Block>(uut: &mut B, top: &str) -> Result<String> {
    uut.connect_all();
    if let Err(e) = check_all(uut) {
        bail!("rust-hdl rejected {top}: {e:?}");
    }
    let mut defines = ModuleDefines::default();
    uut.accept(top, &mut defines);
    Ok(defines.defines())
}

/// Splits rust-hdl output into (module name, module text) in output order.
fn split_modules(text: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("\nmodule ").map(|i| i + 1).or_else(|| rest.starts_with("module ").then_some(0)) {
        let body = &rest[start..];
        let name_end = body.find('(').unwrap_or(body.len());
        let name = body["module ".len()..name_end].trim().to_string();
        let end_tag = format!("endmodule // {name}");
        let Some(end) = body.find(&end_tag) else { bail!("rust-hdl output: no end for module {name}") };
        out.push((name, body[..end + "endmodule".len()].to_string()));
        rest = &body[end + end_tag.len()..];
    }
    Ok(out)
}

/// The unit a rust-hdl child path stands for, or `None` for a register.
fn unit_of(child: &str) -> Option<&'static str> {
    let field = child.rsplit('$').next().unwrap_or(child);
    Some(match field {
        "ctrl" => "controller",
        f if f.starts_with("unpack") => "unpack",
        f if f.starts_with("reduce") => "reduce",
        "fmul_hi" => "fmul",
        "fmul_lo" => "fmul_lo",
        f if f.starts_with("fadd") => "fadd",
        _ => return None,
    })
}

/// Renames every module of rust-hdl output to `<prefix>_<unit>` and merges identical copies.
fn name_modules(raw: &str, top: &str, prefix: &str) -> Result<Vec<(String, String)>> {
    let modules = split_modules(raw)?;
    let mut rename: BTreeMap<String, String> = BTreeMap::new();
    for (name, text) in &modules {
        if name == top {
            continue;
        }
        let unit = match unit_of(name) {
            Some(u) => u.to_string(),
            // rust-hdl's DFF: one module per register width.
            None if text.contains("input wire  [31:0] d;") => "reg32".into(),
            None if text.contains("input wire  d;") => "reg1".into(),
            None => bail!("rust-hdl output: unexpected module {name}"),
        };
        rename.insert(name.clone(), format!("{prefix}_{unit}"));
    }
    let retitle = |name: &str, text: &str, new: &str| {
        let mut t = text.replacen(&format!("module {name}("), &format!("module {new}("), 1);
        // Instances in the parent: `pe$fadd_acc fadd_acc(` -> `<prefix>_fadd fadd_acc(`.
        for (old, newer) in &rename {
            t = t.replace(&format!("\n{old} "), &format!("\n{newer} "));
            t = t.replace(&format!(" {old} "), &format!(" {newer} "));
        }
        t
    };
    let mut merged: BTreeMap<String, String> = BTreeMap::new();
    let mut order = Vec::new();
    for (name, text) in &modules {
        let new = rename.get(name).cloned().unwrap_or_else(|| name.clone());
        let body = retitle(name, text, &new);
        match merged.get(&new) {
            Some(prev) if *prev != body => bail!("two instances of {new} differ; cannot share one module"),
            Some(_) => {}
            None => {
                order.push(new.clone());
                merged.insert(new, body);
            }
        }
    }
    // A low multiplier identical to the full one (policy `full`) is the same module.
    let fmul = format!("{prefix}_fmul");
    let lo = format!("{prefix}_fmul_lo");
    if let (Some(a), Some(b)) = (merged.get(&fmul), merged.get(&lo)) {
        if a.replacen(&format!("module {fmul}("), "", 1) == b.replacen(&format!("module {lo}("), "", 1) {
            merged.remove(&lo);
            order.retain(|m| *m != lo);
            for text in merged.values_mut() {
                *text = text
                    .replace(&format!("\n{lo} "), &format!("\n{fmul} "))
                    .replace(&format!(" {lo} "), &format!(" {fmul} "));
            }
        }
    }
    Ok(order.into_iter().map(|m| (m.clone(), merged.remove(&m).expect("present"))).collect())
}

/// What a module of the PE is, for its header.
fn purpose(module: &str, prefix: &str) -> &'static str {
    match module.strip_prefix(prefix).unwrap_or(module) {
        "_controller" => "controller: keys, comparison, stream swap (contract section 4)",
        "_unpack" => "unpack: F_in code -> binary32 encoding, DAZ, canonical NaN",
        "_reduce" => "reduce: low-path q(x), significand rounded to L fraction bits",
        "_fmul" => "fmul: binary32 product of the full path, RNE, FTZ, canonical NaN",
        "_fmul_lo" => "fmul_lo: binary32 product of the low path (L+1-bit significands)",
        "_fadd" => "fadd: binary32 adder, RNE, DAZ/FTZ, canonical NaN",
        "_reg32" => "reg32: 32-bit register (reset is applied by the parent)",
        "_reg1" => "reg1: 1-bit register (reset is applied by the parent)",
        "_pe_core" => "pe_core: the PE datapath at 32-bit operand width",
        "_pe" => "pe: the PE with F_in-wide operand ports",
        _ => "",
    }
}

/// The header every emitted file starts with.
pub fn header(cfg: &Config, module: &str) -> String {
    format!(
        "// {module}.v -- {}\n// Generated by daa-gen {} (rust-hdl 0.46); do not edit, regenerate.\n\
         // Configuration: format={} (e{}m{}) policy={} lo_bits={} lo_rounding={}\n",
        purpose(module, &cfg.name),
        env!("CARGO_PKG_VERSION"),
        cfg.format.name(),
        cfg.format.exp_bits(),
        cfg.format.frac_bits(),
        cfg.policy.name(),
        cfg.lo_bits,
        cfg.lo_rounding.name(),
    )
}

fn finish(cfg: &Config, module: String, body: &str) -> RtlFile {
    let body: Vec<&str> = body.trim().lines().map(str::trim_end).collect();
    let text = format!("{}\n{}\n", header(cfg, &module), body.join("\n"));
    RtlFile { module, text }
}

/// The PE wrapper: F_in-wide ports around the 32-bit core.
#[derive(Template)]
#[template(path = "pe.v", escape = "none")]
struct PeWrapper<'a> {
    name: &'a str,
    width: u32,
    pad: u32,
    dual: bool,
    latency: u32,
}

/// Every file of the PE for `cfg`: the wrapper `<name>_pe`, the core and its units.
pub fn pe_files(cfg: &Config) -> Result<Vec<RtlFile>> {
    let p = UnitParams::from(cfg);
    let core = format!("{}_pe_core", cfg.name);
    let raw = if cfg.policy == Policy::Single {
        raw_verilog(&mut PeSingle::new(&p), &core)?
    } else {
        raw_verilog(&mut PeDual::new(&p), &core)?
    };
    let mut files: Vec<RtlFile> =
        name_modules(&raw, &core, &cfg.name)?.into_iter().map(|(m, t)| finish(cfg, m, &t)).collect();
    let width = cfg.format.width();
    let wrapper = PeWrapper {
        name: &cfg.name,
        width,
        pad: 32 - width,
        dual: cfg.policy.is_dual(),
        latency: super::pe::latency(cfg.policy),
    };
    files.push(finish(cfg, format!("{}_pe", cfg.name), &wrapper.render()?));
    files.sort_by(|a, b| a.module.cmp(&b.module));
    Ok(files)
}

/// One unit on its own (for unit-level lint, synthesis and simulation), named `<name>_<unit>`.
pub fn unit_file(cfg: &Config, unit: &str) -> Result<RtlFile> {
    let p = UnitParams::from(cfg);
    let module = format!("{}_{unit}", cfg.name);
    let raw = match unit {
        "unpack" => raw_verilog(&mut Unpack::new(&p), &module)?,
        "reduce" => raw_verilog(&mut Reduce::new(&p, !cfg.policy.reduces()), &module)?,
        "controller" => raw_verilog(&mut Controller::new(&p, cfg.policy == Policy::Daa), &module)?,
        "fmul" => raw_verilog(&mut Fmul::new(cfg.format.frac_bits() + 1), &module)?,
        "fmul_lo" => raw_verilog(&mut Fmul::new(cfg.lo_bits + 1), &module)?,
        "fadd" => raw_verilog(&mut Fadd::default(), &module)?,
        _ => bail!("unknown unit {unit}"),
    };
    let (_, body) = split_modules(&raw)?.into_iter().next().expect("one module");
    Ok(finish(cfg, module, &body))
}
