import { test, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { detectWeightFormat, loadWeights, openWeights } from "../../../src/engine/io/weights.ts";
import { loadSafetensors } from "../../../src/engine/io/safetensors.ts";
import { TorchCheckpoint } from "../../../src/engine/io/torch-checkpoint.ts";
import { ZipReader } from "../../../src/engine/io/zip.ts";
import { assertCode, assertRejectsCode, assertSameTensor, fixture, tempDir } from "./helpers.ts";

const tmp = tempDir();
after(tmp.cleanup);

test("the format comes from the content, not the extension", () => {
  assert.equal(detectWeightFormat(fixture("basic.pt")), "torch-zip");
  assert.equal(detectWeightFormat(fixture("basic.safetensors")), "safetensors");
  const stAsBin = join(tmp.dir, "pytorch_model.bin");
  copyFileSync(fixture("basic.safetensors"), stAsBin);
  assert.equal(detectWeightFormat(stAsBin), "safetensors");
  const ptAsSt = join(tmp.dir, "model.safetensors");
  copyFileSync(fixture("basic.pt"), ptAsSt);
  assert.equal(detectWeightFormat(ptAsSt), "torch-zip");
  assert.equal(openWeights(ptAsSt).format, "torch-zip");
});

test("a safetensors file whose header length starts with byte 0x80 is safetensors, not a pickle", () => {
  const header = new TextEncoder().encode(JSON.stringify({ __metadata__: {} }).padEnd(0x80, " "));
  const bytes = new Uint8Array(8 + header.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  const p = join(tmp.dir, "len-0x80.safetensors");
  writeFileSync(p, bytes);
  assert.equal(detectWeightFormat(p), "safetensors");
});

test("legacy torch files and raw pickles -> legacy_torch_format saying to convert to safetensors", async () => {
  assertCode(
    () => detectWeightFormat(fixture("legacy.pt")),
    "legacy_torch_format",
    /unsupported.*convert it to safetensors/,
  );
  assertCode(() => openWeights(fixture("pickle-p2.pkl")), "legacy_torch_format");
  await assertRejectsCode(loadWeights(fixture("legacy.pt")), "legacy_torch_format");
});

test("empty, unknown and missing files have their own codes", () => {
  const empty = join(tmp.dir, "empty.bin");
  writeFileSync(empty, new Uint8Array(0));
  assertCode(() => openWeights(empty), "truncated", /empty/);
  const text = join(tmp.dir, "notes.pt");
  writeFileSync(text, "just some text, not weights");
  assertCode(() => openWeights(text), "unknown_format", /first bytes 6a 75 73 74/);
  assertCode(() => openWeights(join(tmp.dir, "missing.bin")), "file_not_found");
});

test("loadWeights gives the same tensors from a torch checkpoint and from safetensors", async () => {
  const fromPt = await loadWeights(fixture("basic.pt"));
  const fromSt = await loadWeights(fixture("basic.safetensors"));
  assert.deepEqual([...fromPt.keys()].sort(), [...fromSt.keys()].sort());
  for (const [k, t] of fromSt) assertSameTensor(fromPt.get(k)!, t, k);
});

test("info reports dtype and shape without reading, for both formats", () => {
  for (const f of ["eva_like.pt", "eva_like.safetensors"]) {
    const r = openWeights(fixture(f));
    try {
      assert.deepEqual(r.info("visual.trunk.weight"), { dtype: "float16", shape: [4, 4] });
      assert.ok(r.has("logit_scale"));
      assert.ok(!r.has("nope"));
    } finally {
      r.close();
    }
  }
});

test("prefix / stripPrefix / filter select keys, for both formats", async () => {
  const want = loadSafetensors(fixture("eva_like.safetensors"));
  for (const f of ["eva_like.pt", "eva_like.safetensors"]) {
    const visual = await loadWeights(fixture(f), { prefix: "visual.", stripPrefix: true });
    assert.deepEqual([...visual.keys()].sort(), ["head.bias", "trunk.weight"]);
    assertSameTensor(visual.get("trunk.weight")!, want.get("visual.trunk.weight")!, f);
    const kept = await loadWeights(fixture(f), { prefix: "visual.", filter: (k) => k.endsWith(".bias") });
    assert.deepEqual([...kept.keys()], ["visual.head.bias"]);
  }
});

test("a prefix read never touches the other storages: a corrupt text storage does not stop a visual.* load", async () => {
  // Damage the storage behind 'text.token_embedding.weight' in a copy of the checkpoint.
  const c = TorchCheckpoint.open(fixture("eva_like.pt"));
  const key = c.info("text.token_embedding.weight").storageKey;
  c.close();
  const z = ZipReader.open(fixture("eva_like.pt"));
  const at = z.dataOffset(`eva_like/data/${key}`);
  z.close();
  const bytes = new Uint8Array(readFileSync(fixture("eva_like.pt")));
  bytes[at + 3]! ^= 0x10;
  const path = join(tmp.dir, "eva_damaged.pt");
  writeFileSync(path, bytes);

  const visual = await loadWeights(path, { prefix: "visual." });
  const want = loadSafetensors(fixture("eva_like.safetensors"));
  assert.equal(visual.size, 2);
  for (const [k, t] of visual) assertSameTensor(t, want.get(k)!, k);
  await assertRejectsCode(loadWeights(path), "crc_mismatch", new RegExp(`eva_like/data/${key}`));
});

test("refused pickles surface through loadWeights with their codes", async () => {
  await assertRejectsCode(loadWeights(fixture("malicious.pt")), "forbidden_global", /os\.system/);
});
