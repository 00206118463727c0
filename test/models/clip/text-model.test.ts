import { test } from "node:test";
import assert from "node:assert/strict";
import { ClipTextModel, ClipTextModelWithProjection } from "../../../src/models/clip/text-model.ts";
import {
  SDXL_TEXT_ENCODER_CONFIG,
  SDXL_TEXT_ENCODER_2_CONFIG,
  TINY_CLIP_TEXT_L_CONFIG,
  TINY_CLIP_TEXT_BIGG_CONFIG,
  parseClipTextConfig,
  type ClipTextConfig,
} from "../../../src/models/clip/config.ts";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { TraceError } from "../../../src/engine/errors.ts";
import { ModelFileError } from "../../../src/models/common/model-file-error.ts";

test("full-size parameter counts match transformers (no weights allocated)", () => {
  // CLIP ViT-L/14 text tower (CLIPTextModel): 49408*768 + 77*768 + 12 layers * 7,087,872 + 2*768 = 123,060,480.
  const l = new ClipTextModel(SDXL_TEXT_ENCODER_CONFIG);
  assert.equal(l.numParameters(), 123_060_480);
  assert.equal(l.namedParameters().length, 196);
  // OpenCLIP ViT-bigG/14 text tower with projection: 49408*1280 + 77*1280 + 32 * 19,677,440 + 2*1280 + 1280*1280 = 694,659,840.
  const g = new ClipTextModelWithProjection(SDXL_TEXT_ENCODER_2_CONFIG);
  assert.equal(g.numParameters(), 694_659_840);
  assert.equal(g.namedParameters().length, 517);
  assert.ok(g.parameters().every((p) => p.value() === null), "constructing a model allocates no weights");
  const names = g.bindNames().namedParameters().map(([n]) => n);
  for (const k of [
    "text_model.embeddings.token_embedding.weight",
    "text_model.embeddings.position_embedding.weight",
    "text_model.encoder.layers.31.self_attn.q_proj.weight",
    "text_model.encoder.layers.0.mlp.fc2.bias",
    "text_model.final_layer_norm.weight",
    "text_projection.weight",
  ]) assert.ok(names.includes(k), k);
});

function ids(rows: number[][]): HostTensor {
  return HostTensor.from("int64", [rows.length, rows[0]!.length], rows.flat());
}

/** Runs the model; returns pooled, last hidden state and penultimate as flat arrays. */
async function run(cfg: ClipTextConfig, rows: number[][], seed = 3) {
  const m = new ClipTextModelWithProjection(cfg).initialize(seed);
  const v = ids(rows);
  const x = input("ids", v.shape, "int64");
  const o = m.call(x);
  const [pooled, last, pen, emb] = await evaluate([o.pooled, o.lastHiddenState, o.penultimate, o.textEmbeds], [x], [v]);
  return { pooled: pooled!, last: last!, pen: pen!, emb: emb!, hiddenCount: o.hiddenStates.length };
}

function rowAt(t: HostTensor, b: number, pos: number): number[] {
  const [, l, d] = t.shape as [number, number, number];
  return Array.from(t.toFloat64().slice((b * l + pos) * d, (b * l + pos + 1) * d));
}

test("pooling position: argmax(ids) for legacy eos_token_id 2, else the first eos id (position 0 when absent)", async () => {
  const rows = [
    [98, 5, 99, 99, 99],
    [98, 7, 8, 99, 0],
    [98, 97, 3, 4, 6],
  ];
  const d = TINY_CLIP_TEXT_BIGG_CONFIG.hidden_size;
  // eos_token_id 99: first position holding 99 -> 2, 3, and 0 for the row with none.
  const a = await run(TINY_CLIP_TEXT_BIGG_CONFIG, rows);
  [2, 3, 0].forEach((pos, b) => assert.deepEqual(Array.from(a.pooled.toFloat64().slice(b * d, (b + 1) * d)), rowAt(a.last, b, pos)));
  // eos_token_id 2 (the real SDXL configs): argmax -> 2, 3, and 0 (98 is the largest id of row 2).
  const legacy = await run({ ...TINY_CLIP_TEXT_BIGG_CONFIG, eos_token_id: 2 }, rows);
  [2, 3, 0].forEach((pos, b) => assert.deepEqual(Array.from(legacy.pooled.toFloat64().slice(b * d, (b + 1) * d)), rowAt(legacy.last, b, pos)));
  const row2 = [[98, 40, 97, 1, 2]];
  const l2 = await run({ ...TINY_CLIP_TEXT_BIGG_CONFIG, eos_token_id: 2 }, row2);
  assert.deepEqual(Array.from(l2.pooled.toFloat64()), rowAt(l2.last, 0, 0));
  assert.equal(a.hiddenCount, TINY_CLIP_TEXT_BIGG_CONFIG.num_hidden_layers + 1);
  assert.deepEqual(a.emb.shape, [3, TINY_CLIP_TEXT_BIGG_CONFIG.projection_dim]);
});

test("the causal mask: a token's hidden state ignores later tokens", async () => {
  const a = await run(TINY_CLIP_TEXT_L_CONFIG, [[98, 5, 6, 7, 99, 99]]);
  const b = await run(TINY_CLIP_TEXT_L_CONFIG, [[98, 5, 6, 40, 41, 42]]);
  for (const pos of [0, 1, 2]) {
    const x = rowAt(a.pen, 0, pos);
    const y = rowAt(b.pen, 0, pos);
    x.forEach((v, i) => assert.ok(Math.abs(v - y[i]!) < 1e-6, `position ${pos}`));
  }
  assert.ok(rowAt(a.pen, 0, 3).some((v, i) => Math.abs(v - rowAt(b.pen, 0, 3)[i]!) > 1e-4));
});

test("sequences longer than max_position_embeddings and bad ids are refused at trace time", () => {
  const m = new ClipTextModel(TINY_CLIP_TEXT_L_CONFIG).initialize(0);
  assert.throws(() => m.call(input("ids", [1, 13], "int64")), (e: unknown) => e instanceof TraceError && /exceeds max_position_embeddings 12/.test(e.message));
  assert.throws(() => m.call(input("ids", [1, 5], "float32")), (e: unknown) => e instanceof TraceError && /input_ids must be int64/.test(e.message));
});

test("config parsing: defaults, nested text_config, bad fields named", () => {
  const c = parseClipTextConfig({ hidden_size: 64, num_attention_heads: 4, architectures: ["CLIPTextModelWithProjection"] });
  assert.equal(c.vocab_size, 49408);
  assert.equal(c.max_position_embeddings, 77);
  assert.equal(parseClipTextConfig({ text_config: { hidden_size: 96, num_attention_heads: 3 } }).hidden_size, 96);
  assert.throws(() => parseClipTextConfig({ hidden_size: 30, num_attention_heads: 4 }, "x/config.json"), (e: unknown) => e instanceof ModelFileError && e.file === "x/config.json" && /num_attention_heads/.test(e.message));
  assert.throws(() => parseClipTextConfig({ hidden_act: "relu" }), /hidden_act/);
  assert.throws(() => parseClipTextConfig({ num_hidden_layers: 0 }), /num_hidden_layers/);
  assert.throws(() => parseClipTextConfig([1, 2]), /JSON object/);
});
