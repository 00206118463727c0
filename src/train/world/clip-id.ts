/**
 * `clip-id`: the world's EVA02-CLIP-L-14-336. 24 EVA02 blocks like the real tower (so PuLID's hidden-state
 * rule, the inputs of blocks 4, 8, 12, 16, 20, gives the five states the ID encoder takes), narrow (width 64),
 * on the world's 64 px images in 16 px patches (a 4x4 grid: 8 px patches cost 3.4x the step time on this CPU). Its text tower is the world's text encoder candidate (issue 12):
 * width 128, CLIP-L's quick_gelu, the world tokenizer's 77 positions, legacy eos_token_id 2 like SDXL's configs
 * (pooling at argmax(input_ids), which is EOS in the world's CLIP vocabulary).
 */
import { CLIP_TEXT_DEFAULTS } from "../../models/clip/config.ts";
import type { WorldClipConfig } from "../../models/world/clip.ts";
import { clipRecipe } from "./clip-recipe.ts";

/** Size of the world's CLIP BPE vocabulary (`worldClipVocab`; a test checks they agree). */
export const WORLD_CLIP_VOCAB = 1018;

export const CLIP_ID_CONFIG: WorldClipConfig = {
  vision: {
    embed_dim: 128, image_size: 64, patch_size: 16, layers: 24, width: 64, head_width: 32, mlp_ratio: 2.6667,
    qkv_bias: true, rope: true, pt_hw_seq_len: 16, intp_freq: true, naiveswiglu: true, subln: true,
  },
  text: {
    ...CLIP_TEXT_DEFAULTS, vocab_size: WORLD_CLIP_VOCAB, hidden_size: 128, intermediate_size: 512, projection_dim: 128,
    num_hidden_layers: 4, num_attention_heads: 4, max_position_embeddings: 77, hidden_act: "quick_gelu",
    pad_token_id: 1, bos_token_id: 0, eos_token_id: 2, architectures: ["CLIPTextModelWithProjection"],
  },
};

export const clipIdRecipe = clipRecipe({
  name: "clip-id",
  summary: "image-text embeddings; image tower feeds the ID encoder, text tower the UNet (stands for EVA02-CLIP-L-14-336)",
  config: CLIP_ID_CONFIG,
  defaults: { steps: 700, batch: 32, lr: 2e-3, warmup: 30, minLrRatio: 0.05, weightDecay: 0.05, clip: 2, seed: 61, dataSeed: 601, checkpointEvery: 50, photoShare: 0.4, auxWeight: 0.25 },
});
