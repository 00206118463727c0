/**
 * The world's SDXL UNet config: diffusers' `UNet2DConditionModel` with SDXL's block layout (no attention at the
 * highest resolution, cross-attention below, a cross-attention mid block) and `text_time` added conditioning,
 * sized for 16x16 latents (64 px images through the world VAE's factor 4) and the 40 MB budget of models/world/:
 * 3.0M parameters, 6.0 MB in fp16, for the base and again for the student.
 *
 * Conditioning widths follow from the world text encoder (clip-id's text tower, width 128, projection 128) used
 * the SDXL way in both encoder slots: context = 128 + 128, pooled 128, plus 6 micro-conditioning numbers of 32
 * sinusoidal features each.
 */
import { SDXL_UNET_CONFIG, type UNet2DConditionConfig } from "../unet/config.ts";

/** Width of the world text tower (clip-id's) and of its projection. */
export const WORLD_TEXT_WIDTH = 128;
export const WORLD_TIME_EMBED_DIM = 32;

export const WORLD_UNET_CONFIG: UNet2DConditionConfig = {
  ...SDXL_UNET_CONFIG,
  sample_size: 16,
  block_out_channels: [32, 64, 96],
  layers_per_block: 1,
  transformer_layers_per_block: 1,
  // diffusers' quirk: with num_attention_heads null this is the number of heads (head width 32 / 64 / 48).
  attention_head_dim: [1, 1, 2],
  cross_attention_dim: 2 * WORLD_TEXT_WIDTH,
  // 8 groups, not SDXL's 32: at width 32, 32 groups normalise every channel on its own, which strips each feature
  // map's spatial mean before conv_out, so the UNet could not return the per-channel mean of its input, the one
  // thing an eps prediction at high noise is mostly made of. Measured on the fifth base (trained at 32 groups):
  // its x0 estimate at t = 999 had MSE 1.9 against the latents (predicting zeros: 1.0), the samples' colour casts
  // and textured backgrounds; 500 steps of fine-tuning at 8 groups brought it to 0.93 (t = 900: 0.73 -> 0.46).
  // GroupNorm's parameters are per channel, so the group count changes no weight shape.
  norm_num_groups: 8,
  addition_time_embed_dim: WORLD_TIME_EMBED_DIM,
  projection_class_embeddings_input_dim: WORLD_TEXT_WIDTH + 6 * WORLD_TIME_EMBED_DIM,
};

/**
 * `config` with cross-attention at its highest resolution too (the first down block and the last up block become
 * CrossAttnDownBlock2D / CrossAttnUpBlock2D, SD 1.5's layout; every other field unchanged). Why the world may
 * want it where SDXL has none: a world face spans about 4x4 cells of the 16x16 latent and 2x2 of the first
 * attention level below it, so without attention at 16x16 the text and PuLID's ID tokens (which enter only
 * through attn2) reach a face at 2x2 granularity. SDXL's faces span tens of cells at its first attention level.
 */
export function withTopAttention(config: UNet2DConditionConfig): UNet2DConditionConfig {
  const down = [...config.down_block_types];
  const up = [...config.up_block_types];
  down[0] = "CrossAttnDownBlock2D";
  up[up.length - 1] = "CrossAttnUpBlock2D";
  return { ...config, down_block_types: down, up_block_types: up };
}
