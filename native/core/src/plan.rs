//! Parsing and validation of a plan (docs/plan-format.md) into a compiled program over registers.
//!
//! Numeric slots live in registers (one `CHUNK`-long f64 lane each, numbered in slot order, so an
//! op's result register is always above its argument registers). String slots never reach a
//! register: a string slot is a table of distinct strings plus, per row, a code into it. `lower`
//! keeps the codes of its argument and maps the table entry by entry, so every string slot shares
//! the codes of the string input it derives from (its *root*).

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::error::{PlanError, Result};

pub const PLAN_FORMAT: &str = "fresco.plan";
pub const PLAN_VERSION: u64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotType {
    Num,
    Str,
}

impl SlotType {
    pub fn as_str(self) -> &'static str {
        match self {
            SlotType::Num => "num",
            SlotType::Str => "str",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub ty: SlotType,
}

/// Where a string slot's data lives: `table` indexes the per-run string tables, `root` the
/// string inputs (in slot order) whose codes it shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StrLoc {
    pub table: usize,
    pub root: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loc {
    Num(usize),
    Str(StrLoc),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Coalesce,
    DaysBetween,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnOp {
    Neg,
    Abs,
    Not,
    IsNull,
    Log1p,
    Hour,
    DayOfWeek,
}

/// What a string op computes per distinct string (once per table entry, never per row).
#[derive(Debug, Clone)]
pub(crate) enum StrFn {
    /// Index of the category, or `k` for "other".
    OneHot {
        index: HashMap<Box<[u8]>, u32>,
        k: u32,
    },
    HashBucket {
        n: u64,
    },
    StrEq {
        value: Box<[u8]>,
    },
}

/// A compiled op. Numeric operands are register numbers; string operands are [`StrLoc`]s.
#[derive(Debug, Clone)]
pub(crate) enum Kernel {
    Const {
        out: usize,
        v: f64,
    },
    Bin {
        op: BinOp,
        a: usize,
        b: usize,
        out: usize,
    },
    Un {
        op: UnOp,
        a: usize,
        out: usize,
    },
    If {
        c: usize,
        a: usize,
        b: usize,
        out: usize,
    },
    FillNull {
        a: usize,
        v: f64,
        out: usize,
    },
    Clip {
        a: usize,
        lo: f64,
        hi: f64,
        out: usize,
    },
    Standardize {
        a: usize,
        mean: f64,
        std: f64,
        out: usize,
    },
    MinMax {
        a: usize,
        min: f64,
        range: f64,
        out: usize,
    },
    Bucketize {
        a: usize,
        bounds: Box<[f64]>,
        out: usize,
    },
    /// A string op producing numbers: `entry` indexes the per-entry value buffers; `one_hot`
    /// writes `k + 1` registers from `out`, the others one.
    StrMap {
        s: StrLoc,
        f: StrFn,
        entry: usize,
        out: usize,
    },
    Lower {
        s: StrLoc,
        out_table: usize,
    },
}

/// A validated plan, ready to run (see [`crate::Plan`] for the executor holding the scratch).
#[derive(Debug, Clone)]
pub struct PlanSpec {
    pub(crate) inputs: Vec<Input>,
    /// For each input: its register (num) or its string location (str).
    pub(crate) input_locs: Vec<Loc>,
    /// Input index of each string input, in slot order.
    pub(crate) str_inputs: Vec<usize>,
    pub(crate) kernels: Vec<Kernel>,
    /// Register of each output column.
    pub(crate) outputs: Vec<usize>,
    pub(crate) num_regs: usize,
    pub(crate) num_tables: usize,
    pub(crate) num_entries: usize,
}

impl PlanSpec {
    pub fn inputs(&self) -> &[Input] {
        &self.inputs
    }
    pub fn input_count(&self) -> usize {
        self.inputs.len()
    }
    pub fn output_count(&self) -> usize {
        self.outputs.len()
    }
    /// How many inputs are strings (the length of `run_row`'s string list).
    pub fn str_input_count(&self) -> usize {
        self.str_inputs.len()
    }
    /// The input index of the `k`-th string input.
    pub fn str_input_index(&self, k: usize) -> usize {
        self.str_inputs[k]
    }
    /// `input 2 ("origin")`, for error messages.
    pub fn input_label(&self, index: usize) -> String {
        match self.inputs.get(index) {
            Some(input) => format!("input {} ({})", index, json_str(&input.name)),
            None => format!("input {}", index),
        }
    }
}

/// Parses and validates plan JSON.
pub fn parse_plan(json: &str) -> Result<PlanSpec> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| PlanError::invalid(format!("plan is not valid JSON: {e}")))?;
    compile_value(&value)
}

fn json_str(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// A short rendering of a JSON value for messages.
fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A non-negative integer that fits an index (JSON `3` or `3.0`).
fn as_index(v: &Value) -> Option<usize> {
    if let Some(u) = v.as_u64() {
        return usize::try_from(u).ok();
    }
    let f = v.as_f64()?;
    if f >= 0.0 && f.fract() == 0.0 && f <= 9_007_199_254_740_992.0 {
        Some(f as usize)
    } else {
        None
    }
}

struct Slot {
    ty: SlotType,
    loc: Loc,
}

struct Compiler {
    slots: Vec<Slot>,
    num_regs: usize,
    num_tables: usize,
    num_entries: usize,
}

impl Compiler {
    fn push_num(&mut self) -> usize {
        let reg = self.num_regs;
        self.num_regs += 1;
        self.slots.push(Slot {
            ty: SlotType::Num,
            loc: Loc::Num(reg),
        });
        reg
    }
    fn push_str(&mut self, root: usize) -> StrLoc {
        let loc = StrLoc {
            table: self.num_tables,
            root,
        };
        self.num_tables += 1;
        self.slots.push(Slot {
            ty: SlotType::Str,
            loc: Loc::Str(loc),
        });
        loc
    }
    fn defined(&self) -> String {
        match self.slots.len() {
            0 => "no slots are defined".to_owned(),
            n => format!("only slots 0..{} are defined", n - 1),
        }
    }
}

/// Context for an op's messages: `op 3 (add): ...`.
struct OpCx<'a> {
    index: usize,
    name: &'a str,
    obj: &'a Map<String, Value>,
}

impl OpCx<'_> {
    fn err(&self, msg: impl std::fmt::Display) -> PlanError {
        PlanError::invalid(format!("op {} ({}): {}", self.index, self.name, msg))
    }

    fn param(&self, key: &str) -> Result<&Value> {
        self.obj
            .get(key)
            .ok_or_else(|| self.err(format!("missing parameter \"{key}\"")))
    }

    fn number(&self, key: &str) -> Result<f64> {
        let v = self.param(key)?;
        v.as_f64().ok_or_else(|| {
            self.err(format!(
                "parameter \"{key}\" must be a number, got {}",
                show(v)
            ))
        })
    }

    fn number_or_null(&self, key: &str) -> Result<Option<f64>> {
        let v = self.param(key)?;
        if v.is_null() {
            return Ok(None);
        }
        v.as_f64().map(Some).ok_or_else(|| {
            self.err(format!(
                "parameter \"{key}\" must be a number or null, got {}",
                show(v)
            ))
        })
    }

    fn string(&self, key: &str) -> Result<&str> {
        let v = self.param(key)?;
        v.as_str().ok_or_else(|| {
            self.err(format!(
                "parameter \"{key}\" must be a string, got {}",
                show(v)
            ))
        })
    }

    fn array(&self, key: &str) -> Result<&Vec<Value>> {
        let v = self.param(key)?;
        v.as_array().ok_or_else(|| {
            self.err(format!(
                "parameter \"{key}\" must be an array, got {}",
                show(v)
            ))
        })
    }
}

/// The arity and argument types of each op, by name.
fn signature(op: &str) -> Option<&'static [SlotType]> {
    use SlotType::{Num as N, Str as S};
    Some(match op {
        "const" => &[],
        "add" | "sub" | "mul" | "div" | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "and" | "or"
        | "coalesce" | "days_between" => &[N, N],
        "neg" | "abs" | "not" | "is_null" | "fill_null" | "log1p" | "clip" | "standardize"
        | "min_max" | "bucketize" | "hour" | "day_of_week" => &[N],
        "if" => &[N, N, N],
        "one_hot" | "hash_bucket" | "lower" | "str_eq" => &[S],
        _ => return None,
    })
}

pub(crate) fn compile_value(root: &Value) -> Result<PlanSpec> {
    let plan = root.as_object().ok_or_else(|| {
        PlanError::invalid(format!(
            "plan must be a JSON object, got {}",
            type_name(root)
        ))
    })?;

    match plan.get("format") {
        Some(Value::String(s)) if s == PLAN_FORMAT => {}
        Some(v) => {
            return Err(PlanError::invalid(format!(
                "plan.format must be \"{PLAN_FORMAT}\", got {}",
                show(v)
            )))
        }
        None => {
            return Err(PlanError::invalid(format!(
                "plan.format is missing (expected \"{PLAN_FORMAT}\")"
            )))
        }
    }
    match plan.get("version") {
        Some(v) if v.as_f64() == Some(PLAN_VERSION as f64) => {}
        Some(v) => {
            return Err(PlanError::invalid(format!(
                "plan.version must be {PLAN_VERSION}, got {} (this build reads version {PLAN_VERSION} only)",
                show(v)
            )))
        }
        None => return Err(PlanError::invalid(format!("plan.version is missing (expected {PLAN_VERSION})"))),
    }

    let inputs_v = match plan.get("inputs") {
        Some(Value::Array(a)) => a,
        Some(v) => {
            return Err(PlanError::invalid(format!(
                "plan.inputs must be an array, got {}",
                type_name(v)
            )))
        }
        None => return Err(PlanError::invalid("plan.inputs is missing")),
    };
    let ops_v = match plan.get("ops") {
        Some(Value::Array(a)) => a,
        Some(v) => {
            return Err(PlanError::invalid(format!(
                "plan.ops must be an array, got {}",
                type_name(v)
            )))
        }
        None => return Err(PlanError::invalid("plan.ops is missing")),
    };
    let outputs_v = match plan.get("outputs") {
        Some(Value::Array(a)) => a,
        Some(v) => {
            return Err(PlanError::invalid(format!(
                "plan.outputs must be an array, got {}",
                type_name(v)
            )))
        }
        None => return Err(PlanError::invalid("plan.outputs is missing")),
    };

    let mut cx = Compiler {
        slots: Vec::new(),
        num_regs: 0,
        num_tables: 0,
        num_entries: 0,
    };
    let mut inputs = Vec::with_capacity(inputs_v.len());
    let mut input_locs = Vec::with_capacity(inputs_v.len());
    let mut str_inputs = Vec::new();
    for (i, iv) in inputs_v.iter().enumerate() {
        let obj = iv.as_object().ok_or_else(|| {
            PlanError::invalid(format!(
                "input {i}: must be an object {{ name, type }}, got {}",
                type_name(iv)
            ))
        })?;
        let name = match obj.get("name") {
            Some(Value::String(s)) => s.clone(),
            Some(v) => {
                return Err(PlanError::invalid(format!(
                    "input {i}: name must be a string, got {}",
                    show(v)
                )))
            }
            None => return Err(PlanError::invalid(format!("input {i}: name is missing"))),
        };
        let ty = match obj.get("type").and_then(Value::as_str) {
            Some("num") => SlotType::Num,
            Some("str") => SlotType::Str,
            _ => {
                let got = obj
                    .get("type")
                    .map(show)
                    .unwrap_or_else(|| "nothing".to_owned());
                return Err(PlanError::invalid(format!(
                    "input {i} ({}): type must be \"num\" or \"str\", got {got}",
                    json_str(&name)
                )));
            }
        };
        let loc = match ty {
            SlotType::Num => Loc::Num(cx.push_num()),
            SlotType::Str => {
                let root = str_inputs.len();
                str_inputs.push(i);
                Loc::Str(cx.push_str(root))
            }
        };
        inputs.push(Input { name, ty });
        input_locs.push(loc);
    }

    let mut kernels = Vec::with_capacity(ops_v.len());
    for (index, ov) in ops_v.iter().enumerate() {
        let obj = ov.as_object().ok_or_else(|| {
            PlanError::invalid(format!(
                "op {index}: must be an object, got {}",
                type_name(ov)
            ))
        })?;
        let name = match obj.get("op") {
            Some(Value::String(s)) => s.as_str(),
            Some(v) => {
                return Err(PlanError::invalid(format!(
                    "op {index}: \"op\" must be a string, got {}",
                    show(v)
                )))
            }
            None => return Err(PlanError::invalid(format!("op {index}: \"op\" is missing"))),
        };
        let op = OpCx { index, name, obj };
        let sig = signature(name).ok_or_else(|| op.err("unknown op"))?;

        // Args: an array of slot indices (`[]` for const).
        let args_v = match obj.get("args") {
            Some(Value::Array(a)) => a,
            Some(v) => {
                return Err(op.err(format!(
                    "args must be an array of slot indices, got {}",
                    type_name(v)
                )))
            }
            None => {
                return Err(op.err(format!(
                    "args is missing (expects {} arg{})",
                    sig.len(),
                    plural(sig.len())
                )))
            }
        };
        if args_v.len() != sig.len() {
            return Err(op.err(format!(
                "expects {} arg{}, got {}",
                sig.len(),
                plural(sig.len()),
                args_v.len()
            )));
        }
        let mut locs = [Loc::Num(0); 3];
        for (k, (av, want)) in args_v.iter().zip(sig.iter()).enumerate() {
            let slot = as_index(av).ok_or_else(|| {
                op.err(format!(
                    "arg {k} must be a slot index (a non-negative integer), got {}",
                    show(av)
                ))
            })?;
            let s = cx.slots.get(slot).ok_or_else(|| {
                op.err(format!(
                    "arg {k} refers to slot {slot}, but {}",
                    cx.defined()
                ))
            })?;
            if s.ty != *want {
                return Err(op.err(format!(
                    "arg {k} refers to slot {slot}, a {} slot, but {name} needs a {} slot",
                    s.ty.as_str(),
                    want.as_str()
                )));
            }
            locs[k] = s.loc;
        }
        let reg = |k: usize| match locs[k] {
            Loc::Num(r) => r,
            Loc::Str(_) => unreachable!("arg types were checked"),
        };
        let sloc = |k: usize| match locs[k] {
            Loc::Str(s) => s,
            Loc::Num(_) => unreachable!("arg types were checked"),
        };

        let bin = |op: BinOp, cx: &mut Compiler| Kernel::Bin {
            op,
            a: reg(0),
            b: reg(1),
            out: cx.push_num(),
        };
        let un = |op: UnOp, cx: &mut Compiler| Kernel::Un {
            op,
            a: reg(0),
            out: cx.push_num(),
        };
        let kernel = match name {
            "const" => {
                let v = op.number_or_null("value")?.unwrap_or(f64::NAN);
                Kernel::Const {
                    v,
                    out: cx.push_num(),
                }
            }
            "add" => bin(BinOp::Add, &mut cx),
            "sub" => bin(BinOp::Sub, &mut cx),
            "mul" => bin(BinOp::Mul, &mut cx),
            "div" => bin(BinOp::Div, &mut cx),
            "eq" => bin(BinOp::Eq, &mut cx),
            "ne" => bin(BinOp::Ne, &mut cx),
            "lt" => bin(BinOp::Lt, &mut cx),
            "le" => bin(BinOp::Le, &mut cx),
            "gt" => bin(BinOp::Gt, &mut cx),
            "ge" => bin(BinOp::Ge, &mut cx),
            "and" => bin(BinOp::And, &mut cx),
            "or" => bin(BinOp::Or, &mut cx),
            "coalesce" => bin(BinOp::Coalesce, &mut cx),
            "days_between" => bin(BinOp::DaysBetween, &mut cx),
            "neg" => un(UnOp::Neg, &mut cx),
            "abs" => un(UnOp::Abs, &mut cx),
            "not" => un(UnOp::Not, &mut cx),
            "is_null" => un(UnOp::IsNull, &mut cx),
            "log1p" => un(UnOp::Log1p, &mut cx),
            "hour" => un(UnOp::Hour, &mut cx),
            "day_of_week" => un(UnOp::DayOfWeek, &mut cx),
            "if" => Kernel::If {
                c: reg(0),
                a: reg(1),
                b: reg(2),
                out: cx.push_num(),
            },
            "fill_null" => {
                let v = op.number("value")?;
                Kernel::FillNull {
                    a: reg(0),
                    v,
                    out: cx.push_num(),
                }
            }
            "clip" => {
                // lo > hi is allowed: `a < lo` is tested first (docs: "bounded to [lo, hi]").
                let lo = op.number_or_null("lo")?;
                let hi = op.number_or_null("hi")?;
                Kernel::Clip {
                    a: reg(0),
                    lo: lo.unwrap_or(f64::NEG_INFINITY),
                    hi: hi.unwrap_or(f64::INFINITY),
                    out: cx.push_num(),
                }
            }
            "standardize" => {
                let mean = op.number("mean")?;
                let std = op.number("std")?;
                Kernel::Standardize {
                    a: reg(0),
                    mean,
                    std: if std == 0.0 { 1.0 } else { std },
                    out: cx.push_num(),
                }
            }
            "min_max" => {
                let min = op.number("min")?;
                let max = op.number("max")?;
                let range = max - min;
                Kernel::MinMax {
                    a: reg(0),
                    min,
                    range: if range == 0.0 { 1.0 } else { range },
                    out: cx.push_num(),
                }
            }
            "bucketize" => {
                let arr = op.array("boundaries")?;
                let mut bounds = Vec::with_capacity(arr.len());
                for (k, bv) in arr.iter().enumerate() {
                    let b = bv.as_f64().ok_or_else(|| {
                        op.err(format!(
                            "boundaries[{k}] must be a number, got {}",
                            show(bv)
                        ))
                    })?;
                    if let Some(&prev) = bounds.last() {
                        if b <= prev {
                            return Err(op.err(format!(
                                "boundaries must be strictly ascending, but boundaries[{k}] = {b} follows {prev}"
                            )));
                        }
                    }
                    bounds.push(b);
                }
                Kernel::Bucketize {
                    a: reg(0),
                    bounds: bounds.into_boxed_slice(),
                    out: cx.push_num(),
                }
            }
            "one_hot" => {
                let arr = op.array("categories")?;
                let mut index: HashMap<Box<[u8]>, u32> = HashMap::with_capacity(arr.len());
                for (k, cv) in arr.iter().enumerate() {
                    let c = cv.as_str().ok_or_else(|| {
                        op.err(format!(
                            "categories[{k}] must be a string, got {}",
                            show(cv)
                        ))
                    })?;
                    let key: Box<[u8]> = c.as_bytes().into();
                    if let Some(first) = index.get(&key) {
                        return Err(op.err(format!(
                            "categories must be distinct, but categories[{k}] repeats categories[{first}] ({})",
                            json_str(c)
                        )));
                    }
                    let k32 = u32::try_from(k).map_err(|_| op.err("too many categories"))?;
                    index.insert(key, k32);
                }
                let k = u32::try_from(arr.len()).map_err(|_| op.err("too many categories"))?;
                let s = sloc(0);
                let out = cx.push_num();
                for _ in 0..k {
                    cx.push_num();
                }
                let entry = cx.num_entries;
                cx.num_entries += 1;
                Kernel::StrMap {
                    s,
                    f: StrFn::OneHot { index, k },
                    entry,
                    out,
                }
            }
            "hash_bucket" => {
                let nv = op.param("n")?;
                let n = match as_index(nv) {
                    Some(n) if (1..=u32::MAX as usize).contains(&n) => n as u64,
                    _ => {
                        return Err(op.err(format!(
                            "parameter \"n\" must be an integer from 1 to 2^32-1, got {}",
                            show(nv)
                        )))
                    }
                };
                let entry = cx.num_entries;
                cx.num_entries += 1;
                Kernel::StrMap {
                    s: sloc(0),
                    f: StrFn::HashBucket { n },
                    entry,
                    out: cx.push_num(),
                }
            }
            "str_eq" => {
                let value: Box<[u8]> = op.string("value")?.as_bytes().into();
                let entry = cx.num_entries;
                cx.num_entries += 1;
                Kernel::StrMap {
                    s: sloc(0),
                    f: StrFn::StrEq { value },
                    entry,
                    out: cx.push_num(),
                }
            }
            "lower" => {
                let s = sloc(0);
                let out = cx.push_str(s.root);
                Kernel::Lower {
                    s,
                    out_table: out.table,
                }
            }
            _ => return Err(op.err("unknown op")),
        };
        kernels.push(kernel);
    }

    let mut outputs = Vec::with_capacity(outputs_v.len());
    for (j, ov) in outputs_v.iter().enumerate() {
        let slot = as_index(ov).ok_or_else(|| {
            PlanError::invalid(format!(
                "output {j}: must be a slot index (a non-negative integer), got {}",
                show(ov)
            ))
        })?;
        let s = cx.slots.get(slot).ok_or_else(|| {
            PlanError::invalid(format!(
                "output {j} refers to slot {slot}, but {}",
                cx.defined()
            ))
        })?;
        match s.loc {
            Loc::Num(r) => outputs.push(r),
            Loc::Str(_) => {
                return Err(PlanError::invalid(format!(
                    "output {j} refers to slot {slot}, a str slot; outputs must be num slots"
                )))
            }
        }
    }

    // Optional output names: distinct strings, one per output (the executor does not use them).
    if let Some(names) = plan.get("output_names") {
        let ok = match names {
            Value::Array(a) => {
                a.len() == outputs_v.len()
                    && a.iter().all(Value::is_string)
                    && a.iter().collect::<std::collections::HashSet<_>>().len() == a.len()
            }
            _ => false,
        };
        if !ok {
            return Err(PlanError::invalid(format!(
                "plan.output_names must be {} distinct string{}, one per output, got {}",
                outputs_v.len(),
                plural(outputs_v.len()),
                show(names)
            )));
        }
    }

    Ok(PlanSpec {
        inputs,
        input_locs,
        str_inputs,
        kernels,
        outputs,
        num_regs: cx.num_regs,
        num_tables: cx.num_tables,
        num_entries: cx.num_entries,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
