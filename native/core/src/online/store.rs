//! The embedded online store: an LMDB environment (via `heed`) with two databases, `meta`
//! (table name -> table header) and `rows` (table name, 0x00, entity key -> encoded row).
//!
//! LMDB gives many concurrent readers (threads and processes) and one writer; a write batch is
//! one transaction, so a reader sees all of a batch or none of it, never a torn row. One process
//! opens an environment once (LMDB's rule); `OnlineStore::open` shares it between handles.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use heed::types::Bytes;
use heed::{Database, Env, EnvOpenOptions, WithoutTls};

use super::codec::{decode_dense_f64, decode_meta, decode_row, row_hash, row_time, Value, ValueType};
use crate::error::{PlanError, Result};

struct Shared {
    env: Env<WithoutTls>,
    rows: Database<Bytes, Bytes>,
    meta: Database<Bytes, Bytes>,
}

fn registry() -> &'static Mutex<HashMap<PathBuf, Weak<Shared>>> {
    static R: OnceLock<Mutex<HashMap<PathBuf, Weak<Shared>>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(HashMap::new()))
}

fn lmdb(path: &Path, what: &str, e: heed::Error) -> PlanError {
    let hint = if matches!(e, heed::Error::Mdb(heed::MdbError::MapFull)) {
        " (the store is full: raise online.map_size in fresco.yaml)"
    } else {
        ""
    };
    PlanError::store(format!(
        "online store {}: cannot {what}: {e}{hint}",
        path.display()
    ))
}

/// Write operations, framed in one byte buffer (src/online/embedded-store.ts builds it).
/// Every string/bytes field is `u32 length + bytes`.
pub const OP_PUT: u8 = 1; // table, key, row: write unconditionally
pub const OP_DELETE: u8 = 2; // table, key
pub const OP_SET_META: u8 = 3; // table, meta: a changed schema hash drops the table's rows
pub const OP_DROP_TABLE: u8 = 4; // table
pub const OP_EXPIRE: u8 = 5; // table, i64 cutoff ms: delete rows whose event time < cutoff
pub const OP_PUT_IF_NEWER: u8 = 6; // table, key, row: unless the stored row is newer

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    pub written: u64,
    pub skipped_older: u64,
    pub deleted: u64,
}

/// Read status per key.
pub const MISSING: u8 = 0;
pub const PRESENT: u8 = 1;
pub const EXPIRED: u8 = 2;

/// Where [`OnlineStore::read`] puts a batch's values: `values`/`valid` are keys x features,
/// row-major (string features stay NaN/invalid there and go to `on_string`).
pub struct ReadOut<'a> {
    pub values: &'a mut [f64],
    pub valid: &'a mut [u8],
    pub times: &'a mut [f64],
    pub status: &'a mut [u8],
}

pub struct OnlineStore {
    shared: Arc<Shared>,
    path: PathBuf,
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let len = self
            .b
            .get(self.at..self.at + 4)
            .map(|s| u32::from_le_bytes(s.try_into().unwrap()) as usize)
            .ok_or_else(|| PlanError::input("write batch truncated"))?;
        let s = self
            .b
            .get(self.at + 4..self.at + 4 + len)
            .ok_or_else(|| PlanError::input("write batch truncated"))?;
        self.at += 4 + len;
        Ok(s)
    }
    fn i64(&mut self) -> Result<i64> {
        let s = self
            .b
            .get(self.at..self.at + 8)
            .ok_or_else(|| PlanError::input("write batch truncated"))?;
        self.at += 8;
        Ok(i64::from_le_bytes(s.try_into().unwrap()))
    }
}

/// PRESENT, or EXPIRED when the table has a TTL and the event time is older than `as_of - ttl`.
fn status_at(ts: i64, ttl_ms: i64, as_of_ms: i64) -> u8 {
    if ttl_ms > 0 && ts < as_of_ms.saturating_sub(ttl_ms) {
        EXPIRED
    } else {
        PRESENT
    }
}

/// Asks the CPU to start loading `bytes` into its cache (a hint: no effect on results).
#[inline]
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint that never faults; every address is inside `bytes`.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        for at in (0..bytes.len()).step_by(64) {
            _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().add(at).cast());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

fn row_key(buf: &mut Vec<u8>, table: &[u8], key: &[u8]) {
    buf.clear();
    buf.extend_from_slice(table);
    buf.push(0);
    buf.extend_from_slice(key);
}

impl OnlineStore {
    /// Opens (creating) the store folder. `map_size` is the most bytes it may grow to.
    pub fn open(path: &Path, map_size: usize) -> Result<OnlineStore> {
        fs::create_dir_all(path).map_err(|e| {
            PlanError::store(format!("online store {}: cannot create: {e}", path.display()))
        })?;
        let canonical = fs::canonicalize(path).map_err(|e| {
            PlanError::store(format!("online store {}: {e}", path.display()))
        })?;
        let mut reg = registry().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(shared) = reg.get(&canonical).and_then(Weak::upgrade) {
            return Ok(OnlineStore {
                shared,
                path: canonical,
            });
        }
        let page = 4096usize;
        let map_size = map_size.max(1 << 20).div_ceil(page) * page;
        let env = unsafe {
            EnvOpenOptions::new()
                .read_txn_without_tls()
                .map_size(map_size)
                .max_dbs(4)
                .max_readers(1024)
                .open(&canonical)
        }
        .map_err(|e| lmdb(&canonical, "open", e))?;
        let mut wtxn = env
            .write_txn()
            .map_err(|e| lmdb(&canonical, "begin a write", e))?;
        let rows = env
            .create_database::<Bytes, Bytes>(&mut wtxn, Some("rows"))
            .map_err(|e| lmdb(&canonical, "create the rows database", e))?;
        let meta = env
            .create_database::<Bytes, Bytes>(&mut wtxn, Some("meta"))
            .map_err(|e| lmdb(&canonical, "create the meta database", e))?;
        wtxn.commit()
            .map_err(|e| lmdb(&canonical, "commit", e))?;
        let shared = Arc::new(Shared { env, rows, meta });
        reg.insert(canonical.clone(), Arc::downgrade(&shared));
        Ok(OnlineStore {
            shared,
            path: canonical,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies a framed batch of operations in one write transaction (all or nothing).
    pub fn apply(&self, ops: &[u8]) -> Result<WriteStats> {
        let s = &*self.shared;
        let p = &self.path;
        let mut txn = s.env.write_txn().map_err(|e| lmdb(p, "begin a write", e))?;
        let mut c = Cursor { b: ops, at: 0 };
        let mut stats = WriteStats::default();
        let mut key = Vec::with_capacity(64);
        while c.at < ops.len() {
            let op = ops[c.at];
            c.at += 1;
            let table = c.bytes()?;
            if table.is_empty() || table.contains(&0) {
                return Err(PlanError::input("a table name must be non-empty and contain no NUL"));
            }
            match op {
                OP_PUT | OP_PUT_IF_NEWER => {
                    let k = c.bytes()?;
                    let row = c.bytes()?;
                    let ts = row_time(row).ok_or_else(|| PlanError::input("not an encoded row"))?;
                    row_key(&mut key, table, k);
                    if op == OP_PUT_IF_NEWER {
                        let old = s.rows.get(&txn, &key).map_err(|e| lmdb(p, "read", e))?;
                        if let Some(old_ts) = old.and_then(row_time) {
                            if old_ts > ts && old.and_then(row_hash) == row_hash(row) {
                                stats.skipped_older += 1;
                                continue;
                            }
                        }
                    }
                    s.rows.put(&mut txn, &key, row).map_err(|e| lmdb(p, "write", e))?;
                    stats.written += 1;
                }
                OP_DELETE => {
                    let k = c.bytes()?;
                    row_key(&mut key, table, k);
                    if s.rows.delete(&mut txn, &key).map_err(|e| lmdb(p, "delete", e))? {
                        stats.deleted += 1;
                    }
                }
                OP_SET_META => {
                    let m = c.bytes()?;
                    let new = decode_meta(m)?;
                    let old_hash = s
                        .meta
                        .get(&txn, table)
                        .map_err(|e| lmdb(p, "read", e))?
                        .map(|b| decode_meta(b).map(|o| o.hash))
                        .transpose()?;
                    if old_hash.is_some_and(|h| h != new.hash) {
                        stats.deleted += self.drop_rows(&mut txn, table, None)?;
                    }
                    s.meta.put(&mut txn, table, m).map_err(|e| lmdb(p, "write", e))?;
                }
                OP_DROP_TABLE => {
                    stats.deleted += self.drop_rows(&mut txn, table, None)?;
                    s.meta.delete(&mut txn, table).map_err(|e| lmdb(p, "delete", e))?;
                }
                OP_EXPIRE => {
                    let cutoff = c.i64()?;
                    stats.deleted += self.drop_rows(&mut txn, table, Some(cutoff))?;
                }
                other => return Err(PlanError::input(format!("unknown write op {other}"))),
            }
        }
        txn.commit().map_err(|e| lmdb(p, "commit", e))?;
        Ok(stats)
    }

    /// Deletes a table's rows (those older than `cutoff` when given).
    fn drop_rows(&self, txn: &mut heed::RwTxn, table: &[u8], cutoff: Option<i64>) -> Result<u64> {
        let p = &self.path;
        let mut prefix = table.to_vec();
        prefix.push(0);
        let mut it = self
            .shared
            .rows
            .prefix_iter_mut(txn, &prefix)
            .map_err(|e| lmdb(p, "scan", e))?;
        let mut n = 0;
        while let Some(entry) = it.next() {
            let (_, row) = entry.map_err(|e| lmdb(p, "scan", e))?;
            let drop = match cutoff {
                None => true,
                Some(c) => row_time(row).is_none_or(|t| t < c),
            };
            if drop {
                // Safety: the deleted entry's key and value are not used afterwards.
                unsafe { it.del_current() }.map_err(|e| lmdb(p, "delete", e))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// The table header written by the last OP_SET_META, if any.
    pub fn meta(&self, table: &str) -> Result<Option<Vec<u8>>> {
        let txn = self
            .shared
            .env
            .read_txn()
            .map_err(|e| lmdb(&self.path, "begin a read", e))?;
        Ok(self
            .shared
            .meta
            .get(&txn, table.as_bytes())
            .map_err(|e| lmdb(&self.path, "read", e))?
            .map(<[u8]>::to_vec))
    }

    /// Names of the tables with a header.
    pub fn tables(&self) -> Result<Vec<String>> {
        let p = &self.path;
        let txn = self.shared.env.read_txn().map_err(|e| lmdb(p, "begin a read", e))?;
        let mut out = Vec::new();
        for entry in self.shared.meta.iter(&txn).map_err(|e| lmdb(p, "scan", e))? {
            let (k, _) = entry.map_err(|e| lmdb(p, "scan", e))?;
            out.push(String::from_utf8_lossy(k).into_owned());
        }
        Ok(out)
    }

    /// Number of rows stored for a table.
    pub fn count(&self, table: &str) -> Result<u64> {
        let p = &self.path;
        let txn = self.shared.env.read_txn().map_err(|e| lmdb(p, "begin a read", e))?;
        let mut prefix = table.as_bytes().to_vec();
        prefix.push(0);
        let it = self
            .shared
            .rows
            .prefix_iter(&txn, &prefix)
            .map_err(|e| lmdb(p, "scan", e))?;
        Ok(it.count() as u64)
    }

    /// Reads `keys` of `table` in one read transaction (a consistent snapshot). Status per key:
    /// MISSING (no row, or one written for another schema), EXPIRED (event time older than
    /// `as_of_ms - ttl`) or PRESENT. Expired rows still report their values and time.
    /// Returns the number of features and the schema hash, or None when the table has no header.
    pub fn read<'k>(
        &self,
        table: &str,
        keys: impl ExactSizeIterator<Item = &'k [u8]>,
        as_of_ms: i64,
        out: &mut ReadOut,
        mut on_string: impl FnMut(usize, usize, Option<&[u8]>) -> Result<()>,
    ) -> Result<Option<(usize, u32)>> {
        let p = &self.path;
        let s = &*self.shared;
        let txn = s.env.read_txn().map_err(|e| lmdb(p, "begin a read", e))?;
        let Some(mb) = s.meta.get(&txn, table.as_bytes()).map_err(|e| lmdb(p, "read", e))? else {
            return Ok(None);
        };
        let meta = decode_meta(mb)?;
        let n = meta.types.len();
        let nk = keys.len();
        if out.values.len() < nk * n || out.valid.len() < nk * n || out.times.len() < nk || out.status.len() < nk {
            return Err(PlanError::input(format!(
                "output arrays too small for {nk} keys x {n} features"
            )));
        }
        let is_str: Vec<bool> = meta.types.iter().map(|t| *t == ValueType::Str).collect();
        let all_f64 = meta.types.iter().all(|t| *t == ValueType::F64);
        let n_str = is_str.iter().filter(|s| **s).count();
        // Two passes: find every row first, asking the CPU to fetch each row's bytes while the
        // next B-tree search runs, then decode. Rows of a large store are cold in the cache, and
        // a row of 50 f64 is 7 cache lines: decoding them as found stalls on every one.
        let mut key = Vec::with_capacity(64);
        let mut rows: Vec<Option<&[u8]>> = Vec::with_capacity(nk);
        for k in keys {
            row_key(&mut key, table.as_bytes(), k);
            let row = s.rows.get(&txn, &key).map_err(|e| lmdb(p, "read", e))?;
            let row = row.filter(|r| row_hash(r) == Some(meta.hash));
            if let Some(r) = row {
                prefetch(r);
            }
            rows.push(row);
        }
        for (ki, row) in rows.into_iter().enumerate() {
            let vals = &mut out.values[ki * n..ki * n + n];
            let valid = &mut out.valid[ki * n..ki * n + n];
            valid.fill(0);
            vals.fill(f64::NAN);
            let Some(row) = row else {
                out.status[ki] = MISSING;
                out.times[ki] = f64::NAN;
                for si in 0..n_str {
                    on_string(ki, si, None)?;
                }
                continue;
            };
            if let Some(ts) = all_f64.then(|| decode_dense_f64(row, n, vals)).flatten() {
                valid.fill(1);
                out.times[ki] = ts as f64;
                out.status[ki] = status_at(ts, meta.ttl_ms, as_of_ms);
                continue;
            }
            let mut si = 0;
            let mut err = None;
            let ts = decode_row(row, &meta.types, |fi, v| match v {
                Value::Null => {
                    if is_str[fi] {
                        if let Err(e) = on_string(ki, si, None) {
                            err.get_or_insert(e);
                        }
                        si += 1;
                    }
                }
                Value::Num(x) => {
                    vals[fi] = x;
                    valid[fi] = 1;
                }
                Value::Str(b) => {
                    valid[fi] = 1;
                    if let Err(e) = on_string(ki, si, Some(b)) {
                        err.get_or_insert(e);
                    }
                    si += 1;
                }
            })?;
            if let Some(e) = err {
                return Err(e);
            }
            out.times[ki] = ts as f64;
            out.status[ki] = status_at(ts, meta.ttl_ms, as_of_ms);
        }
        Ok(Some((n, meta.hash)))
    }
}
