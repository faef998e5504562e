"""Builds a dataframe model's request from its metadata alone, with Triton's own clients.

Usage: python dataframe_client_check.py <http host:port> <grpc host:port> <model>
For each of tritonclient.http and tritonclient.grpc: reads the model metadata, fills every input
with one value chosen by its datatype only (BYTES: "SFO", INT64: 2024-06-01T13:00Z in epoch ms,
other numbers: 337), infers, and prints the output and the answer's parameters as one JSON object
(test/serving-dataframe-contract.test.ts asserts on it).
"""
import json
import sys

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

http_url, grpc_url, model = sys.argv[1], sys.argv[2], sys.argv[3]


def value(datatype):
    if datatype == "BYTES":
        return np.array(["SFO"], dtype=object)
    if datatype == "INT64":
        return np.array([1717246800000], dtype=np.int64)
    return np.array([337], dtype=np.float64 if datatype == "FP64" else np.float32)


out = {}

client = httpclient.InferenceServerClient(url=http_url)
meta = client.get_model_metadata(model)
inputs = []
for spec in meta["inputs"]:
    tensor = httpclient.InferInput(spec["name"], [1], spec["datatype"])
    tensor.set_data_from_numpy(value(spec["datatype"]))
    inputs.append(tensor)
result = client.infer(model, inputs)
out["http"] = {"inputs": [i["name"] for i in meta["inputs"]], "risk": result.as_numpy("risk").flatten().tolist(), "parameters": result.get_response().get("parameters", {})}

client = grpcclient.InferenceServerClient(url=grpc_url)
meta = client.get_model_metadata(model, as_json=True)
inputs = []
for spec in meta["inputs"]:
    tensor = grpcclient.InferInput(spec["name"], [1], spec["datatype"])
    tensor.set_data_from_numpy(value(spec["datatype"]))
    inputs.append(tensor)
result = client.infer(model, inputs)
response = result.get_response(as_json=True)
out["grpc"] = {"inputs": [i["name"] for i in meta["inputs"]], "risk": result.as_numpy("risk").flatten().tolist(), "parameters": response.get("parameters", {})}

print(json.dumps(out))
