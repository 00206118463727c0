"""safetensors read/write for the Python helpers (bench/torch_engine.py, tools/make-torch-fixtures.py).

Written here from numpy buffers so those scripts need no package beyond Debian's python3-torch, and so the
fixture files are produced independently of the TypeScript reader they test.
"""
import json
import struct

import numpy as np
import torch

ST_DTYPE = {
    torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL",
}


def raw_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: take the bits
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors):
    """Keys sorted, header padded to 8 bytes, tensors packed in key order (byte-identical between runs)."""
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        t = tensors[k]
        b = raw_bytes(t)
        header[k] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_safetensors_f32(path):
    """Float32 tensors only (what the bench exchanges); any other dtype is an error naming the key."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        if v["dtype"] != "F32":
            raise ValueError(f"{k}: only F32 is supported here, got {v['dtype']}")
        a, b = v["data_offsets"]
        data = np.frombuffer(raw, dtype="<f4", count=(b - a) // 4, offset=8 + n + a).copy()
        out[k] = torch.from_numpy(data).reshape(v["shape"])
    return out
