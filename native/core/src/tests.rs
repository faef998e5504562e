use serde_json::{json, Value};

use crate::*;

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

fn plan(inputs: Value, ops: Value, outputs: Value) -> String {
    json!({ "format": "fresco.plan", "version": 1, "inputs": inputs, "ops": ops, "outputs": outputs }).to_string()
}

fn compile(json: &str) -> Plan {
    Plan::compile(json).unwrap_or_else(|e| panic!("compile failed: {e}"))
}

/// f32 equality that treats NaN as equal to NaN and tells -0 from +0.
fn same(a: f32, b: f32) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

fn assert_col(got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "length: got {got:?}, want {want:?}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            same(g, w as f32),
            "row {i}: got {g:?}, want {w:?} (all: {got:?})"
        );
    }
}

/// Runs a one-op plan over num inputs `a` (and `b`, `c`) and returns the single output column.
fn num_op(op: Value, cols: &[&[f64]]) -> Vec<f32> {
    let names = ["a", "b", "c"];
    let inputs: Vec<Value> = (0..cols.len())
        .map(|i| json!({ "name": names[i], "type": "num" }))
        .collect();
    let p = plan(Value::Array(inputs), json!([op]), json!([cols.len()]));
    let mut plan = compile(&p);
    let rows = cols[0].len();
    let columns: Vec<Column> = cols
        .iter()
        .map(|c| Column::new(ColumnData::F64(c)))
        .collect();
    let out = plan.run_to_vec(&columns, rows).unwrap();
    // The single-row path must agree with the batch path, row by row.
    for r in 0..rows {
        let numeric: Vec<f64> = cols.iter().map(|c| c[r]).collect();
        let mut one = [0f32; 1];
        plan.run_row(&numeric, &[], &mut one).unwrap();
        assert!(
            same(one[0], out[r]),
            "run_row row {r}: {} vs {}",
            one[0],
            out[r]
        );
    }
    out
}

fn err_of(r: Result<impl std::fmt::Debug>) -> PlanError {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

fn invalid(json: &str) -> String {
    let e = err_of(Plan::compile(json).map(|_| ()));
    assert_eq!(e.code, ErrorCode::PlanInvalid, "{e}");
    e.message
}

// ---------------------------------------------------------------- op semantics

#[test]
fn arithmetic() {
    let a = [1.0, -2.5, NAN, INF, INF, 0.0, 3.0];
    let b = [2.0, 0.5, 1.0, INF, 1.0, NAN, -0.0];
    assert_col(
        &num_op(json!({"op":"add","args":[0,1]}), &[&a, &b]),
        &[3.0, -2.0, NAN, INF, INF, NAN, 3.0],
    );
    assert_col(
        &num_op(json!({"op":"sub","args":[0,1]}), &[&a, &b]),
        &[-1.0, -3.0, NAN, NAN, INF, NAN, 3.0],
    );
    assert_col(
        &num_op(json!({"op":"mul","args":[0,1]}), &[&a, &b]),
        &[2.0, -1.25, NAN, INF, INF, NAN, -0.0],
    );
    // div: null when b is 0 (either sign), NaN results are null.
    assert_col(
        &num_op(json!({"op":"div","args":[0,1]}), &[&a, &b]),
        &[0.5, -5.0, NAN, NAN, INF, NAN, NAN],
    );
    let z = [0.0, 1.0, -1.0, 1.0];
    let zb = [0.0, 0.0, 0.0, INF];
    assert_col(
        &num_op(json!({"op":"div","args":[0,1]}), &[&z, &zb]),
        &[NAN, NAN, NAN, 0.0],
    );
    assert_col(
        &num_op(json!({"op":"neg","args":[0]}), &[&a]),
        &[-1.0, 2.5, NAN, -INF, -INF, -0.0, -3.0],
    );
    assert_col(
        &num_op(json!({"op":"abs","args":[0]}), &[&[-1.0, -0.0, NAN, -INF]]),
        &[1.0, 0.0, NAN, INF],
    );
}

#[test]
fn comparisons() {
    let a = [1.0, 2.0, 3.0, NAN, 1.0, -0.0, INF];
    let b = [2.0, 2.0, 2.0, 1.0, NAN, 0.0, INF];
    let run = |op: &str| num_op(json!({"op": op, "args": [0, 1]}), &[&a, &b]);
    assert_col(&run("eq"), &[0.0, 1.0, 0.0, NAN, NAN, 1.0, 1.0]);
    assert_col(&run("ne"), &[1.0, 0.0, 1.0, NAN, NAN, 0.0, 0.0]);
    assert_col(&run("lt"), &[1.0, 0.0, 0.0, NAN, NAN, 0.0, 0.0]);
    assert_col(&run("le"), &[1.0, 1.0, 0.0, NAN, NAN, 1.0, 1.0]);
    assert_col(&run("gt"), &[0.0, 0.0, 1.0, NAN, NAN, 0.0, 0.0]);
    assert_col(&run("ge"), &[0.0, 1.0, 1.0, NAN, NAN, 1.0, 1.0]);
}

#[test]
fn kleene_logic() {
    // All 9 combinations of false (0), true (2), null.
    let a = [0.0, 0.0, 0.0, 2.0, 2.0, 2.0, NAN, NAN, NAN];
    let b = [0.0, 2.0, NAN, 0.0, 2.0, NAN, 0.0, 2.0, NAN];
    assert_col(
        &num_op(json!({"op":"and","args":[0,1]}), &[&a, &b]),
        &[0.0, 0.0, 0.0, 0.0, 1.0, NAN, 0.0, NAN, NAN],
    );
    assert_col(
        &num_op(json!({"op":"or","args":[0,1]}), &[&a, &b]),
        &[0.0, 1.0, NAN, 1.0, 1.0, 1.0, NAN, 1.0, NAN],
    );
    assert_col(
        &num_op(
            json!({"op":"not","args":[0]}),
            &[&[0.0, -0.0, 5.0, NAN, -INF]],
        ),
        &[1.0, 1.0, 0.0, NAN, 0.0],
    );
}

#[test]
fn if_and_nulls() {
    let c = [1.0, 0.0, NAN, -3.0, INF];
    let a = [10.0, 10.0, 10.0, NAN, 10.0];
    let b = [20.0, 20.0, 20.0, 20.0, NAN];
    assert_col(
        &num_op(json!({"op":"if","args":[0,1,2]}), &[&c, &a, &b]),
        &[10.0, 20.0, 20.0, NAN, 10.0],
    );
    let x = [1.0, NAN, INF, -0.0];
    assert_col(
        &num_op(json!({"op":"is_null","args":[0]}), &[&x]),
        &[0.0, 1.0, 0.0, 0.0],
    );
    assert_col(
        &num_op(json!({"op":"fill_null","args":[0],"value":7.5}), &[&x]),
        &[1.0, 7.5, INF, -0.0],
    );
    let y = [9.0, 9.0, NAN, 9.0];
    assert_col(
        &num_op(json!({"op":"coalesce","args":[0,1]}), &[&x, &y]),
        &[1.0, 9.0, INF, -0.0],
    );
    let x2 = [NAN, NAN];
    let y2 = [NAN, 2.0];
    assert_col(
        &num_op(json!({"op":"coalesce","args":[0,1]}), &[&x2, &y2]),
        &[NAN, 2.0],
    );
}

#[test]
fn const_op() {
    let p = plan(
        json!([]),
        json!([{"op":"const","args":[],"value":2.5},{"op":"const","args":[],"value":null}]),
        json!([0, 1, 0]),
    );
    let mut plan = compile(&p);
    let out = plan.run_to_vec(&[], 3).unwrap();
    assert_col(&out, &[2.5, NAN, 2.5, 2.5, NAN, 2.5, 2.5, NAN, 2.5]);
    let mut row = [0f32; 3];
    plan.run_row(&[], &[], &mut row).unwrap();
    assert_col(&row, &[2.5, NAN, 2.5]);
}

#[test]
fn math_ops() {
    let x = [0.0, -1.0, -2.0, NAN, INF, 1.0, -0.5];
    assert_col(
        &num_op(json!({"op":"log1p","args":[0]}), &[&x]),
        &[0.0, -INF, NAN, NAN, INF, 1f64.ln_1p(), (-0.5f64).ln_1p()],
    );
    let c = [-5.0, 0.5, 5.0, NAN, -INF, INF];
    assert_col(
        &num_op(json!({"op":"clip","args":[0],"lo":0,"hi":1}), &[&c]),
        &[0.0, 0.5, 1.0, NAN, 0.0, 1.0],
    );
    assert_col(
        &num_op(json!({"op":"clip","args":[0],"lo":null,"hi":1}), &[&c]),
        &[-5.0, 0.5, 1.0, NAN, -INF, 1.0],
    );
    assert_col(
        &num_op(json!({"op":"clip","args":[0],"lo":0,"hi":null}), &[&c]),
        &[0.0, 0.5, 5.0, NAN, 0.0, INF],
    );
    assert_col(
        &num_op(json!({"op":"clip","args":[0],"lo":null,"hi":null}), &[&c]),
        &[-5.0, 0.5, 5.0, NAN, -INF, INF],
    );
    let s = [3.0, 1.0, NAN, INF];
    assert_col(
        &num_op(
            json!({"op":"standardize","args":[0],"mean":1,"std":2}),
            &[&s],
        ),
        &[1.0, 0.0, NAN, INF],
    );
    assert_col(
        &num_op(
            json!({"op":"standardize","args":[0],"mean":1,"std":0}),
            &[&s],
        ),
        &[2.0, 0.0, NAN, INF],
    );
    assert_col(
        &num_op(json!({"op":"min_max","args":[0],"min":1,"max":5}), &[&s]),
        &[0.5, 0.0, NAN, INF],
    );
    assert_col(
        &num_op(json!({"op":"min_max","args":[0],"min":1,"max":1}), &[&s]),
        &[2.0, 0.0, NAN, INF],
    );
    // Exact f64 evaluation order: (a - mean) / std, not a * (1 / std).
    let v = [0.1 + 0.2];
    let want = (v[0] - 0.3) / 0.7;
    assert_col(
        &num_op(
            json!({"op":"standardize","args":[0],"mean":0.3,"std":0.7}),
            &[&v],
        ),
        &[want],
    );
}

#[test]
fn bucketize() {
    let x = [-INF, -1.0, 0.0, 0.5, 1.0, 9.0, 10.0, INF, NAN];
    assert_col(
        &num_op(
            json!({"op":"bucketize","args":[0],"boundaries":[0, 1, 10]}),
            &[&x],
        ),
        &[0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, NAN],
    );
    assert_col(
        &num_op(json!({"op":"bucketize","args":[0],"boundaries":[]}), &[&x]),
        &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, NAN],
    );
    // The binary-search path (more than 16 boundaries) agrees with the linear one.
    let bounds: Vec<f64> = (0..40).map(|i| i as f64 * 2.5).collect();
    let xs: Vec<f64> = (-10..120).map(|i| i as f64 * 0.9).collect();
    let want: Vec<f64> = xs
        .iter()
        .map(|&x| bounds.iter().filter(|&&b| b <= x).count() as f64)
        .collect();
    assert_col(
        &num_op(
            json!({"op":"bucketize","args":[0],"boundaries":bounds}),
            &[&xs],
        ),
        &want,
    );
}

#[test]
fn time_ops() {
    const H: f64 = 3_600_000.0;
    const D: f64 = 86_400_000.0;
    let ts = [
        0.0,                 // 1970-01-01 00:00 Thursday
        -1.0,                // 1969-12-31 23:59:59.999 Wednesday
        -0.5,                // floors to -1
        23.0 * H + 0.7,      // 23:00 Thursday
        4.0 * D,             // 1970-01-05 Monday
        1_700_000_000_000.0, // 2023-11-14 22:13:20 Tuesday
        NAN,
        INF,
        -INF,
        -0.0,
        1e20,           // beyond JavaScript's Date range: null
        -D * 3.0 - 1.0, // 1969-12-28 23:59:59.999, Sunday
    ];
    let hour_1e20 = NAN;
    let dow_1e20 = NAN;
    assert_col(
        &num_op(json!({"op":"hour","args":[0]}), &[&ts]),
        &[
            0.0, 23.0, 23.0, 23.0, 0.0, 22.0, NAN, NAN, NAN, 0.0, hour_1e20, 23.0,
        ],
    );
    assert_col(
        &num_op(json!({"op":"day_of_week","args":[0]}), &[&ts]),
        &[
            3.0, 2.0, 2.0, 3.0, 0.0, 1.0, NAN, NAN, NAN, 3.0, dow_1e20, 6.0,
        ],
    );
    let t1 = [0.0, D, NAN, 0.0];
    let t2 = [D * 1.5, 0.0, 0.0, INF];
    assert_col(
        &num_op(json!({"op":"days_between","args":[0,1]}), &[&t1, &t2]),
        &[1.5, -1.0, NAN, INF],
    );
}

fn str_plan(ops: Value, outputs: Value) -> Plan {
    compile(&plan(json!([{"name":"s","type":"str"}]), ops, outputs))
}

fn dict_col<'a>(codes: &'a [i32], dict: &'a [String]) -> Column<'a> {
    Column::new(ColumnData::Dict {
        codes,
        dictionary: dict,
    })
}

fn utf8(strs: &[Option<&str>]) -> (Vec<i32>, Vec<u8>, Vec<u8>) {
    let mut offsets = vec![0];
    let mut data = Vec::new();
    let mut validity = vec![0u8; strs.len().div_ceil(8)];
    for (i, s) in strs.iter().enumerate() {
        if let Some(s) = s {
            data.extend_from_slice(s.as_bytes());
            validity[i >> 3] |= 1 << (i & 7);
        }
        offsets.push(data.len() as i32);
    }
    (offsets, data, validity)
}

/// Runs a string plan over `strs` as a dict column, as a utf8 column and row by row; all three
/// must agree. Returns the matrix.
fn str_run(plan: &mut Plan, strs: &[Option<&str>]) -> Vec<f32> {
    let m = plan.output_count();
    let mut dict: Vec<String> = Vec::new();
    let codes: Vec<i32> = strs
        .iter()
        .map(|s| match s {
            None => -1,
            Some(s) => match dict.iter().position(|d| d == s) {
                Some(p) => p as i32,
                None => {
                    dict.push(s.to_string());
                    dict.len() as i32 - 1
                }
            },
        })
        .collect();
    let a = plan
        .run_to_vec(&[dict_col(&codes, &dict)], strs.len())
        .unwrap();
    let (offsets, data, validity) = utf8(strs);
    let b = plan
        .run_to_vec(
            &[Column::with_validity(
                ColumnData::Utf8 {
                    offsets: &offsets,
                    data: &data,
                },
                &validity,
            )],
            strs.len(),
        )
        .unwrap();
    assert!(
        a.iter().zip(&b).all(|(x, y)| same(*x, *y)),
        "dict {a:?} vs utf8 {b:?}"
    );
    for (r, s) in strs.iter().enumerate() {
        let mut row = vec![0f32; m];
        plan.run_row(&[NAN], &[*s], &mut row).unwrap();
        assert!(
            row.iter()
                .zip(&a[r * m..(r + 1) * m])
                .all(|(x, y)| same(*x, *y)),
            "row {r}: {row:?}"
        );
    }
    a
}

#[test]
fn fnv() {
    assert_eq!(fnv1a32(b""), 2_166_136_261);
    assert_eq!(fnv1a32(b"a"), 0xe40c292c);
    assert_eq!(fnv1a32(b"foobar"), 0xbf9cf968);
}

#[test]
fn string_ops() {
    let strs = [
        Some("SFO"),
        Some("LAX"),
        None,
        Some("JFK"),
        Some("sfo"),
        Some(""),
        Some("SFO"),
        Some("Ünï"),
    ];
    let mut p = str_plan(
        json!([{"op":"one_hot","args":[0],"categories":["SFO","LAX"]}]),
        json!([1, 2, 3]),
    );
    assert_col(
        &str_run(&mut p, &strs),
        &[
            1.0, 0.0, 0.0, //
            0.0, 1.0, 0.0, //
            0.0, 0.0, 0.0, // null: all zeros
            0.0, 0.0, 1.0, //
            0.0, 0.0, 1.0, //
            0.0, 0.0, 1.0, //
            1.0, 0.0, 0.0, //
            0.0, 0.0, 1.0,
        ],
    );
    let mut p = str_plan(json!([{"op":"hash_bucket","args":[0],"n":7}]), json!([1]));
    let want: Vec<f64> = strs
        .iter()
        .map(|s| s.map_or(NAN, |s| (fnv1a32(s.as_bytes()) % 7) as f64))
        .collect();
    assert_col(&str_run(&mut p, &strs), &want);
    let mut p = str_plan(json!([{"op":"hash_bucket","args":[0],"n":1}]), json!([1]));
    assert_col(
        &str_run(&mut p, &strs),
        &[0.0, 0.0, NAN, 0.0, 0.0, 0.0, 0.0, 0.0],
    );
    let mut p = str_plan(
        json!([{"op":"str_eq","args":[0],"value":"SFO"}]),
        json!([1]),
    );
    assert_col(
        &str_run(&mut p, &strs),
        &[1.0, 0.0, NAN, 0.0, 0.0, 0.0, 1.0, 0.0],
    );
    // lower is ASCII-only: "Ünï" stays as is except ASCII letters; chains keep codes aligned.
    let mut p = str_plan(
        json!([
            {"op":"lower","args":[0]},
            {"op":"str_eq","args":[1],"value":"sfo"},
            {"op":"str_eq","args":[1],"value":"Ünï"},
            {"op":"lower","args":[1]},
            {"op":"one_hot","args":[4],"categories":["lax"]},
        ]),
        json!([2, 3, 5, 6]),
    );
    assert_col(
        &str_run(&mut p, &strs),
        &[
            1.0, 0.0, 0.0, 1.0, //
            0.0, 0.0, 1.0, 0.0, //
            NAN, NAN, 0.0, 0.0, //
            0.0, 0.0, 0.0, 1.0, //
            1.0, 0.0, 0.0, 1.0, //
            0.0, 0.0, 0.0, 1.0, //
            1.0, 0.0, 0.0, 1.0, //
            0.0, 1.0, 0.0, 1.0,
        ],
    );
    let mut p = str_plan(
        json!([{"op":"lower","args":[0]},{"op":"hash_bucket","args":[1],"n":1000000}]),
        json!([2]),
    );
    let want: Vec<f64> = strs
        .iter()
        .map(|s| {
            s.map_or(NAN, |s| {
                (fnv1a32(s.to_ascii_lowercase().as_bytes()) % 1_000_000) as f64
            })
        })
        .collect();
    assert_col(&str_run(&mut p, &strs), &want);
}

#[test]
fn input_kinds_and_validity() {
    let p = plan(json!([{"name":"x","type":"num"}]), json!([]), json!([0]));
    let mut plan = compile(&p);
    let validity = [0b0000_0101u8];
    let f64s = [1.5, 2.0, NAN];
    let f32s = [1.5f32, 2.0, f32::NAN];
    let i32s = [1, -2, 3];
    let i64s = [1i64, -2, (1 << 53) + 1];
    let bools = [0u8, 1, 7];
    let cases: Vec<(Column, Vec<f64>)> = vec![
        (Column::new(ColumnData::F64(&f64s)), vec![1.5, 2.0, NAN]),
        (Column::new(ColumnData::F32(&f32s)), vec![1.5, 2.0, NAN]),
        (Column::new(ColumnData::I32(&i32s)), vec![1.0, -2.0, 3.0]),
        (
            Column::new(ColumnData::I64(&i64s)),
            vec![1.0, -2.0, 9007199254740992.0],
        ),
        (Column::new(ColumnData::Bool(&bools)), vec![0.0, 1.0, 1.0]),
        (
            Column::with_validity(ColumnData::F64(&f64s), &validity),
            vec![1.5, NAN, NAN],
        ),
        (
            Column::with_validity(ColumnData::I32(&i32s), &validity),
            vec![1.0, NAN, 3.0],
        ),
        (
            Column::with_validity(ColumnData::Bool(&bools), &validity),
            vec![0.0, NAN, 1.0],
        ),
    ];
    for (col, want) in cases {
        assert_col(&plan.run_to_vec(&[col], 3).unwrap(), &want);
    }
    // dict codes with validity: validity 0 is null even with a valid code.
    let p = str_plan(json!([{"op":"str_eq","args":[0],"value":"a"}]), json!([1]));
    let mut plan = p;
    let dict = vec!["a".to_string(), "b".to_string()];
    let codes = [0, 1, 0, -5];
    let v = [0b0000_1011u8];
    let out = plan
        .run_to_vec(
            &[Column::with_validity(
                ColumnData::Dict {
                    codes: &codes,
                    dictionary: &dict,
                },
                &v,
            )],
            4,
        )
        .unwrap();
    assert_col(&out, &[1.0, 0.0, NAN, NAN]);
}

#[test]
fn empty_and_one_row() {
    let p = plan(
        json!([{"name":"x","type":"num"},{"name":"s","type":"str"}]),
        json!([{"op":"hash_bucket","args":[1],"n":10},{"op":"add","args":[0,2]}]),
        json!([3, 0]),
    );
    let mut plan = compile(&p);
    let dict: Vec<String> = vec![];
    let out = plan
        .run_to_vec(
            &[Column::new(ColumnData::F64(&[])), dict_col(&[], &dict)],
            0,
        )
        .unwrap();
    assert!(out.is_empty());
    let (offsets, data, _) = utf8(&[]);
    let out = plan
        .run_to_vec(
            &[
                Column::new(ColumnData::F64(&[])),
                Column::new(ColumnData::Utf8 {
                    offsets: &offsets,
                    data: &data,
                }),
            ],
            0,
        )
        .unwrap();
    assert!(out.is_empty());
    let dict = vec!["x".to_string()];
    let out = plan
        .run_to_vec(
            &[Column::new(ColumnData::F64(&[2.0])), dict_col(&[0], &dict)],
            1,
        )
        .unwrap();
    let h = (fnv1a32(b"x") % 10) as f64;
    assert_col(&out, &[h + 2.0, 2.0]);
    // A plan with no outputs still validates and produces an empty matrix.
    let mut none = compile(&plan_str_no_outputs());
    assert!(none
        .run_to_vec(&[Column::new(ColumnData::F64(&[1.0, 2.0]))], 2)
        .unwrap()
        .is_empty());
}

fn plan_str_no_outputs() -> String {
    plan(
        json!([{"name":"x","type":"num"}]),
        json!([{"op":"neg","args":[0]}]),
        json!([]),
    )
}

#[test]
fn chunk_boundaries() {
    let p = plan(
        json!([{"name":"x","type":"num"},{"name":"y","type":"num"},{"name":"s","type":"str"}]),
        json!([
            {"op":"mul","args":[0,1]},
            {"op":"fill_null","args":[3],"value":-1},
            {"op":"one_hot","args":[2],"categories":["a","b"]},
            {"op":"lower","args":[2]},
            {"op":"hash_bucket","args":[8],"n":13},
            {"op":"bucketize","args":[0],"boundaries":[10, 100, 1000]},
        ]),
        json!([4, 5, 6, 7, 9, 10, 0]),
    );
    let mut plan = compile(&p);
    let m = plan.output_count();
    for rows in [1usize, 1023, 1024, 1025, 2048, 3000] {
        let x: Vec<f64> = (0..rows)
            .map(|i| if i % 17 == 0 { NAN } else { i as f64 * 0.37 })
            .collect();
        let y: Vec<i32> = (0..rows).map(|i| (i % 11) as i32 - 5).collect();
        let yv: Vec<u8> = (0..rows.div_ceil(8))
            .map(|b| if b % 3 == 0 { 0xF7 } else { 0xFF })
            .collect();
        let words = ["a", "B", "b", "c", "A", "zz"];
        let strs: Vec<Option<&str>> = (0..rows)
            .map(|i| {
                if i % 13 == 0 {
                    None
                } else {
                    Some(words[i % words.len()])
                }
            })
            .collect();
        let (offsets, data, validity) = utf8(&strs);
        let cols = [
            Column::new(ColumnData::F64(&x)),
            Column::with_validity(ColumnData::I32(&y), &yv),
            Column::with_validity(
                ColumnData::Utf8 {
                    offsets: &offsets,
                    data: &data,
                },
                &validity,
            ),
        ];
        let out = plan.run_to_vec(&cols, rows).unwrap();
        assert_eq!(out.len(), rows * m);
        for r in 0..rows {
            let yval = if (yv[r >> 3] >> (r & 7)) & 1 == 1 {
                y[r] as f64
            } else {
                NAN
            };
            let mut row = vec![0f32; m];
            plan.run_row(&[x[r], yval, NAN], &[strs[r]], &mut row)
                .unwrap();
            assert!(
                row.iter()
                    .zip(&out[r * m..(r + 1) * m])
                    .all(|(a, b)| same(*a, *b)),
                "rows={rows} row {r}: {row:?} vs {:?}",
                &out[r * m..(r + 1) * m]
            );
        }
        // Spot-check the values themselves.
        let r = rows - 1;
        let prod = x[r]
            * if (yv[r >> 3] >> (r & 7)) & 1 == 1 {
                y[r] as f64
            } else {
                NAN
            };
        assert!(same(
            out[r * m],
            if prod.is_nan() { -1.0 } else { prod as f32 }
        ));
    }
}

// ---------------------------------------------------------------- plan validation

fn one_op(op: Value) -> String {
    plan(
        json!([{"name":"x","type":"num"},{"name":"s","type":"str"}]),
        json!([op]),
        json!([]),
    )
}

#[test]
fn rejects_malformed_plans() {
    let cases: Vec<(String, &str)> = vec![
        ("{".to_owned(), "not valid JSON"),
        ("[]".to_owned(), "plan must be a JSON object"),
        (json!({"format":"other","version":1,"inputs":[],"ops":[],"outputs":[]}).to_string(), "plan.format must be \"fresco.plan\""),
        (json!({"version":1,"inputs":[],"ops":[],"outputs":[]}).to_string(), "plan.format is missing"),
        (json!({"format":"fresco.plan","version":2,"inputs":[],"ops":[],"outputs":[]}).to_string(), "plan.version must be 1, got 2"),
        (json!({"format":"fresco.plan","version":"1","inputs":[],"ops":[],"outputs":[]}).to_string(), "plan.version must be 1"),
        (json!({"format":"fresco.plan","version":1,"inputs":{},"ops":[],"outputs":[]}).to_string(), "plan.inputs must be an array"),
        (json!({"format":"fresco.plan","version":1,"inputs":[],"outputs":[]}).to_string(), "plan.ops is missing"),
        (json!({"format":"fresco.plan","version":1,"inputs":[],"ops":[]}).to_string(), "plan.outputs is missing"),
        (plan(json!([{"name":"x","type":"int"}]), json!([]), json!([])), "input 0 (\"x\"): type must be \"num\" or \"str\""),
        (plan(json!([{"type":"num"}]), json!([]), json!([])), "input 0: name is missing"),
        (plan(json!([3]), json!([]), json!([])), "input 0: must be an object"),
        (one_op(json!({"op":"frobnicate","args":[0]})), "op 0 (frobnicate): unknown op"),
        (one_op(json!({"args":[0]})), "op 0: \"op\" is missing"),
        (one_op(json!("add")), "op 0: must be an object"),
        (one_op(json!({"op":"add","args":[0]})), "op 0 (add): expects 2 args, got 1"),
        (one_op(json!({"op":"neg","args":[0, 0]})), "op 0 (neg): expects 1 arg, got 2"),
        (one_op(json!({"op":"neg"})), "op 0 (neg): args is missing"),
        (one_op(json!({"op":"const","args":[0],"value":1})), "op 0 (const): expects 0 args, got 1"),
        (one_op(json!({"op":"add","args":[0, 9]})), "op 0 (add): arg 1 refers to slot 9, but only slots 0..1 are defined"),
        (one_op(json!({"op":"add","args":[0, -1]})), "op 0 (add): arg 1 must be a slot index"),
        (one_op(json!({"op":"add","args":[0, 0.5]})), "op 0 (add): arg 1 must be a slot index"),
        (one_op(json!({"op":"add","args":[0, "1"]})), "op 0 (add): arg 1 must be a slot index"),
        (one_op(json!({"op":"add","args":[0, 1]})), "op 0 (add): arg 1 refers to slot 1, a str slot, but add needs a num slot"),
        (one_op(json!({"op":"lower","args":[0]})), "op 0 (lower): arg 0 refers to slot 0, a num slot, but lower needs a str slot"),
        (one_op(json!({"op":"const","args":[]})), "op 0 (const): missing parameter \"value\""),
        (one_op(json!({"op":"const","value":1})), "op 0 (const): args is missing"),
        (one_op(json!({"op":"const","args":[],"value":"1"})), "op 0 (const): parameter \"value\" must be a number or null"),
        (one_op(json!({"op":"fill_null","args":[0],"value":null})), "op 0 (fill_null): parameter \"value\" must be a number"),
        (one_op(json!({"op":"clip","args":[0],"lo":0})), "op 0 (clip): missing parameter \"hi\""),
        (one_op(json!({"op":"standardize","args":[0],"mean":0})), "op 0 (standardize): missing parameter \"std\""),
        (one_op(json!({"op":"min_max","args":[0],"min":0,"max":"1"})), "op 0 (min_max): parameter \"max\" must be a number"),
        (one_op(json!({"op":"bucketize","args":[0],"boundaries":[1, 1]})), "op 0 (bucketize): boundaries must be strictly ascending, but boundaries[1] = 1 follows 1"),
        (one_op(json!({"op":"bucketize","args":[0],"boundaries":[2, 1]})), "strictly ascending"),
        (one_op(json!({"op":"bucketize","args":[0],"boundaries":[1, null]})), "op 0 (bucketize): boundaries[1] must be a number"),
        (one_op(json!({"op":"bucketize","args":[0],"boundaries":3})), "op 0 (bucketize): parameter \"boundaries\" must be an array"),
        (one_op(json!({"op":"one_hot","args":[1],"categories":["a","b","a"]})), "op 0 (one_hot): categories must be distinct, but categories[2] repeats categories[0] (\"a\")"),
        (one_op(json!({"op":"one_hot","args":[1],"categories":["a", 1]})), "op 0 (one_hot): categories[1] must be a string"),
        (one_op(json!({"op":"one_hot","args":[1]})), "op 0 (one_hot): missing parameter \"categories\""),
        (one_op(json!({"op":"hash_bucket","args":[1],"n":0})), "op 0 (hash_bucket): parameter \"n\" must be an integer from 1 to 2^32-1, got 0"),
        (one_op(json!({"op":"hash_bucket","args":[1],"n":4294967296u64})), "op 0 (hash_bucket): parameter \"n\" must be an integer from 1 to 2^32-1"),
        (one_op(json!({"op":"hash_bucket","args":[1],"n":2.5})), "op 0 (hash_bucket): parameter \"n\" must be an integer from 1 to 2^32-1"),
        (one_op(json!({"op":"hash_bucket","args":[1],"n":-3})), "op 0 (hash_bucket): parameter \"n\" must be an integer from 1 to 2^32-1"),
        (one_op(json!({"op":"str_eq","args":[1],"value":3})), "op 0 (str_eq): parameter \"value\" must be a string"),
        (plan(json!([{"name":"x","type":"num"}]), json!([]), json!([1])), "output 0 refers to slot 1, but only slots 0..0 are defined"),
        (plan(json!([]), json!([]), json!([0])), "output 0 refers to slot 0, but no slots are defined"),
        (plan(json!([{"name":"s","type":"str"}]), json!([]), json!([0])), "output 0 refers to slot 0, a str slot"),
        (plan(json!([{"name":"s","type":"str"}]), json!([{"op":"lower","args":[0]}]), json!([1])), "output 0 refers to slot 1, a str slot"),
        (plan(json!([]), json!([]), json!(["0"])), "output 0: must be a slot index"),
    ];
    for (json, want) in cases {
        let msg = invalid(&json);
        assert!(
            msg.contains(want),
            "plan {json}\n  message: {msg}\n  wanted: {want}"
        );
    }
    // output_names: optional, distinct strings, one per output.
    let named = |names: Value| {
        json!({"format":"fresco.plan","version":1,"inputs":[{"name":"x","type":"num"}],"ops":[],"outputs":[0, 0],"output_names":names}).to_string()
    };
    compile(&named(json!(["a", "b"])));
    for bad in [
        json!(["a"]),
        json!(["a", "a"]),
        json!(["a", 1]),
        json!("ab"),
    ] {
        assert!(invalid(&named(bad))
            .contains("plan.output_names must be 2 distinct strings, one per output"));
    }
    // clip with lo > hi is valid: `a < lo` is tested first, then `a > hi`.
    let mut clip = compile(&plan(
        json!([{"name":"x","type":"num"}]),
        json!([{"op":"clip","args":[0],"lo":2,"hi":1}]),
        json!([1]),
    ));
    let xs = [0.0, 1.5, 3.0, NAN];
    assert_col(
        &clip
            .run_to_vec(&[Column::new(ColumnData::F64(&xs))], 4)
            .unwrap(),
        &[2.0, 2.0, 1.0, NAN],
    );
    // Slots are numbered through one_hot's k + 1 results; an op cannot refer to itself.
    let msg = invalid(&plan(
        json!([{"name":"s","type":"str"}]),
        json!([{"op":"one_hot","args":[0],"categories":["a"]},{"op":"add","args":[1,2]},{"op":"neg","args":[4]}]),
        json!([]),
    ));
    assert_eq!(
        msg,
        "op 2 (neg): arg 0 refers to slot 4, but only slots 0..3 are defined"
    );
    // Slot indices written as 1.0 are accepted; extra keys are ignored.
    compile(&plan(
        json!([{"name":"x","type":"num","note":1}]),
        json!([{"op":"neg","args":[0.0],"comment":"x"}]),
        json!([1.0]),
    ));
}

// ---------------------------------------------------------------- input validation

fn input_err(plan: &mut Plan, cols: &[Column], rows: usize) -> String {
    let e = err_of(plan.run_to_vec(cols, rows));
    assert_eq!(e.code, ErrorCode::PlanInput, "{e}");
    e.message
}

#[test]
fn rejects_malformed_inputs() {
    let p = plan(
        json!([{"name":"x","type":"num"},{"name":"origin","type":"str"}]),
        json!([{"op":"hash_bucket","args":[1],"n":10}]),
        json!([0, 2]),
    );
    let mut plan = compile(&p);
    let x = [1.0, 2.0, 3.0];
    let dict = vec!["a".to_string(), "b".to_string()];
    let good_codes = [0, 1, -1];
    let num = Column::new(ColumnData::F64(&x));
    let good = dict_col(&good_codes, &dict);
    assert!(plan.run_to_vec(&[num, good], 3).is_ok());

    let check = |plan: &mut Plan, cols: &[Column], rows: usize, want: &str| {
        let msg = input_err(plan, cols, rows);
        assert!(msg.contains(want), "message: {msg}\nwanted: {want}");
    };
    check(
        &mut plan,
        &[num],
        3,
        "expected 2 columns (one per plan input), got 1; input 1 (\"origin\") has no column",
    );
    check(
        &mut plan,
        &[num, good, num],
        3,
        "expected 2 columns (one per plan input), got 3",
    );
    check(
        &mut plan,
        &[good, good],
        3,
        "input 0 (\"x\"): a num input takes an f64, f32, i32, i64 or bool column, got dict",
    );
    check(
        &mut plan,
        &[num, num],
        3,
        "input 1 (\"origin\"): a str input takes a dict or utf8 column, got f64",
    );
    check(
        &mut plan,
        &[num, good],
        4,
        "input 0 (\"x\"): f64 values has 3 entries, but rows is 4",
    );
    check(
        &mut plan,
        &[Column::new(ColumnData::F64(&x)), dict_col(&[0, 1], &dict)],
        3,
        "input 1 (\"origin\"): dict codes has 2 entries, but rows is 3",
    );
    let rows9 = [0.0; 9];
    let short = [0xFFu8];
    check(
        &mut plan,
        &[
            Column::with_validity(ColumnData::F64(&rows9), &short),
            dict_col(&[0; 9], &dict),
        ],
        9,
        "input 0 (\"x\"): validity bitmap has 1 bytes, but 9 rows need 2",
    );
    check(
        &mut plan,
        &[num, dict_col(&[0, 2, 1], &dict)],
        3,
        "input 1 (\"origin\"): dict code 2 at row 1 is past the dictionary (2 entries)",
    );
    let utf = |offsets: &'static [i32], data: &'static [u8]| {
        Column::new(ColumnData::Utf8 { offsets, data })
    };
    check(
        &mut plan,
        &[num, utf(&[0, 1, 2], b"ab")],
        3,
        "input 1 (\"origin\"): utf8 offsets has 3 entries, expected rows + 1 = 4",
    );
    check(
        &mut plan,
        &[num, utf(&[0, 2, 1, 2], b"ab")],
        3,
        "utf8 offsets are not monotonic: offsets[2] = 1 < offsets[1] = 2",
    );
    check(
        &mut plan,
        &[num, utf(&[0, 1, 2, 5], b"abc")],
        3,
        "utf8 offsets[3] = 5 is past the end of data (3 bytes)",
    );
    check(
        &mut plan,
        &[num, utf(&[-1, 1, 2, 3], b"abc")],
        3,
        "utf8 offsets[0] is -1",
    );
    check(
        &mut plan,
        &[num, utf(&[0, 1, 3, 3], b"a\xC3(")],
        3,
        "input 1 (\"origin\"): row 1 is not valid UTF-8",
    );
    // A null row's bytes are not checked; the offsets still are.
    let nulls = [0b101u8];
    let col = Column::with_validity(
        ColumnData::Utf8 {
            offsets: &[0, 1, 3, 3],
            data: b"a\xC3(",
        },
        &nulls,
    );
    assert!(plan.run_to_vec(&[num, col], 3).is_ok());
    // Output buffer and run_row argument checks.
    let mut out = vec![0f32; 5];
    assert_eq!(
        err_of(plan.run(&[num, good], 3, &mut out)).code,
        ErrorCode::PlanInput
    );
    let mut row = [0f32; 2];
    assert!(err_of(plan.run_row(&[1.0], &[None], &mut row))
        .message
        .contains("expected 2 numeric values"));
    assert!(err_of(plan.run_row(&[1.0, NAN], &[], &mut row))
        .message
        .contains("expected 1 string value"));
    assert!(err_of(plan.run_row(&[1.0, NAN], &[None], &mut [0f32; 3]))
        .message
        .contains("output buffer has 3 floats, expected 2"));
    // The plan stays usable after errors.
    assert_col(
        &plan.run_to_vec(&[num, good], 3).unwrap(),
        &[
            1.0,
            (fnv1a32(b"a") % 10) as f64,
            2.0,
            (fnv1a32(b"b") % 10) as f64,
            3.0,
            NAN,
        ],
    );
}

#[test]
fn assemble() {
    let a = [1.0f32, 2.0, 3.0];
    let b = [f32::NAN, -0.0, 6.0];
    let mut out = vec![0f32; 6];
    assemble_columns(&[&a, &b], 3, &mut out).unwrap();
    let want = [1.0, NAN, 2.0, -0.0, 3.0, 6.0];
    assert_col(&out, &want);
    for rows in [0usize, 1, 63, 64, 65, 1000] {
        let cols: Vec<Vec<f32>> = (0..5)
            .map(|j| (0..rows).map(|i| (i * 10 + j) as f32).collect())
            .collect();
        let refs: Vec<&[f32]> = cols.iter().map(|c| &c[..]).collect();
        let mut out = vec![0f32; rows * 5];
        assemble_columns(&refs, rows, &mut out).unwrap();
        assert!(out
            .iter()
            .enumerate()
            .all(|(k, &v)| v == ((k / 5) * 10 + k % 5) as f32));
    }
    let e = err_of(assemble_columns(&[&a, &b[..2]], 3, &mut out));
    assert_eq!(e.code, ErrorCode::PlanInput);
    assert!(
        e.message.contains("column 1 has 2 values, but rows is 3"),
        "{}",
        e.message
    );
    let e = err_of(assemble_columns(&[&a, &b], 3, &mut [0f32; 5]));
    assert_eq!(e.code, ErrorCode::PlanInput);
    let mut empty: [f32; 0] = [];
    assemble_columns(&[], 10, &mut empty).unwrap();
}

#[test]
fn error_display() {
    let e = PlanError::invalid("op 3 (add): bad");
    assert_eq!(e.to_string(), "[FRESCO_ERR_PLAN_INVALID] op 3 (add): bad");
}
