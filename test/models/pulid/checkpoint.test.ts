/**
 * PuLID checkpoint loading through random-weight files in the published layouts: v1 torch zip, v1.1
 * safetensors (float16), FLUX prefix; version detection, group split, and the errors for wrong version,
 * truncated and missing files.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeRandomPulidCheckpoint, sdxlIdAttnLayerDims } from "../../../src/models/pulid/random-checkpoint.ts";
import { loadIdEncoderV1, loadIdFormer, openPulidCheckpoint, readPulidGroup } from "../../../src/models/pulid/checkpoint.ts";
import type { IdEncoderConfig } from "../../../src/models/pulid/id-encoder.ts";
import type { IdFormerConfig } from "../../../src/models/pulid/id-former.ts";
import { loadWeights } from "../../../src/engine/io/weights.ts";
import { saveSafetensors } from "../../../src/engine/io/safetensors.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { StateDictError } from "../../../src/nn/module.ts";

const ENC: IdEncoderConfig = { width: 12, context_dim: 8, num_token: 3, vit_dim: 6, num_vit_layers: 5 };
const FORMER: IdFormerConfig = { dim: 8, depth: 5, dim_head: 2, heads: 4, num_id_token: 2, num_queries: 3, output_dim: 10, ff_mult: 2, vit_dim: 6, id_cond_dim: 12 };
const ATTN = new Map([[1, 4], [3, 6]]);

const dir = mkdtempSync(join(tmpdir(), "pulid-ckpt-"));
const V1 = join(dir, "pulid_v1.bin");
const V11 = join(dir, "pulid_v1.1.safetensors");
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("random v1 (torch zip) and v1.1 (safetensors) checkpoints load, sizes read from the shapes", async () => {
  await writeRandomPulidCheckpoint(V1, "v1", { encoder: ENC, attnLayerDims: ATTN, seed: 1 });
  await writeRandomPulidCheckpoint(V11, "v1.1", { encoder: FORMER, attnLayerDims: ATTN, seed: 2 });
  assert.equal(readFileSync(V1).subarray(0, 2).toString("latin1"), "PK");
  const f1 = openPulidCheckpoint(V1);
  const f11 = openPulidCheckpoint(V11);
  try {
    assert.equal(f1.version, "v1");
    assert.equal(f11.version, "v1.1");
    assert.deepEqual([...f1.groups.keys()].sort(), ["id_adapter", "id_adapter_attn_layers"]);
    assert.equal(f1.groups.get("id_adapter_attn_layers"), 4);
  } finally {
    f1.close();
    f11.close();
  }
  const enc = loadIdEncoderV1(V1).model;
  assert.deepEqual(enc.config, ENC);
  const former = loadIdFormer(V11, FORMER).model;
  assert.equal(former.latents.get().dtype, "float16", "16-bit weights are kept and cast in the graph");

  // The split exposes the attention projections for the UNet side.
  const { version, tensors } = readPulidGroup(V11, "id_adapter_attn_layers");
  assert.equal(version, "v1.1");
  assert.deepEqual([...tensors.keys()].sort(), ["1.id_to_k.weight", "1.id_to_v.weight", "3.id_to_k.weight", "3.id_to_v.weight"]);
  assert.deepEqual(tensors.get("3.id_to_v.weight")!.shape, [6, 10]);

  // Forward through the loaded models: shapes follow the config (v1: tokens = num_token + 5; v1.1: num_queries).
  const idc = input("id", [2, 12]);
  const hs = Array.from({ length: 5 }, (_, i) => input(`h${i}`, [2, 4, 6]));
  const vals = [HostTensor.f32([2, 12], Array.from({ length: 24 }, (_, i) => Math.sin(i))), ...hs.map(() => HostTensor.f32([2, 4, 6], Array.from({ length: 48 }, (_, i) => Math.cos(i))))];
  const [a, b] = await evaluate([enc.call(idc, hs), former.call(idc, hs)], [idc, ...hs], vals);
  assert.deepEqual(a!.shape, [2, 8, 8]);
  assert.deepEqual(b!.shape, [2, 3, 10]);
  assert.ok([...b!.toFloat64()].every(Number.isFinite));
});

test("v1.1 file given to the v1 loader and v1 file given to the v1.1 loader: wrong_version naming the file", () => {
  assert.throws(() => loadIdEncoderV1(V11), (e: any) => e.code === "wrong_version" && e.message.includes(V11) && /v1\.1 checkpoint \(IDFormer/.test(e.message) && /loadIdFormer/.test(e.message));
  assert.throws(() => loadIdFormer(V1), (e: any) => e.code === "wrong_version" && e.message.includes(V1) && /PuLID v1 checkpoint/.test(e.message) && /loadIdEncoderV1/.test(e.message));
});

test("truncated files (both formats) and a missing file give typed errors naming the file and the layout", () => {
  for (const src of [V1, V11]) {
    const cut = `${src}.part`;
    const bytes = readFileSync(src);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    assert.throws(() => loadIdEncoderV1(cut), (e: any) => e.code === "truncated" && e.message.includes(cut) && /pulid_v1\.bin: a torch zip/.test(e.message));
  }
  const missing = join(dir, "nope.bin");
  assert.throws(() => loadIdFormer(missing), (e: any) => e.code === "file_not_found" && e.message.includes(missing));
});

test("a file that is no PuLID checkpoint is refused; a mis-shaped config reports every key", async () => {
  const other = join(dir, "other.safetensors");
  await saveSafetensors(other, new Map([["conv_in.weight", HostTensor.f32([1], [0])]]));
  assert.throws(() => loadIdFormer(other), (e: any) => e.code === "not_pulid_checkpoint" && e.message.includes(other));
  assert.throws(() => loadIdEncoderV1(V1, { ...ENC, context_dim: 16 }), (e: any) => e instanceof StateDictError && e.message.includes(V1) && e.issues.length > 0);
});

test("the FLUX layout (pulid_encoder.*) loads into the IDFormer", async () => {
  const w = await loadWeights(V11);
  const flux = new Map<string, HostTensor>();
  for (const [k, v] of w) if (k.startsWith("id_adapter.")) flux.set(`pulid_encoder.${k.slice(11)}`, v);
  flux.set("pulid_ca.0.to_q.weight", HostTensor.f32([2, 2], [1, 0, 0, 1]));
  const path = join(dir, "pulid_flux.safetensors");
  await saveSafetensors(path, flux);
  const { model, version } = loadIdFormer(path, FORMER);
  assert.equal(version, "flux");
  const encoderSizes = [...flux].filter(([k]) => k.startsWith("pulid_encoder.")).reduce((s, [, t]) => s + t.data.length, 0);
  assert.equal(model.numParameters(), encoderSizes);
  assert.deepEqual(model.latents.get().toFloat64(), w.get("id_adapter.latents")!.toFloat64());
});

test("the default attention layout has 70 SDXL attn2 projections, 340,787,200 parameters", () => {
  const dims = sdxlIdAttnLayerDims();
  assert.equal(dims.size, 70);
  let n = 0;
  for (const c of dims.values()) n += 2 * c * 2048;
  assert.equal(n, 340_787_200);
  assert.equal(dims.get(1), 640);
  assert.equal(dims.get(139), 1280);
});
