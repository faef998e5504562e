//! fresco-train: gradient-boosted decision trees for Fresco, on forust-ml (a maintained, pure-Rust
//! histogram GBDT). This crate is the seam: it takes the feature plan's row-major f32 matrix,
//! trains with early stopping on a validation set, and hands back (1) the engine's own model, for
//! its own predictions, and (2) the trees in a small engine-neutral form that the TypeScript side
//! writes into an ONNX `TreeEnsembleRegressor`. Errors are returned as strings; the binding turns
//! them into Fresco errors.

use forust_ml::gradientbooster::GrowPolicy;
use forust_ml::metric::Metric;
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};
use serde::{Deserialize, Serialize};

/// Hyper-parameters, as src/training validates them (names follow LightGBM where they exist).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GbdtParams {
    /// `binary` (log loss, raw score is log-odds) or `regression` (squared loss).
    pub objective: String,
    pub iterations: usize,
    pub learning_rate: f32,
    pub max_leaves: usize,
    pub max_depth: usize,
    pub l1: f32,
    pub l2: f32,
    pub min_leaf_weight: f32,
    pub gamma: f32,
    pub nbins: u16,
    pub subsample: f32,
    pub colsample_bytree: f64,
    pub seed: u64,
    /// Stop when the validation metric has not improved for this many rounds (needs validation data).
    pub early_stopping_rounds: Option<usize>,
    /// 0: all cores.
    pub threads: usize,
}

/// One node of an exported tree. Internal nodes send `x < threshold` left, missing to `missing_left`.
#[derive(Debug, Clone, Serialize)]
pub struct ExportNode {
    pub leaf: bool,
    pub feature: usize,
    /// The split value as the engine holds it (f64).
    pub split: f64,
    /// The smallest f32 >= `split`: for every f32 x, `x < split` iff `x < threshold_f32`, so an
    /// ONNX runtime comparing in f32 takes exactly the engine's branch.
    pub threshold_f32: f32,
    pub left: usize,
    pub right: usize,
    pub missing_left: bool,
    /// Leaf value (already multiplied by the learning rate).
    pub value: f32,
    pub gain: f32,
    pub cover: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainOutput {
    /// forust-ml's own JSON model: reloaded by [`predict`].
    pub booster: String,
    pub base_score: f64,
    pub trees: Vec<Vec<ExportNode>>,
    /// Trees kept (after early stopping) and trees grown.
    pub best_iteration: Option<usize>,
    pub iterations_run: usize,
    /// Validation metric per iteration (AUC for binary, RMSE for regression), when validating.
    pub validation_history: Vec<f64>,
    /// Per feature: total split gain and split count over the kept trees.
    pub gain: Vec<f64>,
    pub splits: Vec<u32>,
}

/// The smallest f32 that is >= x.
pub fn f32_at_or_above(x: f64) -> f32 {
    let f = x as f32;
    if (f as f64) >= x || !f.is_finite() {
        return f;
    }
    // f < x here: step one f32 towards +infinity (0 rounds up to the smallest subnormal).
    let bits = f.to_bits();
    if f == 0.0 {
        f32::from_bits(1)
    } else if f > 0.0 {
        f32::from_bits(bits + 1)
    } else {
        f32::from_bits(bits - 1)
    }
}

/// Row-major f32 (the plan's matrix) to the column-major f64 the engine reads.
fn column_major(x: &[f32], rows: usize, cols: usize) -> Vec<f64> {
    let mut out = vec![0.0f64; rows * cols];
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        for (c, v) in row.iter().enumerate() {
            out[c * rows + r] = *v as f64;
        }
    }
    out
}

fn check_shape(x: &[f32], rows: usize, cols: usize, what: &str) -> Result<(), String> {
    if cols == 0 || x.len() != rows * cols {
        return Err(format!("{what}: {} values is not {rows} rows x {cols} columns", x.len()));
    }
    Ok(())
}

fn objective(p: &GbdtParams) -> Result<(ObjectiveType, Metric), String> {
    match p.objective.as_str() {
        "binary" => Ok((ObjectiveType::LogLoss, Metric::AUC)),
        "regression" => Ok((ObjectiveType::SquaredLoss, Metric::RootMeanSquaredError)),
        other => Err(format!("unknown objective \"{other}\"; expected binary or regression")),
    }
}

pub fn train(
    x: &[f32],
    rows: usize,
    cols: usize,
    y: &[f64],
    valid: Option<(&[f32], usize, &[f64])>,
    p: &GbdtParams,
) -> Result<TrainOutput, String> {
    check_shape(x, rows, cols, "training matrix")?;
    if y.len() != rows {
        return Err(format!("{} labels for {rows} rows", y.len()));
    }
    let (objective_type, metric) = objective(p)?;
    let mut booster = GradientBooster::default()
        .set_objective_type(objective_type)
        .set_iterations(p.iterations)
        .set_learning_rate(p.learning_rate)
        .set_max_leaves(p.max_leaves)
        .set_max_depth(p.max_depth)
        .set_l1(p.l1)
        .set_l2(p.l2)
        .set_min_leaf_weight(p.min_leaf_weight)
        .set_gamma(p.gamma)
        .set_nbins(p.nbins)
        .set_subsample(p.subsample)
        .set_colsample_bytree(p.colsample_bytree)
        .set_seed(p.seed)
        .set_parallel(p.threads != 1)
        .set_num_threads(if p.threads == 0 { None } else { Some(p.threads) })
        .set_initialize_base_score(true)
        .set_missing(f64::NAN);
    booster.grow_policy = GrowPolicy::LossGuide;
    let data = column_major(x, rows, cols);
    let matrix = Matrix::new(&data, rows, cols);
    let weights = vec![1.0f64; rows];
    let valid_data;
    let valid_weights;
    let mut evaluation = None;
    if let Some((vx, vrows, vy)) = valid {
        check_shape(vx, vrows, cols, "validation matrix")?;
        if vy.len() != vrows {
            return Err(format!("{} validation labels for {vrows} rows", vy.len()));
        }
        valid_data = column_major(vx, vrows, cols);
        valid_weights = vec![1.0f64; vrows];
        booster = booster
            .set_evaluation_metric(Some(metric))
            .set_early_stopping_rounds(p.early_stopping_rounds);
        evaluation = Some(vec![(Matrix::new(&valid_data, vrows, cols), vy, &valid_weights[..])]);
    }
    booster.fit(&matrix, y, &weights, evaluation).map_err(|e| format!("{e}"))?;
    let iterations_run = booster.trees.len();
    let validation_history = booster
        .evaluation_history
        .as_ref()
        .map(|h| (0..h.rows).map(|r| *h.get(r, h.cols - 1)).collect())
        .unwrap_or_default();
    // Keep only the trees that predict: everything downstream (ONNX, importance) sees one model.
    if let Some(n) = booster.prediction_iteration {
        booster.trees.truncate(n);
    }
    let best_iteration = booster.best_iteration;
    booster.prediction_iteration = None;
    booster.best_iteration = None;
    booster.evaluation_history = None;
    let mut gain = vec![0.0f64; cols];
    let mut splits = vec![0u32; cols];
    let trees = booster
        .trees
        .iter()
        .map(|tree| {
            tree.nodes
                .iter()
                .map(|n| {
                    if !n.is_leaf {
                        gain[n.split_feature] += n.split_gain as f64;
                        splits[n.split_feature] += 1;
                    }
                    ExportNode {
                        leaf: n.is_leaf,
                        feature: n.split_feature,
                        split: n.split_value,
                        threshold_f32: f32_at_or_above(n.split_value),
                        left: n.left_child,
                        right: n.right_child,
                        missing_left: n.missing_node == n.left_child,
                        value: n.weight_value,
                        gain: n.split_gain,
                        cover: n.hessian_sum,
                    }
                })
                .collect()
        })
        .collect::<Vec<Vec<ExportNode>>>();
    Ok(TrainOutput {
        booster: booster.json_dump().map_err(|e| format!("{e}"))?,
        base_score: booster.base_score,
        trees,
        best_iteration,
        iterations_run,
        validation_history,
        gain,
        splits,
    })
}

/// [`train`] with JSON parameters in and a JSON [`TrainOutput`] out: the binding's whole contract.
pub fn train_json(
    x: &[f32],
    rows: usize,
    cols: usize,
    y: &[f64],
    valid: Option<(&[f32], usize, &[f64])>,
    params_json: &str,
) -> Result<String, String> {
    let params: GbdtParams = serde_json::from_str(params_json).map_err(|e| format!("GBDT parameters: {e}"))?;
    let out = train(x, rows, cols, y, valid, &params)?;
    serde_json::to_string(&out).map_err(|e| e.to_string())
}

/// Raw scores (log-odds for binary) of `x` under a model from [`train`].
pub fn predict(booster: &str, x: &[f32], rows: usize, cols: usize) -> Result<Vec<f64>, String> {
    check_shape(x, rows, cols, "matrix")?;
    let model = GradientBooster::from_json(booster).map_err(|e| format!("not a forust-ml model: {e}"))?;
    let data = column_major(x, rows, cols);
    Ok(model.predict(&Matrix::new(&data, rows, cols), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_rounds_up_to_f32() {
        let t = 0.1f64;
        let f = f32_at_or_above(t);
        assert!(f as f64 >= t);
        assert!((f32::from_bits(f.to_bits() - 1) as f64) < t);
        assert_eq!(f32_at_or_above(0.5), 0.5);
        assert_eq!(f32_at_or_above(-1.5), -1.5);
    }

    fn params() -> GbdtParams {
        GbdtParams {
            objective: "binary".into(),
            iterations: 30,
            learning_rate: 0.3,
            max_leaves: 8,
            max_depth: 6,
            l1: 0.0,
            l2: 1.0,
            min_leaf_weight: 1.0,
            gamma: 0.0,
            nbins: 64,
            subsample: 1.0,
            colsample_bytree: 1.0,
            seed: 7,
            early_stopping_rounds: Some(5),
            threads: 1,
        }
    }

    #[test]
    fn learns_a_threshold_and_walking_the_export_matches_predict() {
        let rows = 2000;
        let x: Vec<f32> = (0..rows * 2).map(|i| ((i * 7919) % 1000) as f32 / 1000.0).collect();
        let y: Vec<f64> = (0..rows).map(|r| if x[r * 2] > 0.5 { 1.0 } else { 0.0 }).collect();
        let out = train(&x, rows, 2, &y, Some((&x, rows, &y)), &params()).unwrap();
        let raw = predict(&out.booster, &x, rows, 2).unwrap();
        for r in 0..rows {
            let mut s = out.base_score;
            for t in &out.trees {
                let mut i = 0;
                while !t[i].leaf {
                    let n = &t[i];
                    let v = x[r * 2 + n.feature];
                    i = if v.is_nan() { if n.missing_left { n.left } else { n.right } } else if v < n.threshold_f32 { n.left } else { n.right };
                }
                s += t[i].value as f64;
            }
            assert!((s - raw[r]).abs() < 1e-9);
            assert_eq!(raw[r] > 0.0, y[r] == 1.0);
        }
        assert!(out.gain[0] > out.gain[1]);
    }

    /// Leaf-wise growth splits the leaf whose best split gains most (LightGBM's num_leaves).
    /// A 4-leaf, depth-2 tree shows both children's best splits; a 3-leaf tree, grown from
    /// the same root, must have split the child with the larger gain. forust-ml 0.8.0 as
    /// published ranked leaves by their own score instead, and fails this on some datasets.
    #[test]
    fn leaf_wise_growth_splits_the_best_gain_first() {
        let rows = 3000;
        let mut checked = 0;
        for s in 0..24u64 {
            let mut state = s.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f32 / (1u64 << 53) as f32
            };
            let x: Vec<f32> = (0..rows * 3).map(|_| next()).collect();
            let cut = 0.2 + 0.6 * next();
            let y: Vec<f64> = (0..rows)
                .map(|r| {
                    let (a, b, c) = (x[r * 3], x[r * 3 + 1], x[r * 3 + 2]);
                    let p = if a < cut { 0.2 + 0.6 * (b < 0.5) as i32 as f32 } else { 0.7 - 0.3 * c };
                    (next() < p) as i32 as f64
                })
                .collect();
            let mut p = params();
            p.iterations = 1;
            p.early_stopping_rounds = None;
            p.min_leaf_weight = 0.0;
            p.max_depth = 2;
            p.max_leaves = 4;
            let four = train(&x, rows, 3, &y, None, &p).unwrap();
            p.max_leaves = 3;
            let three = train(&x, rows, 3, &y, None, &p).unwrap();
            let (t4, t3) = (&four.trees[0], &three.trees[0]);
            if t4.len() != 7 || t3.len() != 5 {
                continue;
            }
            let (l, r) = (t4[0].left, t4[0].right);
            let expected = if t4[l].gain >= t4[r].gain { t3[0].left } else { t3[0].right };
            assert!(!t3[expected].leaf, "dataset {s}: split the child with the smaller gain");
            checked += 1;
        }
        assert!(checked >= 12, "only {checked} datasets grew full trees");
    }

    #[test]
    fn same_seed_same_model() {
        let rows = 500;
        let x: Vec<f32> = (0..rows * 3).map(|i| ((i * 104729) % 997) as f32).collect();
        let y: Vec<f64> = (0..rows).map(|r| (x[r * 3] + x[r * 3 + 1] > 997.0) as i32 as f64).collect();
        let mut p = params();
        p.threads = 0;
        p.subsample = 0.8;
        let a = train(&x, rows, 3, &y, None, &p).unwrap();
        let b = train(&x, rows, 3, &y, None, &p).unwrap();
        assert_eq!(a.booster, b.booster);
    }
}
