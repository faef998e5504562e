//! fresco-core: Fresco's feature-plan executor, in pure Rust (no Node dependency).
//!
//! A plan (docs/plan-format.md) is parsed and validated once into a [`Plan`], which owns its
//! scratch: a register file of `CHUNK` f64 lanes per numeric slot, string tables and per-entry
//! values. [`Plan::run`] (a batch of columns) and [`Plan::run_row`] (one row, the online path)
//! both go through the same chunk executor; string ops are computed once per distinct string
//! (dictionary entry), never once per row.

mod error;
mod exec;
pub mod online;
mod plan;

pub use error::{ErrorCode, PlanError, Result};
pub use exec::{assemble_columns, fnv1a32, Column, ColumnData, Plan, CHUNK};
pub use plan::{parse_plan, Input, PlanSpec, SlotType, PLAN_FORMAT, PLAN_VERSION};

/// The ABI version of the native addon; src/native.ts refuses an addon built with another one.
/// Bump it whenever the binding's JavaScript-facing surface or the plan semantics change.
pub const ABI_VERSION: u32 = 2;

#[cfg(test)]
mod tests;
