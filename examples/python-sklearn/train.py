"""A scikit-learn pipeline trained by `fresco train` (algorithm: {type: python}, docs/python-models.md).

Fresco runs `python train.py context.json` with the environment of this folder's requirements.txt.
context.json names the training and validation rows as .npy files (the frozen feature plan's
matrix, NaN for nulls, and the labels), the plan's column names, train.yaml's params and the
folder to write the package into. The test rows are kept by Fresco, which scores the package
written here through its serving runner to compute the test metrics.
"""
import json
import os
import shutil
import sys

import joblib
import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ctx = json.load(open(sys.argv[1]))
params = ctx["params"]
columns = ctx["columns"]


def frame(part):
    # The model sees a DataFrame of the plan's named columns, as it will when served.
    return pd.DataFrame(np.load(ctx[part]["x"]), columns=columns), np.load(ctx[part]["y"])


x_train, y_train = frame("train")
x_valid, y_valid = frame("validation")

# Nulls (NaN) are imputed inside the pipeline, so the served model takes rows with missing
# features too (Fresco's warm-up rows are the plan's all-null rows).
pipeline = make_pipeline(
    SimpleImputer(strategy="median", keep_empty_features=True),
    StandardScaler(),
    LogisticRegression(C=float(params.get("C", 1.0)), max_iter=int(params.get("max_iter", 500)), random_state=ctx["seed"]),
)
pipeline.fit(x_train, y_train)
print(f"trained on {len(y_train)} rows; validation AUC {roc_auc_score(y_valid, pipeline.predict_proba(x_valid)[:, 1]):.4f}")

out = ctx["output"]
joblib.dump(pipeline, os.path.join(out, "pipeline.joblib"))
here = os.path.dirname(os.path.abspath(__file__))
shutil.copyfile(os.path.join(here, "serve.py"), os.path.join(out, "model.py"))
shutil.copyfile(os.path.join(here, "requirements.txt"), os.path.join(out, "requirements.txt"))
