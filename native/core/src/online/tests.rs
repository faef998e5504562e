use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use super::*;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fresco-online-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn frame(buf: &mut Vec<u8>, op: u8, parts: &[&[u8]]) {
    buf.push(op);
    for p in parts {
        buf.extend_from_slice(&(p.len() as u32).to_le_bytes());
        buf.extend_from_slice(p);
    }
}

const TYPES: [ValueType; 3] = [ValueType::F32, ValueType::Str, ValueType::I64];

fn meta(ttl: i64, hash: u32) -> Vec<u8> {
    encode_meta(hash, ttl, &TYPES, b"{}")
}

struct Got {
    values: Vec<f64>,
    valid: Vec<u8>,
    times: Vec<f64>,
    status: Vec<u8>,
    strings: Vec<Option<String>>,
}

fn read(store: &OnlineStore, table: &str, keys: &[&str], as_of: i64) -> Got {
    let n = 3;
    let mut g = Got {
        values: vec![0.0; keys.len() * n],
        valid: vec![0; keys.len() * n],
        times: vec![0.0; keys.len()],
        status: vec![9; keys.len()],
        strings: vec![None; keys.len()],
    };
    let mut out = ReadOut {
        values: &mut g.values,
        valid: &mut g.valid,
        times: &mut g.times,
        status: &mut g.status,
    };
    let strings = &mut g.strings;
    store
        .read(table, keys.iter().map(|k| k.as_bytes()), as_of, &mut out, |k, _, s| {
            strings[k] = s.map(|b| String::from_utf8_lossy(b).into_owned());
            Ok(())
        })
        .unwrap()
        .unwrap();
    g
}

#[test]
fn codec_round_trips_every_type_and_null() {
    let types = [
        ValueType::F32,
        ValueType::F64,
        ValueType::I32,
        ValueType::I64,
        ValueType::Bool,
        ValueType::Str,
        ValueType::Timestamp,
        ValueType::F64,
        ValueType::Str,
    ];
    let values = [
        Value::Num(1.5),
        Value::Num(-2.25),
        Value::Num(-7.0),
        Value::Num(1e15),
        Value::Num(1.0),
        Value::Str("héllo".as_bytes()),
        Value::Num(1_700_000_000_000.0),
        Value::Null,
        Value::Str(b""),
    ];
    let row = encode_row(42, 123, &types, &values);
    let mut got = vec![Value::Null; types.len()];
    let ts = decode_row(&row, &types, |i, v| got[i] = v).unwrap();
    assert_eq!(ts, 123);
    assert_eq!(got, values);
    // Truncation is an error, never a panic.
    for cut in 0..row.len() {
        let _ = decode_row(&row[..cut], &types, |_, _| {});
    }
    assert!(decode_row(&row[..row.len() - 3], &types, |_, _| {}).is_err());
}

#[test]
fn write_read_ttl_and_statuses() {
    let dir = temp_dir("rw");
    let store = OnlineStore::open(&dir, 1 << 24).unwrap();
    let mut ops = Vec::new();
    frame(&mut ops, OP_SET_META, &[b"t", &meta(1000, 7)]);
    let r1 = encode_row(7, 10_000, &TYPES, &[Value::Num(0.5), Value::Str(b"a"), Value::Num(3.0)]);
    let r2 = encode_row(7, 5_000, &TYPES, &[Value::Null, Value::Null, Value::Num(4.0)]);
    frame(&mut ops, OP_PUT, &[b"t", b"k1", &r1]);
    frame(&mut ops, OP_PUT, &[b"t", b"k2", &r2]);
    store.apply(&ops).unwrap();
    let g = read(&store, "t", &["k1", "k2", "nope"], 10_500);
    assert_eq!(g.status, vec![PRESENT, EXPIRED, MISSING]);
    assert_eq!(&g.values[0..1], &[0.5]);
    assert_eq!(g.valid, vec![1, 1, 1, 0, 0, 1, 0, 0, 0]);
    assert_eq!(g.times[..2], [10_000.0, 5_000.0]);
    assert_eq!(g.strings[0].as_deref(), Some("a"));
    // The TTL boundary itself is not expired (>=, as offline).
    assert_eq!(read(&store, "t", &["k2"], 6_000).status, vec![PRESENT]);
    // An older row does not replace a newer one with PUT_IF_NEWER.
    let mut ops = Vec::new();
    let old = encode_row(7, 1_000, &TYPES, &[Value::Num(9.0), Value::Null, Value::Null]);
    frame(&mut ops, OP_PUT_IF_NEWER, &[b"t", b"k1", &old]);
    assert_eq!(store.apply(&ops).unwrap().skipped_older, 1);
    assert_eq!(read(&store, "t", &["k1"], 10_000).values[0], 0.5);
    // Expire deletes rows older than the cutoff.
    let mut ops = vec![OP_EXPIRE];
    ops.extend_from_slice(&1u32.to_le_bytes());
    ops.push(b't');
    ops.extend_from_slice(&6_000i64.to_le_bytes());
    assert_eq!(store.apply(&ops).unwrap().deleted, 1);
    assert_eq!(store.count("t").unwrap(), 1);
    // A new schema hash drops the old rows.
    let mut ops = Vec::new();
    frame(&mut ops, OP_SET_META, &[b"t", &meta(0, 8)]);
    store.apply(&ops).unwrap();
    assert_eq!(store.count("t").unwrap(), 0);
    assert_eq!(store.tables().unwrap(), vec!["t".to_string()]);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_batch_writes_nothing() {
    let dir = temp_dir("bad");
    let store = OnlineStore::open(&dir, 1 << 24).unwrap();
    let mut ops = Vec::new();
    frame(&mut ops, OP_SET_META, &[b"t", &meta(0, 1)]);
    let r = encode_row(1, 1, &TYPES, &[Value::Num(1.0), Value::Null, Value::Null]);
    frame(&mut ops, OP_PUT, &[b"t", b"k", &r]);
    frame(&mut ops, OP_PUT, &[b"t", b"k2", b"garbage"]);
    assert!(store.apply(&ops).is_err());
    assert!(store.meta("t").unwrap().is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Readers on other threads see each batch whole: every key of a batch carries the same value.
#[test]
fn readers_never_see_a_torn_batch() {
    let dir = temp_dir("torn");
    let store = Arc::new(OnlineStore::open(&dir, 1 << 26).unwrap());
    let keys: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
    let write = |gen: i64| {
        let mut ops = Vec::new();
        if gen == 0 {
            frame(&mut ops, OP_SET_META, &[b"t", &meta(0, 1)]);
        }
        for k in &keys {
            let r = encode_row(1, gen, &TYPES, &[Value::Num(gen as f64), Value::Str(b"x"), Value::Num(gen as f64)]);
            frame(&mut ops, OP_PUT, &[b"t", k.as_bytes(), &r]);
        }
        store.apply(&ops).unwrap();
    };
    write(0);
    let stop = Arc::new(AtomicBool::new(false));
    // Reads per reader, so that the writer keeps writing until every reader has read while it
    // writes (on a busy machine a thread may start only after 40 quick batches are done).
    let counts: Arc<Vec<AtomicUsize>> = Arc::new((0..3).map(|_| AtomicUsize::new(0)).collect());
    let readers: Vec<_> = (0..3)
        .map(|i| {
            let (store, stop, keys, counts) = (store.clone(), stop.clone(), keys.clone(), counts.clone());
            std::thread::spawn(move || {
                let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
                while !stop.load(Ordering::Relaxed) {
                    let g = read(&store, "t", &refs, 0);
                    let first = g.values[0];
                    assert!(g.values.chunks(3).all(|r| r[0] == first), "torn batch");
                    counts[i].fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let mut gen = 1;
    while gen < 40 || (gen < 100_000 && counts.iter().any(|c| c.load(Ordering::Relaxed) < 20)) {
        write(gen);
        gen += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) >= 20), "every reader read while batches were written");
    let again = OnlineStore::open(&dir, 1 << 26).unwrap(); // shares the open environment
    assert_eq!(again.count("t").unwrap(), 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dense_f64_fast_path_matches_the_general_decoder() {
    for n in [1usize, 7, 8, 9, 16, 50] {
        let types = vec![ValueType::F64; n];
        let full: Vec<Value> = (0..n).map(|i| Value::Num(i as f64 * -1.25 + 0.1)).collect();
        let row = encode_row(1, 77, &types, &full);
        let mut fast = vec![0.0; n];
        assert_eq!(codec::decode_dense_f64(&row, n, &mut fast), Some(77));
        let mut slow = vec![0.0; n];
        decode_row(&row, &types, |i, v| {
            if let Value::Num(x) = v {
                slow[i] = x
            }
        })
        .unwrap();
        assert_eq!(fast, slow, "{n} features");
        // A null anywhere, a truncated row or a different width: not dense, left to decode_row.
        let mut holed = full.clone();
        holed[n - 1] = Value::Null;
        assert_eq!(codec::decode_dense_f64(&encode_row(1, 77, &types, &holed), n, &mut fast), None);
        assert_eq!(codec::decode_dense_f64(&row[..row.len() - 1], n, &mut fast), None);
        assert_eq!(codec::decode_dense_f64(&row, n + 1, &mut vec![0.0; n + 1]), None);
    }
}

#[test]
fn all_f64_table_reads_dense_and_holed_rows() {
    let dir = temp_dir("dense");
    let store = OnlineStore::open(&dir, 1 << 24).unwrap();
    let types = [ValueType::F64; 3];
    let mut ops = Vec::new();
    frame(&mut ops, OP_SET_META, &[b"t", &encode_meta(5, 0, &types, b"{}")]);
    let dense = encode_row(5, 1_000, &types, &[Value::Num(1.0), Value::Num(2.0), Value::Num(3.0)]);
    let holed = encode_row(5, 2_000, &types, &[Value::Num(4.0), Value::Null, Value::Num(6.0)]);
    frame(&mut ops, OP_PUT, &[b"t", b"a", &dense]);
    frame(&mut ops, OP_PUT, &[b"t", b"b", &holed]);
    store.apply(&ops).unwrap();
    let g = read(&store, "t", &["b", "nope", "a"], 3_000);
    assert_eq!(g.status, vec![PRESENT, MISSING, PRESENT]);
    assert_eq!(g.valid, vec![1, 0, 1, 0, 0, 0, 1, 1, 1]);
    assert_eq!((g.values[0], g.values[2]), (4.0, 6.0));
    assert!(g.values[1].is_nan() && g.values[3..6].iter().all(|v| v.is_nan()));
    assert_eq!(&g.values[6..9], &[1.0, 2.0, 3.0]);
    assert_eq!(g.times[0], 2_000.0);
    assert!(g.times[1].is_nan());
    assert_eq!(g.times[2], 1_000.0);
    let _ = std::fs::remove_dir_all(&dir);
}
