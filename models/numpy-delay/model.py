"""A Fresco python model: P(delay) from the flights plan's columns, by a logistic in numpy.

load() reads the weights once; predict() gets a pandas DataFrame whose columns are the plan's
named outputs, and returns one float32 column per row.
"""
import json
import os

import numpy as np


class Model:
    def load(self, context):
        with open(os.path.join(context.artifacts, "weights.json")) as f:
            spec = json.load(f)
        self.columns = list(spec["weights"])
        self.weights = np.array([spec["weights"][c] for c in self.columns], dtype=np.float32)
        self.bias = np.float32(spec["bias"])

    def predict(self, frame):
        z = frame[self.columns].to_numpy(np.float32) @ self.weights + self.bias
        return {"delay_probability": (1 / (1 + np.exp(-z))).astype(np.float32).reshape(-1, 1)}
