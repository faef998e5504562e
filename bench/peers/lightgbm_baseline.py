"""LightGBM (PyPI) on exactly the rows and features Fresco trained on (bench/training.ts).

Reads <dir>/{train,valid,test}.f32 (row-major float32, NaN = missing) and .y (float64 labels),
trains with the settings in <dir>/params.json, early-stopped on the validation rows, and writes
the test-set probabilities to <dir>/lightgbm.pred.f64 and the timings to stdout as JSON.

The settings are Fresco's (not LightGBM's defaults), mapped one to one: num_leaves = max_leaves,
leaf-wise growth on both sides, max_bin = max_bin, lambda_l1/l2 = l1/l2 (Fresco's l2 default is 1,
LightGBM's 0), min_sum_hessian_in_leaf = min_leaf_weight, min_gain_to_split = gamma, no bagging or
feature sampling, NaN as missing (each split sends it to the better side, on both), every column
numeric (no categorical_feature: Fresco's one-hot columns are plain 0/1 columns here too), the base
score from the label mean (boost_from_average). Not matchable: forust-ml has no count-based
min_data_in_leaf (LightGBM's is set to 1 so that only the hessian limit applies, as in Fresco), and
the engines choose bin edges differently (forust-ml: quantiles of all rows; LightGBM: its own bin
finder on a 200k-row sample).
"""
import json
import sys
import time

import lightgbm as lgb
import numpy as np


def load(d, name, cols):
    x = np.fromfile(f"{d}/{name}.f32", dtype=np.float32).reshape(-1, cols)
    y = np.fromfile(f"{d}/{name}.y", dtype=np.float64)
    return x, y


def main(d):
    p = json.load(open(f"{d}/params.json"))
    cols = p["columns"]
    xtr, ytr = load(d, "train", cols)
    xva, yva = load(d, "valid", cols)
    xte, _ = load(d, "test", cols)
    params = {
        "objective": "binary",
        "learning_rate": p["learning_rate"],
        "num_leaves": p["max_leaves"],
        "max_depth": -1,
        "max_bin": p["max_bin"],
        "lambda_l1": p["l1"],
        "lambda_l2": p["l2"],
        "min_sum_hessian_in_leaf": p["min_leaf_weight"],
        "min_data_in_leaf": 1,
        "min_gain_to_split": p["gamma"],
        "metric": "auc",
        "num_threads": p["threads"],
        "seed": p["seed"],
        "deterministic": True,
        "verbose": -1,
    }
    started = time.perf_counter()
    # Dataset construction (binning) is part of training, as it is for Fresco's engine.
    train = lgb.Dataset(xtr, ytr, free_raw_data=False)
    valid = lgb.Dataset(xva, yva, reference=train)
    booster = lgb.train(params, train, num_boost_round=p["iterations"], valid_sets=[valid], callbacks=[lgb.early_stopping(p["early_stopping_rounds"], verbose=False)])
    seconds = time.perf_counter() - started
    pred = booster.predict(xte, num_iteration=booster.best_iteration).astype(np.float64)
    pred.tofile(f"{d}/lightgbm.pred.f64")
    print(json.dumps({"seconds": seconds, "trees": booster.best_iteration, "version": lgb.__version__}))


if __name__ == "__main__":
    main(sys.argv[1])
