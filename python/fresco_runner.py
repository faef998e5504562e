"""Fresco's Python model runner: serves one `model.py` package in one long-lived process.

Started by Fresco (src/python/worker.ts) with the package environment's python:

    python fresco_runner.py

Channels (set up by the parent, never by the user's code):
  fd 0 (stdin)   doorbell from Fresco: one byte per command, b"B" run the batch in the slot,
                 b"X" exit.
  fd 3           replies to Fresco: b"R" loaded and ready, then one byte per batch, b"D" done or
                 b"E" failed (the message is in the slot).
  fd 4           the slot: a file in /dev/shm (already unlinked by Fresco), mapped here.
  stdout/stderr  the model's own prints and the tracebacks: Fresco copies them into its log.
  FRESCO_RUNNER_PARENT (environment): Fresco's pid, to notice a parent gone before start.
  FRESCO_RUNNER_CONFIG (environment): JSON with the package folder, model file, input kind,
                 input/output names and dtypes, and the dataframe column names. Read once.

The slot (little-endian, the layout of src/serving/pool/layout.ts): a header of int32s
[STATE, ROWS, N_IN, N_OUT, ERR_LEN, DATA_END, SLEEPING, OUT_END], then MAX_TENSORS descriptors
of [dtype code, rank, dims x MAX_RANK, byte offset, byte length] (inputs first, then outputs),
then the data region. Inputs are raw buffers, read here as numpy views without a copy; outputs
are written after the inputs. No JSON or pickle on the batch path.
"""
import importlib.util
import json
import mmap
import os
import sys
import traceback
import types

import numpy as np

MAX_RANK = 8
MAX_TENSORS = 32
DESC_INTS = 4 + MAX_RANK
DESC_BASE = 8
HEADER_INTS = DESC_BASE + MAX_TENSORS * DESC_INTS
HEADER_BYTES = HEADER_INTS * 4
ROWS, N_IN, N_OUT, ERR_LEN, DATA_END, OUT_END = 1, 2, 3, 4, 5, 7

# Wire dtype codes (schema/fresco.fbs DType) <-> numpy.
WIRE = {1: "<f4", 2: "<f8", 3: "<f2", 4: "i1", 5: "<i2", 6: "<i4", 7: "<i8", 8: "u1", 9: "<u2", 10: "<u4", 11: "<u8", 12: "u1"}
DTYPES = {code: np.dtype(name) for code, name in WIRE.items()}
OUT_DTYPES = {name: np.dtype("bool" if name == "bool" else WIRE[code]) for name, code in {"float32": 1, "float64": 2, "float16": 3, "int8": 4, "int16": 5, "int32": 6, "int64": 7, "uint8": 8, "uint16": 9, "uint32": 10, "uint64": 11, "bool": 12}.items()}
BY_NAME = {"float32": 1, "float64": 2, "float16": 3, "int8": 4, "int16": 5, "int32": 6, "int64": 7, "uint8": 8, "uint16": 9, "uint32": 10, "uint64": 11, "bool": 12}


def align8(n):
    return (n + 7) & ~7


def find_model_class(module):
    """The class defined in model.py with load() and predict() (`Model` first if there are several)."""
    found = [v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__ and callable(getattr(v, "load", None)) and callable(getattr(v, "predict", None))]
    for cls in found:
        if cls.__name__ == "Model":
            return cls
    if len(found) != 1:
        raise TypeError(f"model.py must define one class with load(self, context) and predict(self, inputs); found {len(found)}: {[c.__name__ for c in found]}")
    return found[0]


def load_model(config):
    pkg = config["dir"]
    sys.path.insert(0, pkg)
    spec = importlib.util.spec_from_file_location("fresco_user_model", os.path.join(pkg, config["model"]))
    module = importlib.util.module_from_spec(spec)
    sys.modules["fresco_user_model"] = module
    spec.loader.exec_module(module)
    model = find_model_class(module)()
    with open(os.path.join(pkg, "fresco.json"), "rb") as f:
        manifest = json.load(f)
    context = types.SimpleNamespace(artifacts=pkg, dir=pkg, manifest=manifest, settings=config.get("settings", {}))
    model.load(context)
    return model


class Slot:
    def __init__(self, fd):
        self.mm = mmap.mmap(fd, 0)
        # A memoryview of int32s: indexing it gives Python ints (a numpy view costs ~1 µs per
        # scalar, which adds up over the header's fields). The slot is little-endian: so is every
        # machine Fresco runs on (x86-64, arm64), which fresco_runner checks at start.
        self.header = memoryview(self.mm)[:HEADER_BYTES].cast("i")
        self.data = memoryview(self.mm)[HEADER_BYTES:]

    def inputs(self, names):
        h = self.header
        out = {}
        for i in range(h[N_IN]):
            d = DESC_BASE + i * DESC_INTS
            dtype = DTYPES[h[d]]
            shape = tuple(h[d + 2 : d + 2 + h[d + 1]])
            at, length = h[d + 2 + MAX_RANK], h[d + 3 + MAX_RANK]
            arr = np.frombuffer(self.data, dtype=dtype, count=length // dtype.itemsize, offset=at).reshape(shape)
            out[names[i]] = arr
        return out

    def write_outputs(self, arrays, codes):
        h = self.header
        n_in = h[N_IN]
        offset = align8(h[DATA_END])
        for o, (arr, code) in enumerate(zip(arrays, codes)):
            raw = arr.tobytes() if not arr.flags["C_CONTIGUOUS"] else memoryview(arr).cast("B")
            n = len(raw)
            if offset + n > len(self.data):
                raise MemoryError(f"the outputs ({offset + n} bytes with the inputs) do not fit the {len(self.data)}-byte slot; raise slotBytes")
            self.data[offset : offset + n] = raw
            d = DESC_BASE + (n_in + o) * DESC_INTS
            h[d] = code
            h[d + 1] = arr.ndim
            for r, dim in enumerate(arr.shape):
                h[d + 2 + r] = dim
            h[d + 2 + MAX_RANK] = offset
            h[d + 3 + MAX_RANK] = n
            offset = align8(offset + n)
        h[N_OUT] = len(arrays)
        h[OUT_END] = offset

    def write_error(self, message):
        raw = message.encode("utf-8")[: len(self.data)]
        self.data[: len(raw)] = raw
        self.header[ERR_LEN] = len(raw)


def as_inputs(config, tensors):
    if config["input_kind"] != "dataframe":
        return tensors
    import pandas as pd  # a dataframe package lists pandas in its requirements.txt

    (matrix,) = tensors.values()
    # The plan's float32 matrix, its columns named by the plan's outputs: a view, not a copy.
    return pd.DataFrame(matrix, columns=config["columns"], copy=False)


def as_outputs(config, result, rows):
    """The model's outputs in the signature's order and dtypes; a DataFrame's columns count as outputs."""
    if hasattr(result, "columns") and hasattr(result, "to_numpy"):
        result = {c: result[c].to_numpy() for c in result.columns}
    if not isinstance(result, dict):
        raise TypeError(f"predict() must return a dict of arrays by output name (or a DataFrame), not {type(result).__name__}")
    arrays, codes = [], []
    for out in config["outputs"]:
        name = out["name"]
        if name not in result:
            raise KeyError(f"predict() returned no output {name!r}; it returned {sorted(result)}")
        arr = np.asarray(result[name])
        want = OUT_DTYPES[out["dtype"]]
        if arr.dtype != want:
            if not np.can_cast(arr.dtype, want, casting="same_kind"):
                raise TypeError(f"output {name!r} has dtype {arr.dtype}, the signature says {out['dtype']}")
            arr = arr.astype(want)
        if arr.ndim == 0 or arr.shape[0] != rows:
            raise ValueError(f"output {name!r} has shape {arr.shape} for a batch of {rows} rows")
        if arr.ndim == 1 and len(out["shape"]) == 2:
            arr = arr.reshape(rows, 1)
        arrays.append(np.ascontiguousarray(arr).view("u1") if out["dtype"] == "bool" else np.ascontiguousarray(arr))
        codes.append(BY_NAME[out["dtype"]])
    return arrays, codes


def die_with_parent():
    """Linux: the kernel kills this process when Fresco dies, even inside a hung load() or predict()."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass  # elsewhere: the runner still ends at the doorbell's end of file


def main():
    if sys.byteorder != "little":
        raise SystemExit("fresco_runner: the slot is little-endian; this machine is not")
    die_with_parent()
    if os.getppid() != int(os.environ.get("FRESCO_RUNNER_PARENT", os.getppid())):
        return  # Fresco died before the death signal was armed
    config = json.loads(os.environ["FRESCO_RUNNER_CONFIG"])
    if config.get("memory_limit_mb"):
        import resource

        limit = int(config["memory_limit_mb"]) << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # an allocation past it raises MemoryError
    reply = os.fdopen(3, "wb", buffering=0)
    slot = Slot(4)
    model = load_model(config)
    names = config["inputs"]
    reply.write(b"R")
    doorbell = sys.stdin.buffer.raw
    while True:
        byte = doorbell.read(1)
        if not byte or byte == b"X":
            return
        try:
            rows = slot.header[ROWS]
            result = model.predict(as_inputs(config, slot.inputs(names)))
            slot.write_outputs(*as_outputs(config, result, rows))
            reply.write(b"D")
        except Exception as error:  # the batch fails; the worker keeps serving
            traceback.print_exc()
            sys.stderr.flush()
            slot.write_error(f"{type(error).__module__}.{type(error).__qualname__}: {error}")
            reply.write(b"E")


if __name__ == "__main__":
    try:
        main()
    except Exception:
        # load() raised (or the runner could not start): the traceback goes to Fresco's log.
        traceback.print_exc()
        sys.exit(3)
