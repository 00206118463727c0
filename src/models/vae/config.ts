/** diffusers `AutoencoderKL` config: the fields of `vae/config.json` (v0.25 plus the later optional ones). */
import { ModelFileError } from "../common/model-file-error.ts";

export interface AutoencoderKLConfig {
  in_channels: number;
  out_channels: number;
  down_block_types: string[];
  up_block_types: string[];
  block_out_channels: number[];
  layers_per_block: number;
  act_fn: "silu";
  latent_channels: number;
  norm_num_groups: number;
  sample_size: number;
  /** Pipelines divide latents by this before decode (and multiply after encode); not applied inside the model. */
  scaling_factor: number;
  /** Pipelines add this after scaling (SD3/FLUX AEs); null for SDXL. */
  shift_factor: number | null;
  /**
   * Per-channel latent statistics (later diffusers field, used by its SDXL pipeline when present, as Playground
   * v2.5's VAE has them); null for SDXL. With them, diffusion-space latents are (z - mean) * scaling_factor / std
   * and decode takes latents * std / scaling_factor + mean.
   */
  latents_mean: number[] | null;
  latents_std: number[] | null;
  /** The reference runs this VAE in float32 (SDXL's overflows in fp16); our graphs compute in float32 anyway. */
  force_upcast: boolean;
  /** Later diffusers flags (default true): whether quant_conv / post_quant_conv exist. */
  use_quant_conv: boolean;
  use_post_quant_conv: boolean;
  /** Later diffusers flag (default true): whether the mid blocks hold their self-attention. */
  mid_block_add_attention: boolean;
}

/** stabilityai/stable-diffusion-xl-base-1.0 `vae/config.json`. */
export const SDXL_VAE_CONFIG: AutoencoderKLConfig = {
  in_channels: 3,
  out_channels: 3,
  down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
  block_out_channels: [128, 256, 512, 512],
  layers_per_block: 2,
  act_fn: "silu",
  latent_channels: 4,
  norm_num_groups: 32,
  sample_size: 1024,
  scaling_factor: 0.13025,
  shift_factor: null,
  latents_mean: null,
  latents_std: null,
  force_upcast: true,
  use_quant_conv: true,
  use_post_quant_conv: true,
  mid_block_add_attention: true,
};

/** Tiny config of the same family for tests (the vae_sdxl_tiny fixture's). */
export const TINY_VAE_CONFIG: AutoencoderKLConfig = {
  ...SDXL_VAE_CONFIG,
  block_out_channels: [8, 16, 16],
  down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
  norm_num_groups: 4,
  sample_size: 16,
};

/** diffusers' AutoencoderKL defaults for fields a config.json leaves out. */
const DEFAULTS: AutoencoderKLConfig = {
  in_channels: 3,
  out_channels: 3,
  down_block_types: ["DownEncoderBlock2D"],
  up_block_types: ["UpDecoderBlock2D"],
  block_out_channels: [64],
  layers_per_block: 1,
  act_fn: "silu",
  latent_channels: 4,
  norm_num_groups: 32,
  sample_size: 32,
  scaling_factor: 0.18215,
  shift_factor: null,
  latents_mean: null,
  latents_std: null,
  force_upcast: true,
  use_quant_conv: true,
  use_post_quant_conv: true,
  mid_block_add_attention: true,
};

/** Reads an AutoencoderKL config.json object; wrong fields throw `config_invalid` naming `source` and the field. */
export function parseAutoencoderKLConfig(json: unknown, source = "config.json"): AutoencoderKLConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ModelFileError("config_invalid", source, "expected a JSON object with AutoencoderKL fields (block_out_channels, latent_channels, ...)");
  }
  const raw = json as Record<string, unknown>;
  if (raw._class_name !== undefined && raw._class_name !== "AutoencoderKL") {
    throw new ModelFileError("config_invalid", source, `_class_name is ${JSON.stringify(raw._class_name)}, expected "AutoencoderKL"`);
  }
  const cfg: Record<string, unknown> = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS)) if (raw[k] !== undefined && raw[k] !== null) cfg[k] = raw[k];
  const bad = (field: string, why: string) =>
    new ModelFileError("config_invalid", source, `AutoencoderKL field '${field}' ${why} (got ${JSON.stringify(cfg[field])})`);
  const posInt = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v > 0;
  for (const k of ["in_channels", "out_channels", "layers_per_block", "latent_channels", "norm_num_groups", "sample_size"]) {
    if (!posInt(cfg[k])) throw bad(k, "must be a positive integer");
  }
  const c = cfg as unknown as AutoencoderKLConfig;
  if (!Array.isArray(c.block_out_channels) || c.block_out_channels.length === 0 || !c.block_out_channels.every(posInt)) {
    throw bad("block_out_channels", "must be a non-empty list of positive integers");
  }
  for (const ch of c.block_out_channels) if (ch % c.norm_num_groups !== 0) throw bad("block_out_channels", `must be multiples of norm_num_groups ${c.norm_num_groups}`);
  const n = c.block_out_channels.length;
  if (!Array.isArray(c.down_block_types) || c.down_block_types.length !== n || c.down_block_types.some((t) => t !== "DownEncoderBlock2D")) {
    throw bad("down_block_types", `must list ${n} "DownEncoderBlock2D" (one per block_out_channels entry)`);
  }
  if (!Array.isArray(c.up_block_types) || c.up_block_types.length !== n || c.up_block_types.some((t) => t !== "UpDecoderBlock2D")) {
    throw bad("up_block_types", `must list ${n} "UpDecoderBlock2D" (one per block_out_channels entry)`);
  }
  if (c.act_fn !== "silu") throw bad("act_fn", 'must be "silu"');
  if (typeof c.scaling_factor !== "number" || !(c.scaling_factor > 0)) throw bad("scaling_factor", "must be a positive number");
  if (c.shift_factor !== null && typeof c.shift_factor !== "number") throw bad("shift_factor", "must be a number or null");
  for (const k of ["latents_mean", "latents_std"] as const) {
    const v = c[k];
    if (v === null) continue;
    if (!Array.isArray(v) || v.length !== c.latent_channels || !v.every((x) => typeof x === "number" && Number.isFinite(x))) {
      throw bad(k, `must be null or a list of ${c.latent_channels} numbers (one per latent channel)`);
    }
  }
  if ((c.latents_mean === null) !== (c.latents_std === null)) throw bad("latents_std", "and latents_mean must be given together");
  if (c.latents_std?.some((x) => !(x > 0))) throw bad("latents_std", "must be positive");
  for (const k of ["force_upcast", "use_quant_conv", "use_post_quant_conv", "mid_block_add_attention"]) {
    if (typeof cfg[k] !== "boolean") throw bad(k, "must be true or false");
  }
  return c;
}
