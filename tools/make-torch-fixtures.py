#!/usr/bin/python3
"""Writes the small PyTorch checkpoints under test/fixtures/torch/ that test/engine/io/ reads.

Run with Debian's python3-torch (CPU): `/usr/bin/python3 tools/make-torch-fixtures.py`. Deterministic.
Tests never run Python: the outputs are committed.

For every checkpoint NAME.pt the script also writes NAME.safetensors holding the expected tensors (dense,
row-major) under the flattened keys the TypeScript reader must produce. Those files are written byte by byte
here from numpy buffers, independently of torch.save and of the reader under test.

Hand-built files (no torch.save): malicious.pt (a pickle naming os.system; never executed), zip64.pt (basic.pt
re-packed with zip64 extra fields), deflate.pt (basic.pt re-packed with deflate), bigendian.pt (byteorder "big").
pickle-p2.pkl / pickle-p4.pkl are plain pickles (no torch) for the pickle VM's tests.
Everything is byte-identical between runs except legacy.pt (the legacy format embeds storage object ids).
"""
import collections
import io
import json
import os
import pickle
import struct
import zipfile
import zlib

import torch

from torch_safetensors import write_safetensors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "torch")


def out(name):
    return os.path.join(OUT, name)


def save(name, obj, expected):
    torch.save(obj, out(name + ".pt"))
    write_safetensors(out(name + ".safetensors"), expected)


def zip_entries(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def storage_types(path):
    """Maps storage key -> torch storage class name, by running the pickle with stand-ins (no tensors built)."""
    pkl = next(d for n, d in zip_entries(path) if n.endswith("/data.pkl"))
    found = {}

    class Named:
        def __init__(self, name):
            self.name = name

    class Recorder(pickle.Unpickler):
        def find_class(self, module, name):
            if name == "OrderedDict":
                return collections.OrderedDict
            if name.endswith("Storage"):
                return Named(name)
            return lambda *a, **k: None

        def persistent_load(self, pid):
            found[pid[2]] = pid[1].name

    Recorder(io.BytesIO(pkl)).load()
    return found


def writestr(z, name, data, compress=zipfile.ZIP_STORED):
    """zipfile.writestr with a fixed timestamp, so reruns give identical bytes."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = compress
    z.writestr(info, data)


def write_zip_by_hand(path, entries, zip64):
    """A stored zip; with zip64=True every central record uses 0xFFFFFFFF sizes/offsets plus a zip64 extra."""
    body, central = b"", b""
    for name, data in entries:
        n = name.encode()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, len(data), len(data), len(n), 0) + n + data
        if zip64:
            extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
            sizes = (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        else:
            extra, sizes = b"", (len(data), len(data), offset)
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, sizes[0], sizes[1], len(n), len(extra), 0, 0, 0, 0, sizes[2]
        ) + n + extra
    cd_off, cd_size, count = len(body), len(central), len(entries)
    tail = b""
    if zip64:
        z64 = len(body) + len(central)
        tail += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, cd_size, cd_off)
        tail += struct.pack("<IIQI", 0x07064B50, 0, z64, 1)
        tail += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        tail += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, cd_size, cd_off, 0)
    with open(path, "wb") as f:
        f.write(body + central + tail)


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(0)

    # 1. every dtype, 0-d and empty tensors, in an OrderedDict
    basic = collections.OrderedDict()
    basic["f32"] = torch.randn(2, 3, generator=g)
    basic["f64"] = torch.randn(3, generator=g, dtype=torch.float64)
    basic["f16"] = torch.randn(4, generator=g).half()
    basic["bf16"] = torch.randn(2, 2, generator=g).bfloat16()
    basic["i64"] = torch.tensor([0, -3, 2**40, -(2**50), 7], dtype=torch.int64)
    basic["i32"] = torch.tensor([1, -2, 2**30], dtype=torch.int32)
    basic["i8"] = torch.tensor([-128, -1, 0, 127], dtype=torch.int8)
    basic["u8"] = torch.tensor([0, 1, 200, 255], dtype=torch.uint8)
    basic["bool"] = torch.tensor([True, False, False, True, True])
    basic["scalar"] = torch.tensor(3.5)
    basic["empty"] = torch.zeros(0, 3)
    save("basic", basic, dict(basic))

    # 2. views: transposed, sliced with steps, storage offset, shared storage, expanded (stride 0)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    shared = torch.arange(10, dtype=torch.float16)
    views = {
        "transposed": base.t(),
        "sliced": base[1:3, ::2],
        "offset": base[2],
        "shared_a": shared[:4],
        "shared_b": shared[3:].view(7, 1),
        "expanded": torch.tensor([1.0, 2.0, 3.0]).expand(2, 3),
        "permuted": torch.arange(24, dtype=torch.int64).reshape(2, 3, 4).permute(2, 0, 1),
    }
    save("views", views, views)

    # 3. nested containers and non-tensor leaves
    w = torch.randn(2, 2, generator=g)
    nested = {
        "state_dict": collections.OrderedDict([("layer.weight", w), ("layer.bias", torch.ones(2))]),
        "epoch": 3, "lr": 0.5, "name": "run", "i2": 300, "i4": 70000, "neg": -7, "big": 2**70, "none": None,
        "flags": (True, False), "list": [torch.zeros(1), torch.ones(2, dtype=torch.int32)],
        "sub": {"deep": {"x": torch.full((2,), 4.0)}},
    }
    save("nested", nested, {
        "state_dict.layer.weight": w, "state_dict.layer.bias": torch.ones(2), "list.0": torch.zeros(1),
        "list.1": torch.ones(2, dtype=torch.int32), "sub.deep.x": torch.full((2,), 4.0),
    })

    # 4. a module's state dict (OrderedDict with _metadata, set through BUILD) plus an nn.Parameter
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    sd = model.state_dict()
    sd["param"] = torch.nn.Parameter(torch.randn(3, generator=g))
    save("module", sd, {k: v for k, v in sd.items()})

    # 5. a checkpoint shaped like EVA02-CLIP: visual.* and text keys (tests read only visual.*)
    eva = collections.OrderedDict()
    eva["visual.trunk.weight"] = torch.randn(4, 4, generator=g).half()
    eva["visual.head.bias"] = torch.randn(4, generator=g)
    eva["text.token_embedding.weight"] = torch.randn(8, 4, generator=g)
    eva["logit_scale"] = torch.tensor(4.6)
    save("eva_like", eva, dict(eva))

    # 6. a tensor saved on its own (key ""), and an int16 tensor (no engine dtype)
    torch.save(torch.arange(5, dtype=torch.float32), out("single.pt"))
    torch.save({"ok": torch.ones(2), "short": torch.ones(2, dtype=torch.int16)}, out("int16.pt"))

    # 7. refused: legacy serialization, a whole pickled module, a hand-crafted malicious pickle
    torch.save({"w": torch.ones(2)}, out("legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save(torch.nn.Linear(2, 1), out("whole_module.pt"))
    # PROTO 2; GLOBAL 'os system'; BINUNICODE 'echo pwned'; TUPLE1; REDUCE; STOP. Written, never loaded.
    evil = b"\x80\x02cos\nsystem\nq\x00X\x0a\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03."
    with zipfile.ZipFile(out("malicious.pt"), "w", zipfile.ZIP_STORED) as z:
        writestr(z, "malicious/data.pkl", evil)
        writestr(z, "malicious/version", b"3\n")

    # 8. basic.pt re-packed: deflate, zip64 extras, big-endian storages
    entries = zip_entries(out("basic.pt"))
    with zipfile.ZipFile(out("deflate.pt"), "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            writestr(z, name.replace("basic/", "deflate/"), data, zipfile.ZIP_DEFLATED)
    write_zip_by_hand(out("zip64.pt"), [(n.replace("basic/", "zip64/"), d) for n, d in entries], zip64=True)
    sizes = {"FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8,
             "IntStorage": 4, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1}
    types = storage_types(out("basic.pt"))
    big = []
    for name, data in entries:
        key = name.split("/data/")[1] if "/data/" in name else None
        if key is not None:
            es = sizes[types[key]]
            data = b"".join(data[i:i + es][::-1] for i in range(0, len(data), es))
        big.append((name.replace("basic/", "bigendian/"), data))
    big.append(("bigendian/byteorder", b"big"))
    write_zip_by_hand(out("bigendian.pt"), big, zip64=False)

    # 9. plain pickles (no torch) for the pickle VM's data opcodes: protocol 2 (torch's) and 4 (FRAME, MEMOIZE,
    # SHORT_BINUNICODE, BINBYTES, sets). test/engine/io/pickle.test.ts spells out the same values.
    shared = [1, 2]
    plain = {
        "ints": [0, 1, 255, 256, 65535, 65536, -1, -70000, 2**31 - 1, -(2**31), 2**31, 2**40, -(2**63), 2**70, -(2**70)],
        "floats": [1.5, -0.0, 1e300, -2.5e-300],
        "consts": [True, False, None],
        "strs": ["", "ascii", "ünïcødé", "x" * 300],
        "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
        "nested": {"a": {"b": []}, 7: "int key"},
        "shared": [shared, shared],
    }
    with open(out("pickle-p2.pkl"), "wb") as f:
        pickle.dump(plain, f, protocol=2)
    with open(out("pickle-p4.pkl"), "wb") as f:
        pickle.dump(dict(plain, bytes=b"\x00\x01\xff", set=frozenset([3])), f, protocol=4)

    total = sum(os.path.getsize(out(f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
