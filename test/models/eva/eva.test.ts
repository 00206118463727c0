/**
 * EVA02-CLIP vision tower: parameter count of EVA02-CLIP-L-14-336, rope tables and rotate_half against hand
 * values, and loading a random `.pt` in the published layout (visual.* + text tower + rope buffers).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EVA02_CLIP_L_14_336, parseEvaConfig, defaultHiddenBlocks, type EvaVisionConfig } from "../../../src/models/eva/config.ts";
import { EvaVisionTransformer, l2Normalize } from "../../../src/models/eva/vision-transformer.ts";
import { ropeTables, rotateHalf } from "../../../src/models/eva/rope.ts";
import { loadEvaVisual } from "../../../src/models/eva/load.ts";
import { writeRandomEvaCheckpoint } from "../../../src/models/eva/random-checkpoint.ts";
import { loadWeights } from "../../../src/engine/io/weights.ts";
import { saveTorchCheckpoint } from "../../../src/engine/io/torch-save.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { StateDictError } from "../../../src/nn/module.ts";

test("EVA02-CLIP-L-14-336 visual tower: 304,432,832 parameters (EVA-CLIP's '304M' image encoder), lazily", () => {
  const m = new EvaVisionTransformer(EVA02_CLIP_L_14_336).bindNames();
  // Hand count: patch 3*14*14*1024+1024, cls 1024, pos 577*1024, 24 blocks of 12,602,024, norm 2048, head 1024*768+768.
  assert.equal(m.numParameters(), 603_136 + 1_024 + 590_848 + 24 * 12_602_024 + 2_048 + 787_200);
  assert.equal(m.numParameters(), 304_432_832);
  const shapes = new Map(m.namedParameters().map(([k, p]) => [k, p.shape.join(",")]));
  assert.equal(shapes.get("blocks.23.mlp.w1.weight"), "2730,1024");
  assert.equal(shapes.get("blocks.0.attn.q_bias"), "1024");
  assert.ok(!shapes.has("blocks.0.attn.k_bias"));
  assert.equal(shapes.get("pos_embed"), "1,577,1024");
  assert.deepEqual(defaultHiddenBlocks(24), [4, 8, 12, 16, 20]);
});

test("the model config JSON parses; unsupported variants are refused by field name", () => {
  const json = { embed_dim: 768, vision_cfg: { image_size: 336, layers: 24, width: 1024, drop_path_rate: 0, head_width: 64, mlp_ratio: 2.6667, patch_size: 14, eva_model_name: "eva-clip-l-14-336", xattn: true, fusedLN: true, rope: true, pt_hw_seq_len: 16, intp_freq: true, naiveswiglu: true, subln: true } };
  assert.deepEqual(parseEvaConfig(json), EVA02_CLIP_L_14_336);
  assert.throws(() => parseEvaConfig({ ...json, vision_cfg: { ...json.vision_cfg, global_average_pool: true } }), (e: any) => e.code === "unsupported_config" && /global_average_pool/.test(e.message));
});

test("rope tables: row axis in the first half, column axis in the second, adjacent pairs share a frequency", () => {
  // head_dim 8 -> 4 channels per axis -> freqs 10000^(-0/4) = 1 and 10000^(-2/4) = 0.01; grid 2, pt 16 -> t = 0, 8.
  const { cos, sin } = ropeTables(8, 16, 2);
  assert.deepEqual(cos.shape, [4, 8]);
  const row = (t: HostTensor, i: number) => [...t.toFloat64().subarray(i * 8, i * 8 + 8)];
  const c = (x: number) => Math.fround(Math.cos(x));
  const s = (x: number) => Math.fround(Math.sin(x));
  // token 2 = (row 1, col 0)
  assert.deepEqual(row(cos, 2), [c(8), c(8), c(0.08), c(0.08), 1, 1, 1, 1]);
  // token 1 = (row 0, col 1)
  assert.deepEqual(row(sin, 1), [0, 0, 0, 0, s(8), s(8), s(0.08), s(0.08)]);
});

test("rotate_half maps adjacent pairs (x0, x1) -> (-x1, x0)", async () => {
  const x = input("x", [1, 4]);
  const [y] = await evaluate([rotateHalf(x)], [x], [HostTensor.f32([1, 4], [1, 2, 3, 4])]);
  assert.deepEqual([...y!.toFloat64()], [-2, 1, -4, 3]);
});

const TINY: EvaVisionConfig = { ...EVA02_CLIP_L_14_336, embed_dim: 6, image_size: 12, patch_size: 4, layers: 6, width: 16, head_width: 8, pt_hw_seq_len: 16 };

test("a random .pt in the published layout loads (visual.* only; text tower and rope buffers skipped)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "eva-"));
  try {
    const pt = join(dir, "EVA02_CLIP_L_336_psz14_s6B.pt");
    await writeRandomEvaCheckpoint(pt, { config: TINY, seed: 3 });
    const all = await loadWeights(pt);
    assert.ok(all.has("text.positional_embedding") && all.has("visual.rope.freqs_cos"));
    assert.equal(all.get("visual.head.weight")!.dtype, "float16");
    const m = loadEvaVisual(pt, TINY);
    const img = input("img", [2, 3, 12, 12]);
    const { embedding, hidden } = m.call(img);
    assert.equal(hidden.length, 1); // 6 layers: only block 4 qualifies
    const vals = [HostTensor.f32([2, 3, 12, 12], Array.from({ length: 864 }, (_, i) => Math.sin(i * 0.37)))];
    const [e, n, h] = await evaluate([embedding, l2Normalize(embedding), hidden[0]!], [img], vals);
    assert.deepEqual(e!.shape, [2, 6]);
    assert.deepEqual(h!.shape, [2, 10, 16]);
    const nv = n!.toFloat64();
    assert.ok(Math.abs(Math.hypot(...nv.subarray(0, 6)) - 1) < 1e-5);

    // A wrapped state dict (module. prefix) loads too; a missing key is reported with the file name.
    const wrapped = new Map([...all].map(([k, v]) => [`module.${k}`, v]));
    wrapped.delete("module.visual.blocks.2.attn.q_bias");
    const pt2 = join(dir, "wrapped.pt");
    await saveTorchCheckpoint(pt2, wrapped);
    assert.throws(() => loadEvaVisual(pt2, TINY), (err: any) => err instanceof StateDictError && err.message.includes(pt2) && /missing: blocks\.2\.attn\.q_bias/.test(err.message));
    assert.throws(() => loadEvaVisual(join(dir, "none.pt"), TINY), (err: any) => err.code === "file_not_found");
    assert.throws(() => m.call(input("bad", [1, 3, 16, 16])), (err: any) => err.code === "bad_input" && /no pos-embed interpolation/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
