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


mod ops;
mod runs;
mod strings;
mod validation;
