//! Numeric op semantics, batch and single-row paths alike.

use super::*;

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
