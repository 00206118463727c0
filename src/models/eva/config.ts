/**
 * EVA02-CLIP vision tower config, read from the same fields as the reference model config JSON
 * (ToTheBeginning/PuLID@1aa2fc7 eva_clip/model_configs/EVA02-CLIP-L-14-336.json: `embed_dim` + `vision_cfg`).
 * Defaults are those of the reference `CLIPVisionCfg` dataclass.
 */
import { PulidError } from "../../engine/errors.ts";

/** A bad or unsupported EVA config, or a bad input to the EVA tower. */
export class EvaError extends PulidError {}

export interface EvaVisionConfig {
  /** Output width of `head` (the CLIP embedding, 768). */
  embed_dim: number;
  image_size: number;
  patch_size: number;
  layers: number;
  width: number;
  head_width: number;
  mlp_ratio: number;
  qkv_bias: boolean;
  rope: boolean;
  pt_hw_seq_len: number;
  intp_freq: boolean;
  naiveswiglu: boolean;
  subln: boolean;
}

/** EVA02-CLIP-L-14-336 as PuLID uses it (304,432,832 visual parameters). */
export const EVA02_CLIP_L_14_336: EvaVisionConfig = {
  embed_dim: 768, image_size: 336, patch_size: 14, layers: 24, width: 1024, head_width: 64, mlp_ratio: 2.6667,
  qkv_bias: true, rope: true, pt_hw_seq_len: 16, intp_freq: true, naiveswiglu: true, subln: true,
};

/** A tiny tower for tests (the shared parity fixture's sizes: 24 layers of width 32, 28x28 images, 7x7 patches). */
export const EVA02_TINY: EvaVisionConfig = {
  ...EVA02_CLIP_L_14_336, embed_dim: 16, image_size: 28, patch_size: 7, width: 32, head_width: 8,
};

/**
 * Reads `{ embed_dim, vision_cfg: {...} }` (the model config JSON) or a flat vision config. Only what PuLID's
 * tower uses is supported: the EVA path (`eva_model_name`), sub-LN attention, SwiGLU, CLS pooling, no layer scale,
 * no post-norm; anything else is refused with the field's name.
 */
export function parseEvaConfig(json: Record<string, unknown>): EvaVisionConfig {
  const v = (json.vision_cfg ?? json) as Record<string, unknown>;
  const int = (k: string, d?: number): number => {
    const x = v[k] ?? d;
    if (typeof x !== "number" || !Number.isInteger(x) || x <= 0) throw new EvaError("bad_config", `EVA vision config: '${k}' must be a positive integer, got ${String(v[k])}`);
    return x;
  };
  const bool = (k: string, d: boolean): boolean => {
    const x = v[k] ?? d;
    if (typeof x !== "boolean") throw new EvaError("bad_config", `EVA vision config: '${k}' must be a boolean, got ${String(v[k])}`);
    return x;
  };
  const unsupported = (k: string, ok: (x: unknown) => boolean) => {
    if (v[k] !== undefined && v[k] !== null && !ok(v[k])) throw new EvaError("unsupported_config", `EVA vision config: '${k}' = ${JSON.stringify(v[k])} is not supported (PuLID's tower uses the default)`);
  };
  unsupported("global_average_pool", (x) => x === false);
  unsupported("ls_init_value", () => false);
  unsupported("postnorm", (x) => x === false);
  unsupported("patch_dropout", (x) => x === 0);
  if (Array.isArray(v.image_size)) throw new EvaError("unsupported_config", "EVA vision config: only square image_size is supported");
  const embed = json.embed_dim ?? v.embed_dim;
  if (typeof embed !== "number" || !Number.isInteger(embed) || embed <= 0) throw new EvaError("bad_config", `EVA config: 'embed_dim' must be a positive integer, got ${String(embed)}`);
  const mlpRatio = v.mlp_ratio ?? 4;
  if (typeof mlpRatio !== "number" || !(mlpRatio > 0)) throw new EvaError("bad_config", `EVA vision config: 'mlp_ratio' must be positive, got ${String(v.mlp_ratio)}`);
  const cfg: EvaVisionConfig = {
    embed_dim: embed,
    image_size: int("image_size", 224),
    patch_size: int("patch_size", 16),
    layers: int("layers", 12),
    width: int("width", 768),
    head_width: int("head_width", 64),
    mlp_ratio: mlpRatio,
    qkv_bias: bool("qkv_bias", true),
    rope: bool("rope", false),
    pt_hw_seq_len: int("pt_hw_seq_len", 16),
    intp_freq: bool("intp_freq", false),
    naiveswiglu: bool("naiveswiglu", false),
    subln: bool("subln", false),
  };
  if (!cfg.subln) throw new EvaError("unsupported_config", "EVA vision config: only subln=true (separate q/k/v projections, inner_attn_ln) is supported");
  if (!cfg.naiveswiglu) throw new EvaError("unsupported_config", "EVA vision config: only naiveswiglu=true (SwiGLU MLP) is supported");
  if (cfg.width % cfg.head_width !== 0) throw new EvaError("bad_config", `EVA vision config: width ${cfg.width} is not a multiple of head_width ${cfg.head_width}`);
  if (cfg.image_size % cfg.patch_size !== 0) throw new EvaError("bad_config", `EVA vision config: image_size ${cfg.image_size} is not a multiple of patch_size ${cfg.patch_size}`);
  return cfg;
}

/** int(width * mlp_ratio), as the reference computes the SwiGLU hidden width (1024 * 2.6667 -> 2730). */
export function swigluHidden(cfg: EvaVisionConfig): number {
  return Math.floor(cfg.width * cfg.mlp_ratio);
}

/** The block indices whose INPUT PuLID takes as hidden states: 0 < idx <= 20, idx % 4 == 0 (the reference's rule). */
export function defaultHiddenBlocks(layers: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < layers && i <= 20; i++) if (i % 4 === 0) out.push(i);
  return out;
}
