/**
 * Loading a diffusers SDXL pipeline folder (stabilityai/stable-diffusion-xl-base-1.0 layout) through the component
 * loaders: `unet/`, `text_encoder/`, `text_encoder_2/`, `tokenizer/`, `tokenizer_2/`, `vae/`,
 * `scheduler/scheduler_config.json` and the optional `model_index.json`. PuLID pairs the base folder with the
 * SDXL-Lightning UNet, a single file: `unetFile` replaces `unet/`'s weights (its config.json is used when present).
 *
 * Every part is checked before anything is loaded, and all missing parts are reported in ONE
 * {@link SdxlFolderError} with the expected layout of each. A file of the wrong kind in a slot (VAE weights in
 * text_encoder/, ...) gets its component loader's error, which names that file.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { UNET_WEIGHT_NAMES, loadUNet } from "../unet/load.ts";
import type { UNet2DConditionModel } from "../unet/unet2d-condition.ts";
import { loadClipTextEncoder, loadClipTokenizer, type AnyClipTextModel } from "../clip/pretrained.ts";
import { ClipTextModelWithProjection } from "../clip/text-model.ts";
import type { ClipTokenizer } from "../clip/tokenizer.ts";
import { loadAutoencoderKL } from "../vae/pretrained.ts";
import type { AutoencoderKL } from "../vae/autoencoder-kl.ts";
import { expectedLayout, readJsonFile, type ComponentSpec } from "../common/component-folder.ts";
import { ModelFileError } from "../common/model-file-error.ts";

export interface LoadSdxlFolderOptions {
  /** Prefer the `.fp16.safetensors` weight variants (falling back to full precision per component). */
  variant?: "fp16";
  /** Keep weights in their files as ONNX external data (default true: a full SDXL folder is ~7 GB). */
  external?: boolean;
  /**
   * A single UNet weights file used instead of `unet/`'s weights (e.g. `sdxl_lightning_4step_unet.safetensors`).
   * Its config is `unet/config.json` when the folder has one, else the SDXL base config.
   */
  unetFile?: string;
}

/** The loaded parts of an SDXL pipeline folder. */
export interface SdxlFolder {
  dir: string;
  unet: UNet2DConditionModel;
  /** CLIP ViT-L/14 text tower (`CLIPTextModel`). */
  textEncoder: AnyClipTextModel;
  /** OpenCLIP bigG text tower (`CLIPTextModelWithProjection`). */
  textEncoder2: ClipTextModelWithProjection;
  tokenizer: ClipTokenizer;
  tokenizer2: ClipTokenizer;
  vae: AutoencoderKL;
  /** `scheduler/scheduler_config.json` as parsed JSON (the diffusion layer interprets it). */
  schedulerConfig: Record<string, unknown>;
  /** `model_index.json` when present. */
  modelIndex: Record<string, unknown> | null;
}

/** One part of the folder that is absent or incomplete. */
export interface MissingPart {
  /** Folder or file name inside the pipeline folder (`text_encoder/`, `scheduler/scheduler_config.json`). */
  part: string;
  /** The first path that was looked for and not found. */
  path: string;
  /** What the part must hold. */
  layout: string;
  /** Weight files the folder holds instead, if any. */
  found?: string[];
}

/** Parts of an SDXL folder are missing: `missing` lists each one (also spelled out in the message). */
export class SdxlFolderError extends ModelFileError {
  readonly missing: readonly MissingPart[];
  constructor(dir: string, missing: readonly MissingPart[], note = "") {
    const lines = missing.map((m) => `  - ${m.part}: ${m.path} not found${m.found?.length ? ` (the folder has ${m.found.join(", ")})` : ""}; ${m.layout}`);
    super("model_file_missing", dir, `not a complete diffusers SDXL folder, ${missing.length} part(s) missing${note}:\n${lines.join("\n")}`);
    this.missing = missing;
  }
}

const TEXT_SPEC: ComponentSpec = { what: "CLIP text encoder (transformers CLIPTextModel layout)", weightsStem: "model" };
const TEXT2_SPEC: ComponentSpec = { what: "OpenCLIP bigG text encoder (transformers CLIPTextModelWithProjection layout)", weightsStem: "model" };
const VAE_SPEC: ComponentSpec = { what: "VAE (diffusers AutoencoderKL layout)", weightsStem: "diffusion_pytorch_model" };
const UNET_FOLDER_LAYOUT = `expected a folder holding config.json and ${UNET_WEIGHT_NAMES.join(" or ")} for the UNet (diffusers UNet2DConditionModel layout)`;
const TOKENIZER_LAYOUT = "expected a folder holding vocab.json and merges.txt (and tokenizer_config.json) for a CLIP BPE tokenizer";
const SCHEDULER_LAYOUT = "expected the diffusers scheduler config (EulerDiscreteScheduler for SDXL base)";

/** Short description of the whole layout, for the error when the folder itself is absent. */
export const SDXL_FOLDER_LAYOUT =
  "expected a diffusers SDXL folder: unet/, text_encoder/, text_encoder_2/, tokenizer/, tokenizer_2/, vae/, scheduler/scheduler_config.json (model_index.json optional)";

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** Weight files of a folder, for hints when the expected name is absent. */
function otherWeights(dir: string): string[] {
  return isDir(dir) ? readdirSync(dir).filter((f) => /\.(safetensors|bin|ckpt|pt|pth)$/.test(f)) : [];
}

/**
 * A component folder's config.json and weights (`STEM.safetensors` / `STEM.fp16.safetensors`): the weight variant
 * to load (null = full precision), or a MissingPart.
 */
function checkComponent(root: string, part: string, spec: ComponentSpec, variant: "fp16" | undefined): { variant: string | null } | MissingPart {
  const dir = join(root, part);
  const layout = expectedLayout(spec);
  if (!isDir(dir)) return { part: `${part}/`, path: dir, layout };
  if (!existsSync(join(dir, "config.json"))) return { part: `${part}/`, path: join(dir, "config.json"), layout };
  const plain = existsSync(join(dir, `${spec.weightsStem}.safetensors`));
  const fp16 = existsSync(join(dir, `${spec.weightsStem}.fp16.safetensors`));
  if (!plain && !fp16) return { part: `${part}/`, path: join(dir, `${spec.weightsStem}.safetensors`), layout, found: otherWeights(dir) };
  return { variant: fp16 && (variant === "fp16" || !plain) ? "fp16" : null };
}

function checkFiles(root: string, part: string, names: readonly string[], layout: string): MissingPart | null {
  const dir = join(root, part);
  if (!isDir(dir)) return { part: `${part}/`, path: dir, layout };
  const absent = names.find((n) => !existsSync(join(dir, n)));
  return absent ? { part: `${part}/`, path: join(dir, absent), layout } : null;
}

/**
 * Loads every part of a diffusers SDXL folder.
 * @example
 *   const sdxl = loadSdxlFolder("models/stable-diffusion-xl-base-1.0", {
 *     variant: "fp16", unetFile: "models/sdxl_lightning_4step_unet.safetensors" });
 * @throws SdxlFolderError listing every missing part; the component loaders' errors (ModelFileError,
 *   UNetLoadError) for a part that is present but wrong, naming its file; ModelFileError `config_invalid` when the
 *   parts do not fit together (text hidden sizes vs the UNet's cross_attention_dim, ...).
 */
export function loadSdxlFolder(dir: string, opts: LoadSdxlFolderOptions = {}): SdxlFolder {
  if (!isDir(dir)) throw new ModelFileError("model_file_missing", dir, `folder not found; ${SDXL_FOLDER_LAYOUT}`);
  const missing: MissingPart[] = [];
  const need = <T extends object>(r: T | MissingPart): T | null => {
    if ("part" in r) {
      missing.push(r);
      return null;
    }
    return r as T;
  };

  // UNet: the override file, or unet/ with config.json + weights.
  if (opts.unetFile !== undefined) {
    if (!existsSync(opts.unetFile)) missing.push({ part: "UNet file (unetFile)", path: opts.unetFile, layout: "expected a diffusers UNet2DConditionModel weights file like sdxl_lightning_4step_unet.safetensors" });
  } else {
    const unetDir = join(dir, "unet");
    const hasConfig = existsSync(join(unetDir, "config.json"));
    const hasWeights = UNET_WEIGHT_NAMES.some((n) => existsSync(join(unetDir, n)));
    if (!isDir(unetDir)) missing.push({ part: "unet/", path: unetDir, layout: UNET_FOLDER_LAYOUT });
    else if (!hasConfig) missing.push({ part: "unet/", path: join(unetDir, "config.json"), layout: UNET_FOLDER_LAYOUT });
    else if (!hasWeights) missing.push({ part: "unet/", path: join(unetDir, UNET_WEIGHT_NAMES[0]), layout: UNET_FOLDER_LAYOUT, found: otherWeights(unetDir) });
  }
  const te1 = need(checkComponent(dir, "text_encoder", TEXT_SPEC, opts.variant));
  const te2 = need(checkComponent(dir, "text_encoder_2", TEXT2_SPEC, opts.variant));
  for (const part of ["tokenizer", "tokenizer_2"]) {
    const m = checkFiles(dir, part, ["vocab.json", "merges.txt"], TOKENIZER_LAYOUT);
    if (m) missing.push(m);
  }
  const vae = need(checkComponent(dir, "vae", VAE_SPEC, opts.variant));
  const schedulerPath = join(dir, "scheduler", "scheduler_config.json");
  if (!existsSync(schedulerPath)) missing.push({ part: "scheduler/scheduler_config.json", path: schedulerPath, layout: SCHEDULER_LAYOUT });

  const indexPath = join(dir, "model_index.json");
  const modelIndex = existsSync(indexPath) ? readJsonFile(indexPath, "expected the diffusers pipeline index (model_index.json)") : null;
  if (missing.length) {
    const cls = modelIndex?._class_name;
    const note = typeof cls === "string" && !cls.includes("XL") ? ` (model_index.json says ${cls}, not an SDXL pipeline)` : "";
    throw new SdxlFolderError(dir, missing, note);
  }

  const external = opts.external ?? true;
  const schedulerConfig = readJsonFile(schedulerPath, SCHEDULER_LAYOUT);
  const tokenizer = loadClipTokenizer(join(dir, "tokenizer"));
  const tokenizer2 = loadClipTokenizer(join(dir, "tokenizer_2"));
  const textEncoder = loadClipTextEncoder(join(dir, "text_encoder"), { variant: te1!.variant, external });
  const textEncoder2 = loadClipTextEncoder(join(dir, "text_encoder_2"), { variant: te2!.variant, external });
  if (!(textEncoder2 instanceof ClipTextModelWithProjection)) {
    throw new ModelFileError("config_invalid", join(dir, "text_encoder_2", "config.json"), "text_encoder_2 must be a CLIPTextModelWithProjection (architectures field, or text_projection.weight in its weights): SDXL pools its projected output");
  }
  const vaeModel = loadAutoencoderKL(join(dir, "vae"), { variant: vae!.variant, external });
  const unet =
    opts.unetFile !== undefined
      ? loadUNet(opts.unetFile, { external, ...(existsSync(join(dir, "unet", "config.json")) ? { config: readJsonFile(join(dir, "unet", "config.json"), UNET_FOLDER_LAYOUT) } : {}) })
      : loadUNet(join(dir, "unet"), { external, ...(opts.variant ? { variant: opts.variant } : {}) });
  const out: SdxlFolder = { dir, unet, textEncoder, textEncoder2, tokenizer, tokenizer2, vae: vaeModel, schedulerConfig, modelIndex };
  const unetConfig = join(dir, "unet", "config.json");
  checkCompatible(out, opts.unetFile !== undefined && !existsSync(unetConfig) ? `${opts.unetFile} (SDXL base config assumed)` : unetConfig);
  return out;
}

/** The parts must fit together the way the SDXL pipeline wires them. */
function checkCompatible(f: SdxlFolder, unetConfig: string): void {
  const u = f.unet.config;
  const d1 = f.textEncoder.config.hidden_size;
  const d2 = f.textEncoder2.config.hidden_size;
  const bad = (msg: string) => new ModelFileError("config_invalid", unetConfig, `${msg}; the folder's parts do not belong to one SDXL pipeline`);
  const cross = Array.isArray(u.cross_attention_dim) ? u.cross_attention_dim : [u.cross_attention_dim];
  if (cross.some((c) => c !== d1 + d2)) {
    throw bad(`cross_attention_dim ${JSON.stringify(u.cross_attention_dim)} != text_encoder hidden_size ${d1} + text_encoder_2 hidden_size ${d2}`);
  }
  if (u.addition_embed_type === "text_time" && u.projection_class_embeddings_input_dim !== null && u.addition_time_embed_dim !== null) {
    const p = f.textEncoder2.config.projection_dim;
    if (u.projection_class_embeddings_input_dim !== p + 6 * u.addition_time_embed_dim) {
      throw bad(`projection_class_embeddings_input_dim ${u.projection_class_embeddings_input_dim} != text_encoder_2 projection_dim ${p} + 6 x addition_time_embed_dim ${u.addition_time_embed_dim}`);
    }
  }
  if (u.in_channels !== f.vae.config.latent_channels) {
    throw bad(`in_channels ${u.in_channels} != vae latent_channels ${f.vae.config.latent_channels}`);
  }
}
