//! The executor: a compiled [`Plan`] with its scratch, and the chunk loop shared by batch runs
//! and single rows. Its parts: input columns and their validation (`input`), dictionary-level
//! string ops (`strings`), numeric kernels (`numeric`, `transforms`, `time`, `log1p`) and the row-major
//! output matrix (`matrix`).

mod input;
mod log1p;
mod matrix;
mod numeric;
mod strings;
mod time;
mod transforms;

pub use input::{Column, ColumnData};
pub use matrix::assemble_columns;
pub use strings::fnv1a32;

use crate::error::{PlanError, Result};
use crate::plan::{parse_plan, Kernel, Loc, PlanSpec};
use input::fill_numeric;
use matrix::write_outputs;
use strings::StrTable;

/// Rows per chunk: each numeric slot is a `CHUNK`-long f64 lane of the register file.
pub const CHUNK: usize = 1024;

/// A compiled plan with its scratch (register file, string tables, per-entry values). Not
/// `Sync`: one run at a time (`&mut self`); compile one per thread if needed.
#[derive(Debug, Clone)]
pub struct Plan {
    spec: PlanSpec,
    regs: Vec<f64>,
    /// f32 staging lanes for the outputs (outputs x CHUNK).
    stage: Vec<f32>,
    tables: Vec<StrTable>,
    /// Per string input: one code per row (-1 = null), into that input's table.
    codes: Vec<Vec<i32>>,
    /// Per string op: its value for each entry of its argument's table.
    entries: Vec<Vec<f64>>,
}

/// Codes buffers above this many entries are released after a batch run.
const KEEP_CODES: usize = 1 << 20;

impl Plan {
    /// Parses, validates and compiles plan JSON. Errors: `FRESCO_ERR_PLAN_INVALID`.
    pub fn compile(json: &str) -> Result<Plan> {
        Ok(Plan::from_spec(parse_plan(json)?))
    }

    pub fn from_spec(spec: PlanSpec) -> Plan {
        let regs = vec![0.0; spec.num_regs * CHUNK];
        let stage = vec![0.0; spec.outputs.len() * CHUNK];
        let tables = vec![StrTable::default(); spec.num_tables];
        let codes = vec![Vec::new(); spec.str_inputs.len()];
        let entries = vec![Vec::new(); spec.num_entries];
        Plan {
            spec,
            regs,
            stage,
            tables,
            codes,
            entries,
        }
    }

    /// Bytes of scratch held by this plan (register file and staging), for GC hints.
    pub fn scratch_bytes(&self) -> usize {
        self.regs.len() * 8 + self.stage.len() * 4
    }

    pub fn spec(&self) -> &PlanSpec {
        &self.spec
    }
    pub fn input_count(&self) -> usize {
        self.spec.input_count()
    }
    pub fn output_count(&self) -> usize {
        self.spec.output_count()
    }

    fn input_err(&self, index: usize, msg: impl std::fmt::Display) -> PlanError {
        PlanError::input(format!("{}: {}", self.spec.input_label(index), msg))
    }

    /// Runs the plan over `rows` rows of `columns` (one per input), writing the row-major
    /// `rows x outputs` matrix into `out`. Every input is validated before anything is written.
    pub fn run(&mut self, columns: &[Column<'_>], rows: usize, out: &mut [f32]) -> Result<()> {
        let n_in = self.spec.inputs.len();
        if columns.len() != n_in {
            let detail = if columns.len() < n_in {
                format!("; {} has no column", self.spec.input_label(columns.len()))
            } else {
                String::new()
            };
            return Err(PlanError::input(format!(
                "expected {} column{} (one per plan input), got {}{}",
                n_in,
                if n_in == 1 { "" } else { "s" },
                columns.len(),
                detail
            )));
        }
        let m = self.spec.outputs.len();
        let want = rows
            .checked_mul(m)
            .ok_or_else(|| PlanError::input("rows x outputs overflows"))?;
        if out.len() != want {
            return Err(PlanError::input(format!(
                "output buffer has {} floats, expected rows x outputs = {} x {} = {}",
                out.len(),
                rows,
                m,
                want
            )));
        }

        // Validate every input, building string tables and codes on the way.
        for (i, col) in columns.iter().enumerate() {
            self.check_column(i, col, rows)?;
        }
        self.prepare_strings();

        let mut base = 0;
        while base < rows {
            let n = CHUNK.min(rows - base);
            for (i, col) in columns.iter().enumerate() {
                if let Loc::Num(r) = self.spec.input_locs[i] {
                    fill_numeric(col, base, &mut self.regs[r * CHUNK..r * CHUNK + n]);
                }
            }
            execute(
                &self.spec,
                &mut self.regs,
                CHUNK,
                &self.codes,
                &self.entries,
                base,
                n,
            );
            write_outputs(
                &self.spec.outputs,
                &self.regs,
                CHUNK,
                &mut self.stage,
                n,
                &mut out[base * m..(base + n) * m],
            );
            base += n;
        }

        for codes in &mut self.codes {
            if codes.capacity() > KEEP_CODES {
                *codes = Vec::new();
            }
        }
        Ok(())
    }

    /// Convenience for tests and benches: runs into a new vector.
    pub fn run_to_vec(&mut self, columns: &[Column<'_>], rows: usize) -> Result<Vec<f32>> {
        let mut out = vec![0.0f32; rows * self.spec.outputs.len()];
        self.run(columns, rows, &mut out)?;
        Ok(out)
    }

    /// One row: `numeric[i]` is input `i`'s value (NaN = null; ignored for string inputs),
    /// `strings` the string inputs in slot order. Writes `outputs` floats into `out`.
    pub fn run_row(
        &mut self,
        numeric: &[f64],
        strings: &[Option<&str>],
        out: &mut [f32],
    ) -> Result<()> {
        if strings.len() != self.spec.str_inputs.len() {
            return Err(PlanError::input(format!(
                "expected {} string value{} (one per str input), got {}",
                self.spec.str_inputs.len(),
                if self.spec.str_inputs.len() == 1 {
                    ""
                } else {
                    "s"
                },
                strings.len()
            )));
        }
        self.run_row_with(numeric, |k| strings[k].map(str::as_bytes), out)
    }

    /// [`Plan::run_row`] with the string inputs given by a callback (`k`-th string input's
    /// UTF-8 bytes, or `None` for null); the caller guarantees `k < str_input_count`.
    pub fn run_row_with<'s>(
        &mut self,
        numeric: &[f64],
        string_at: impl Fn(usize) -> Option<&'s [u8]>,
        out: &mut [f32],
    ) -> Result<()> {
        let n_in = self.spec.inputs.len();
        if numeric.len() != n_in {
            return Err(PlanError::input(format!(
                "expected {} numeric value{} (one per input slot), got {}",
                n_in,
                if n_in == 1 { "" } else { "s" },
                numeric.len()
            )));
        }
        let m = self.spec.outputs.len();
        if out.len() != m {
            return Err(PlanError::input(format!(
                "output buffer has {} floats, expected {}",
                out.len(),
                m
            )));
        }
        for (i, &loc) in self.spec.input_locs.iter().enumerate() {
            match loc {
                Loc::Num(r) => self.regs[r] = numeric[i],
                Loc::Str(s) => {
                    let table = &mut self.tables[s.table];
                    let codes = &mut self.codes[s.root];
                    table.clear();
                    codes.clear();
                    match string_at(s.root) {
                        Some(bytes) => {
                            table.push(bytes);
                            codes.push(0);
                        }
                        None => codes.push(-1),
                    }
                }
            }
        }
        self.prepare_strings();
        execute(
            &self.spec,
            &mut self.regs,
            1,
            &self.codes,
            &self.entries,
            0,
            1,
        );
        write_outputs(&self.spec.outputs, &self.regs, 1, &mut self.stage, 1, out);
        Ok(())
    }
}

/// Runs every kernel over rows `base..base + n`; input registers are filled. Register `r`'s
/// lane is `regs[r * st..r * st + n]` (`n <= st`): batches use `st = CHUNK`, a single row
/// `st = 1`, so that its registers are adjacent (one cache line per 8, not a page each).
fn execute(
    spec: &PlanSpec,
    regs: &mut [f64],
    st: usize,
    codes: &[Vec<i32>],
    entries: &[Vec<f64>],
    base: usize,
    n: usize,
) {
    for kernel in &spec.kernels {
        match kernel {
            Kernel::Const { out, v } => regs[out * st..out * st + n].fill(*v),
            Kernel::Bin { op, a, b, out } => numeric::bin(*op, regs, st, *a, *b, *out, n),
            Kernel::Un { op, a, out } => numeric::un(*op, regs, st, *a, *out, n),
            Kernel::If { c, a, b, out } => numeric::if_else(regs, st, *c, *a, *b, *out, n),
            Kernel::FillNull { a, v, out } => transforms::fill_null(regs, st, *a, *v, *out, n),
            Kernel::Clip { a, lo, hi, out } => transforms::clip(regs, st, *a, *lo, *hi, *out, n),
            Kernel::Standardize { a, mean, std, out } => {
                transforms::standardize(regs, st, *a, *mean, *std, *out, n)
            }
            Kernel::MinMax { a, min, range, out } => {
                transforms::min_max(regs, st, *a, *min, *range, *out, n)
            }
            Kernel::Bucketize { a, bounds, out } => {
                transforms::bucketize(regs, st, *a, bounds, *out, n)
            }
            Kernel::StrMap { s, f, entry, out } => strings::str_map(
                regs,
                st,
                &codes[s.root][base..base + n],
                &entries[*entry],
                f,
                *out,
                n,
            ),
            // `lower` only derives a table (before the chunk loop); it has no rows to compute.
            Kernel::Lower { .. } => {}
        }
    }
}
