//! The executor: input validation, string preparation (once per distinct string), and the chunk
//! loop shared by batch runs and single rows.

use std::collections::HashMap;

use crate::error::{PlanError, Result};
use crate::plan::{parse_plan, BinOp, Kernel, Loc, PlanSpec, StrFn, UnOp};

/// Rows per chunk: each numeric slot is a `CHUNK`-long f64 lane of the register file.
pub const CHUNK: usize = 1024;

const DAY_MS: f64 = 86_400_000.0;
const WEEK_MS: f64 = 7.0 * DAY_MS;

/// One input column. All slices borrow the caller's memory; nothing is copied up front.
#[derive(Debug, Clone, Copy)]
pub enum ColumnData<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    /// 0/1, any non-zero is true.
    Bool(&'a [u8]),
    /// `codes` into `dictionary`; a negative code is null.
    Dict {
        codes: &'a [i32],
        dictionary: &'a [String],
    },
    /// Arrow-style string column: row `i` is `data[offsets[i]..offsets[i + 1]]`.
    Utf8 {
        offsets: &'a [i32],
        data: &'a [u8],
    },
}

impl ColumnData<'_> {
    pub fn kind(&self) -> &'static str {
        match self {
            ColumnData::F64(_) => "f64",
            ColumnData::F32(_) => "f32",
            ColumnData::I32(_) => "i32",
            ColumnData::I64(_) => "i64",
            ColumnData::Bool(_) => "bool",
            ColumnData::Dict { .. } => "dict",
            ColumnData::Utf8 { .. } => "utf8",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    pub data: ColumnData<'a>,
    /// Optional Arrow-style validity bitmap (bit `i % 8` of byte `i >> 3`, least significant first).
    pub validity: Option<&'a [u8]>,
}

impl<'a> Column<'a> {
    pub fn new(data: ColumnData<'a>) -> Self {
        Column {
            data,
            validity: None,
        }
    }
    pub fn with_validity(data: ColumnData<'a>, validity: &'a [u8]) -> Self {
        Column {
            data,
            validity: Some(validity),
        }
    }
}

#[inline(always)]
fn bit(bits: &[u8], i: usize) -> bool {
    (bits[i >> 3] >> (i & 7)) & 1 == 1
}

/// Distinct strings of one string slot, packed: entry `i` is `bytes[ends[i-1]..ends[i]]`.
#[derive(Debug, Default, Clone)]
struct StrTable {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl StrTable {
    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }
    fn push(&mut self, s: &[u8]) {
        self.bytes.extend_from_slice(s);
        self.ends.push(self.bytes.len());
    }
    fn len(&self) -> usize {
        self.ends.len()
    }
    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }
}

/// 32-bit FNV-1a of `bytes`.
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for &b in bytes {
        h ^= b as u32;
        h = h.wrapping_mul(16_777_619);
    }
    h
}

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

    /// Validates column `i` against its input and `rows`; for a string input, fills its table
    /// and codes.
    fn check_column(&mut self, i: usize, col: &Column<'_>, rows: usize) -> Result<()> {
        let loc = self.spec.input_locs[i];
        let kind = col.data.kind();
        let len = match (&col.data, loc) {
            (ColumnData::F64(v), Loc::Num(_)) => v.len(),
            (ColumnData::F32(v), Loc::Num(_)) => v.len(),
            (ColumnData::I32(v), Loc::Num(_)) => v.len(),
            (ColumnData::I64(v), Loc::Num(_)) => v.len(),
            (ColumnData::Bool(v), Loc::Num(_)) => v.len(),
            (ColumnData::Dict { codes, .. }, Loc::Str(_)) => codes.len(),
            (ColumnData::Utf8 { offsets, .. }, Loc::Str(_)) => {
                if offsets.len() != rows + 1 {
                    return Err(self.input_err(
                        i,
                        format!(
                            "utf8 offsets has {} entries, expected rows + 1 = {}",
                            offsets.len(),
                            rows + 1
                        ),
                    ));
                }
                rows
            }
            (_, Loc::Num(_)) => {
                return Err(self.input_err(
                    i,
                    format!("a num input takes an f64, f32, i32, i64 or bool column, got {kind}"),
                ))
            }
            (_, Loc::Str(_)) => {
                return Err(self.input_err(
                    i,
                    format!("a str input takes a dict or utf8 column, got {kind}"),
                ))
            }
        };
        if len != rows {
            let what = if matches!(col.data, ColumnData::Dict { .. }) {
                "codes"
            } else {
                "values"
            };
            return Err(self.input_err(
                i,
                format!("{kind} {what} has {len} entries, but rows is {rows}"),
            ));
        }
        if let Some(bits) = col.validity {
            let need = rows.div_ceil(8);
            if bits.len() < need {
                return Err(self.input_err(
                    i,
                    format!(
                        "validity bitmap has {} bytes, but {} rows need {}",
                        bits.len(),
                        rows,
                        need
                    ),
                ));
            }
        }
        let s = match loc {
            Loc::Num(_) => return Ok(()),
            Loc::Str(s) => s,
        };

        let mut codes = std::mem::take(&mut self.codes[s.root]);
        let mut table = std::mem::take(&mut self.tables[s.table]);
        codes.clear();
        table.clear();
        let result = fill_strings(col, rows, &mut codes, &mut table);
        self.codes[s.root] = codes;
        self.tables[s.table] = table;
        result.map_err(|msg| self.input_err(i, msg))
    }

    /// Derives the tables of `lower` slots and the per-entry values of string ops, in op order.
    fn prepare_strings(&mut self) {
        if self.spec.num_tables == 0 {
            return;
        }
        for kernel in &self.spec.kernels {
            match kernel {
                Kernel::Lower { s, out_table } => {
                    // out_table > s.table (tables are numbered in slot order).
                    let (lo, hi) = self.tables.split_at_mut(*out_table);
                    let src = &lo[s.table];
                    let dst = &mut hi[0];
                    dst.clear();
                    dst.bytes.reserve(src.bytes.len());
                    dst.bytes
                        .extend(src.bytes.iter().map(u8::to_ascii_lowercase));
                    dst.ends.extend_from_slice(&src.ends);
                }
                Kernel::StrMap { s, f, entry, .. } => {
                    let table = &self.tables[s.table];
                    let vals = &mut self.entries[*entry];
                    vals.clear();
                    vals.reserve(table.len());
                    match f {
                        StrFn::OneHot { index, k } => vals.extend(
                            (0..table.len()).map(|e| *index.get(table.get(e)).unwrap_or(k) as f64),
                        ),
                        StrFn::HashBucket { n } => vals.extend(
                            (0..table.len()).map(|e| (fnv1a32(table.get(e)) as u64 % *n) as f64),
                        ),
                        StrFn::StrEq { value } => vals.extend((0..table.len()).map(|e| {
                            if table.get(e) == &value[..] {
                                1.0
                            } else {
                                0.0
                            }
                        })),
                    }
                }
                _ => {}
            }
        }
    }
}

/// Fills `codes` (one per row, -1 = null) and `table` from a string column; the message of an
/// error names no input (the caller adds it).
fn fill_strings(
    col: &Column<'_>,
    rows: usize,
    codes: &mut Vec<i32>,
    table: &mut StrTable,
) -> std::result::Result<(), String> {
    let valid = |r: usize| col.validity.is_none_or(|b| bit(b, r));
    codes.reserve(rows);
    match col.data {
        ColumnData::Dict {
            codes: src,
            dictionary,
        } => {
            let dict_len = dictionary.len();
            for (r, &c) in src.iter().enumerate() {
                if c < 0 || !valid(r) {
                    codes.push(-1);
                } else if c as usize >= dict_len {
                    return Err(format!(
                        "dict code {c} at row {r} is past the dictionary ({dict_len} entr{})",
                        if dict_len == 1 { "y" } else { "ies" }
                    ));
                } else {
                    codes.push(c);
                }
            }
            for s in dictionary {
                table.push(s.as_bytes());
            }
        }
        ColumnData::Utf8 { offsets, data } => {
            if offsets[0] < 0 {
                return Err(format!(
                    "utf8 offsets[0] is {}, must not be negative",
                    offsets[0]
                ));
            }
            let mut seen: HashMap<&[u8], i32> = HashMap::new();
            for r in 0..rows {
                let (a, b) = (offsets[r], offsets[r + 1]);
                if b < a {
                    return Err(format!(
                        "utf8 offsets are not monotonic: offsets[{}] = {b} < offsets[{r}] = {a}",
                        r + 1
                    ));
                }
                if b as usize > data.len() {
                    return Err(format!(
                        "utf8 offsets[{}] = {b} is past the end of data ({} bytes)",
                        r + 1,
                        data.len()
                    ));
                }
                if !valid(r) {
                    codes.push(-1);
                    continue;
                }
                let s = &data[a as usize..b as usize];
                let code = match seen.get(s) {
                    Some(&c) => c,
                    None => {
                        if let Err(e) = std::str::from_utf8(s) {
                            return Err(format!("row {r} is not valid UTF-8 ({e})"));
                        }
                        let c = i32::try_from(table.len())
                            .map_err(|_| "too many distinct strings".to_owned())?;
                        table.push(s);
                        seen.insert(s, c);
                        c
                    }
                };
                codes.push(code);
            }
        }
        _ => unreachable!("kinds were checked"),
    }
    Ok(())
}

/// Copies rows `base..base + dst.len()` of a numeric column into a register lane, as f64, with
/// nulls (validity bit 0) as NaN.
fn fill_numeric(col: &Column<'_>, base: usize, dst: &mut [f64]) {
    let n = dst.len();
    match col.data {
        ColumnData::F64(v) => dst.copy_from_slice(&v[base..base + n]),
        ColumnData::F32(v) => dst
            .iter_mut()
            .zip(&v[base..base + n])
            .for_each(|(d, &s)| *d = s as f64),
        ColumnData::I32(v) => dst
            .iter_mut()
            .zip(&v[base..base + n])
            .for_each(|(d, &s)| *d = s as f64),
        ColumnData::I64(v) => dst
            .iter_mut()
            .zip(&v[base..base + n])
            .for_each(|(d, &s)| *d = s as f64),
        ColumnData::Bool(v) => dst
            .iter_mut()
            .zip(&v[base..base + n])
            .for_each(|(d, &s)| *d = bit01(s != 0)),
        ColumnData::Dict { .. } | ColumnData::Utf8 { .. } => {
            unreachable!("string columns have no register")
        }
    }
    if let Some(bits) = col.validity {
        for (i, d) in dst.iter_mut().enumerate() {
            *d = sel(bit(bits, base + i), *d, f64::NAN);
        }
    }
}

/// Writes `n` rows of the output registers into `out` (row-major, `n x outputs`), as f32 with
/// NaN canonical: first each lane to f32 in `stage` (contiguous, vectorized), then interleaved.
fn write_outputs(
    outputs: &[usize],
    regs: &[f64],
    st: usize,
    stage: &mut [f32],
    n: usize,
    out: &mut [f32],
) {
    let m = outputs.len();
    if m == 0 {
        return;
    }
    if n < 8 {
        // A few rows (the single-row path): direct, no vector set-up per lane.
        for (i, row) in out[..n * m].chunks_exact_mut(m).enumerate() {
            for (o, &r) in row.iter_mut().zip(outputs) {
                let f = regs[r * st + i] as f32;
                *o = if f.is_nan() { f32::NAN } else { f };
            }
        }
        return;
    }
    for (j, &r) in outputs.iter().enumerate() {
        let lane = &regs[r * st..r * st + n];
        let dst = &mut stage[j * CHUNK..j * CHUNK + n];
        for i in 0..n {
            let f = lane[i] as f32;
            // Canonical NaN, branch-free.
            let mask = (f.is_nan() as u32).wrapping_neg();
            dst[i] = f32::from_bits((f32::NAN.to_bits() & mask) | (f.to_bits() & !mask));
        }
    }
    let out = &mut out[..n * m];
    if m == 1 {
        out.copy_from_slice(&stage[..n]);
        return;
    }
    for j in 0..m {
        let lane = &stage[j * CHUNK..j * CHUNK + n];
        for i in 0..n {
            out[i * m + j] = lane[i];
        }
    }
}

/// `if m { a } else { b }` without a branch (kernels run over unpredictable data; this keeps
/// them branch-free and vectorizable).
#[inline(always)]
fn sel(m: bool, a: f64, b: f64) -> f64 {
    let mask = (m as u64).wrapping_neg();
    f64::from_bits((a.to_bits() & mask) | (b.to_bits() & !mask))
}

#[inline(always)]
fn bit01(m: bool) -> f64 {
    sel(m, 1.0, 0.0)
}

#[inline(always)]
fn truthy(x: f64) -> bool {
    // NaN != 0 is true, so check NaN explicitly (non-short-circuit `&`: no branch).
    (x != 0.0) & !x.is_nan()
}

#[inline(always)]
fn cmp(a: f64, b: f64, r: bool) -> f64 {
    sel(a.is_nan() | b.is_nan(), f64::NAN, bit01(r))
}

/// JavaScript's `Date` range: beyond it `hour` and `day_of_week` are null (docs/plan-format.md).
const MAX_TS: f64 = 8.64e15;

/// `floor(t) mod m` (a floor-mod, in `0..m`) for |t| <= 8.64e15 (so it fits an i64 exactly).
#[inline(always)]
fn floor_mod(t: f64, m: i64) -> i64 {
    // floor without a libm call (SSE2 has no round instruction): truncate, and step down
    // where truncation went up (negative non-integers).
    let mut i = t as i64;
    if (i as f64) > t {
        i -= 1;
    }
    i.rem_euclid(m)
}

/// Scalar `hour` (the kernel's path for values the f64 fast path does not take).
#[inline(always)]
fn hour(ts: f64) -> f64 {
    if !(ts.abs() <= MAX_TS) {
        return f64::NAN;
    }
    (floor_mod(ts, DAY_MS as i64) / 3_600_000) as f64
}

/// Scalar `day_of_week`: 0 = Monday; 1970-01-01 (day 0) was a Thursday (3).
#[inline(always)]
fn day_of_week(ts: f64) -> f64 {
    if !(ts.abs() <= MAX_TS) {
        return f64::NAN;
    }
    // floor(t / day) mod 7 == floor((t mod week) / day).
    let days_in_week = floor_mod(ts, WEEK_MS as i64) / DAY_MS as i64;
    ((days_in_week + 3) % 7) as f64
}

/// Below this magnitude `floor` and the floor-mods are done in f64 (exact there, branch-free
/// and vectorizable); beyond it, and for non-finite values, [`hour`] / [`day_of_week`] are used.
const TIME_FAST: f64 = 2_251_799_813_685_248.0; // 2^51
/// Adding and subtracting 1.5 * 2^52 rounds any |x| < 2^51 to an integer (the ulp there is 1).
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

#[inline(always)]
fn floor_small(x: f64) -> f64 {
    let r = (x + ROUND_MAGIC) - ROUND_MAGIC;
    r - bit01(r > x)
}

/// `(floor(x / m), x mod m)` (floor division) for an integral |x| < 2^51 and an integral
/// `m > 0`, in f64 without a division: the quotient from the reciprocal is off by at most one,
/// and the exact remainder (every intermediate is an integer below 2^53) tells which way.
#[inline(always)]
fn divmod_small(x: f64, m: f64, inv_m: f64) -> (f64, f64) {
    let q = floor_small(x * inv_m);
    let r = x - q * m;
    let (q, r) = (sel(r < 0.0, q - 1.0, q), sel(r < 0.0, r + m, r));
    (sel(r >= m, q + 1.0, q), sel(r >= m, r - m, r))
}

/// Whether `t` takes the f64 path (false for NaN and infinities too).
#[inline(always)]
fn is_fast_time(t: f64) -> bool {
    t.abs() < TIME_FAST
}

fn time_kernel(x: &[f64], o: &mut [f64], dow: bool) {
    let n = x.len().min(o.len());
    let (x, o) = (&x[..n], &mut o[..n]);
    let mut slow = false;
    if dow {
        for i in 0..n {
            slow |= !is_fast_time(x[i]);
            let (_, in_week) = divmod_small(floor_small(x[i]), WEEK_MS, 1.0 / WEEK_MS);
            let (d, _) = divmod_small(in_week, DAY_MS, 1.0 / DAY_MS);
            o[i] = sel(d >= 4.0, d - 4.0, d + 3.0);
        }
    } else {
        for i in 0..n {
            slow |= !is_fast_time(x[i]);
            let (_, in_day) = divmod_small(floor_small(x[i]), DAY_MS, 1.0 / DAY_MS);
            o[i] = divmod_small(in_day, 3_600_000.0, 1.0 / 3_600_000.0).0;
        }
    }
    if slow {
        for i in 0..n {
            if !is_fast_time(x[i]) {
                o[i] = if dow { day_of_week(x[i]) } else { hour(x[i]) };
            }
        }
    }
}

#[inline(always)]
fn map1(regs: &mut [f64], st: usize, a: usize, out: usize, n: usize, f: impl Fn(f64) -> f64) {
    debug_assert!(a < out);
    let (lo, hi) = regs.split_at_mut(out * st);
    if n == 1 {
        // The single-row path: skip the vector loop's set-up.
        hi[0] = f(lo[a * st]);
        return;
    }
    let a = &lo[a * st..a * st + n];
    let o = &mut hi[..n];
    for i in 0..n {
        o[i] = f(a[i]);
    }
}

#[inline(always)]
fn map2(
    regs: &mut [f64],
    st: usize,
    a: usize,
    b: usize,
    out: usize,
    n: usize,
    f: impl Fn(f64, f64) -> f64,
) {
    debug_assert!(a < out && b < out);
    let (lo, hi) = regs.split_at_mut(out * st);
    if n == 1 {
        hi[0] = f(lo[a * st], lo[b * st]);
        return;
    }
    let a = &lo[a * st..a * st + n];
    let b = &lo[b * st..b * st + n];
    let o = &mut hi[..n];
    for i in 0..n {
        o[i] = f(a[i], b[i]);
    }
}

fn bin(op: BinOp, regs: &mut [f64], st: usize, a: usize, b: usize, out: usize, n: usize) {
    match op {
        BinOp::Add => map2(regs, st, a, b, out, n, |x, y| x + y),
        BinOp::Sub => map2(regs, st, a, b, out, n, |x, y| x - y),
        BinOp::Mul => map2(regs, st, a, b, out, n, |x, y| x * y),
        BinOp::Div => map2(regs, st, a, b, out, n, |x, y| {
            sel(y == 0.0, f64::NAN, x / y)
        }),
        BinOp::Eq => map2(regs, st, a, b, out, n, |x, y| cmp(x, y, x == y)),
        BinOp::Ne => map2(regs, st, a, b, out, n, |x, y| cmp(x, y, x != y)),
        BinOp::Lt => map2(regs, st, a, b, out, n, |x, y| cmp(x, y, x < y)),
        BinOp::Le => map2(regs, st, a, b, out, n, |x, y| cmp(x, y, x <= y)),
        BinOp::Gt => map2(regs, st, a, b, out, n, |x, y| cmp(x, y, x > y)),
        BinOp::Ge => map2(regs, st, a, b, out, n, |x, y| cmp(x, y, x >= y)),
        BinOp::And => map2(regs, st, a, b, out, n, |x, y| {
            sel(
                (x == 0.0) | (y == 0.0),
                0.0,
                sel(x.is_nan() | y.is_nan(), f64::NAN, 1.0),
            )
        }),
        BinOp::Or => map2(regs, st, a, b, out, n, |x, y| {
            sel(
                truthy(x) | truthy(y),
                1.0,
                sel(x.is_nan() | y.is_nan(), f64::NAN, 0.0),
            )
        }),
        BinOp::Coalesce => map2(regs, st, a, b, out, n, |x, y| sel(x.is_nan(), y, x)),
        BinOp::DaysBetween => map2(regs, st, a, b, out, n, |t1, t2| (t2 - t1) / DAY_MS),
    }
}

fn un(op: UnOp, regs: &mut [f64], st: usize, a: usize, out: usize, n: usize) {
    match op {
        UnOp::Neg => map1(regs, st, a, out, n, |x| -x),
        UnOp::Abs => map1(regs, st, a, out, n, f64::abs),
        UnOp::Not => map1(regs, st, a, out, n, |x| {
            sel(x.is_nan(), f64::NAN, bit01(x == 0.0))
        }),
        UnOp::IsNull => map1(regs, st, a, out, n, |x| bit01(x.is_nan())),
        UnOp::Log1p => map1(regs, st, a, out, n, f64::ln_1p),
        UnOp::Hour | UnOp::DayOfWeek => {
            let (lo, hi) = regs.split_at_mut(out * st);
            time_kernel(&lo[a * st..a * st + n], &mut hi[..n], op == UnOp::DayOfWeek)
        }
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
            Kernel::Bin { op, a, b, out } => bin(*op, regs, st, *a, *b, *out, n),
            Kernel::Un { op, a, out } => un(*op, regs, st, *a, *out, n),
            Kernel::If { c, a, b, out } => {
                let (lo, hi) = regs.split_at_mut(out * st);
                let c = &lo[c * st..c * st + n];
                let a = &lo[a * st..a * st + n];
                let b = &lo[b * st..b * st + n];
                let o = &mut hi[..n];
                for i in 0..n {
                    o[i] = sel(truthy(c[i]), a[i], b[i]);
                }
            }
            Kernel::FillNull { a, v, out } => {
                let v = *v;
                map1(regs, st, *a, *out, n, |x| sel(x.is_nan(), v, x))
            }
            Kernel::Clip { a, lo, hi, out } => {
                let (lo, hi) = (*lo, *hi);
                // NaN compares false both ways, so null stays null.
                map1(regs, st, *a, *out, n, |x| {
                    sel(x < lo, lo, sel(x > hi, hi, x))
                })
            }
            Kernel::Standardize { a, mean, std, out } => {
                let (mean, std) = (*mean, *std);
                map1(regs, st, *a, *out, n, |x| (x - mean) / std)
            }
            Kernel::MinMax { a, min, range, out } => {
                let (min, range) = (*min, *range);
                map1(regs, st, *a, *out, n, |x| (x - min) / range)
            }
            Kernel::Bucketize { a, bounds, out } => {
                let (lo, hi) = regs.split_at_mut(out * st);
                let x = &lo[a * st..a * st + n];
                let o = &mut hi[..n];
                if bounds.len() <= 32 {
                    // One pass per boundary, each a branch-free, vectorizable compare-and-add.
                    o.fill(0.0);
                    for &b in bounds.iter() {
                        for (o, &x) in o.iter_mut().zip(x) {
                            *o += bit01(b <= x);
                        }
                    }
                    for (o, &x) in o.iter_mut().zip(x) {
                        *o = sel(x.is_nan(), f64::NAN, *o);
                    }
                } else {
                    for (o, &x) in o.iter_mut().zip(x) {
                        *o = if x.is_nan() {
                            f64::NAN
                        } else {
                            bounds.partition_point(|&b| b <= x) as f64
                        };
                    }
                }
            }
            Kernel::StrMap { s, f, entry, out } => {
                let codes = &codes[s.root][base..base + n];
                let vals = &entries[*entry][..];
                match f {
                    StrFn::OneHot { k, .. } => {
                        let width = *k as usize + 1;
                        for lane in 0..width {
                            regs[(out + lane) * st..(out + lane) * st + n].fill(0.0);
                        }
                        for (i, &c) in codes.iter().enumerate() {
                            if c >= 0 {
                                let slot = vals[c as usize] as usize;
                                regs[(out + slot) * st + i] = 1.0;
                            }
                        }
                    }
                    StrFn::HashBucket { .. } | StrFn::StrEq { .. } => {
                        let o = &mut regs[out * st..out * st + n];
                        for (o, &c) in o.iter_mut().zip(codes) {
                            *o = if c < 0 { f64::NAN } else { vals[c as usize] };
                        }
                    }
                }
            }
            Kernel::Lower { .. } => {}
        }
    }
}

/// Interleaves f32 columns (each `rows` long) into a row-major `rows x columns.len()` matrix.
/// Errors (`FRESCO_ERR_PLAN_INPUT`) when a column or `out` has the wrong length.
pub fn assemble_columns(columns: &[&[f32]], rows: usize, out: &mut [f32]) -> Result<()> {
    let m = columns.len();
    for (j, c) in columns.iter().enumerate() {
        if c.len() != rows {
            return Err(PlanError::input(format!(
                "column {j} has {} values, but rows is {rows}",
                c.len()
            )));
        }
    }
    let want = rows
        .checked_mul(m)
        .ok_or_else(|| PlanError::input("rows x columns overflows"))?;
    if out.len() != want {
        return Err(PlanError::input(format!(
            "output buffer has {} floats, expected rows x columns = {rows} x {m} = {want}",
            out.len()
        )));
    }
    if m == 0 {
        return Ok(());
    }
    // Tiles of TILE rows: each column contributes a short contiguous read, each output row a
    // contiguous write, and the tile stays in L1.
    const TILE: usize = 64;
    let mut r0 = 0;
    while r0 < rows {
        let t = TILE.min(rows - r0);
        let block = &mut out[r0 * m..(r0 + t) * m];
        for (j, c) in columns.iter().enumerate() {
            let src = &c[r0..r0 + t];
            for (i, &v) in src.iter().enumerate() {
                block[i * m + j] = v;
            }
        }
        r0 += t;
    }
    Ok(())
}

#[cfg(test)]
mod time_tests {
    use super::*;

    /// The definition, in i128 (exact for any |t| < 2^100).
    fn reference(ts: f64) -> (f64, f64) {
        if !(ts.abs() <= 8.64e15) {
            return (f64::NAN, f64::NAN);
        }
        let t = ts.floor() as i128;
        let day = 86_400_000i128;
        let hour = t.rem_euclid(day) / 3_600_000;
        let dow = (t.div_euclid(day) + 3).rem_euclid(7);
        (hour as f64, dow as f64)
    }

    #[test]
    fn fast_and_slow_paths_match_the_definition() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1e-300,
            -1e-300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut st = 0x2545_F491_4F6C_DD1Du64;
        for k in -30i64..=30 {
            for base in [DAY_MS, WEEK_MS, 3_600_000.0] {
                let c = k as f64 * base;
                values.extend([
                    c,
                    c - 1.0,
                    c + 1.0,
                    c - 0.25,
                    c + 0.75,
                    c * 1e6,
                    c * 1e6 - 1.0,
                    c * 1e9 + 0.5,
                ]);
            }
        }
        for scale in [
            1e3, 1e9, 1.7e12, 1e13, 1e15, 2.2e15, 2.3e15, 4e15, 9e15, 1e16, 1e17, 9.1e18, 9.3e18,
            1e19, 1e25,
        ] {
            for _ in 0..200 {
                st ^= st << 13;
                st ^= st >> 7;
                st ^= st << 17;
                let u = (st >> 11) as f64 / (1u64 << 53) as f64;
                values.push((u * 2.0 - 1.0) * scale);
            }
        }
        values.extend([
            TIME_FAST,
            -TIME_FAST,
            TIME_FAST - 1.0,
            -TIME_FAST + 0.5,
            MAX_TS,
            -MAX_TS,
            MAX_TS - 0.5,
            -MAX_TS + 1.0,
            8.640000000000001e15,
            -8.640000000000001e15,
        ]);
        let mut h = vec![0.0; values.len()];
        let mut d = vec![0.0; values.len()];
        time_kernel(&values, &mut h, false);
        time_kernel(&values, &mut d, true);
        for (i, &v) in values.iter().enumerate() {
            let (rh, rd) = reference(v);
            if v.abs() < 1e30 {
                assert!(
                    h[i].to_bits() == rh.to_bits() || (h[i].is_nan() && rh.is_nan()),
                    "hour({v}) = {}, want {rh}",
                    h[i]
                );
                assert!(
                    d[i].to_bits() == rd.to_bits() || (d[i].is_nan() && rd.is_nan()),
                    "dow({v}) = {}, want {rd}",
                    d[i]
                );
                assert!(
                    hour(v).to_bits() == rh.to_bits() || rh.is_nan(),
                    "scalar hour({v})"
                );
                assert!(
                    day_of_week(v).to_bits() == rd.to_bits() || rd.is_nan(),
                    "scalar dow({v})"
                );
            }
        }
    }
}
