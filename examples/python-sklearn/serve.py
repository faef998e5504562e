"""The served model (copied into the package as model.py by train.py): the fitted pipeline."""
import joblib
import numpy as np


class Model:
    def load(self, context):
        self.pipeline = joblib.load(context.artifacts + "/pipeline.joblib")

    def predict(self, inputs):
        # inputs: a DataFrame whose columns are the frozen plan's named outputs.
        p = self.pipeline.predict_proba(inputs)[:, 1]
        return {"probability": p.astype(np.float32).reshape(-1, 1)}
