/**
 * Loading SDXL's text encoders and tokenizers from a diffusers pipeline folder:
 * `text_encoder/` (CLIPTextModel), `text_encoder_2/` (CLIPTextModelWithProjection), each `config.json` +
 * `model.safetensors` (or `model.fp16.safetensors`), and `tokenizer/`, `tokenizer_2/` (vocab.json + merges.txt).
 * 16-bit weights are kept as stored and cast to float32 inside the graph.
 */
import type { SafetensorsFile } from "../../engine/io/safetensors.ts";
import { StateDictError } from "../../nn/module.ts";
import { ModelFileError } from "../common/model-file-error.ts";
import { type ClipTextConfig, hasProjection, parseClipTextConfig } from "./config.ts";
import { ClipTextModel, ClipTextModelWithProjection } from "./text-model.ts";
import { ClipTokenizer } from "./tokenizer.ts";
import { expectedLayout, openWeightsFile, resolveComponent, type ComponentSpec } from "../common/component-folder.ts";
import { loadStateDictRenamed } from "../common/load-weights.ts";

/** transformers < 4.31 saved the position ids buffer; the model computes positions itself. */
const IGNORED_KEYS = new Set(["text_model.embeddings.position_ids"]);

export type AnyClipTextModel = ClipTextModel | ClipTextModelWithProjection;

export interface LoadClipOptions {
  /** Weight variant: undefined = `model.safetensors`, else `model.fp16.safetensors`; or force one. */
  variant?: string | null;
  /** Point parameters into the file (ONNX external data) rather than reading them into memory. */
  external?: boolean;
}

/** Builds the right class for a config (`architectures`), defaulting to CLIPTextModel. */
export function createClipTextModel(cfg: ClipTextConfig, withProjection = hasProjection(cfg)): AnyClipTextModel {
  return withProjection ? new ClipTextModelWithProjection(cfg) : new ClipTextModel(cfg);
}

/**
 * Loads HF-layout CLIP text weights into `model` by name (strict; the legacy `position_ids` buffer is skipped).
 * A file that is not a CLIP text checkpoint, or does not fit the config, throws `model_weights_mismatch`
 * naming the file, with every missing/unexpected/mis-shaped key in the message.
 */
export function loadClipTextWeights(model: AnyClipTextModel, file: SafetensorsFile, opts: { external?: boolean } = {}): void {
  const layout =
    "expected transformers CLIPTextModel keys (text_model.embeddings.token_embedding.weight, text_model.encoder.layers.N.self_attn.q_proj.weight, ..., text_model.final_layer_norm.weight" +
    (model instanceof ClipTextModelWithProjection ? ", text_projection.weight)" : ")");
  if (!file.has("text_model.embeddings.token_embedding.weight")) {
    const sample = file.keys().slice(0, 3).join(", ") || "no tensors";
    throw new ModelFileError("model_weights_mismatch", file.path, `not a CLIP text encoder checkpoint (found ${sample}); ${layout}`);
  }
  try {
    loadStateDictRenamed(model, file, { ignore: (k) => IGNORED_KEYS.has(k), external: opts.external });
  } catch (e) {
    if (!(e instanceof StateDictError)) throw e;
    throw new ModelFileError("model_weights_mismatch", file.path, `${e.message}\n${layout}`, { cause: e });
  }
}

/**
 * Loads `text_encoder/` or `text_encoder_2/` of a diffusers folder. The class follows config.json's
 * `architectures` (CLIPTextModelWithProjection for text_encoder_2).
 */
export function loadClipTextEncoder(dir: string, opts: LoadClipOptions = {}): AnyClipTextModel {
  const spec: ComponentSpec = { what: "CLIP text encoder (transformers CLIPTextModel layout)", weightsStem: "model", variant: opts.variant };
  const files = resolveComponent(dir, spec);
  const cfg = parseClipTextConfig(files.config, files.configPath);
  const file = openWeightsFile(files.weightsPath, expectedLayout(spec));
  try {
    // Without `architectures`, the presence of text_projection decides (as a checkpoint's own keys would).
    const proj = cfg.architectures ? hasProjection(cfg) : file.has("text_projection.weight");
    const model = createClipTextModel(cfg, proj);
    loadClipTextWeights(model, file, { external: opts.external });
    return model;
  } finally {
    file.close();
  }
}

/** Loads `tokenizer/` or `tokenizer_2/` of a diffusers folder. */
export function loadClipTokenizer(dir: string): ClipTokenizer {
  return ClipTokenizer.fromFolder(dir);
}
