/**
 * `clip-metric`: the CLIP of CLIP-T / CLIP-I, for evaluation only. A different net from clip-id on purpose
 * (grading with the model that conditions generation would inflate the score): 6 wider EVA02 blocks, a 3-layer
 * gelu text tower, its own seeds.
 */
import { CLIP_TEXT_DEFAULTS } from "../../models/clip/config.ts";
import type { WorldClipConfig } from "../../models/world/clip.ts";
import { clipRecipe } from "./clip-recipe.ts";
import { WORLD_CLIP_VOCAB } from "./clip-id.ts";

export const CLIP_METRIC_CONFIG: WorldClipConfig = {
  vision: {
    embed_dim: 96, image_size: 64, patch_size: 16, layers: 6, width: 96, head_width: 32, mlp_ratio: 2.6667,
    qkv_bias: true, rope: true, pt_hw_seq_len: 16, intp_freq: true, naiveswiglu: true, subln: true,
  },
  text: {
    ...CLIP_TEXT_DEFAULTS, vocab_size: WORLD_CLIP_VOCAB, hidden_size: 96, intermediate_size: 384, projection_dim: 96,
    num_hidden_layers: 3, num_attention_heads: 3, max_position_embeddings: 77, hidden_act: "gelu",
    pad_token_id: 1, bos_token_id: 0, eos_token_id: 2, architectures: ["CLIPTextModelWithProjection"],
  },
};

export const clipMetricRecipe = clipRecipe({
  name: "clip-metric",
  summary: "image-text embeddings for CLIP-T / CLIP-I in evaluation only (a second CLIP: other size and seeds)",
  config: CLIP_METRIC_CONFIG,
  defaults: { steps: 500, batch: 32, lr: 2e-3, warmup: 30, minLrRatio: 0.05, weightDecay: 0.05, clip: 2, seed: 71, dataSeed: 701, checkpointEvery: 50, photoShare: 0.4, auxWeight: 0.25 },
});
