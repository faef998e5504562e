//! `cargo bench --manifest-path native/Cargo.toml -p fresco-core` (std::time only, no harness).
//! Prints the best of several runs: a 10-op plan over 1M rows, a string plan over a dictionary
//! column, the single-row path, and the 50 x 100k f32 assembly.

use std::hint::black_box;
use std::time::{Duration, Instant};

use fresco_core::{assemble_columns, Column, ColumnData, Plan};

fn best<F: FnMut()>(reps: usize, mut f: F) -> Duration {
    f(); // warm up
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

/// Small deterministic generator (xorshift), so no dependency is needed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

const TEN_OPS: &str = r#"{
  "format": "fresco.plan", "version": 1,
  "inputs": [{ "name": "x", "type": "num" }, { "name": "y", "type": "num" }, { "name": "ts", "type": "num" }],
  "ops": [
    { "op": "add", "args": [0, 1] },
    { "op": "mul", "args": [3, 0] },
    { "op": "div", "args": [4, 1] },
    { "op": "fill_null", "args": [5], "value": 0 },
    { "op": "clip", "args": [6], "lo": -10, "hi": 10 },
    { "op": "standardize", "args": [7], "mean": 0.5, "std": 2 },
    { "op": "gt", "args": [0, 1] },
    { "op": "if", "args": [9, 8, 0] },
    { "op": "bucketize", "args": [1], "boundaries": [0.1, 0.25, 0.5, 0.75, 0.9] },
    { "op": "hour", "args": [2] }
  ],
  "outputs": [6, 8, 10, 11, 12]
}"#;

const STR_OPS: &str = r#"{
  "format": "fresco.plan", "version": 1,
  "inputs": [{ "name": "origin", "type": "str" }, { "name": "x", "type": "num" }],
  "ops": [
    { "op": "lower", "args": [0] },
    { "op": "one_hot", "args": [2], "categories": ["sfo", "lax", "jfk", "ord", "atl", "den", "sea", "bos"] },
    { "op": "hash_bucket", "args": [0], "n": 1000 },
    { "op": "log1p", "args": [1] }
  ],
  "outputs": [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
}"#;

fn main() {
    let rows = 1_000_000;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let x: Vec<f64> = (0..rows)
        .map(|i| {
            if i % 97 == 0 {
                f64::NAN
            } else {
                rng.next() * 4.0 - 2.0
            }
        })
        .collect();
    let y: Vec<f64> = (0..rows).map(|_| rng.next()).collect();
    let ts: Vec<f64> = (0..rows).map(|_| 1.7e12 + rng.next() * 3e10).collect();

    let mut plan = Plan::compile(TEN_OPS).expect("plan");
    let m = plan.output_count();
    let mut out = vec![0f32; rows * m];
    let cols = [
        Column::new(ColumnData::F64(&x)),
        Column::new(ColumnData::F64(&y)),
        Column::new(ColumnData::F64(&ts)),
    ];
    let t = best(10, || plan.run(&cols, rows, &mut out).unwrap());
    let ns = t.as_nanos() as f64 / rows as f64;
    println!(
        "10-op plan, {rows} rows, {m} outputs: {:.2} ms, {ns:.2} ns/row ({:.3} ns/row/op)",
        t.as_secs_f64() * 1e3,
        ns / 10.0
    );
    black_box(&out);

    // Strings: a 40-entry dictionary (mixed case), one_hot(lower) + hash_bucket + a numeric op.
    let airports: Vec<String> = [
        "SFO", "LAX", "JFK", "ORD", "ATL", "DEN", "SEA", "BOS", "MIA", "PHX",
    ]
    .iter()
    .flat_map(|a| {
        [
            a.to_string(),
            a.to_lowercase(),
            format!("{a}-1"),
            format!("{}x", a.to_lowercase()),
        ]
    })
    .collect();
    let codes: Vec<i32> = (0..rows)
        .map(|i| {
            if i % 50 == 0 {
                -1
            } else {
                (rng.next() * airports.len() as f64) as i32
            }
        })
        .collect();
    let mut splan = Plan::compile(STR_OPS).expect("plan");
    let sm = splan.output_count();
    let mut sout = vec![0f32; rows * sm];
    let scols = [
        Column::new(ColumnData::Dict {
            codes: &codes,
            dictionary: &airports,
        }),
        Column::new(ColumnData::F64(&y)),
    ];
    let t = best(10, || splan.run(&scols, rows, &mut sout).unwrap());
    println!(
        "string plan (lower, one_hot 8, hash_bucket, log1p) over dict, {rows} rows, {sm} outputs: {:.2} ms, {:.2} ns/row",
        t.as_secs_f64() * 1e3,
        t.as_nanos() as f64 / rows as f64
    );
    black_box(&sout);

    // Single row (no N-API crossing here; see test/native-binding.test.ts for the Node side).
    let n = 1_000_000;
    let mut row = vec![0f32; m];
    let t = best(3, || {
        for i in 0..n {
            let v = (i & 1023) as f64;
            plan.run_row(black_box(&[v, 0.5, 1.7e12]), &[], &mut row)
                .unwrap();
        }
        black_box(&row);
    });
    println!(
        "run_row, 10-op plan: {:.1} ns/row",
        t.as_nanos() as f64 / n as f64
    );
    let mut srow = vec![0f32; sm];
    let t = best(3, || {
        for i in 0..n {
            let s = if i & 1 == 0 { "SFO" } else { "lax" };
            splan
                .run_row(black_box(&[f64::NAN, 0.5]), &[Some(s)], &mut srow)
                .unwrap();
        }
        black_box(&srow);
    });
    println!(
        "run_row, string plan: {:.1} ns/row",
        t.as_nanos() as f64 / n as f64
    );

    // Single row, 50 features (standardize / fill_null / log1p over 50 inputs).
    let inputs: Vec<String> = (0..50)
        .map(|i| format!(r#"{{"name":"x{i}","type":"num"}}"#))
        .collect();
    let ops: Vec<String> = (0..50)
        .map(|i| match i % 3 {
            0 => format!(r#"{{"op":"standardize","args":[{i}],"mean":1,"std":2}}"#),
            1 => format!(r#"{{"op":"fill_null","args":[{i}],"value":0}}"#),
            _ => format!(r#"{{"op":"log1p","args":[{i}]}}"#),
        })
        .collect();
    let outs: Vec<String> = (50..100).map(|i| i.to_string()).collect();
    let json = format!(
        r#"{{"format":"fresco.plan","version":1,"inputs":[{}],"ops":[{}],"outputs":[{}]}}"#,
        inputs.join(","),
        ops.join(","),
        outs.join(",")
    );
    let mut wide = Plan::compile(&json).expect("plan");
    let num: Vec<f64> = (0..50).map(|i| i as f64 * 0.5).collect();
    let mut wrow = vec![0f32; 50];
    let t = best(3, || {
        for _ in 0..n {
            wide.run_row(black_box(&num), &[], &mut wrow).unwrap();
        }
        black_box(&wrow);
    });
    println!(
        "run_row, 50-feature plan: {:.1} ns/row",
        t.as_nanos() as f64 / n as f64
    );

    // Assembly: 50 f32 columns x 100k rows into a row-major matrix.
    let arows = 100_000;
    let acols: Vec<Vec<f32>> = (0..50)
        .map(|j| (0..arows).map(|i| (i * 50 + j) as f32).collect())
        .collect();
    let refs: Vec<&[f32]> = acols.iter().map(|c| &c[..]).collect();
    let mut aout = vec![0f32; arows * 50];
    let t = best(20, || assemble_columns(&refs, arows, &mut aout).unwrap());
    let bytes = (arows * 50 * 4) as f64;
    println!(
        "assemble 50 x {arows} f32: {:.3} ms, {:.2} GB/s read ({:.2} GB/s read + write)",
        t.as_secs_f64() * 1e3,
        bytes / t.as_secs_f64() / 1e9,
        2.0 * bytes / t.as_secs_f64() / 1e9
    );
    black_box(&aout);
}
