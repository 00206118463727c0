import { test, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, readFileSync, readdirSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { SafetensorsFile, loadSafetensors, saveSafetensors } from "../../../src/engine/io/safetensors.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { DTYPES, type DType } from "../../../src/engine/dtype.ts";
import { assertCode, assertRejectsCode, assertSameTensor, fixture, tempDir } from "./helpers.ts";

const tmp = tempDir();
after(tmp.cleanup);
let n = 0;

/** Writes a safetensors file by hand: 8-byte length, header text, data bytes. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): string {
  const text = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, lengthOverride ?? BigInt(text.byteLength), true);
  const path = join(tmp.dir, `raw${n++}.safetensors`);
  writeFileSync(path, Buffer.concat([len, text, data]));
  return path;
}

test("reads a file written independently (python, byte by byte) with exact integer values", () => {
  const m = loadSafetensors(fixture("basic.safetensors"));
  assert.deepEqual([...m.get("i64")!.data], [0n, -3n, 2n ** 40n, -(2n ** 50n), 7n]);
  assert.deepEqual([...m.get("i8")!.data], [-128, -1, 0, 127]);
  assert.deepEqual([...m.get("u8")!.data], [0, 1, 200, 255]);
  assert.deepEqual([...m.get("bool")!.data], [1, 0, 0, 1, 1]);
  assert.deepEqual(m.get("scalar")!.shape, []);
  assert.equal(m.get("scalar")!.get(0), 3.5);
  assert.deepEqual(m.get("empty")!.shape, [0, 3]);
});

test("bad JSON header -> bad_header", () => {
  assertCode(() => SafetensorsFile.open(rawFile('{"a": {"dtype": "F32",')), "bad_header", /not valid JSON/);
  assertCode(() => SafetensorsFile.open(rawFile("[1, 2]")), "bad_header", /not an object/);
  assertCode(() => SafetensorsFile.open(rawFile({ a: 5 })), "bad_header", /'a' is not an object/);
  assertCode(() => SafetensorsFile.open(rawFile({ __metadata__: { k: 1 } })), "bad_header", /__metadata__/);
});

test("header length out of range -> bad_header; a file shorter than 8 bytes -> truncated", () => {
  assertCode(
    () => SafetensorsFile.open(rawFile({}, new Uint8Array(0), 1000n)),
    "bad_header",
    /header length 1000/,
  );
  assertCode(() => SafetensorsFile.open(rawFile({}, new Uint8Array(0), 2n ** 62n)), "bad_header");
  const short = join(tmp.dir, "short.safetensors");
  writeFileSync(short, new Uint8Array([1, 2, 3]));
  assertCode(() => SafetensorsFile.open(short), "truncated", /3 bytes/);
});

test("offsets out of range and truncated files -> truncated", () => {
  const data = new Uint8Array(8);
  assertCode(
    () => SafetensorsFile.open(rawFile({ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, data)),
    "truncated",
    /'a' ends at data byte 16 but the file has only 8/,
  );
  // A valid file cut short.
  const path = join(tmp.dir, "cut.safetensors");
  writeFileSync(path, readFileSync(fixture("basic.safetensors")).subarray(0, -5));
  assertCode(() => SafetensorsFile.open(path), "truncated");
  assertCode(
    () => SafetensorsFile.open(rawFile({ a: { dtype: "F32", shape: [1], data_offsets: [-4, 0] } })),
    "bad_header",
  );
  assertCode(
    () => SafetensorsFile.open(rawFile({ a: { dtype: "F32", shape: [1], data_offsets: [8, 4] } })),
    "bad_header",
  );
});

test("overlapping tensors -> overlap, also when an empty or short tensor sits between them", () => {
  const data = new Uint8Array(32);
  assertCode(
    () =>
      SafetensorsFile.open(
        rawFile(
          {
            a: { dtype: "F32", shape: [4], data_offsets: [0, 16] },
            b: { dtype: "F32", shape: [2], data_offsets: [8, 16] },
          },
          data,
        ),
      ),
    "overlap",
    /'a' and 'b'/,
  );
  const nested = {
    big: { dtype: "F32", shape: [6], data_offsets: [0, 24] },
    empty: { dtype: "F32", shape: [0], data_offsets: [4, 4] },
    small: { dtype: "U8", shape: [2], data_offsets: [6, 8] },
    late: { dtype: "F32", shape: [1], data_offsets: [16, 20] },
  };
  assertCode(() => SafetensorsFile.open(rawFile(nested, data)), "overlap");
  // Adjacent and empty tensors are fine.
  const ok = SafetensorsFile.open(
    rawFile(
      {
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        e: { dtype: "F32", shape: [0], data_offsets: [8, 8] },
        b: { dtype: "F32", shape: [2], data_offsets: [8, 16] },
      },
      data,
    ),
  );
  assert.deepEqual(ok.keys().sort(), ["a", "b", "e"]);
  ok.close();
});

test("unknown dtype -> unknown_dtype naming it", () => {
  assertCode(
    () =>
      SafetensorsFile.open(
        rawFile({ a: { dtype: "F8_E4M3", shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
      ),
    "unknown_dtype",
    /F8_E4M3/,
  );
  // A name inherited from Object.prototype is not a dtype either.
  assertCode(
    () =>
      SafetensorsFile.open(
        rawFile({ a: { dtype: "toString", shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
      ),
    "unknown_dtype",
  );
});

test("a byte span that does not match dtype x shape -> bad_header", () => {
  assertCode(
    () =>
      SafetensorsFile.open(
        rawFile({ a: { dtype: "F16", shape: [2, 3], data_offsets: [0, 8] } }, new Uint8Array(16)),
      ),
    "bad_header",
    /float16\[2, 3\] needs 12 bytes, data_offsets span 8/,
  );
  assertCode(
    () =>
      SafetensorsFile.open(
        rawFile({ a: { dtype: "F32", shape: [2.5], data_offsets: [0, 8] } }, new Uint8Array(8)),
      ),
    "bad_header",
    /shape/,
  );
});

function sampleTensor(dtype: DType, i: number): HostTensor {
  const values = [0, 1, -2, 3.25, 100, -0.5].map((v) =>
    dtype === "uint8" || dtype === "bool" ? Math.abs(Math.trunc(v)) : v,
  );
  return HostTensor.from(
    dtype,
    [2, 3],
    values.map((v) => v + i * (dtype === "bool" ? 0 : 1)),
  );
}

test("write -> read round trip is bitwise for every dtype, with metadata and non-ASCII names", async () => {
  const tensors = new Map<string, HostTensor>();
  DTYPES.forEach((d, i) => tensors.set(`t.${d}`, sampleTensor(d, i)));
  tensors.set("größe.0d", HostTensor.scalar(7, "float32"));
  tensors.set("empty", HostTensor.zeros("float16", [0, 4]));
  const path = join(tmp.dir, "roundtrip.safetensors");
  await saveSafetensors(path, tensors, { format: "pt", note: "ünïcode" });
  const f = SafetensorsFile.open(path);
  try {
    assert.deepEqual(f.metadata, { format: "pt", note: "ünïcode" });
    assert.deepEqual(f.keys().sort(), [...tensors.keys()].sort());
    for (const [k, t] of tensors) assertSameTensor(f.read(k), t, k);
    // Data starts 8-byte aligned even with multi-byte UTF-8 in the header.
    const headerLen = Number(readFileSync(path).readBigUInt64LE(0));
    assert.equal((8 + headerLen) % 8, 0);
  } finally {
    f.close();
  }
});

test("atomic write: a failed save leaves the old file intact and no temp file", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, "w.safetensors");
    await saveSafetensors(path, { a: HostTensor.f32([2], [1, 2]) });
    const before = readFileSync(path);
    const forged = new HostTensor("int16" as DType, [1], new Float32Array(1));
    await assert.rejects(
      saveSafetensors(path, { a: HostTensor.f32([2], [3, 4]), b: forged }),
      /no dtype for 'int16'/,
    );
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(readdirSync(dir), ["w.safetensors"]);
    assertSameTensor(loadSafetensors(path).get("a")!, HostTensor.f32([2], [1, 2]), "a");
  } finally {
    cleanup();
  }
});

test(
  "atomic write: a save whose final rename fails leaves no temp file",
  async () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, "is-a-dir.safetensors");
      mkdirSync(path);
      await assert.rejects(saveSafetensors(path, { a: HostTensor.f32([1], [1]) }));
      assert.ok(statSync(path).isDirectory());
      assert.deepEqual(readdirSync(dir), ["is-a-dir.safetensors"]);
    } finally {
      cleanup();
    }
  },
);

test("missing file, missing tensor and closed file give typed errors", async () => {
  assertCode(() => SafetensorsFile.open(join(tmp.dir, "nope.safetensors")), "file_not_found");
  const f = SafetensorsFile.open(fixture("basic.safetensors"));
  assertCode(() => f.read("nope"), "missing_tensor", /'nope'/);
  f.close();
  assertCode(() => f.read("f32"), "closed");
  await assertRejectsCode(
    Promise.resolve().then(() => SafetensorsFile.open(join(tmp.dir, "nope2"))),
    "file_not_found",
  );
});
