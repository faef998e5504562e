"""Drives `fresco serve` with Triton's own HTTP client (tritonclient.http), as a user would.

Usage: python http_client_check.py <host:port> <admin token>
The server serves mlp-50@production (version 1) from a registry that also holds mlp-50@candidate
(version 2). Prints one JSON object: per step, {"ok": <result>} or {"error", "status"} (the
client's InferenceServerException) or {"exception"} (anything else). test/serving-triton-client.test.ts
asserts on it.
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

url, token = sys.argv[1], sys.argv[2]
client = httpclient.InferenceServerClient(url=url)
admin = {"Authorization": f"Bearer {token}"}
out = {}


def step(name, fn):
    try:
        out[name] = {"ok": fn()}
    except InferenceServerException as e:
        out[name] = {"error": e.message(), "status": e.status()}
    except Exception as e:  # noqa: BLE001 - reported, and the test fails on it
        out[name] = {"exception": repr(e)}


x = np.linspace(0, 1, 100, dtype=np.float32).reshape(2, 50)


def infer(binary_in, binary_out, compression=None, request_outputs=True):
    tensor = httpclient.InferInput("x", [2, 50], "FP32")
    tensor.set_data_from_numpy(x, binary_data=binary_in)
    outputs = [httpclient.InferRequestedOutput("y", binary_data=binary_out)] if request_outputs else None
    result = client.infer("mlp-50", [tensor], outputs=outputs, request_id="7", request_compression_algorithm=compression)
    y = result.as_numpy("y")
    response = result.get_response()
    return {"y": y.flatten().tolist(), "shape": list(y.shape), "id": response.get("id"), "version": response.get("model_version"), "binary": "binary_data_size" in response["outputs"][0].get("parameters", {})}


step("live", client.is_server_live)
step("ready", client.is_server_ready)
step("server_metadata", client.get_server_metadata)
step("model_metadata", lambda: client.get_model_metadata("mlp-50"))
step("model_ready", lambda: client.is_model_ready("mlp-50"))
step("model_config", lambda: client.get_model_config("mlp-50"))
step("model_config_v1", lambda: client.get_model_config("mlp-50", "1"))
step("infer_json", lambda: infer(False, False))
step("infer_binary", lambda: infer(True, True))
step("infer_all_outputs_binary", lambda: infer(True, False, request_outputs=False))
step("infer_gzip", lambda: infer(True, True, "gzip"))
step("infer_deflate", lambda: infer(False, False, "deflate"))
step("stats_model", lambda: client.get_inference_statistics("mlp-50"))
step("stats_all", client.get_inference_statistics)
step("index", client.get_model_repository_index)
step("load_without_token", lambda: client.load_model("mlp-50@candidate"))
step("load", lambda: client.load_model("mlp-50@candidate", headers=admin))
step("v2_ready_after_load", lambda: client.is_model_ready("mlp-50", "2"))
step("index_after_load", client.get_model_repository_index)
step("unload_without_token", lambda: client.unload_model("mlp-50@candidate"))
step("unload", lambda: client.unload_model("mlp-50@candidate", headers=admin))
step("v2_ready_after_unload", lambda: client.is_model_ready("mlp-50", "2"))
step("v1_ready_after_unload", lambda: client.is_model_ready("mlp-50", "1"))
client.close()
print(json.dumps(out))
