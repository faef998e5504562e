//! The plan-level checks (format, version, inputs, outputs, output names) and the slot table
//! that assigns registers and string tables as inputs and ops are read in order.

use serde_json::Value;

use super::json::{as_index, json_str, plural, show, type_name};
use super::ops::compile_op;
use super::{Input, Loc, PlanSpec, SlotType, StrLoc, PLAN_FORMAT, PLAN_VERSION};
use crate::error::{PlanError, Result};

pub(super) struct Slot {
    pub(super) ty: SlotType,
    pub(super) loc: Loc,
}

pub(super) struct Compiler {
    pub(super) slots: Vec<Slot>,
    pub(super) num_regs: usize,
    pub(super) num_tables: usize,
    pub(super) num_entries: usize,
}

impl Compiler {
    pub(super) fn push_num(&mut self) -> usize {
        let reg = self.num_regs;
        self.num_regs += 1;
        self.slots.push(Slot {
            ty: SlotType::Num,
            loc: Loc::Num(reg),
        });
        reg
    }
    pub(super) fn push_str(&mut self, root: usize) -> StrLoc {
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
    pub(super) fn defined(&self) -> String {
        match self.slots.len() {
            0 => "no slots are defined".to_owned(),
            n => format!("only slots 0..{} are defined", n - 1),
        }
    }
}

pub(super) fn compile_value(root: &Value) -> Result<PlanSpec> {
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
        kernels.push(compile_op(index, ov, &mut cx)?);
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
