//! The compact binary encoding of online rows and table metadata, shared with the TypeScript
//! writer (src/online/row-codec.ts, which documents the same layout). All integers little-endian.
//!
//! Row:  u8 version (1) | u8 0 | u16 n | u32 schema hash | i64 event time (ms since epoch)
//!       | ceil(n/8) bytes validity bitmap (bit i, LSB first: feature i is not null)
//!       | each non-null value in feature order: f32 4, f64 8, i32 4, i64 8, bool 1,
//!         timestamp i64 ms 8, string u32 length + UTF-8 bytes.
//! Meta: u8 version (1) | u8 0 | u16 n | u32 schema hash | i64 ttl ms (0 = none)
//!       | n type bytes | u32 length + JSON (names etc., read by TypeScript only).

use crate::error::{PlanError, Result};

pub const ROW_VERSION: u8 = 1;
pub const ROW_HEADER: usize = 16;
pub const META_HEADER: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ValueType {
    F32 = 1,
    F64 = 2,
    I32 = 3,
    I64 = 4,
    Bool = 5,
    Str = 6,
    Timestamp = 7,
}

impl ValueType {
    pub fn from_byte(b: u8) -> Option<ValueType> {
        Some(match b {
            1 => ValueType::F32,
            2 => ValueType::F64,
            3 => ValueType::I32,
            4 => ValueType::I64,
            5 => ValueType::Bool,
            6 => ValueType::Str,
            7 => ValueType::Timestamp,
            _ => return None,
        })
    }
}

/// A decoded table header (borrowing the meta bytes).
#[derive(Debug, Clone)]
pub struct TableMeta<'a> {
    pub hash: u32,
    pub ttl_ms: i64,
    pub types: Vec<ValueType>,
    pub json: &'a [u8],
}

fn corrupt(what: &str) -> PlanError {
    PlanError::store(format!("corrupt online store data: {what}"))
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn i64_at(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

pub fn decode_meta(b: &[u8]) -> Result<TableMeta<'_>> {
    if b.len() < META_HEADER || b[0] != ROW_VERSION {
        return Err(corrupt("table header too short or of an unknown version"));
    }
    let n = u16_at(b, 2) as usize;
    let hash = u32_at(b, 4);
    let ttl_ms = i64_at(b, 8);
    if b.len() < META_HEADER + n + 4 {
        return Err(corrupt("table header truncated"));
    }
    let types = b[META_HEADER..META_HEADER + n]
        .iter()
        .map(|&t| ValueType::from_byte(t).ok_or_else(|| corrupt("unknown value type")))
        .collect::<Result<Vec<_>>>()?;
    let jl = u32_at(b, META_HEADER + n) as usize;
    let json = b
        .get(META_HEADER + n + 4..META_HEADER + n + 4 + jl)
        .ok_or_else(|| corrupt("table header JSON truncated"))?;
    Ok(TableMeta {
        hash,
        ttl_ms,
        types,
        json,
    })
}

pub fn encode_meta(hash: u32, ttl_ms: i64, types: &[ValueType], json: &[u8]) -> Vec<u8> {
    let mut b = vec![ROW_VERSION, 0];
    b.extend_from_slice(&(types.len() as u16).to_le_bytes());
    b.extend_from_slice(&hash.to_le_bytes());
    b.extend_from_slice(&ttl_ms.to_le_bytes());
    b.extend(types.iter().map(|&t| t as u8));
    b.extend_from_slice(&(json.len() as u32).to_le_bytes());
    b.extend_from_slice(json);
    b
}

/// The event time of an encoded row, or None when it is not a row of this version.
pub fn row_time(b: &[u8]) -> Option<i64> {
    (b.len() >= ROW_HEADER && b[0] == ROW_VERSION).then(|| i64_at(b, 8))
}

/// Schema hash of an encoded row.
pub fn row_hash(b: &[u8]) -> Option<u32> {
    (b.len() >= ROW_HEADER && b[0] == ROW_VERSION).then(|| u32_at(b, 4))
}

/// One decoded value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Num(f64),
    Str(&'a [u8]),
}

/// Decodes a row written for `meta`, calling `each(feature index, value)` in feature order.
/// Returns the event time. The caller has checked the schema hash.
pub fn decode_row<'a>(
    b: &'a [u8],
    types: &[ValueType],
    mut each: impl FnMut(usize, Value<'a>),
) -> Result<i64> {
    let n = types.len();
    if b.len() < ROW_HEADER || b[0] != ROW_VERSION || u16_at(b, 2) as usize != n {
        return Err(corrupt("row header does not match its table"));
    }
    let ts = i64_at(b, 8);
    let bitmap_len = n.div_ceil(8);
    let bitmap = b
        .get(ROW_HEADER..ROW_HEADER + bitmap_len)
        .ok_or_else(|| corrupt("row bitmap truncated"))?;
    let mut at = ROW_HEADER + bitmap_len;
    let short = || corrupt("row values truncated");
    for (i, t) in types.iter().enumerate() {
        if bitmap[i >> 3] & (1 << (i & 7)) == 0 {
            each(i, Value::Null);
            continue;
        }
        let width = match t {
            ValueType::Bool => 1,
            ValueType::F32 | ValueType::I32 => 4,
            ValueType::F64 | ValueType::I64 | ValueType::Timestamp => 8,
            ValueType::Str => {
                let len = u32_at(b.get(at..at + 4).ok_or_else(short)?, 0) as usize;
                let s = b.get(at + 4..at + 4 + len).ok_or_else(short)?;
                at += 4 + len;
                each(i, Value::Str(s));
                continue;
            }
        };
        let v = b.get(at..at + width).ok_or_else(short)?;
        at += width;
        let num = match t {
            ValueType::Bool => (v[0] != 0) as u8 as f64,
            ValueType::F32 => f32::from_le_bytes(v.try_into().unwrap()) as f64,
            ValueType::I32 => i32::from_le_bytes(v.try_into().unwrap()) as f64,
            ValueType::F64 => f64::from_le_bytes(v.try_into().unwrap()),
            _ => i64::from_le_bytes(v.try_into().unwrap()) as f64,
        };
        each(i, Value::Num(num));
    }
    Ok(ts)
}

/// Decodes a row whose features are all f64 and all non-null (the common shape of a numeric
/// feature table) straight into `vals`, or returns None when the row has another shape and must
/// go through [`decode_row`]. Returns the event time. The caller has checked the schema hash.
pub fn decode_dense_f64(b: &[u8], n: usize, vals: &mut [f64]) -> Option<i64> {
    let bitmap_len = n.div_ceil(8);
    let start = ROW_HEADER + bitmap_len;
    if b.len() != start + 8 * n || b[0] != ROW_VERSION || u16_at(b, 2) as usize != n || vals.len() != n {
        return None;
    }
    let bitmap = &b[ROW_HEADER..start];
    let full = |i: usize| if i + 1 < bitmap_len || n.is_multiple_of(8) { 0xff } else { (1u8 << (n % 8)) - 1 };
    if bitmap.iter().enumerate().any(|(i, &m)| m != full(i)) {
        return None;
    }
    for (v, c) in vals.iter_mut().zip(b[start..].chunks_exact(8)) {
        *v = f64::from_le_bytes(c.try_into().unwrap());
    }
    Some(i64_at(b, 8))
}

/// Encodes a row (used by Rust tests and tools; the TypeScript writer has its own encoder).
pub fn encode_row(hash: u32, ts_ms: i64, types: &[ValueType], values: &[Value]) -> Vec<u8> {
    let n = types.len();
    let mut b = vec![ROW_VERSION, 0];
    b.extend_from_slice(&(n as u16).to_le_bytes());
    b.extend_from_slice(&hash.to_le_bytes());
    b.extend_from_slice(&ts_ms.to_le_bytes());
    let start = b.len();
    b.resize(start + n.div_ceil(8), 0);
    for (i, (t, v)) in types.iter().zip(values).enumerate() {
        match *v {
            Value::Null => continue,
            Value::Num(x) => match t {
                ValueType::Bool => b.push((x != 0.0) as u8),
                ValueType::F32 => b.extend_from_slice(&(x as f32).to_le_bytes()),
                ValueType::I32 => b.extend_from_slice(&(x as i32).to_le_bytes()),
                ValueType::F64 => b.extend_from_slice(&x.to_le_bytes()),
                _ => b.extend_from_slice(&(x as i64).to_le_bytes()),
            },
            Value::Str(s) => {
                b.extend_from_slice(&(s.len() as u32).to_le_bytes());
                b.extend_from_slice(s);
            }
        }
        b[start + (i >> 3)] |= 1 << (i & 7);
    }
    b
}
