//! String ops over dict and utf8 columns and single rows.

use super::*;

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
