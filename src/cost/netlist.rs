//! Gate-level netlist of the PE for toggle counting: Yosys synthesizes the PE to generic
//! gates (hierarchy kept, so every cell knows its unit), this module flattens the JSON
//! netlist and writes it back as Verilog whose every gate and flip-flop output is also a
//! bit of an output bus, grouped by (unit, cell type) so a harness can count toggles per group.

use crate::rtl::emit::RtlFile;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// Transistors per generic Yosys cell: the `stat -tech cmos` table of Yosys's `kernel/cost.h`
/// (the flip-flop's 16 is from newer Yosys releases; 0.23 gives flip-flops no estimate).
pub const CMOS_TRANSISTORS: [(&str, u32); 17] = [
    ("$_BUF_", 1),
    ("$_NOT_", 2),
    ("$_AND_", 6),
    ("$_NAND_", 4),
    ("$_OR_", 6),
    ("$_NOR_", 4),
    ("$_ANDNOT_", 6),
    ("$_ORNOT_", 6),
    ("$_XOR_", 12),
    ("$_XNOR_", 12),
    ("$_AOI3_", 6),
    ("$_OAI3_", 6),
    ("$_AOI4_", 8),
    ("$_OAI4_", 8),
    ("$_MUX_", 12),
    ("$_NMUX_", 10),
    ("$_DFF_P_", 16),
];

/// Transistors of a cell type.
pub fn transistors(kind: &str) -> Option<u32> {
    CMOS_TRANSISTORS.iter().find(|c| c.0 == kind).map(|c| c.1)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Sig {
    Const(bool),
    Net(u32),
}

#[derive(Clone, Debug)]
struct Gate {
    kind: String,
    unit: String,
    inputs: BTreeMap<String, Sig>,
    output: u32,
}

/// One group of the toggle buses: cells of one type in one unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Unit (module type without the configuration prefix; `registers`, `glue`).
    pub unit: String,
    /// Yosys cell type.
    pub kind: String,
    /// Cells in the group.
    pub cells: usize,
    /// Whether the group is on the flip-flop bus (`q`) instead of the gate bus (`g`).
    pub flop: bool,
    /// First 32-bit word of the group on its bus.
    pub word: usize,
    /// 32-bit words of the group.
    pub words: usize,
}

/// The toggle-counting netlist of a PE.
#[derive(Clone, Debug)]
pub struct ToggleNetlist {
    /// Verilog module `<top>_gates`.
    pub file: RtlFile,
    /// Groups, gate bus first, then flip-flop bus.
    pub groups: Vec<Group>,
    /// 32-bit words of the gate bus and of the flip-flop bus.
    pub words: (usize, usize),
    /// Top-level ports (name, is_input, width) in order.
    pub ports: Vec<(String, bool, usize)>,
    /// The same netlist for the built-in simulator.
    pub sim: GateSim,
}

/// Synthesizes `top` from `files` (hierarchy kept, enables and resets turned into plain
/// flip-flops plus gates) and returns Yosys's JSON netlist.
pub fn synth_json(files: &[RtlFile], top: &str) -> Result<Value> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("netlist.json");
    let commands = format!("synth -top {top}; dffunmap; opt_clean; check -assert; write_json {}", json.display());
    crate::sim::yosys::run(files, top, dir.path(), &commands)?;
    let text = std::fs::read_to_string(&json).context("yosys wrote no JSON netlist")?;
    Ok(serde_json::from_str(&text)?)
}

struct Flattener<'a> {
    modules: &'a serde_json::Map<String, Value>,
    prefix: String,
    next: u32,
    gates: Vec<Gate>,
    tied: HashMap<u32, bool>,
    alias: HashMap<u32, Sig>,
}

fn bits(v: &Value) -> Result<Vec<Value>> {
    v.as_array().cloned().ok_or_else(|| anyhow!("netlist: expected a bit list"))
}

impl Flattener<'_> {
    fn unit_of(&self, module: &str) -> String {
        let short = module.strip_prefix(&self.prefix).unwrap_or(module);
        match short {
            "pe" | "pe_core" => "glue".into(),
            s => s.to_string(),
        }
    }

    /// Instantiates `module` with its port bits bound by `bind` (local bit id -> global signal).
    fn instantiate(&mut self, module: &str, mut bind: HashMap<u64, Sig>, unit: &str) -> Result<HashMap<u64, Sig>> {
        let m = self.modules.get(module).ok_or_else(|| anyhow!("netlist: no module {module}"))?;
        let cells = m["cells"].as_object().ok_or_else(|| anyhow!("netlist: {module} has no cells"))?;
        for (name, cell) in cells {
            let kind = cell["type"].as_str().unwrap_or_default().to_string();
            let conns = cell["connections"].as_object().ok_or_else(|| anyhow!("netlist: cell {name} unconnected"))?;
            let mut sig = |v: &Value, fl: &mut Flattener| -> Result<Sig> {
                Ok(match v {
                    Value::String(s) if s == "1" => Sig::Const(true),
                    Value::String(_) => Sig::Const(false),
                    Value::Number(n) => {
                        let id = n.as_u64().ok_or_else(|| anyhow!("netlist: bad bit id"))?;
                        *bind.entry(id).or_insert_with(|| {
                            fl.next += 1;
                            Sig::Net(fl.next)
                        })
                    }
                    _ => bail!("netlist: bad bit {v}"),
                })
            };
            if self.modules.contains_key(&kind) {
                let sub = &self.modules[&kind];
                let mut sub_bind: HashMap<u64, Sig> = HashMap::new();
                let ports = sub["ports"].as_object().ok_or_else(|| anyhow!("netlist: {kind} has no ports"))?;
                // Inputs first: an output bit that is an input bit (a feed-through) then finds it bound.
                let mut order: Vec<(&String, &Value)> = ports.iter().collect();
                order.sort_by_key(|(_, pv)| pv["direction"].as_str() != Some("input"));
                for (port, pv) in order {
                    let local = bits(&pv["bits"])?;
                    let outer = bits(conns.get(port).ok_or_else(|| anyhow!("netlist: {name}.{port} unconnected"))?)?;
                    for (l, o) in local.iter().zip(&outer) {
                        let s = sig(o, self)?;
                        match (l, s) {
                            (Value::Number(n), _) => {
                                let id = n.as_u64().ok_or_else(|| anyhow!("netlist: bad bit id"))?;
                                match (sub_bind.get(&id).copied(), s) {
                                    // The submodule passes an already bound bit out: the parent's net is that signal.
                                    (Some(bound), Sig::Net(net)) if bound != s => {
                                        self.alias.insert(net, bound);
                                    }
                                    (Some(_), _) => {}
                                    (None, _) => {
                                        sub_bind.insert(id, s);
                                    }
                                }
                            }
                            // A constant output bit of the submodule drives the parent's net.
                            (Value::String(c), Sig::Net(net)) => {
                                self.tied.insert(net, c == "1");
                            }
                            _ => {}
                        }
                    }
                }
                let u = if unit == "glue" || unit.is_empty() { self.unit_of(&kind) } else { unit.to_string() };
                self.instantiate(&kind, sub_bind, &u)?;
                continue;
            }
            if transistors(&kind).is_none() {
                bail!("netlist: cell type {kind} ({name} in {module}) is not a generic Yosys gate");
            }
            let out_port = if kind == "$_DFF_P_" { "Q" } else { "Y" };
            let mut inputs = BTreeMap::new();
            let mut output = None;
            for (port, v) in conns {
                let b = bits(v)?;
                let s = sig(&b[0], self)?;
                if port == out_port {
                    output = Some(match s {
                        Sig::Net(n) => n,
                        Sig::Const(_) => bail!("netlist: {name} drives a constant"),
                    });
                } else {
                    inputs.insert(port.clone(), s);
                }
            }
            let output = output.ok_or_else(|| anyhow!("netlist: {name} has no output"))?;
            // Pipeline registers live in the PE core, as plain clocked blocks: label them by kind.
            let unit = if kind == "$_DFF_P_" {
                "registers".to_string()
            } else if unit.is_empty() {
                "glue".to_string()
            } else {
                unit.to_string()
            };
            self.gates.push(Gate { kind, unit, inputs, output });
        }
        Ok(bind)
    }
}

fn expr(kind: &str, i: &BTreeMap<String, String>) -> Result<String> {
    let p = |n: &str| i.get(n).cloned().ok_or_else(|| anyhow!("netlist: {kind} without input {n}"));
    Ok(match kind {
        "$_BUF_" => p("A")?,
        "$_NOT_" => format!("~{}", p("A")?),
        "$_AND_" => format!("{} & {}", p("A")?, p("B")?),
        "$_NAND_" => format!("~({} & {})", p("A")?, p("B")?),
        "$_OR_" => format!("{} | {}", p("A")?, p("B")?),
        "$_NOR_" => format!("~({} | {})", p("A")?, p("B")?),
        "$_XOR_" => format!("{} ^ {}", p("A")?, p("B")?),
        "$_XNOR_" => format!("~({} ^ {})", p("A")?, p("B")?),
        "$_ANDNOT_" => format!("{} & ~{}", p("A")?, p("B")?),
        "$_ORNOT_" => format!("{} | ~{}", p("A")?, p("B")?),
        "$_MUX_" => format!("{} ? {} : {}", p("S")?, p("B")?, p("A")?),
        "$_NMUX_" => format!("~({} ? {} : {})", p("S")?, p("B")?, p("A")?),
        "$_AOI3_" => format!("~(({} & {}) | {})", p("A")?, p("B")?, p("C")?),
        "$_OAI3_" => format!("~(({} | {}) & {})", p("A")?, p("B")?, p("C")?),
        "$_AOI4_" => format!("~(({} & {}) | ({} & {}))", p("A")?, p("B")?, p("C")?, p("D")?),
        "$_OAI4_" => format!("~(({} | {}) & ({} | {}))", p("A")?, p("B")?, p("C")?, p("D")?),
        other => bail!("netlist: no expression for {other}"),
    })
}

/// Flattens the JSON netlist of `top` and writes the toggle-counting Verilog `<top>_gates`.
pub fn toggle_netlist(json: &Value, top: &str, prefix: &str) -> Result<ToggleNetlist> {
    let modules = json["modules"].as_object().ok_or_else(|| anyhow!("netlist: no modules"))?;
    let tm = modules.get(top).ok_or_else(|| anyhow!("netlist: no top module {top}"))?;
    let mut fl = Flattener {
        modules,
        prefix: format!("{prefix}_"),
        next: 0,
        gates: Vec::new(),
        tied: HashMap::new(),
        alias: HashMap::new(),
    };
    // Top ports: every bit becomes a global net named after the port.
    let mut bind = HashMap::new();
    let mut ports = Vec::new();
    let mut port_bit: HashMap<u32, String> = HashMap::new();
    let mut outputs: Vec<(String, Vec<Value>)> = Vec::new();
    for (name, p) in tm["ports"].as_object().ok_or_else(|| anyhow!("netlist: top has no ports"))? {
        let b = bits(&p["bits"])?;
        let input = p["direction"].as_str() == Some("input");
        ports.push((name.clone(), input, b.len()));
        if input {
            for (i, v) in b.iter().enumerate() {
                fl.next += 1;
                bind.insert(v.as_u64().ok_or_else(|| anyhow!("netlist: constant input bit"))?, Sig::Net(fl.next));
                port_bit.insert(fl.next, if b.len() == 1 { name.clone() } else { format!("{name}[{i}]") });
            }
        } else {
            outputs.push((name.clone(), b));
        }
    }
    // Output port bits are bound while instantiating; the returned map resolves them.
    let bind = fl.instantiate(top, bind, "")?;
    let mut gates = std::mem::take(&mut fl.gates);
    gates.sort_by(|a, b| (a.kind == "$_DFF_P_", &a.unit, &a.kind).cmp(&(b.kind == "$_DFF_P_", &b.unit, &b.kind)));
    let mut groups: Vec<Group> = Vec::new();
    let mut pos: HashMap<u32, String> = HashMap::new();
    let (mut gw, mut qw) = (0usize, 0usize);
    let mut slot = Vec::with_capacity(gates.len());
    for g in &gates {
        let flop = g.kind == "$_DFF_P_";
        let new = groups.last().is_none_or(|l| l.unit != g.unit || l.kind != g.kind);
        if new {
            let word = if flop { qw } else { gw };
            groups.push(Group { unit: g.unit.clone(), kind: g.kind.clone(), cells: 0, flop, word, words: 0 });
        }
        let grp = groups.last_mut().expect("a group");
        let bit = grp.word * 32 + grp.cells;
        grp.cells += 1;
        grp.words = grp.cells.div_ceil(32);
        if flop {
            qw = grp.word + grp.words;
        } else {
            gw = grp.word + grp.words;
        }
        pos.insert(g.output, if flop { format!("q[{bit}]") } else { format!("gi_{bit}") });
        slot.push(bit);
    }
    // At least three words per bus so Verilator exposes both as word arrays.
    let (gw, qw) = (gw.max(3), qw.max(3));
    let resolve = |mut s: Sig| -> Sig {
        while let Sig::Net(n) = s {
            match fl.alias.get(&n) {
                Some(&next) => s = next,
                None => break,
            }
        }
        s
    };
    let name_of = |s: &Sig| -> String {
        match &resolve(*s) {
            Sig::Const(b) => format!("1'b{}", u8::from(*b)),
            Sig::Net(n) => match (pos.get(n).or_else(|| port_bit.get(n)), fl.tied.get(n)) {
                (Some(v), _) => v.clone(),
                (None, Some(&b)) => format!("1'b{}", u8::from(b)),
                (None, None) => "1'b0".into(),
            },
        }
    };
    let mut v = String::new();
    let _ = writeln!(
        v,
        "// Gate-level netlist of {top} for toggle counting, written by daa-gen from Yosys's generic-gate synthesis."
    );
    let _ = writeln!(
        v,
        "// Every gate output is a bit of `g`, every flip-flop output a bit of `q`, grouped by unit and cell type."
    );
    let _ = writeln!(v, "/* verilator lint_off UNUSEDSIGNAL */");
    let decl: Vec<String> = ports.iter().map(|p| p.0.clone()).chain(["g".into(), "q".into()]).collect();
    let _ = writeln!(v, "module {top}_gates({});", decl.join(", "));
    for (name, input, width) in &ports {
        let range = if *width > 1 { format!("[{}:0] ", width - 1) } else { String::new() };
        let _ = writeln!(v, "    {} {range}{name};", if *input { "input wire" } else { "output wire" });
    }
    let _ = writeln!(v, "    output wire [{}:0] g;", gw * 32 - 1);
    // One wire per gate (gates feed each other; one vector would be a combinational loop to Verilator).
    for i in 0..gw * 32 {
        let _ = writeln!(v, "    wire gi_{i};");
    }
    let bus: Vec<String> = (0..gw * 32).rev().map(|i| format!("gi_{i}")).collect();
    let _ = writeln!(v, "    assign g = {{{}}};", bus.join(", "));
    let _ = writeln!(v, "    output reg [{}:0] q;", qw * 32 - 1);
    let mut used_g = vec![false; gw * 32];
    let mut used_q = vec![false; qw * 32];
    let clock = port_bit.iter().find(|(_, n)| n.as_str() == "clock").map(|(&id, _)| id);
    let mut flops = String::new();
    for (g, &bit) in gates.iter().zip(&slot) {
        let ins: BTreeMap<String, String> = g.inputs.iter().map(|(k, s)| (k.clone(), name_of(s))).collect();
        if g.kind == "$_DFF_P_" {
            if g.inputs.get("C") != clock.map(Sig::Net).as_ref() {
                bail!("netlist: a flip-flop is not clocked by the top's clock");
            }
            used_q[bit] = true;
            let _ = writeln!(flops, "        q[{bit}] <= {};", ins["D"]);
        } else {
            used_g[bit] = true;
            let _ = writeln!(v, "    assign gi_{bit} = {};", expr(&g.kind, &ins)?);
        }
    }
    for (i, u) in used_g.iter().enumerate() {
        if !u {
            let _ = writeln!(v, "    assign gi_{i} = 1'b0;");
        }
    }
    let _ = writeln!(v, "    initial q = {}'b0;", qw * 32);
    let _ = writeln!(v, "    always @(posedge clock) begin");
    v += &flops;
    for (i, u) in used_q.iter().enumerate() {
        if !u {
            let _ = writeln!(v, "        q[{i}] <= 1'b0;");
        }
    }
    let _ = writeln!(v, "    end");
    for (name, b) in &outputs {
        for (i, bitv) in b.iter().enumerate() {
            let s = match bitv {
                Value::Number(n) => bind.get(&n.as_u64().unwrap_or(u64::MAX)).copied(),
                Value::String(s) => Some(Sig::Const(s == "1")),
                _ => None,
            };
            let target = if b.len() == 1 { name.clone() } else { format!("{name}[{i}]") };
            let src = s.map(|s| name_of(&s)).ok_or_else(|| anyhow!("netlist: output {target} is undriven"))?;
            let _ = writeln!(v, "    assign {target} = {src};");
        }
    }
    let _ = writeln!(v, "endmodule");
    let _ = writeln!(v, "/* verilator lint_on UNUSEDSIGNAL */");
    // The simulator's view: nets renumbered after aliases, 0 and 1 as two constant nets.
    let mut group_of = Vec::with_capacity(gates.len());
    let mut gi = 0usize;
    for g in &gates {
        while !(groups[gi].unit == g.unit && groups[gi].kind == g.kind) {
            gi += 1;
        }
        group_of.push(gi);
    }
    let net = |s: &Sig| -> u32 {
        match resolve(*s) {
            Sig::Const(b) => u32::from(b),
            Sig::Net(n) => match fl.tied.get(&n) {
                Some(&b) if !pos.contains_key(&n) && !port_bit.contains_key(&n) => u32::from(b),
                _ => n + 1,
            },
        }
    };
    let sim_gates: Vec<SimGate> = gates
        .iter()
        .zip(&group_of)
        .map(|(g, &group)| SimGate {
            kind: kind_code(&g.kind),
            ins: ["A", "B", "C", "D", "S"].map(|p| g.inputs.get(p).map_or(0, &net)),
            d: g.inputs.get("D").map_or(0, &net),
            out: g.output + 1,
            group,
        })
        .collect();
    let mut inputs: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (&id, name) in &port_bit {
        let base = name.split('[').next().unwrap_or(name).to_string();
        let idx: usize = name.split('[').nth(1).and_then(|x| x.trim_end_matches(']').parse().ok()).unwrap_or(0);
        let v = inputs.entry(base).or_default();
        if v.len() <= idx {
            v.resize(idx + 1, 0);
        }
        v[idx] = id + 1;
    }
    let mut outs: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (name, b) in &outputs {
        let v = b
            .iter()
            .map(|bitv| match bitv {
                Value::Number(n) => bind.get(&n.as_u64().unwrap_or(u64::MAX)).map_or(0, &net),
                Value::String(s) => u32::from(s == "1"),
                _ => 0,
            })
            .collect();
        outs.insert(name.clone(), v);
    }
    let sim = GateSim::new(sim_gates, fl.next + 2, inputs, outs, groups.len())?;
    Ok(ToggleNetlist { file: RtlFile { module: format!("{top}_gates"), text: v }, groups, words: (gw, qw), ports, sim })
}

fn kind_code(kind: &str) -> u8 {
    CMOS_TRANSISTORS.iter().position(|c| c.0 == kind).expect("checked when flattening") as u8
}

/// One cell for the simulator: inputs A, B, C, D, S as net numbers (0 and 1 are constants).
#[derive(Clone, Debug)]
struct SimGate {
    kind: u8,
    ins: [u32; 5],
    d: u32,
    out: u32,
    group: usize,
}

/// A zero-delay, cycle-based simulator of the flattened netlist: what the Verilator
/// harness does, built in (tests/cost.rs checks both give the same toggle counts).
#[derive(Clone, Debug)]
pub struct GateSim {
    comb: Vec<SimGate>,
    flops: Vec<SimGate>,
    vals: Vec<u8>,
    inputs: BTreeMap<String, Vec<u32>>,
    outputs: BTreeMap<String, Vec<u32>>,
    groups: usize,
}

impl GateSim {
    fn new(
        gates: Vec<SimGate>,
        nets: u32,
        inputs: BTreeMap<String, Vec<u32>>,
        outputs: BTreeMap<String, Vec<u32>>,
        groups: usize,
    ) -> Result<GateSim> {
        let dff = kind_code("$_DFF_P_");
        let (flops, comb): (Vec<SimGate>, Vec<SimGate>) = gates.into_iter().partition(|g| g.kind == dff);
        // Topological order of the combinational cells (Kahn): a cell after every cell driving its inputs.
        let mut driver = vec![usize::MAX; nets as usize + 1];
        for (i, g) in comb.iter().enumerate() {
            driver[g.out as usize] = i;
        }
        let deps = |g: &SimGate| -> Vec<usize> {
            g.ins.iter().filter(|&&n| n > 1).map(|&n| driver[n as usize]).filter(|&d| d != usize::MAX).collect()
        };
        let mut indeg = vec![0usize; comb.len()];
        let mut users = vec![Vec::new(); comb.len()];
        for (i, g) in comb.iter().enumerate() {
            let mut d = deps(g);
            d.sort_unstable();
            d.dedup();
            indeg[i] = d.len();
            for j in d {
                users[j].push(i);
            }
        }
        let mut ready: Vec<usize> = (0..comb.len()).filter(|&i| indeg[i] == 0).collect();
        let mut order = Vec::with_capacity(comb.len());
        while let Some(i) = ready.pop() {
            order.push(i);
            for &u in &users[i] {
                indeg[u] -= 1;
                if indeg[u] == 0 {
                    ready.push(u);
                }
            }
        }
        if order.len() != comb.len() {
            bail!("netlist: combinational loop ({} of {} cells ordered)", order.len(), comb.len());
        }
        let comb = order.into_iter().map(|i| comb[i].clone()).collect();
        let mut vals = vec![0u8; nets as usize + 1];
        vals[1] = 1;
        Ok(GateSim { comb, flops, vals, inputs, outputs, groups })
    }

    /// Sets an input port to `value` (bit i of the port from bit i of the value).
    pub fn set(&mut self, port: &str, value: u64) {
        if let Some(bits) = self.inputs.get(port) {
            for (i, &n) in bits.iter().enumerate() {
                if n > 1 {
                    self.vals[n as usize] = ((value >> i) & 1) as u8;
                }
            }
        }
    }

    /// Reads an output port.
    pub fn get(&self, port: &str) -> u64 {
        self.outputs
            .get(port)
            .map_or(0, |bits| bits.iter().enumerate().map(|(i, &n)| (self.vals[n as usize] as u64) << i).sum())
    }

    fn settle(&mut self) {
        let v = &mut self.vals;
        for g in &self.comb {
            let [a, b, c, d, s] = g.ins.map(|n| v[n as usize]);
            let y = match g.kind {
                0 => a,
                1 => a ^ 1,
                2 => a & b,
                3 => (a & b) ^ 1,
                4 => a | b,
                5 => (a | b) ^ 1,
                6 => a & (b ^ 1),
                7 => a | (b ^ 1),
                8 => a ^ b,
                9 => (a ^ b) ^ 1,
                10 => ((a & b) | c) ^ 1,
                11 => ((a | b) & c) ^ 1,
                12 => ((a & b) | (c & d)) ^ 1,
                13 => ((a | b) & (c | d)) ^ 1,
                14 => {
                    if s == 1 {
                        b
                    } else {
                        a
                    }
                }
                15 => (if s == 1 { b } else { a }) ^ 1,
                _ => unreachable!("flip-flops are not combinational"),
            };
            v[g.out as usize] = y;
        }
    }

    /// One clock cycle with the inputs as set: settle, rising edge, settle; adds each
    /// group's output toggles since the previous cycle to `toggles` when `count`.
    pub fn cycle(&mut self, toggles: &mut [u64], count: bool) {
        let before: Vec<u8> = self
            .comb
            .iter()
            .map(|g| self.vals[g.out as usize])
            .chain(self.flops.iter().map(|g| self.vals[g.out as usize]))
            .collect();
        self.settle();
        let next: Vec<u8> = self.flops.iter().map(|g| self.vals[g.d as usize]).collect();
        for (g, q) in self.flops.iter().zip(next) {
            self.vals[g.out as usize] = q;
        }
        self.settle();
        if count {
            for (g, b) in self.comb.iter().chain(&self.flops).zip(before) {
                toggles[g.group] += u64::from(self.vals[g.out as usize] != b);
            }
        }
    }

    /// Number of toggle groups.
    pub fn groups(&self) -> usize {
        self.groups
    }
}
