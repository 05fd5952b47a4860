//! Our Verilog back end for rust-hdl descriptions.
//!
//! rust-hdl's own `generate_verilog` writes one `always @(*)` block per module, names a
//! child's ports `child$port`, makes every flip-flop a module of its own with an `initial`
//! block and routes the clock to it through combinational logic, and sizes every literal
//! at 32 or 64 bits. The descriptions (the `#[hdl_gen]` kernels, rust-hdl's AST) are
//! fine; only the printing is not what an RTL engineer would review. This module walks
//! the same blocks with a [`Probe`] and prints them again:
//!
//! - registers ([`Reg`]) become plain `always @(posedge clock)` blocks in the module that
//!   owns them, their `d`/`q` nets named `<reg>_d`/`<reg>_q`;
//! - the kernel is split into independent statement groups: a group that is one
//!   unconditional assignment becomes an `assign`, the rest small `always @(*)` blocks,
//!   each in source order (a statement reading a signal that is assigned again later is
//!   kept in that signal's group, so blocking-assignment semantics are unchanged);
//! - `if` on a 1-bit `Constant` is resolved at emission (a generate-time choice, used
//!   for the `pipeline` setting and the policy variants), and everything that no output
//!   depends on any more (groups, registers, child instances, constants) is dropped;
//! - literals take the width of the operand they meet, casts widen with explicit zeros,
//!   slices print as `x[hi:lo]`, and nested operators are parenthesised (Rust and Verilog
//!   disagree on the precedence of `&` and `==`);
//! - identifiers have no `$`; a child's port net is `<instance>_<port>`, and a child
//!   input driven by a plain signal is connected to that signal directly.
//!
//! Leaves that rust-hdl cannot express (a product wider than 16 x 16) are written as
//! `Verilog::Custom` bodies; their first line may name the module (`// module: <suffix>`).

use anyhow::{anyhow, bail, Context, Result};
use rust_hdl::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Verilog-2005 and SystemVerilog keywords a field name could collide with.
const KEYWORDS: &[&str] = &[
    "always",
    "and",
    "assign",
    "begin",
    "bit",
    "buf",
    "byte",
    "case",
    "cell",
    "config",
    "const",
    "default",
    "design",
    "do",
    "edge",
    "else",
    "end",
    "enum",
    "event",
    "final",
    "for",
    "force",
    "function",
    "generate",
    "genvar",
    "if",
    "initial",
    "inout",
    "input",
    "int",
    "integer",
    "large",
    "logic",
    "medium",
    "module",
    "nand",
    "nor",
    "not",
    "or",
    "output",
    "parameter",
    "priority",
    "real",
    "reg",
    "release",
    "repeat",
    "return",
    "signed",
    "small",
    "strong0",
    "strong1",
    "struct",
    "supply0",
    "supply1",
    "table",
    "task",
    "time",
    "tri",
    "type",
    "union",
    "unique",
    "unsigned",
    "use",
    "void",
    "wait",
    "weak0",
    "weak1",
    "while",
    "wire",
    "wor",
    "xor",
    "xnor",
];

/// The marker [`Reg`] returns from `hdl()`: the parent prints the register itself.
const REG_MARKER: &str = "// daa-gen register";

/// A D flip-flop without reset or initial value; reset, enable and hold are the parent's
/// logic, as in a two-process RTL style. Works with rust-hdl's `dff_setup!`.
#[derive(Clone, Debug, LogicBlock, Default)]
pub struct Reg<T: Synth> {
    /// Next value.
    pub d: Signal<In, T>,
    /// Current value.
    pub q: Signal<Out, T>,
    /// Clock.
    pub clock: Signal<In, Clock>,
}

impl<T: Synth> Logic for Reg<T> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.q.next = self.d.val();
        }
    }
    fn connect(&mut self) {
        self.q.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(REG_MARKER.into())
    }
}

/// Names a module from the field path to one of its instances and a custom leaf's request.
pub type Namer<'a> = dyn Fn(&[String], Option<&str>) -> Result<String> + 'a;

/// A module's ports: (name, width, is input).
type Ports = Vec<(String, usize, bool)>;

/// One module as emitted (without a file header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// Module name.
    pub name: String,
    /// The path of field names from the top to one instance (empty for the top).
    pub path: Vec<String>,
    /// `module ... endmodule`.
    pub text: String,
}

#[derive(Clone, Debug)]
struct AtomInfo {
    name: String,
    kind: AtomKind,
    width: usize,
    value: u128,
}

struct Scope {
    field: String,
    atoms: Vec<AtomInfo>,
    children: Vec<usize>,
    code: Verilog,
}

#[derive(Default)]
struct Collector {
    scopes: Vec<Scope>,
    stack: Vec<usize>,
    error: Option<String>,
}

fn literal_value(l: &VerilogLiteral) -> Result<u128> {
    let text = l.to_string();
    let (_, digits) = text.split_once('\'').ok_or_else(|| anyhow!("literal {text}"))?;
    let (radix, digits) = match digits.split_at(1) {
        ("h", d) => (16, d),
        ("b", d) => (2, d),
        _ => bail!("literal {text}"),
    };
    u128::from_str_radix(digits, radix).with_context(|| format!("literal {text} wider than 128 bits"))
}

impl Probe for Collector {
    fn visit_start_scope(&mut self, name: &str, node: &dyn Block) {
        let id = self.scopes.len();
        self.scopes.push(Scope { field: name.to_string(), atoms: vec![], children: vec![], code: node.hdl() });
        if let Some(&parent) = self.stack.last() {
            self.scopes[parent].children.push(id);
        }
        self.stack.push(id);
    }
    fn visit_start_namespace(&mut self, name: &str, _node: &dyn Block) {
        self.error.get_or_insert(format!("interfaces are not supported by the emitter ({name})"));
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        let value = match literal_value(&signal.verilog()) {
            Ok(v) => v,
            Err(e) => {
                self.error.get_or_insert(format!("{name}: {e}"));
                0
            }
        };
        let id = *self.stack.last().expect("inside a scope");
        self.scopes[id].atoms.push(AtomInfo {
            name: name.to_string(),
            kind: signal.kind(),
            width: signal.bits(),
            value,
        });
    }
    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.stack.pop();
    }
}

// ---------------------------------------------------------------------------------------
// A small IR: what is left of a kernel after loops, macros and generate-time ifs.

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Sig(String),
    Lit(u128),
    Bin(Box<Expr>, Op, Box<Expr>),
    Un(Un, Box<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Slice(Box<Expr>, usize, Box<Expr>),
    Cast(Box<Expr>, usize),
    /// `c ? a : b` (made by the printer from a default and one override).
    Mux(Box<Expr>, Box<Expr>, Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    LAnd,
    LOr,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Un {
    Not,
    Neg,
    All,
    Any,
    Xor,
}

#[derive(Clone, Debug)]
enum Stmt {
    Assign { target: String, slice: Option<(usize, usize)>, value: Expr },
    If { cond: Expr, then: Vec<Stmt>, els: Vec<Stmt> },
    Comment(String),
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::And => "&",
            Op::Or => "|",
            Op::Xor => "^",
            Op::LAnd => "&&",
            Op::LOr => "||",
            Op::Shl => "<<",
            Op::Shr => ">>",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
    fn is_compare(self) -> bool {
        matches!(self, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::LAnd | Op::LOr)
    }
    fn is_shift(self) -> bool {
        matches!(self, Op::Shl | Op::Shr)
    }
}

/// The names, widths and constant values a module's code refers to.
struct Symbols {
    width: HashMap<String, usize>,
    constants: HashMap<String, u128>,
}

impl Symbols {
    fn width_of(&self, e: &Expr) -> Result<Option<usize>> {
        Ok(match e {
            Expr::Sig(s) => Some(*self.width.get(s).ok_or_else(|| anyhow!("unknown signal {s}"))?),
            Expr::Lit(_) => None,
            Expr::Bin(l, op, r) => {
                if op.is_compare() {
                    Some(1)
                } else if op.is_shift() {
                    self.width_of(l)?
                } else {
                    let (a, b) = (self.width_of(l)?, self.width_of(r)?);
                    match (op, a, b) {
                        (Op::Mul, Some(a), Some(b)) => Some(a + b),
                        (_, Some(a), Some(b)) => Some(a.max(b)),
                        (_, a, b) => a.or(b),
                    }
                }
            }
            Expr::Un(Un::Not | Un::Neg, x) => self.width_of(x)?,
            Expr::Un(_, _) => Some(1),
            Expr::Index(..) => Some(1),
            Expr::Slice(_, w, _) => Some(*w),
            Expr::Cast(_, w) => Some(*w),
            Expr::Mux(_, a, b) => self.width_of(a)?.or(self.width_of(b)?),
        })
    }

    /// The value of an expression made of literals and constants only.
    fn eval(&self, e: &Expr) -> Option<u128> {
        let mask = |v: u128, w: Option<usize>| match w {
            Some(w) if w < 128 => v & ((1u128 << w) - 1),
            _ => v,
        };
        Some(match e {
            Expr::Lit(v) => *v,
            Expr::Sig(s) => *self.constants.get(s)?,
            Expr::Bin(l, op, r) => {
                let (a, b) = (self.eval(l)?, self.eval(r)?);
                let w = self.width_of(e).ok()?;
                match op {
                    Op::Add => mask(a.wrapping_add(b), w),
                    Op::Sub => mask(a.wrapping_sub(b), w),
                    Op::Mul => mask(a.wrapping_mul(b), w),
                    Op::And => a & b,
                    Op::Or => a | b,
                    Op::Xor => a ^ b,
                    Op::LAnd => ((a != 0) && (b != 0)) as u128,
                    Op::LOr => ((a != 0) || (b != 0)) as u128,
                    Op::Shl => mask(a.checked_shl(b as u32).unwrap_or(0), w),
                    Op::Shr => a.checked_shr(b as u32).unwrap_or(0),
                    Op::Eq => (a == b) as u128,
                    Op::Ne => (a != b) as u128,
                    Op::Lt => (a < b) as u128,
                    Op::Le => (a <= b) as u128,
                    Op::Gt => (a > b) as u128,
                    Op::Ge => (a >= b) as u128,
                }
            }
            Expr::Un(Un::Not, x) => {
                let w = self.width_of(x).ok()??;
                mask(!self.eval(x)?, Some(w))
            }
            _ => return None,
        })
    }
}

/// rust-hdl's AST -> the IR: loops unrolled, macros flattened, names without `$`.
struct Lower<'a> {
    loops: Vec<(String, u128)>,
    syms: &'a Symbols,
    /// Registers of this module: assignments to their clock inputs are dropped.
    regs: &'a BTreeSet<String>,
}

fn rename(s: &str) -> String {
    s.trim_end_matches("$next").replace('$', "_")
}

impl Lower<'_> {
    fn expr(&self, e: &ast::VerilogExpression) -> Result<Expr> {
        use ast::VerilogExpression as V;
        Ok(match e {
            V::Signal(s) => match self.loops.iter().rev().find(|(n, _)| n == s) {
                Some((_, v)) => Expr::Lit(*v),
                None => Expr::Sig(rename(s)),
            },
            V::Literal(l) => Expr::Lit(literal_value(l)?),
            V::Cast(x, w) => Expr::Cast(Box::new(self.expr(x)?), *w),
            V::Paren(x) => self.expr(x)?,
            V::Binary(l, op, r) => {
                use ast::VerilogOp as O;
                let op = match op {
                    O::Add => Op::Add,
                    O::Sub => Op::Sub,
                    O::Mul => Op::Mul,
                    O::LogicalAnd => Op::LAnd,
                    O::LogicalOr => Op::LOr,
                    O::BitXor => Op::Xor,
                    O::BitAnd => Op::And,
                    O::BitOr => Op::Or,
                    O::Shl => Op::Shl,
                    O::Shr => Op::Shr,
                    O::Eq => Op::Eq,
                    O::Lt => Op::Lt,
                    O::Le => Op::Le,
                    O::Ne => Op::Ne,
                    O::Ge => Op::Ge,
                    O::Gt => Op::Gt,
                };
                let (l, r) = (self.expr(l)?, self.expr(r)?);
                // Index arithmetic on loop variables becomes a literal.
                let e = Expr::Bin(Box::new(l), op, Box::new(r));
                match (&e, self.syms.eval(&e)) {
                    (Expr::Bin(l, _, r), Some(v)) if matches!(**l, Expr::Lit(_)) && matches!(**r, Expr::Lit(_)) => {
                        Expr::Lit(v)
                    }
                    _ => e,
                }
            }
            V::Unary(op, x) => {
                use ast::VerilogOpUnary as U;
                let op = match op {
                    U::Not => Un::Not,
                    U::Neg => Un::Neg,
                    U::All => Un::All,
                    U::Any => Un::Any,
                    U::Xor => Un::Xor,
                };
                Expr::Un(op, Box::new(self.expr(x)?))
            }
            V::Index(x, i) => Expr::Index(Box::new(self.expr(x)?), Box::new(self.expr(i)?)),
            V::Slice(x, w, o) => Expr::Slice(Box::new(self.expr(x)?), *w, Box::new(self.expr(o)?)),
            V::Signed(_) | V::Unsigned(_) => bail!("signed arithmetic is not used by the units"),
            V::IndexReplace(..) => bail!("replace_bit is not supported by the emitter; assign a Local instead"),
        })
    }

    fn block(&mut self, b: &[ast::VerilogStatement], out: &mut Vec<Stmt>) -> Result<()> {
        use ast::VerilogStatement as S;
        for s in b {
            match s {
                S::Assignment(l, r) => {
                    let target = match self.expr(l)? {
                        Expr::Sig(t) => t,
                        other => bail!("assignment to {other:?}"),
                    };
                    if let Some(reg) = target.strip_suffix("_clock") {
                        if self.regs.contains(reg) {
                            continue;
                        }
                    }
                    out.push(Stmt::Assign { target, slice: None, value: self.expr(r)? });
                }
                S::SliceAssignment { base, width, offset, replacement } => {
                    let target = match self.expr(base)? {
                        Expr::Sig(t) => t,
                        other => bail!("slice assignment to {other:?}"),
                    };
                    let lo = self.syms.eval(&self.expr(offset)?).ok_or_else(|| anyhow!("dynamic slice of {target}"))?;
                    out.push(Stmt::Assign {
                        target,
                        slice: Some((lo as usize, *width)),
                        value: self.expr(replacement)?,
                    });
                }
                S::If(c) => self.conditional(c, out)?,
                S::Loop(l) => {
                    for i in l.from.as_usize()..l.to.as_usize() {
                        self.loops.push((l.index.clone(), i as u128));
                        self.block(&l.block, out)?;
                        self.loops.pop();
                    }
                }
                S::Comment(c) => {
                    // rust-hdl keeps the macro's tokens: the text is what stands between the quotes.
                    let text = match (c.find('"'), c.rfind('"')) {
                        (Some(a), Some(b)) if b > a => &c[a + 1..b],
                        (Some(a), _) => &c[a + 1..],
                        _ => c.as_str(),
                    };
                    out.push(Stmt::Comment(text.trim().to_string()))
                }
                S::Macro(m) => self.block(m, out)?,
                S::Link(_) => bail!("links (interfaces) are not supported by the emitter"),
                S::Match(_) => bail!("match is not used by the units; write if/else"),
            }
        }
        Ok(())
    }

    fn conditional(&mut self, c: &ast::VerilogConditional, out: &mut Vec<Stmt>) -> Result<()> {
        let cond = self.expr(&c.test)?;
        let mut then = Vec::new();
        self.block(&c.then, &mut then)?;
        let mut els = Vec::new();
        match &c.otherwise {
            ast::VerilogBlockOrConditional::Block(b) => self.block(b, &mut els)?,
            ast::VerilogBlockOrConditional::Conditional(s) => self.block(std::slice::from_ref(s), &mut els)?,
            ast::VerilogBlockOrConditional::None => {}
        }
        // A test on constants only is a generate-time choice: keep the branch it takes.
        match self.syms.eval(&cond) {
            Some(v) => out.extend(if v != 0 { then } else { els }),
            None => out.push(Stmt::If { cond, then, els }),
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Analysis: statement groups and liveness.

fn reads_of(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Sig(s) => out.push(s.clone()),
        Expr::Lit(_) => {}
        Expr::Bin(l, _, r) | Expr::Index(l, r) | Expr::Slice(l, _, r) => {
            reads_of(l, out);
            reads_of(r, out);
        }
        Expr::Un(_, x) | Expr::Cast(x, _) => reads_of(x, out),
        Expr::Mux(c, a, b) => {
            reads_of(c, out);
            reads_of(a, out);
            reads_of(b, out);
        }
    }
}

fn targets_of(s: &Stmt, out: &mut BTreeSet<String>) {
    match s {
        Stmt::Assign { target, .. } => {
            out.insert(target.clone());
        }
        Stmt::If { then, els, .. } => {
            then.iter().chain(els).for_each(|s| targets_of(s, out));
        }
        Stmt::Comment(_) => {}
    }
}

/// (target, signal read on the way to assigning it) for every assignment in `s`.
fn dependencies(s: &Stmt, guards: &mut Vec<String>, out: &mut Vec<(String, String)>) {
    match s {
        Stmt::Assign { target, value, .. } => {
            let mut r = guards.clone();
            reads_of(value, &mut r);
            out.extend(r.into_iter().map(|x| (target.clone(), x)));
        }
        Stmt::If { cond, then, els } => {
            let n = guards.len();
            reads_of(cond, guards);
            then.iter().chain(els).for_each(|s| dependencies(s, guards, out));
            guards.truncate(n);
        }
        Stmt::Comment(_) => {}
    }
}

/// `s` restricted to the assignments of `keep`; `None` when nothing is left.
fn project(s: &Stmt, keep: &dyn Fn(&str) -> bool) -> Option<Stmt> {
    match s {
        Stmt::Assign { target, .. } => keep(target).then(|| s.clone()),
        Stmt::If { cond, then, els } => {
            let then: Vec<Stmt> = then.iter().filter_map(|s| project(s, keep)).collect();
            let els: Vec<Stmt> = els.iter().filter_map(|s| project(s, keep)).collect();
            (!then.is_empty() || !els.is_empty()).then(|| Stmt::If { cond: cond.clone(), then, els })
        }
        Stmt::Comment(_) => None,
    }
}

struct UnionFind(HashMap<String, String>);

impl UnionFind {
    fn find(&mut self, x: &str) -> String {
        let p = self.0.get(x).cloned().unwrap_or_else(|| x.to_string());
        if p == x {
            return p;
        }
        let r = self.find(&p);
        self.0.insert(x.to_string(), r.clone());
        r
    }
    fn union(&mut self, a: &str, b: &str) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0.insert(ra, rb);
        }
    }
}

/// A group of statements that together drive a set of signals.
struct Group {
    targets: BTreeSet<String>,
    stmts: Vec<Stmt>,
    /// The comments that stood before each statement.
    notes: Vec<Vec<String>>,
    reads: BTreeSet<String>,
    /// Index of the group's first statement that is not a register's hold (`r_d = r_q`).
    pos: usize,
}

fn groups(stmts: &[Stmt], regs: &BTreeSet<String>) -> Result<Vec<Group>> {
    let is_hold = |s: &Stmt| {
        matches!(s, Stmt::Assign { target, slice: None, value: Expr::Sig(q) }
        if target.strip_suffix("_d").is_some_and(|r| regs.contains(r) && *q == format!("{r}_q")))
    };
    // Where each signal is assigned (top-level statement indices).
    let mut assigned: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, s) in stmts.iter().enumerate() {
        let mut t = BTreeSet::new();
        targets_of(s, &mut t);
        for x in t {
            assigned.entry(x).or_default().push(i);
        }
    }
    let mut uf = UnionFind(HashMap::new());
    for (i, s) in stmts.iter().enumerate() {
        let mut deps = Vec::new();
        dependencies(s, &mut Vec::new(), &mut deps);
        for (t, r) in deps {
            if let Some(at) = assigned.get(&r) {
                if at.iter().all(|&j| j > i) {
                    bail!("{t} reads {r} before {r} is assigned");
                }
                // The value read is not final: reader and signal stay in one block.
                if at.iter().any(|&j| j >= i) {
                    uf.union(&t, &r);
                }
            }
        }
    }
    let mut order: Vec<String> = Vec::new();
    let mut by_class: HashMap<String, Group> = HashMap::new();
    let mut pending: Vec<String> = Vec::new();
    for (i, s) in stmts.iter().enumerate() {
        if let Stmt::Comment(c) = s {
            pending.push(c.clone());
            continue;
        }
        let mut t = BTreeSet::new();
        targets_of(s, &mut t);
        let mut classes: Vec<String> = t.iter().map(|x| uf.find(x)).collect();
        classes.dedup();
        let mut seen = BTreeSet::new();
        for class in classes {
            if !seen.insert(class.clone()) {
                continue;
            }
            let members: BTreeSet<String> = t.iter().filter(|x| uf.find(x) == class).cloned().collect();
            let Some(part) = project(s, &|x: &str| members.contains(x)) else { continue };
            let g = by_class.entry(class.clone()).or_insert_with(|| {
                order.push(class.clone());
                Group {
                    targets: BTreeSet::new(),
                    stmts: vec![],
                    notes: vec![],
                    reads: BTreeSet::new(),
                    pos: usize::MAX,
                }
            });
            g.targets.extend(members);
            if g.pos == usize::MAX && !is_hold(&part) {
                g.pos = i;
            }
            g.stmts.push(part);
            g.notes.push(std::mem::take(&mut pending));
        }
    }
    let mut out = Vec::new();
    for class in order {
        let mut g = by_class.remove(&class).expect("group");
        // A default overwritten at once by an unconditional assignment is dead.
        let mut k = 0;
        while k + 1 < g.stmts.len() {
            let dead = match (&g.stmts[k], &g.stmts[k + 1]) {
                (Stmt::Assign { target: a, slice: None, .. }, Stmt::Assign { target: b, slice: None, value }) => {
                    let mut r = Vec::new();
                    reads_of(value, &mut r);
                    a == b && !r.contains(a)
                }
                _ => false,
            };
            if dead {
                g.stmts.remove(k);
                let notes = g.notes.remove(k);
                g.notes[k].splice(0..0, notes);
            } else {
                k += 1;
            }
        }
        let mut deps = Vec::new();
        for s in &g.stmts {
            dependencies(s, &mut Vec::new(), &mut deps);
        }
        g.reads = deps.into_iter().map(|(_, r)| r).filter(|r| !g.targets.contains(r)).collect();
        if g.pos == usize::MAX {
            g.pos = stmts.len();
        }
        out.push(g);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Printing.

struct Printer<'a> {
    syms: &'a Symbols,
    /// Constants are printed by name in upper case.
    upper: &'a HashMap<String, String>,
    /// Locals that are another signal.
    alias: &'a HashMap<String, String>,
    /// Registers written in clocked blocks: `r_d` and `r_q` are both printed `r`.
    rename: &'a HashMap<String, String>,
}

/// A sized literal: hex for masks and large values, decimal otherwise.
fn lit_text(v: u128, width: usize) -> String {
    let mask = v >= 1 << 10 && (v + 1).is_power_of_two();
    if mask || v >= 1 << 16 {
        format!("{width}'h{v:x}")
    } else {
        format!("{width}'d{v}")
    }
}

impl Printer<'_> {
    fn name(&self, s: &str) -> String {
        let mut s = s;
        while let Some(a) = self.alias.get(s) {
            s = a;
        }
        if let Some(r) = self.rename.get(s) {
            return r.clone();
        }
        self.upper.get(s).cloned().unwrap_or_else(|| s.to_string())
    }

    /// `e` in a context of `ctx` bits (sizes its literals).
    fn expr(&self, e: &Expr, ctx: Option<usize>) -> Result<String> {
        Ok(match e {
            Expr::Sig(s) => self.name(s),
            Expr::Lit(v) => match ctx {
                Some(w) => {
                    if w < 128 && *v >> w != 0 {
                        bail!("literal {v} does not fit in {w} bits");
                    }
                    lit_text(*v, w)
                }
                None => v.to_string(),
            },
            Expr::Bin(..) if self.concat(e)?.is_some() => self.concat(e)?.expect("checked"),
            Expr::Mux(c, a, b) => {
                let w = self.syms.width_of(e)?.or(ctx);
                format!("{} ? {} : {}", self.operand(c, Some(1))?, self.operand(a, w)?, self.operand(b, w)?)
            }
            Expr::Bin(l, op, r) => {
                let (lw, rw) = (self.syms.width_of(l)?, self.syms.width_of(r)?);
                let (lc, rc) = if op.is_shift() {
                    (lw.or(ctx), None)
                } else if op.is_compare() {
                    (lw.or(rw), rw.or(lw))
                } else {
                    (lw.or(rw).or(ctx), rw.or(lw).or(ctx))
                };
                format!("{} {} {}", self.operand(l, lc)?, op.text(), self.operand(r, rc)?)
            }
            Expr::Un(op, x) => {
                let w = self.syms.width_of(x)?.or(ctx);
                let inner = match **x {
                    Expr::Un(..) | Expr::Bin(..) | Expr::Mux(..) => format!("({})", self.expr(x, w)?),
                    _ => self.expr(x, w)?,
                };
                match op {
                    Un::Not if w == Some(1) => format!("!{inner}"),
                    Un::Not => format!("~{inner}"),
                    Un::Neg => format!("-{inner}"),
                    Un::All => format!("&{inner}"),
                    Un::Any => format!("|{inner}"),
                    Un::Xor => format!("^{inner}"),
                }
            }
            Expr::Index(x, i) => {
                let base = self.base(x)?;
                match (&**i, self.syms.eval(i)) {
                    // A named position reads better than its value.
                    (Expr::Sig(c), Some(_)) => format!("{base}[{}]", self.name(c)),
                    (_, Some(v)) => format!("{base}[{v}]"),
                    (_, None) => format!("{base}[{}]", self.expr(i, None)?),
                }
            }
            Expr::Slice(x, w, o) => {
                let base = self.base(x)?;
                if let Expr::Sig(c) = &**o {
                    if self.syms.constants.contains_key(c) {
                        return Ok(format!("{base}[{} +: {w}]", self.name(c)));
                    }
                }
                match self.syms.eval(o) {
                    Some(lo) if *w == 1 => format!("{base}[{lo}]"),
                    Some(lo) => format!("{base}[{}:{lo}]", lo as usize + w - 1),
                    None => format!("{base}[{} +: {w}]", self.expr(o, None)?),
                }
            }
            Expr::Cast(x, w) => {
                let from = self.syms.width_of(x)?;
                match from {
                    None => self.expr(x, Some(*w))?,
                    Some(f) if f == *w => self.expr(x, Some(f))?,
                    Some(f) if f < *w => format!("{{{}'d0, {}}}", w - f, self.expr(x, Some(f))?),
                    Some(_) => format!("{}[{}:0]", self.base(x)?, w - 1),
                }
            }
        })
    }

    /// An operand of a binary operator: parenthesised unless atomic.
    fn operand(&self, e: &Expr, ctx: Option<usize>) -> Result<String> {
        let t = self.expr(e, ctx)?;
        let concat = matches!(e, Expr::Bin(..)) && self.concat(e)?.is_some();
        Ok(match e {
            Expr::Bin(..) | Expr::Mux(..) if !concat => format!("({t})"),
            _ => t,
        })
    }

    /// An OR of zero-extended fields shifted to disjoint positions (rust-hdl has no
    /// concatenation, so the descriptions build buses that way) printed as `{a, b, N'd0}`.
    fn concat(&self, e: &Expr) -> Result<Option<String>> {
        fn terms<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
            match e {
                Expr::Bin(l, Op::Or, r) => {
                    terms(l, out);
                    terms(r, out);
                }
                other => out.push(other),
            }
        }
        let mut ts = Vec::new();
        terms(e, &mut ts);
        let mut total = None;
        let mut fields: Vec<(usize, usize, &Expr)> = Vec::new();
        for t in ts {
            let (cast, shift) = match t {
                Expr::Bin(x, Op::Shl, k) => match (&**x, self.syms.eval(k)) {
                    (c @ Expr::Cast(..), Some(k)) => (c, k as usize),
                    _ => return Ok(None),
                },
                c @ Expr::Cast(..) => (c, 0),
                _ => return Ok(None),
            };
            let Expr::Cast(x, w) = cast else { return Ok(None) };
            if *total.get_or_insert(*w) != *w {
                return Ok(None);
            }
            let width = match (self.syms.width_of(x)?, &**x) {
                (Some(n), _) => n,
                (None, Expr::Lit(v)) => (128 - v.leading_zeros() as usize).max(1),
                _ => return Ok(None),
            };
            fields.push((shift, width, x));
        }
        let Some(total) = total else { return Ok(None) };
        // A lone zero extension is printed as such by the caller.
        if fields.len() == 1 && fields[0].0 == 0 {
            return Ok(None);
        }
        fields.sort_by_key(|f| std::cmp::Reverse(f.0));
        let mut parts = Vec::new();
        let mut top = total;
        for (shift, width, x) in fields {
            if shift + width > top {
                return Ok(None);
            }
            if shift + width < top {
                parts.push(format!("{}'d0", top - shift - width));
            }
            parts.push(self.expr(x, Some(width))?);
            top = shift;
        }
        if top > 0 {
            parts.push(format!("{top}'d0"));
        }
        Ok(Some(format!("{{{}}}", parts.join(", "))))
    }

    fn base(&self, e: &Expr) -> Result<String> {
        match e {
            Expr::Sig(s) => Ok(self.name(s)),
            other => bail!("bit selection of an expression ({other:?}); assign it to a Local first"),
        }
    }

    fn stmt(&self, s: &Stmt, indent: usize, out: &mut String) -> Result<()> {
        self.stmt_op(s, indent, "=", out)
    }

    /// A statement of a clocked block (nonblocking assignments).
    fn stmt_nb(&self, s: &Stmt, indent: usize, out: &mut String) -> Result<()> {
        self.stmt_op(s, indent, "<=", out)
    }

    fn stmt_op(&self, s: &Stmt, indent: usize, op: &str, out: &mut String) -> Result<()> {
        let pad = " ".repeat(indent);
        match s {
            Stmt::Assign { target, slice, value } => {
                let (lhs, w) = match slice {
                    None => (self.name(target), self.syms.width.get(target).copied()),
                    Some((lo, 1)) => (format!("{}[{lo}]", self.name(target)), Some(1)),
                    Some((lo, w)) => (format!("{}[{}:{lo}]", self.name(target), lo + w - 1), Some(*w)),
                };
                out.push_str(&format!("{pad}{lhs} {op} {};\n", self.expr(value, w)?));
            }
            Stmt::If { cond, then, els } => {
                out.push_str(&format!("{pad}if ({}) ", self.expr(cond, None)?));
                self.branch(then, indent, op, out)?;
                if !els.is_empty() {
                    out.push_str(&format!("{pad}else "));
                    if let [inner @ Stmt::If { .. }] = els.as_slice() {
                        let mut t = String::new();
                        self.stmt_op(inner, indent, op, &mut t)?;
                        out.push_str(t.trim_start());
                    } else {
                        self.branch(els, indent, op, out)?;
                    }
                }
            }
            Stmt::Comment(c) => out.push_str(&format!("{pad}// {c}\n")),
        }
        Ok(())
    }

    fn branch(&self, b: &[Stmt], indent: usize, op: &str, out: &mut String) -> Result<()> {
        if let [one @ Stmt::Assign { .. }] = b {
            let mut t = String::new();
            self.stmt_op(one, 0, op, &mut t)?;
            out.push_str(&t);
            return Ok(());
        }
        out.push_str("begin\n");
        for s in b {
            self.stmt_op(s, indent + 4, op, out)?;
        }
        out.push_str(&format!("{}end\n", " ".repeat(indent)));
        Ok(())
    }
}

fn range(width: usize) -> String {
    if width == 1 {
        String::new()
    } else {
        format!("[{}:0] ", width - 1)
    }
}

// ---------------------------------------------------------------------------------------
// Modules.

/// What a child instance looks like from its parent.
struct Instance {
    field: String,
    module: String,
    /// (port, width, is input).
    ports: Vec<(String, usize, bool)>,
}

struct Emitter<'a> {
    scopes: Vec<Scope>,
    name_of: &'a Namer<'a>,
    modules: BTreeMap<String, Module>,
    order: Vec<String>,
}

impl Emitter<'_> {
    /// Emits scope `id` (children first) and returns its module name and ports.
    fn emit(&mut self, id: usize, path: &[String]) -> Result<(String, Ports)> {
        let hint = match &self.scopes[id].code {
            Verilog::Custom(code) => {
                code.trim_start().strip_prefix("// module: ").map(|r| r.lines().next().unwrap_or("").trim().to_string())
            }
            _ => None,
        };
        let name = (self.name_of)(path, hint.as_deref())?;
        let mut instances = Vec::new();
        let mut regs: BTreeMap<String, usize> = BTreeMap::new();
        for &c in &self.scopes[id].children.clone() {
            let field = self.scopes[c].field.clone();
            if matches!(&self.scopes[c].code, Verilog::Custom(s) if s == REG_MARKER) {
                let w = self.scopes[c].atoms.iter().find(|a| a.name == "d").map(|a| a.width).expect("d");
                regs.insert(field, w);
                continue;
            }
            let mut p = path.to_vec();
            p.push(field.clone());
            let (module, ports) = self.emit(c, &p)?;
            instances.push(Instance { field, module, ports });
        }
        let scope = &self.scopes[id];
        let ports: Vec<(String, usize, bool)> = scope
            .atoms
            .iter()
            .filter(|a| matches!(a.kind, AtomKind::InputParameter | AtomKind::OutputParameter))
            .map(|a| (a.name.clone(), a.width, a.kind == AtomKind::InputParameter))
            .collect();
        let body = match &scope.code {
            Verilog::Custom(code) => {
                let code = match code.trim_start().strip_prefix("// module: ") {
                    Some(rest) => rest.split_once('\n').map_or("", |p| p.1).to_string(),
                    None => code.clone(),
                };
                let text = custom_module(&name, &ports, &code);
                return self.register(name, path, text).map(|n| (n, ports));
            }
            Verilog::Combinatorial(b) => b.clone(),
            other => bail!("{}: unsupported rust-hdl Verilog kind {other:?}", name),
        };
        let text = self.combinational(&name, id, &ports, &instances, &regs, &body)?;
        let n = self.register(name, path, text)?;
        Ok((n, ports))
    }

    fn register(&mut self, name: String, path: &[String], text: String) -> Result<String> {
        // A module identical to another but for its name is that module (the low multiplier
        // of `full` is the full one).
        let body = |n: &str, t: &str| t.replacen(&format!("module {n} ("), "module (", 1);
        if !self.modules.contains_key(&name) {
            if let Some(m) = self.modules.values().find(|m| body(&m.name, &m.text) == body(&name, &text)) {
                return Ok(m.name.clone());
            }
        }
        match self.modules.get(&name) {
            Some(m) if m.text != text => bail!(
                "two different modules would be named {name} (at {} and {}); give one a module name of its own",
                m.path.join("."),
                path.join(".")
            ),
            Some(_) => {}
            None => {
                self.order.push(name.clone());
                self.modules.insert(name.clone(), Module { name: name.clone(), path: path.to_vec(), text });
            }
        }
        Ok(name)
    }

    #[allow(clippy::too_many_arguments)]
    fn combinational(
        &self,
        name: &str,
        id: usize,
        ports: &[(String, usize, bool)],
        instances: &[Instance],
        regs: &BTreeMap<String, usize>,
        body: &[ast::VerilogStatement],
    ) -> Result<String> {
        let scope = &self.scopes[id];
        // Symbols: ports, locals, constants, child port nets, register nets.
        let mut width = HashMap::new();
        let mut constants = HashMap::new();
        let mut locals = Vec::new();
        for a in &scope.atoms {
            width.insert(a.name.clone(), a.width);
            match a.kind {
                AtomKind::Constant => {
                    constants.insert(a.name.clone(), a.value);
                }
                AtomKind::LocalSignal => locals.push(a.name.clone()),
                AtomKind::InputParameter | AtomKind::OutputParameter => {}
                k => bail!("{name}.{}: unsupported signal kind {k:?}", a.name),
            }
        }
        let mut nets: Vec<(String, usize)> = Vec::new();
        for inst in instances {
            for (p, w, _) in &inst.ports {
                nets.push((format!("{}_{p}", inst.field), *w));
            }
        }
        for (r, w) in regs {
            nets.push((format!("{r}_d"), *w));
            nets.push((format!("{r}_q"), *w));
        }
        for (n, w) in &nets {
            if width.insert(n.clone(), *w).is_some() {
                bail!("{name}: the net name {n} is taken twice; rename a field");
            }
        }
        if let Some(k) = width.keys().find(|n| KEYWORDS.contains(&n.as_str())) {
            bail!("{name}: `{k}` is a Verilog or SystemVerilog keyword; rename the field");
        }
        let syms = Symbols { width, constants };
        let reg_names: BTreeSet<String> = regs.keys().cloned().collect();
        let mut lower = Lower { loops: vec![], syms: &syms, regs: &reg_names };
        let mut stmts = Vec::new();
        lower.block(body, &mut stmts).with_context(|| format!("emitting {name}"))?;
        let groups = groups(&stmts, &reg_names).with_context(|| format!("emitting {name}"))?;

        // Liveness from the outputs: groups, instances (outputs need all inputs), registers.
        let mut driver: HashMap<String, usize> = HashMap::new();
        for (gi, g) in groups.iter().enumerate() {
            for t in &g.targets {
                driver.insert(t.clone(), gi);
            }
        }
        let mut live: BTreeSet<String> = BTreeSet::new();
        let mut work: Vec<String> = ports.iter().filter(|p| !p.2).map(|p| p.0.clone()).collect();
        let mut live_groups = BTreeSet::new();
        let mut live_insts = BTreeSet::new();
        while let Some(s) = work.pop() {
            if !live.insert(s.clone()) {
                continue;
            }
            if let Some(&gi) = driver.get(&s) {
                if live_groups.insert(gi) {
                    work.extend(groups[gi].reads.iter().cloned());
                    work.extend(groups[gi].targets.iter().cloned());
                }
            }
            if let Some(r) = s.strip_suffix("_q").filter(|r| regs.contains_key(*r)) {
                work.push(format!("{r}_d"));
            }
            for (ii, inst) in instances.iter().enumerate() {
                if inst.ports.iter().any(|(p, _, input)| !input && s == format!("{}_{p}", inst.field))
                    && live_insts.insert(ii)
                {
                    work.extend(inst.ports.iter().map(|(p, _, _)| format!("{}_{p}", inst.field)));
                }
            }
        }
        // Every input port must be used (lint would say so anyway, with less context).
        for (p, _, input) in ports {
            if *input && !live.contains(p) && p != "clock" {
                bail!("{name}: input {p} is not used");
            }
        }

        // Child inputs driven by one plain assignment of a signal are connected directly.
        let mut direct: HashMap<String, Expr> = HashMap::new();
        let mut upper = HashMap::new();
        for c in syms.constants.keys() {
            upper.insert(c.clone(), c.to_uppercase());
        }
        let child_inputs: BTreeSet<String> = instances
            .iter()
            .flat_map(|i| i.ports.iter().filter(|p| p.2).map(move |(p, _, _)| format!("{}_{p}", i.field)))
            .collect();
        // A group that is one value: an assignment, or a default with one override (a mux).
        let single = |g: &Group| -> Option<(String, Expr)> {
            let one = |b: &[Stmt]| match b {
                [Stmt::Assign { target, slice: None, value }] => Some((target.clone(), value.clone())),
                _ => None,
            };
            let mux = |c: &Expr, a: Expr, b: Expr| Expr::Mux(Box::new(c.clone()), Box::new(a), Box::new(b));
            match g.stmts.as_slice() {
                [Stmt::Assign { target, slice: None, value }] => Some((target.clone(), value.clone())),
                [Stmt::Assign { target, slice: None, value }, Stmt::If { cond, then, els }] if els.is_empty() => {
                    let (t, v) = one(then)?;
                    (t == *target).then(|| (t, mux(cond, v, value.clone())))
                }
                [Stmt::If { cond, then, els }] => {
                    let ((t, a), (u, b)) = (one(then)?, one(els)?);
                    (t == u).then(|| (t, mux(cond, a, b)))
                }
                _ => None,
            }
        };
        for &gi in &live_groups {
            if let Some((t, v @ (Expr::Sig(_) | Expr::Slice(..) | Expr::Index(..)))) = single(&groups[gi]) {
                if child_inputs.contains(&t) {
                    direct.insert(t, v);
                }
            }
        }

        // A local that is just another signal is that signal.
        let is_local = |n: &str| locals.iter().any(|l| l == n);
        let mut alias: HashMap<String, String> = HashMap::new();
        for &gi in &live_groups {
            if let Some((t, Expr::Sig(y))) = single(&groups[gi]) {
                if is_local(&t) {
                    alias.insert(t, y);
                }
            }
        }
        // A child output that only drives an output port is connected to the port.
        let mut uses: HashMap<String, usize> = HashMap::new();
        for &gi in &live_groups {
            for r in &groups[gi].reads {
                *uses.entry(r.clone()).or_default() += 1;
            }
        }
        let child_outputs: BTreeSet<String> = instances
            .iter()
            .flat_map(|i| i.ports.iter().filter(|p| !p.2).map(move |(p, _, _)| format!("{}_{p}", i.field)))
            .collect();
        let mut out_direct: HashMap<String, String> = HashMap::new();
        for &gi in &live_groups {
            if let Some((t, Expr::Sig(y))) = single(&groups[gi]) {
                if ports.iter().any(|p| p.0 == t && !p.2) && child_outputs.contains(&y) && uses.get(&y) == Some(&1) {
                    out_direct.insert(y, t);
                }
            }
        }
        for (k, v) in &out_direct {
            direct.insert(k.clone(), Expr::Sig(v.clone()));
        }

        // Registers whose next value only the register reads are written in clocked blocks
        // (`if (en) r <= x;`), under their own name; the others keep `r_d`/`r_q`.
        let mut readers: HashMap<String, usize> = HashMap::new();
        for &gi in &live_groups {
            for r in &groups[gi].reads {
                *readers.entry(r.clone()).or_default() += 1;
            }
        }
        let reg_of = |t: &str| t.strip_suffix("_d").filter(|r| regs.contains_key(*r)).map(str::to_string);
        let mut clocked: BTreeSet<usize> = BTreeSet::new();
        let mut rename: HashMap<String, String> = HashMap::new();
        for &gi in &live_groups {
            let g = &groups[gi];
            let ok = g.targets.iter().all(|t| reg_of(t).is_some() && !readers.contains_key(t));
            if ok {
                clocked.insert(gi);
                for t in &g.targets {
                    let r = reg_of(t).expect("register");
                    if syms.width.contains_key(&r) {
                        bail!("{name}: register {r} would shadow a signal of the same name; rename one");
                    }
                    rename.insert(t.clone(), r.clone());
                    rename.insert(format!("{r}_q"), r);
                }
            }
        }
        let printer = Printer { syms: &syms, upper: &upper, alias: &alias, rename: &rename };
        let is_hold = |s: &Stmt| match s {
            Stmt::Assign { target, slice: None, value: Expr::Sig(q) } => {
                reg_of(target).is_some_and(|r| *q == format!("{r}_q"))
            }
            _ => false,
        };

        // Declarations.
        let mut text = format!("module {name} (\n");
        let port_lines: Vec<String> = ports
            .iter()
            .map(|(p, w, input)| {
                let kind = if *input {
                    "input  wire"
                } else if driver.get(p).and_then(|&g| single(&groups[g])).is_some() {
                    "output wire"
                } else {
                    "output reg "
                };
                format!("    {kind} {}{p}", range(*w))
            })
            .collect();
        text += &port_lines.join(",\n");
        text += "\n);\n";
        let mut used: BTreeSet<String> = BTreeSet::new();
        for &gi in &live_groups {
            used.extend(groups[gi].reads.iter().cloned());
        }
        let mut consts: Vec<&String> = syms.constants.keys().filter(|c| used.contains(*c)).collect();
        consts.sort_by_key(|c| scope.atoms.iter().position(|a| &a.name == *c));
        for c in consts {
            let w = syms.width[c];
            text += &format!("    localparam {}{} = {};\n", range(w), upper[c], lit_text(syms.constants[c], w));
        }
        let decl = |n: &str, w: usize, text: &mut String| {
            if rename.contains_key(n) && n.ends_with("_d") {
                return;
            }
            let shown = rename.get(n).cloned().unwrap_or_else(|| n.to_string());
            let is_reg = reg_of(&format!("{}_d", n.strip_suffix("_q").unwrap_or(""))).is_some() && n.ends_with("_q");
            let in_always = driver.get(n).is_some_and(|&g| single(&groups[g]).is_none());
            let kind = if is_reg || in_always { "reg " } else { "wire" };
            *text += &format!("    {kind} {}{shown};\n", range(w));
        };
        for l in &locals {
            if live.contains(l) && !alias.contains_key(l) {
                decl(l, syms.width[l], &mut text);
            }
        }
        for (n, w) in &nets {
            if live.contains(n) && !direct.contains_key(n) {
                decl(n, *w, &mut text);
            }
        }

        // Body, in source order: each group at its first statement, each instance after
        // the groups that drive it, consecutive clocked groups in one clocked block.
        enum Item {
            Group(usize),
            Instance(usize),
        }
        let mut items: Vec<((usize, u8), Item)> = Vec::new();
        for &gi in &live_groups {
            items.push(((groups[gi].pos, 1), Item::Group(gi)));
        }
        for (ii, inst) in instances.iter().enumerate() {
            if !live_insts.contains(&ii) {
                continue;
            }
            let after = inst
                .ports
                .iter()
                .filter(|p| p.2)
                .filter_map(|(p, _, _)| driver.get(&format!("{}_{p}", inst.field)))
                .map(|&g| groups[g].pos)
                .max();
            items.push((after.map_or((0, 0), |p| (p, 2)), Item::Instance(ii)));
        }
        items.sort_by_key(|(k, _)| *k);
        let clock = ports.iter().find(|p| p.0 == "clock").map(|p| p.0.clone());
        let mut body = String::new();
        let mut in_clocked = false;
        for (_, item) in &items {
            let starts_clocked = matches!(item, Item::Group(gi) if clocked.contains(gi));
            if in_clocked && !starts_clocked {
                body += "    end\n";
                in_clocked = false;
            }
            match item {
                Item::Instance(ii) => {
                    let inst = &instances[*ii];
                    let conns: Vec<String> = inst
                        .ports
                        .iter()
                        .map(|(p, _, _)| {
                            let net = format!("{}_{p}", inst.field);
                            let to = match direct.get(&net) {
                                Some(e) => printer.expr(e, None),
                                None => Ok(printer.name(&net)),
                            };
                            to.map(|t| format!("        .{p}({t})"))
                        })
                        .collect::<Result<_>>()?;
                    // A blank line before an instance, unless a comment introduces it.
                    if !body.lines().last().unwrap_or("").trim_start().starts_with("//") {
                        body += "\n";
                    }
                    body += &format!("    {} u_{} (\n{}\n    );\n", inst.module, inst.field, conns.join(",\n"));
                }
                Item::Group(gi) => {
                    let g = &groups[*gi];
                    let skip = single(g).is_some_and(|(t, v)| {
                        direct.contains_key(&t)
                            || alias.contains_key(&t)
                            || matches!(&v, Expr::Sig(y) if out_direct.get(y) == Some(&t))
                    });
                    let notes: Vec<&String> = g.notes.iter().flatten().collect();
                    let pad = if starts_clocked { "        " } else { "    " };
                    if starts_clocked && !in_clocked {
                        let clock = clock.clone().ok_or_else(|| anyhow!("{name} has registers but no clock"))?;
                        body += &format!("\n    always @(posedge {clock}) begin\n");
                        in_clocked = true;
                    } else if !notes.is_empty() && !starts_clocked {
                        body += "\n";
                    }
                    for c in &notes {
                        body += &format!("{pad}// {c}\n");
                    }
                    if skip {
                        continue;
                    }
                    if starts_clocked {
                        let stmts: Vec<&Stmt> = g.stmts.iter().filter(|s| !is_hold(s)).collect();
                        let g2 = Group {
                            targets: g.targets.clone(),
                            stmts: stmts.into_iter().cloned().collect(),
                            notes: vec![],
                            reads: BTreeSet::new(),
                            pos: g.pos,
                        };
                        match single(&g2) {
                            Some((t, v)) => {
                                let w = syms.width.get(&t).copied();
                                body += &format!("        {} <= {};\n", printer.name(&t), printer.expr(&v, w)?);
                            }
                            None => {
                                for s in &g2.stmts {
                                    printer.stmt_nb(s, 8, &mut body)?;
                                }
                            }
                        }
                    } else if let Some((t, v)) = single(g) {
                        body += &format!("    assign {} = {};\n", t, printer.expr(&v, syms.width.get(&t).copied())?);
                    } else {
                        body += "    always @(*) begin\n";
                        for s in &g.stmts {
                            printer.stmt(s, 8, &mut body)?;
                        }
                        body += "    end\n";
                    }
                }
            }
        }
        if in_clocked {
            body += "    end\n";
        }
        let two_process: Vec<&String> = regs
            .keys()
            .filter(|r| live.contains(&format!("{r}_q")) && !rename.contains_key(&format!("{r}_q")))
            .collect();
        if !two_process.is_empty() {
            let clock = clock.ok_or_else(|| anyhow!("{name} has registers but no clock"))?;
            body += &format!("\n    always @(posedge {clock}) begin\n");
            for r in two_process {
                body += &format!("        {r}_q <= {r}_d;\n");
            }
            body += "    end\n";
        }
        text += &body;
        text += "endmodule\n";
        Ok(text)
    }
}

fn custom_module(name: &str, ports: &[(String, usize, bool)], body: &str) -> String {
    let lines: Vec<String> = ports
        .iter()
        .map(|(p, w, input)| format!("    {} {}{p}", if *input { "input  wire" } else { "output wire" }, range(*w)))
        .collect();
    format!("module {name} (\n{}\n);\n{}\nendmodule\n", lines.join(",\n"), body.trim_end())
}

/// Emits `top` and everything below it. `name_of` gives the module name for the path of
/// field names from the top to an instance (the empty path is the top) and the name a
/// custom leaf asks for (`// module: <name>` as its first line).
pub fn emit<B: Block>(top: &mut B, name_of: &Namer) -> Result<Vec<Module>> {
    top.connect_all();
    if let Err(e) = check_all(top) {
        bail!("rust-hdl rejected the design: {e:?}");
    }
    let mut c = Collector::default();
    top.accept("top", &mut c);
    if let Some(e) = c.error {
        bail!("{e}");
    }
    let mut e = Emitter { scopes: c.scopes, name_of, modules: BTreeMap::new(), order: vec![] };
    e.emit(0, &[])?;
    let mut out = Vec::new();
    for n in &e.order {
        out.push(e.modules.remove(n).expect("module"));
    }
    Ok(out)
}
