//! Input columns: their kinds, validation against the plan's inputs, and loading them (numeric
//! rows into register lanes, string rows into codes and a table of distinct strings).

use std::collections::HashMap;

use super::numeric::{bit01, sel};
use super::strings::StrTable;
use super::Plan;
use crate::error::Result;
use crate::plan::Loc;

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

impl Plan {
    /// Validates column `i` against its input and `rows`; for a string input, fills its table
    /// and codes.
    pub(super) fn check_column(&mut self, i: usize, col: &Column<'_>, rows: usize) -> Result<()> {
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
pub(super) fn fill_numeric(col: &Column<'_>, base: usize, dst: &mut [f64]) {
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
