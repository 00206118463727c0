import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 as zlibCrc32 } from "node:zlib";
import { TorchCheckpoint } from "../../../src/engine/io/torch-checkpoint.ts";
import { loadSafetensors } from "../../../src/engine/io/safetensors.ts";
import { PickleDict } from "../../../src/engine/io/pickle.ts";
import { ZipReader } from "../../../src/engine/io/zip.ts";
import { PulidError } from "../../../src/engine/errors.ts";
import { assertCode, assertSameTensor, fixture, makeStoredZip, tempDir } from "./helpers.ts";

const tmp = tempDir();
after(tmp.cleanup);
let n = 0;

function readTorch(path: string, verifyCrc = true) {
  const c = TorchCheckpoint.open(path, { verifyCrc });
  try {
    return { keys: c.keys(), tensors: c.readAll() };
  } finally {
    c.close();
  }
}

/** Each fixture's tensors match the safetensors sibling the fixture script wrote from numpy buffers. */
const CASES: Array<[string, string]> = [
  ["basic.pt", "basic.safetensors"],
  ["views.pt", "views.safetensors"],
  ["nested.pt", "nested.safetensors"],
  ["module.pt", "module.safetensors"],
  ["eva_like.pt", "eva_like.safetensors"],
  ["deflate.pt", "basic.safetensors"],
  ["zip64.pt", "basic.safetensors"],
  ["bigendian.pt", "basic.safetensors"],
];
for (const [pt, st] of CASES) {
  test(`${pt}: every tensor equals the independently written ${st}`, () => {
    const { keys, tensors } = readTorch(fixture(pt));
    const want = loadSafetensors(fixture(st));
    assert.deepEqual([...keys].sort(), [...want.keys()].sort());
    for (const [k, t] of want) assertSameTensor(tensors.get(k)!, t, `${pt}:${k}`);
  });
}

test("keys keep pickle order and views keep their storage placement", () => {
  const c = TorchCheckpoint.open(fixture("views.pt"));
  try {
    assert.deepEqual(c.keys(), [
      "transposed",
      "sliced",
      "offset",
      "shared_a",
      "shared_b",
      "expanded",
      "permuted",
    ]);
    assert.deepEqual(c.info("transposed").stride, [1, 6]);
    assert.equal(c.info("offset").storageOffset, 12);
    assert.deepEqual(c.info("expanded").stride, [0, 1]);
    assert.equal(c.info("shared_a").storageKey, c.info("shared_b").storageKey);
    assert.equal(c.info("shared_b").storageOffset, 3);
    assert.equal(c.info("shared_a").dtype, "float16");
    // Reading one tensor alone gives the same as reading it with its storage-sharing sibling.
    assertSameTensor(c.read("shared_b"), c.readAll().get("shared_b")!, "shared_b");
  } finally {
    c.close();
  }
});

test("non-tensor leaves stay readable through root; nested dicts flatten to dotted keys", () => {
  const c = TorchCheckpoint.open(fixture("nested.pt"));
  try {
    const root = c.root as PickleDict;
    assert.ok(root instanceof PickleDict);
    assert.equal(root.get("epoch"), 3);
    assert.equal(root.get("lr"), 0.5);
    assert.equal(root.get("name"), "run");
    assert.equal(root.get("i2"), 300);
    assert.equal(root.get("i4"), 70000);
    assert.equal(root.get("neg"), -7);
    assert.equal(root.get("big"), 2n ** 70n);
    assert.equal(root.get("none"), null);
    assert.deepEqual(root.get("flags"), [true, false]);
    assert.deepEqual(c.keys(), [
      "state_dict.layer.weight",
      "state_dict.layer.bias",
      "list.0",
      "list.1",
      "sub.deep.x",
    ]);
  } finally {
    c.close();
  }
});

test("a module state dict keeps its _metadata (BUILD) aside; nn.Parameter loads as its tensor", () => {
  const c = TorchCheckpoint.open(fixture("module.pt"));
  try {
    const meta = ((c.root as PickleDict).state as PickleDict).get("_metadata") as PickleDict;
    assert.deepEqual([...meta.keys()], ["", "0", "1"]);
    assert.deepEqual(c.info("param").shape, [3]);
  } finally {
    c.close();
  }
});

test("a tensor saved on its own has the key ''", () => {
  const { keys, tensors } = readTorch(fixture("single.pt"));
  assert.deepEqual(keys, [""]);
  assert.deepEqual([...tensors.get("")!.data], [0, 1, 2, 3, 4]);
});

test("a torch type without an engine dtype is listed but reading it -> unsupported_dtype", () => {
  const c = TorchCheckpoint.open(fixture("int16.pt"));
  try {
    assert.deepEqual(c.keys(), ["ok", "short"]);
    assert.equal(c.info("short").dtype, null);
    assert.equal(c.info("short").torchType, "ShortStorage");
    assertCode(() => c.read("short"), "unsupported_dtype", /'short'.*ShortStorage/);
    assert.deepEqual([...c.read("ok").data], [1, 1]);
    assertCode(() => c.read("nope"), "missing_tensor");
  } finally {
    c.close();
  }
});

test("a pickle naming os.system -> forbidden_global; so does a pickled nn.Module", () => {
  assertCode(() => TorchCheckpoint.open(fixture("malicious.pt")), "forbidden_global", /'os\.system'/);
  assertCode(
    () => TorchCheckpoint.open(fixture("whole_module.pt")),
    "forbidden_global",
    /'torch\.nn\.modules\.linear\.Linear'/,
  );
});

test("every truncation of a checkpoint -> truncated or bad_zip", () => {
  const bytes = readFileSync(fixture("basic.pt"));
  const path = join(tmp.dir, "cut.pt");
  for (let len = 1; len < bytes.length; len += 53) {
    writeFileSync(path, bytes.subarray(0, len));
    assert.throws(
      () => readTorch(path),
      (e: unknown) => e instanceof PulidError && (e.code === "truncated" || e.code === "bad_zip"),
      `prefix of ${len} bytes`,
    );
  }
});

test("a corrupted storage -> crc_mismatch naming its entry (verifyCrc: false reads the damaged bytes)", () => {
  const z = ZipReader.open(fixture("basic.pt"));
  const at = z.dataOffset("basic/data/0");
  z.close();
  const bytes = new Uint8Array(readFileSync(fixture("basic.pt")));
  bytes[at]! ^= 1;
  const path = join(tmp.dir, "corrupt.pt");
  writeFileSync(path, bytes);
  assertCode(() => readTorch(path), "crc_mismatch", /basic\/data\/0/);
  const { tensors } = readTorch(path, false);
  assert.notDeepEqual(
    tensors.get("f32")!.data,
    loadSafetensors(fixture("basic.safetensors")).get("f32")!.data,
  );
});

// --- hand-built archives for the structural errors -------------------------------------------------------

const te = new TextEncoder();
function str(s: string): number[] {
  const b = te.encode(s);
  return [0x58, b.length, 0, 0, 0, ...b]; // BINUNICODE
}
function global(m: string, name: string): number[] {
  return [0x63, ...te.encode(`${m}\n${name}\n`)];
}
function small(...xs: number[]): number[] {
  return [0x28, ...xs.flatMap((x) => [0x4b, x]), 0x74]; // MARK BININT1... TUPLE
}
/** Pickle of `{name: _rebuild_tensor_v2(storage(key, type, numel), offset, size, stride, False, OrderedDict())}`. */
function tensorPickle(
  tensors: Array<{
    name: string;
    key: string;
    type?: string;
    numel: number;
    offset: number;
    size: number[];
    stride: number[];
  }>,
): Uint8Array {
  // prettier-ignore
  const items = tensors.flatMap((t) => [
    ...str(t.name),
    ...global("torch._utils", "_rebuild_tensor_v2"),
    0x28, // MARK (args)
    0x28, ...str("storage"), ...global("torch", t.type ?? "FloatStorage"), ...str(t.key), ...str("cpu"), 0x4b, t.numel, 0x74, 0x51,
    0x4b, t.offset,
    ...small(...t.size),
    ...small(...t.stride),
    0x89, ...global("collections", "OrderedDict"), 0x29, 0x52,
    0x74, 0x52, // TUPLE REDUCE
  ]);
  return new Uint8Array([0x80, 0x02, 0x7d, 0x28, ...items, 0x75, 0x2e]);
}
function archive(entries: Array<[string, Uint8Array]>): string {
  const path = join(tmp.dir, `hand${n++}.pt`);
  writeFileSync(
    path,
    makeStoredZip(entries, (b) => zlibCrc32(b) >>> 0),
  );
  return path;
}
const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

test("hand-built archive: a strided view is copied out correctly (independent check)", () => {
  // storage 0..11; view offset 1, size [2, 3], stride [4, 2] -> [[1, 3, 5], [5, 7, 9]]
  const path = archive([
    [
      "m/data.pkl",
      tensorPickle([{ name: "v", key: "0", numel: 12, offset: 1, size: [2, 3], stride: [4, 2] }]),
    ],
    ["m/data/0", f32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)],
  ]);
  const { tensors } = readTorch(path);
  assert.deepEqual([...tensors.get("v")!.data], [1, 3, 5, 5, 7, 9]);
});

test("hand-built archive: structural errors have their own codes", () => {
  const view = { name: "v", key: "0", numel: 4, offset: 0, size: [2, 2], stride: [2, 1] };
  // A view that reaches past its storage.
  assertCode(
    () =>
      TorchCheckpoint.open(
        archive([
          ["m/data.pkl", tensorPickle([{ ...view, offset: 1 }])],
          ["m/data/0", f32(1, 2, 3, 4)],
        ]),
      ),
    "bad_tensor",
    /reaches element 4 of storage '0' which has 4/,
  );
  assertCode(
    () =>
      TorchCheckpoint.open(
        archive([
          ["m/data.pkl", tensorPickle([{ ...view, size: [2], stride: [1, 1] }])],
          ["m/data/0", f32(1, 2, 3, 4)],
        ]),
      ),
    "bad_tensor",
    /differ in rank/,
  );
  // Storage entry missing, or shorter than the pickle says.
  const noStorage = TorchCheckpoint.open(archive([["m/data.pkl", tensorPickle([view])]]));
  assertCode(() => noStorage.read("v"), "bad_storage", /no zip entry 'm\/data\/0'/);
  noStorage.close();
  const short = TorchCheckpoint.open(
    archive([
      ["m/data.pkl", tensorPickle([view])],
      ["m/data/0", f32(1, 2)],
    ]),
  );
  assertCode(() => short.read("v"), "bad_storage", /needs 16 bytes, its entry holds 8/);
  short.close();
  // A storage key that could escape the archive folder.
  assertCode(
    () => TorchCheckpoint.open(archive([["m/data.pkl", tensorPickle([{ ...view, key: "../x" }])]])),
    "bad_tensor",
    /not a plain name/,
  );
  // An unknown storage type is a forbidden global.
  assertCode(
    () => TorchCheckpoint.open(archive([["m/data.pkl", tensorPickle([{ ...view, type: "Evil" }])]])),
    "forbidden_global",
    /'torch\.Evil'/,
  );
  // A zip that is not a torch checkpoint.
  assertCode(() => TorchCheckpoint.open(archive([["readme.txt", te.encode("hi")]])), "not_torch_checkpoint");
  // Two paths flattening to one key: {'a.b': t, 'a': {'b': t}}.
  const t = tensorPickle([view]).subarray(3, -2); // MARK ... items, without PROTO/EMPTY_DICT and SETITEMS/STOP
  const itemsAb = new Uint8Array([...str("a.b"), ...t.subarray(1 + str("v").length)]);
  const dup = new Uint8Array([
    0x80,
    0x02,
    0x7d,
    0x28,
    ...itemsAb,
    ...str("a"),
    0x7d,
    0x28,
    ...str("b"),
    ...t.subarray(1 + str("v").length),
    0x75,
    0x75,
    0x2e,
  ]);
  assertCode(
    () =>
      TorchCheckpoint.open(
        archive([
          ["m/data.pkl", dup],
          ["m/data/0", f32(1, 2, 3, 4)],
        ]),
      ),
    "duplicate_key",
    /'a\.b'/,
  );
});
