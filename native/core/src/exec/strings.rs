//! Dictionary-level string ops: a string slot is a table of distinct strings plus one code per
//! row, so `lower`, `one_hot`, `hash_bucket` and `str_eq` are computed once per table entry and
//! only looked up per row.

use super::Plan;
use crate::plan::{Kernel, StrFn};

/// Distinct strings of one string slot, packed: entry `i` is `bytes[ends[i-1]..ends[i]]`.
#[derive(Debug, Default, Clone)]
pub(super) struct StrTable {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl StrTable {
    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }
    pub(super) fn push(&mut self, s: &[u8]) {
        self.bytes.extend_from_slice(s);
        self.ends.push(self.bytes.len());
    }
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }
    pub(super) fn get(&self, i: usize) -> &[u8] {
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

impl Plan {
    /// Derives the tables of `lower` slots and the per-entry values of string ops, in op order.
    pub(super) fn prepare_strings(&mut self) {
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

/// Writes a string op's rows from its per-entry values (`codes` are this chunk's rows of its
/// root): `one_hot` sets one of its `k + 1` registers per row (none for null), the others
/// write one register (NaN for null).
#[inline(always)]
pub(super) fn str_map(
    regs: &mut [f64],
    st: usize,
    codes: &[i32],
    vals: &[f64],
    f: &StrFn,
    out: usize,
    n: usize,
) {
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
