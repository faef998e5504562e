//! Input kinds, validity bitmaps, empty and one-row runs, chunk boundaries.

use super::*;

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
