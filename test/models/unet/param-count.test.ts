/**
 * Parameter counts and key names from the full-size configs, computed from the module tree without allocating
 * weights (parameters are lazy until initialize/load).
 *
 * Reference counts: SDXL base UNet 2,567,463,684 (the published count of stabilityai/stable-diffusion-xl-base-1.0's
 * unet, 1680 tensors; also the SDXL-Lightning UNet file, which has the same architecture), SD 1.5 UNet 859,520,964
 * (runwayml/stable-diffusion-v1-5), PuLID ID attention projections 340,787,200 (pulid-reference.md section 4.4,
 * checked there against the size of pulid_v1.bin). They come from the published checkpoints, not from this code.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { UNet2DConditionModel } from "../../../src/models/unet/unet2d-condition.ts";
import { SDXL_UNET_CONFIG, parseUNetConfig, UNetConfigError } from "../../../src/models/unet/config.ts";
import { IdAttentionLayers } from "../../../src/models/pulid/id-attention.ts";

test("SDXL UNet: 2,567,463,684 parameters in 1680 tensors, none allocated", () => {
  const unet = new UNet2DConditionModel(SDXL_UNET_CONFIG);
  const params = unet.namedParameters();
  assert.equal(unet.numParameters(), 2_567_463_684);
  assert.equal(params.length, 1680);
  assert.ok(params.every(([, p]) => p.value() === null));
  const byName = new Map(params.map(([k, p]) => [k, p.shape]));
  // head dim 64 everywhere: 10 heads at 640, 20 at 1280; text context 2048; GEGLU 4x.
  assert.deepEqual(byName.get("down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight"), [640, 2048]);
  assert.deepEqual(byName.get("down_blocks.2.attentions.1.transformer_blocks.9.ff.net.0.proj.weight"), [10240, 1280]);
  assert.deepEqual(byName.get("up_blocks.0.resnets.2.conv_shortcut.weight"), [1280, 1920, 1, 1]);
  assert.deepEqual(byName.get("up_blocks.2.resnets.0.conv1.weight"), [320, 960, 3, 3]);
  assert.deepEqual(byName.get("add_embedding.linear_1.weight"), [1280, 2816]);
  assert.deepEqual(byName.get("mid_block.attentions.0.proj_in.weight"), [1280, 1280]);
  assert.deepEqual(byName.get("up_blocks.1.upsamplers.0.conv.weight"), [640, 640, 3, 3]);
  assert.equal(byName.has("up_blocks.2.upsamplers.0.conv.weight"), false);
  assert.equal(byName.has("down_blocks.0.attentions.0.norm.weight"), false);
});

test("SD 1.5 UNet (conv projections, 8 heads, no added conditioning): 859,520,964 parameters", () => {
  const unet = new UNet2DConditionModel(parseUNetConfig({ cross_attention_dim: 768, attention_head_dim: 8, sample_size: 64 }));
  assert.equal(unet.numParameters(), 859_520_964);
  const names = new Map(unet.namedParameters().map(([k, p]) => [k, p.shape]));
  assert.deepEqual(names.get("down_blocks.0.attentions.0.proj_in.weight"), [320, 320, 1, 1]);
  assert.equal(names.has("add_embedding.linear_1.weight"), false);
});

test("PuLID ID attention for SDXL: 340,787,200 parameters at odd k 1..139 in diffusers processor order", () => {
  const unet = new UNet2DConditionModel(SDXL_UNET_CONFIG);
  const ids = new IdAttentionLayers(unet);
  assert.equal(ids.numParameters(), 340_787_200);
  const names = ids.namedParameters().map(([k]) => k);
  assert.equal(names.length, 140);
  const ks = [...new Set(names.map((n) => Number(n.split(".")[1])))];
  assert.deepEqual(ks, Array.from({ length: 70 }, (_, i) => 2 * i + 1));
  const layers = unet.attentionLayers();
  const at = (k: number) => layers[k]!.path;
  // The table of pulid-reference.md 4.4: down 1, down 2, up 0, up 1, mid LAST.
  assert.equal(at(1), "down_blocks.1.attentions.0.transformer_blocks.0.attn2");
  assert.equal(at(7), "down_blocks.1.attentions.1.transformer_blocks.1.attn2");
  assert.equal(at(27), "down_blocks.2.attentions.0.transformer_blocks.9.attn2");
  assert.equal(at(49), "up_blocks.0.attentions.0.transformer_blocks.0.attn2");
  assert.equal(at(107), "up_blocks.0.attentions.2.transformer_blocks.9.attn2");
  assert.equal(at(119), "up_blocks.1.attentions.2.transformer_blocks.1.attn2");
  assert.equal(at(121), "mid_block.attentions.0.transformer_blocks.0.attn2");
  assert.equal(at(139), "mid_block.attentions.0.transformer_blocks.9.attn2");
  const shape = (k: number) => ids.namedParameters().find(([n]) => n === `id_adapter_attn_layers.${k}.id_to_k.weight`)![1].shape;
  assert.deepEqual(shape(1), [640, 2048]);
  assert.deepEqual(shape(121), [1280, 2048]);
  assert.deepEqual(shape(117), [640, 2048]);
});

test("config: unsupported options and inconsistent lists are refused by field name", () => {
  assert.throws(() => parseUNetConfig({ class_embed_type: "timestep" }), (e: unknown) => e instanceof UNetConfigError && /class_embed_type/.test(e.message));
  assert.throws(() => parseUNetConfig({ ...SDXL_UNET_CONFIG, attention_head_dim: [5, 10] }), /attention_head_dim.*2 entries/);
  assert.throws(() => parseUNetConfig({ ...SDXL_UNET_CONFIG, attention_head_dim: [3, 10, 20] }), /320 channels, not divisible by 3 heads/);
  assert.throws(() => parseUNetConfig({ ...SDXL_UNET_CONFIG, down_block_types: ["DownBlock2D", "AttnDownBlock2D", "CrossAttnDownBlock2D"] }), /AttnDownBlock2D/);
  // num_attention_heads, when given, wins over attention_head_dim (diffusers' rule).
  assert.deepEqual(parseUNetConfig({ ...SDXL_UNET_CONFIG, num_attention_heads: [5, 5, 5] }).heads, [5, 5, 5]);
  assert.deepEqual(parseUNetConfig({ ...SDXL_UNET_CONFIG }).heads, [5, 10, 20]);
});
