/**
 * CLIP text encoder config: the fields of Hugging Face transformers' `CLIPTextConfig`, read from the same
 * `config.json` that diffusers' SDXL folders ship in `text_encoder/` and `text_encoder_2/`.
 */
import { ModelFileError } from "../common/model-file-error.ts";

/** Activations CLIP text configs use (`hidden_act`). */
export type ClipHiddenAct = "quick_gelu" | "gelu" | "gelu_new" | "gelu_pytorch_tanh";

export interface ClipTextConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  /** Output size of `text_projection` (CLIPTextModelWithProjection only). */
  projection_dim: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Longest token sequence the position table covers (77 for every released CLIP). */
  max_position_embeddings: number;
  hidden_act: ClipHiddenAct;
  layer_norm_eps: number;
  pad_token_id: number;
  bos_token_id: number;
  /**
   * transformers 4.43 (PuLID's pin) pools at argmax(input_ids) when this is 2 (the legacy value the real SDXL
   * configs carry), else at the first position holding this id.
   */
  eos_token_id: number;
  /** `CLIPTextModel` or `CLIPTextModelWithProjection` when the config says so. */
  architectures?: string[];
}

/** transformers' CLIPTextConfig defaults, used for fields a config.json leaves out. */
export const CLIP_TEXT_DEFAULTS: ClipTextConfig = {
  vocab_size: 49408,
  hidden_size: 512,
  intermediate_size: 2048,
  projection_dim: 512,
  num_hidden_layers: 12,
  num_attention_heads: 8,
  max_position_embeddings: 77,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
  pad_token_id: 1,
  bos_token_id: 49406,
  eos_token_id: 49407,
};

/** stabilityai/stable-diffusion-xl-base-1.0 `text_encoder/config.json` (OpenAI CLIP ViT-L/14 text tower). */
export const SDXL_TEXT_ENCODER_CONFIG: ClipTextConfig = {
  ...CLIP_TEXT_DEFAULTS,
  hidden_size: 768,
  intermediate_size: 3072,
  projection_dim: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  hidden_act: "quick_gelu",
  pad_token_id: 1,
  bos_token_id: 0,
  eos_token_id: 2,
  architectures: ["CLIPTextModel"],
};

/** stabilityai/stable-diffusion-xl-base-1.0 `text_encoder_2/config.json` (OpenCLIP ViT-bigG/14 text tower). */
export const SDXL_TEXT_ENCODER_2_CONFIG: ClipTextConfig = {
  ...CLIP_TEXT_DEFAULTS,
  hidden_size: 1280,
  intermediate_size: 5120,
  projection_dim: 1280,
  num_hidden_layers: 32,
  num_attention_heads: 20,
  hidden_act: "gelu",
  pad_token_id: 1,
  bos_token_id: 0,
  eos_token_id: 2,
  architectures: ["CLIPTextModelWithProjection"],
};

/** Tiny CLIP-L-style config for tests (same family: quick_gelu, no projection used). */
export const TINY_CLIP_TEXT_L_CONFIG: ClipTextConfig = {
  ...CLIP_TEXT_DEFAULTS,
  vocab_size: 100,
  hidden_size: 32,
  intermediate_size: 128,
  projection_dim: 32,
  num_hidden_layers: 3,
  num_attention_heads: 4,
  max_position_embeddings: 12,
  bos_token_id: 98,
  eos_token_id: 99,
  pad_token_id: 99,
  architectures: ["CLIPTextModel"],
};

/** Tiny bigG-style config for tests (gelu, with a projection). */
export const TINY_CLIP_TEXT_BIGG_CONFIG: ClipTextConfig = {
  ...TINY_CLIP_TEXT_L_CONFIG,
  hidden_size: 40,
  intermediate_size: 160,
  projection_dim: 24,
  num_hidden_layers: 4,
  num_attention_heads: 5,
  hidden_act: "gelu",
  pad_token_id: 0,
  architectures: ["CLIPTextModelWithProjection"],
};

const INT_FIELDS = [
  "vocab_size",
  "hidden_size",
  "intermediate_size",
  "projection_dim",
  "num_hidden_layers",
  "num_attention_heads",
  "max_position_embeddings",
] as const;
const ACTS: readonly string[] = ["quick_gelu", "gelu", "gelu_new", "gelu_pytorch_tanh"];

/**
 * Reads a CLIPTextConfig from parsed config.json content (a full `CLIPConfig` is accepted too: its
 * `text_config` is used). Missing fields take transformers' defaults; wrong ones throw `config_invalid`
 * naming `source` and the field.
 */
export function parseClipTextConfig(json: unknown, source = "config.json"): ClipTextConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ModelFileError("config_invalid", source, "expected a JSON object with CLIPTextConfig fields (hidden_size, num_hidden_layers, ...)");
  }
  let raw = json as Record<string, unknown>;
  if (typeof raw.text_config === "object" && raw.text_config !== null) raw = raw.text_config as Record<string, unknown>;
  const cfg: Record<string, unknown> = { ...CLIP_TEXT_DEFAULTS };
  for (const k of Object.keys(CLIP_TEXT_DEFAULTS)) if (raw[k] !== undefined && raw[k] !== null) cfg[k] = raw[k];
  if (Array.isArray(raw.architectures)) cfg.architectures = raw.architectures.map(String);
  const bad = (field: string, why: string) =>
    new ModelFileError("config_invalid", source, `CLIPTextConfig field '${field}' ${why} (got ${JSON.stringify(cfg[field])})`);
  for (const k of INT_FIELDS) {
    const v = cfg[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw bad(k, "must be a positive integer");
  }
  for (const k of ["pad_token_id", "bos_token_id", "eos_token_id"]) {
    const v = cfg[k];
    if (typeof v !== "number" || !Number.isInteger(v)) throw bad(k, "must be an integer");
  }
  if (typeof cfg.layer_norm_eps !== "number" || !(cfg.layer_norm_eps > 0)) throw bad("layer_norm_eps", "must be a positive number");
  if (typeof cfg.hidden_act !== "string" || !ACTS.includes(cfg.hidden_act)) throw bad("hidden_act", `must be one of ${ACTS.join(", ")}`);
  const c = cfg as unknown as ClipTextConfig;
  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw bad("num_attention_heads", `must divide hidden_size ${c.hidden_size}`);
  }
  return c;
}

/** Whether a config describes `CLIPTextModelWithProjection` (SDXL's text_encoder_2). */
export function hasProjection(cfg: ClipTextConfig): boolean {
  return (cfg.architectures ?? []).some((a) => a === "CLIPTextModelWithProjection");
}
