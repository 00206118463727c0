/**
 * `UNet2DConditionModel` configuration with the field names of diffusers' `unet/config.json`
 * (huggingface/diffusers v0.25.0, src/diffusers/models/unet_2d_condition.py), parsed and resolved into the
 * per-block lists the modules need. Unsupported options (class embeddings, dual cross-attention, ...) are
 * refused with an error naming the field, never silently ignored.
 */
import { PulidError } from "../../engine/errors.ts";

/** A bad or unsupported UNet configuration. */
export class UNetConfigError extends PulidError {}

/** The subset of diffusers' UNet2DConditionModel config this implementation reads, with diffusers' names. */
export interface UNet2DConditionConfig {
  in_channels: number;
  out_channels: number;
  sample_size: number | null;
  down_block_types: string[];
  up_block_types: string[];
  mid_block_type: string | null;
  block_out_channels: number[];
  layers_per_block: number | number[];
  transformer_layers_per_block: number | number[];
  /** diffusers quirk: when `num_attention_heads` is null this is the NUMBER OF HEADS, not the head size. */
  attention_head_dim: number | number[];
  num_attention_heads: number | number[] | null;
  cross_attention_dim: number | number[];
  use_linear_projection: boolean;
  norm_num_groups: number;
  norm_eps: number;
  act_fn: string;
  flip_sin_to_cos: boolean;
  freq_shift: number;
  downsample_padding: number;
  mid_block_scale_factor: number;
  /** null (SD1.x) or "text_time" (SDXL). */
  addition_embed_type: string | null;
  addition_time_embed_dim: number | null;
  projection_class_embeddings_input_dim: number | null;
  upcast_attention: boolean | null;
  resnet_time_scale_shift: string;
  center_input_sample: boolean;
  conv_in_kernel: number;
  conv_out_kernel: number;
}

/** The config resolved into per-block values (what the module constructors consume). */
export interface ResolvedUNetConfig extends UNet2DConditionConfig {
  /** Per down block (up blocks use the reversed lists). */
  heads: number[];
  layers: number[];
  transformerLayers: number[];
  crossDims: number[];
  /** Time embedding width (block_out_channels[0] * 4). */
  timeEmbedDim: number;
}

/** The published SDXL base UNet config (stabilityai/stable-diffusion-xl-base-1.0 unet/config.json). */
export const SDXL_UNET_CONFIG: UNet2DConditionConfig = {
  in_channels: 4,
  out_channels: 4,
  sample_size: 128,
  down_block_types: ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
  up_block_types: ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
  mid_block_type: "UNetMidBlock2DCrossAttn",
  block_out_channels: [320, 640, 1280],
  layers_per_block: 2,
  transformer_layers_per_block: [1, 2, 10],
  attention_head_dim: [5, 10, 20],
  num_attention_heads: null,
  cross_attention_dim: 2048,
  use_linear_projection: true,
  norm_num_groups: 32,
  norm_eps: 1e-5,
  act_fn: "silu",
  flip_sin_to_cos: true,
  freq_shift: 0,
  downsample_padding: 1,
  mid_block_scale_factor: 1,
  addition_embed_type: "text_time",
  addition_time_embed_dim: 256,
  projection_class_embeddings_input_dim: 2816,
  upcast_attention: null,
  resnet_time_scale_shift: "default",
  center_input_sample: false,
  conv_in_kernel: 3,
  conv_out_kernel: 3,
};

/**
 * A tiny SDXL-family config for tests (the same as the `unet_sdxl_tiny` parity fixture): every block type,
 * text_time conditioning, linear projections, depth-2 transformers at the lowest level.
 */
export const TINY_SDXL_UNET_CONFIG: UNet2DConditionConfig = {
  ...SDXL_UNET_CONFIG,
  sample_size: 16,
  block_out_channels: [16, 32, 32],
  transformer_layers_per_block: [1, 1, 2],
  attention_head_dim: [1, 2, 4],
  cross_attention_dim: 32,
  norm_num_groups: 8,
  addition_time_embed_dim: 8,
  projection_class_embeddings_input_dim: 72,
};

const DEFAULTS: UNet2DConditionConfig = {
  // diffusers' constructor defaults (SD1.x-like), used for fields a config.json leaves out.
  in_channels: 4,
  out_channels: 4,
  sample_size: null,
  down_block_types: ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
  mid_block_type: "UNetMidBlock2DCrossAttn",
  block_out_channels: [320, 640, 1280, 1280],
  layers_per_block: 2,
  transformer_layers_per_block: 1,
  attention_head_dim: 8,
  num_attention_heads: null,
  cross_attention_dim: 1280,
  use_linear_projection: false,
  norm_num_groups: 32,
  norm_eps: 1e-5,
  act_fn: "silu",
  flip_sin_to_cos: true,
  freq_shift: 0,
  downsample_padding: 1,
  mid_block_scale_factor: 1,
  addition_embed_type: null,
  addition_time_embed_dim: null,
  projection_class_embeddings_input_dim: null,
  upcast_attention: null,
  resnet_time_scale_shift: "default",
  center_input_sample: false,
  conv_in_kernel: 3,
  conv_out_kernel: 3,
};

/** Fields that must hold their "off" value: features this implementation does not have. */
const MUST_BE_OFF: Record<string, unknown[]> = {
  class_embed_type: [null, undefined],
  num_class_embeds: [null, undefined],
  encoder_hid_dim: [null, undefined],
  encoder_hid_dim_type: [null, undefined],
  time_cond_proj_dim: [null, undefined],
  time_embedding_dim: [null, undefined],
  time_embedding_act_fn: [null, undefined],
  timestep_post_act: [null, undefined],
  cross_attention_norm: [null, undefined],
  dual_cross_attention: [false, undefined],
  only_cross_attention: [false, undefined],
  class_embeddings_concat: [false, undefined],
  mid_block_only_cross_attention: [null, false, undefined],
  resnet_skip_time_act: [false, undefined],
  resnet_out_scale_factor: [1, undefined],
  time_embedding_type: ["positional", undefined],
  attention_type: ["default", undefined],
  reverse_transformer_layers_per_block: [null, undefined],
};

const DOWN_TYPES = ["DownBlock2D", "CrossAttnDownBlock2D"];
const UP_TYPES = ["UpBlock2D", "CrossAttnUpBlock2D"];

function list<T>(v: T | T[], n: number, field: string): T[] {
  if (!Array.isArray(v)) return new Array<T>(n).fill(v);
  if (v.length !== n) throw new UNetConfigError("bad_config", `UNet config: ${field} has ${v.length} entries, expected one per block (${n})`);
  return [...v];
}

function posInt(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new UNetConfigError("bad_config", `UNet config: ${field} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Reads a diffusers UNet2DConditionModel config object (a parsed `config.json`), fills diffusers' defaults for
 * absent fields and resolves per-block values.
 * @throws UNetConfigError naming the field for unsupported options or inconsistent lists.
 */
export function parseUNetConfig(json: Record<string, unknown>, source = "config"): ResolvedUNetConfig {
  for (const [field, ok] of Object.entries(MUST_BE_OFF)) {
    if (!ok.includes(json[field] as never)) {
      throw new UNetConfigError("unsupported_config", `${source}: UNet option ${field}=${JSON.stringify(json[field])} is not supported (expected ${ok.filter((v) => v !== undefined).map((v) => JSON.stringify(v)).join(" or ")})`);
    }
  }
  const c = { ...DEFAULTS } as UNet2DConditionConfig;
  for (const k of Object.keys(DEFAULTS) as (keyof UNet2DConditionConfig)[]) {
    if (json[k] !== undefined) (c as any)[k] = json[k];
  }
  const n = c.block_out_channels.length;
  if (c.down_block_types.length !== n || c.up_block_types.length !== n) {
    throw new UNetConfigError("bad_config", `${source}: down_block_types (${c.down_block_types.length}) and up_block_types (${c.up_block_types.length}) must have one entry per block_out_channels (${n})`);
  }
  for (const t of c.down_block_types) if (!DOWN_TYPES.includes(t)) throw new UNetConfigError("unsupported_config", `${source}: down block type '${t}' is not supported (known: ${DOWN_TYPES.join(", ")})`);
  for (const t of c.up_block_types) if (!UP_TYPES.includes(t)) throw new UNetConfigError("unsupported_config", `${source}: up block type '${t}' is not supported (known: ${UP_TYPES.join(", ")})`);
  if (c.mid_block_type !== "UNetMidBlock2DCrossAttn") {
    throw new UNetConfigError("unsupported_config", `${source}: mid_block_type '${c.mid_block_type}' is not supported (known: UNetMidBlock2DCrossAttn)`);
  }
  if (c.act_fn !== "silu") throw new UNetConfigError("unsupported_config", `${source}: act_fn '${c.act_fn}' is not supported (known: silu)`);
  if (c.resnet_time_scale_shift !== "default") {
    throw new UNetConfigError("unsupported_config", `${source}: resnet_time_scale_shift '${c.resnet_time_scale_shift}' is not supported (known: default)`);
  }
  if (c.addition_embed_type !== null && c.addition_embed_type !== "text_time") {
    throw new UNetConfigError("unsupported_config", `${source}: addition_embed_type '${c.addition_embed_type}' is not supported (known: null, text_time)`);
  }
  if (c.addition_embed_type === "text_time") {
    posInt(c.addition_time_embed_dim, "addition_time_embed_dim");
    posInt(c.projection_class_embeddings_input_dim, "projection_class_embeddings_input_dim");
  }
  c.block_out_channels.forEach((ch, i) => {
    posInt(ch, `block_out_channels[${i}]`);
    if (ch % c.norm_num_groups !== 0) throw new UNetConfigError("bad_config", `${source}: block_out_channels[${i}]=${ch} is not divisible by norm_num_groups=${c.norm_num_groups}`);
  });
  // diffusers: num_attention_heads = num_attention_heads or attention_head_dim (the SDXL config quirk).
  const heads = list(c.num_attention_heads ?? c.attention_head_dim, n, "num_attention_heads/attention_head_dim");
  heads.forEach((h, i) => {
    posInt(h, `heads[${i}]`);
    if (c.block_out_channels[i]! % h !== 0) throw new UNetConfigError("bad_config", `${source}: block ${i} has ${c.block_out_channels[i]} channels, not divisible by ${h} heads`);
  });
  return {
    ...c,
    heads,
    layers: list(c.layers_per_block, n, "layers_per_block").map((v, i) => posInt(v, `layers_per_block[${i}]`)),
    transformerLayers: list(c.transformer_layers_per_block, n, "transformer_layers_per_block").map((v, i) => posInt(v, `transformer_layers_per_block[${i}]`)),
    crossDims: list(c.cross_attention_dim, n, "cross_attention_dim").map((v, i) => posInt(v, `cross_attention_dim[${i}]`)),
    timeEmbedDim: c.block_out_channels[0]! * 4,
  };
}
