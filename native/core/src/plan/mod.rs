//! Parsing and validation of a plan (docs/plan-format.md) into a compiled program over registers.
//!
//! Numeric slots live in registers (one `CHUNK`-long f64 lane each, numbered in slot order, so an
//! op's result register is always above its argument registers). String slots never reach a
//! register: a string slot is a table of distinct strings plus, per row, a code into it. `lower`
//! keeps the codes of its argument and maps the table entry by entry, so every string slot shares
//! the codes of the string input it derives from (its *root*).
//!
//! Its parts: the plan-level structure (format, version, inputs, outputs: `compile`), each op's
//! arguments and parameters (`ops`), and the JSON reading and message helpers both use (`json`).

mod compile;
mod json;
mod ops;

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{PlanError, Result};
use compile::compile_value;
use json::json_str;

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
