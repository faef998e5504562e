//! One op: its signature (arity and argument slot types), its arguments resolved to registers
//! or string locations, its parameters checked, and the kernel it compiles to.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::compile::Compiler;
use super::json::{as_index, json_str, plural, show, type_name};
use super::{BinOp, Kernel, Loc, SlotType, StrFn, UnOp};
use crate::error::{PlanError, Result};

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

/// Compiles op `index` (`ov`, its JSON) against the slots defined so far, defining its result
/// slot(s) in `cx`.
pub(super) fn compile_op(index: usize, ov: &Value, cx: &mut Compiler) -> Result<Kernel> {
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
        "add" => bin(BinOp::Add, cx),
        "sub" => bin(BinOp::Sub, cx),
        "mul" => bin(BinOp::Mul, cx),
        "div" => bin(BinOp::Div, cx),
        "eq" => bin(BinOp::Eq, cx),
        "ne" => bin(BinOp::Ne, cx),
        "lt" => bin(BinOp::Lt, cx),
        "le" => bin(BinOp::Le, cx),
        "gt" => bin(BinOp::Gt, cx),
        "ge" => bin(BinOp::Ge, cx),
        "and" => bin(BinOp::And, cx),
        "or" => bin(BinOp::Or, cx),
        "coalesce" => bin(BinOp::Coalesce, cx),
        "days_between" => bin(BinOp::DaysBetween, cx),
        "neg" => un(UnOp::Neg, cx),
        "abs" => un(UnOp::Abs, cx),
        "not" => un(UnOp::Not, cx),
        "is_null" => un(UnOp::IsNull, cx),
        "log1p" => un(UnOp::Log1p, cx),
        "hour" => un(UnOp::Hour, cx),
        "day_of_week" => un(UnOp::DayOfWeek, cx),
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
    Ok(kernel)
}
