//! Rejected plans and inputs (codes and messages), assembly, and error display.

use super::*;

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
