/**
 * Loading a UNet2DConditionModel from the layouts people download:
 * - a single UNet file in diffusers keys, e.g. ByteDance/SDXL-Lightning `sdxl_lightning_4step_unet.safetensors`
 *   (no config inside: the SDXL base config is assumed unless one is given);
 * - the `unet/` folder of a diffusers pipeline (`config.json` + `diffusion_pytorch_model.safetensors`, or the
 *   `.fp16.safetensors` variant, or `.bin`), or the pipeline folder above it.
 * safetensors weights stay in their file (ONNX external data by offset) and 16-bit ones are cast in the graph;
 * torch zip `.bin` files are read into memory. A missing, wrong or truncated file gets a {@link UNetLoadError}
 * naming the file and the expected layout.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { WeightFileError, PulidError } from "../../engine/errors.ts";
import { SafetensorsFile } from "../../engine/io/safetensors.ts";
import { detectWeightFormat, openWeights } from "../../engine/io/weights.ts";
import { StateDictError, type WeightSource } from "../../nn/module.ts";
import { parseUNetConfig, SDXL_UNET_CONFIG, type UNet2DConditionConfig } from "./config.ts";
import { UNet2DConditionModel } from "./unet2d-condition.ts";

/** What a UNet weight file must look like; quoted in every load error. */
export const UNET_LAYOUT =
  "a diffusers UNet2DConditionModel state dict (keys like 'conv_in.weight', " +
  "'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight'), as in sdxl_lightning_4step_unet.safetensors, " +
  "or a diffusers unet/ folder with config.json and diffusion_pytorch_model[.fp16].safetensors";

/** A UNet file or folder is missing, of the wrong kind, truncated, or does not match the config. */
export class UNetLoadError extends WeightFileError {}

/** Weight file names of a diffusers `unet/` folder, in order of preference (full precision first). */
export const UNET_WEIGHT_NAMES = [
  "diffusion_pytorch_model.safetensors",
  "diffusion_pytorch_model.fp16.safetensors",
  "diffusion_pytorch_model.bin",
  "diffusion_pytorch_model.fp16.bin",
] as const;

export interface LoadUNetOptions {
  /** Config for a single file (default: the SDXL base config). A folder's config.json wins unless this is given. */
  config?: UNet2DConditionConfig | Record<string, unknown>;
  /** Prefer `diffusion_pytorch_model.fp16.*` in a folder (default: full precision when both exist). */
  variant?: "fp16";
  /** safetensors only: keep weights in the file as ONNX external data (default true). */
  external?: boolean;
}

/** The resolved files of a UNet to load. */
export interface UNetFiles {
  weights: string;
  /** Parsed config.json, or null for a single file. */
  config: Record<string, unknown> | null;
  configPath: string | null;
}

/**
 * Finds the weight file (and config) for a path: a file, a `unet/` folder, or a pipeline folder with `unet/`.
 * @throws UNetLoadError `file_not_found` (nothing there, or a folder without config.json / weights), `bad_config`.
 */
export function resolveUNetFiles(path: string, variant?: "fp16"): UNetFiles {
  if (!existsSync(path)) throw new UNetLoadError("file_not_found", path, `no such file or folder; expected ${UNET_LAYOUT}`);
  if (!statSync(path).isDirectory()) return { weights: path, config: null, configPath: null };
  const dir = existsSync(join(path, "unet", "config.json")) ? join(path, "unet") : path;
  const configPath = join(dir, "config.json");
  if (!existsSync(configPath)) {
    throw new UNetLoadError("file_not_found", path, `folder has no config.json (nor unet/config.json); expected ${UNET_LAYOUT}`);
  }
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(configPath, "utf8"));
  } catch (e) {
    throw new UNetLoadError("bad_config", configPath, `not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const names = variant === "fp16" ? [...UNET_WEIGHT_NAMES].sort((a) => (a.includes(".fp16.") ? -1 : 1)) : [...UNET_WEIGHT_NAMES];
  const found = names.map((n) => join(dir, n)).find((p) => existsSync(p));
  if (!found) throw new UNetLoadError("file_not_found", dir, `folder has config.json but none of ${UNET_WEIGHT_NAMES.join(", ")}`);
  return { weights: found, config, configPath };
}

/** Names what a file that is not a diffusers UNet most likely is, from its keys. */
function describeForeignKeys(keys: readonly string[]): string | null {
  const has = (p: string) => keys.some((k) => k.startsWith(p));
  if (has("id_adapter_attn_layers.") || has("id_adapter.")) return "this is a PuLID weights file (id_adapter.* / id_adapter_attn_layers.* keys), not a UNet";
  if (has("pulid_encoder.") || has("pulid_ca.")) return "this is a PuLID-FLUX weights file, not an SDXL UNet";
  if (has("model.diffusion_model.")) return "this is an original (LDM/A1111) single-file checkpoint with 'model.diffusion_model.*' keys; convert it to the diffusers layout first";
  if (has("input_blocks.") || has("middle_block.")) return "this UNet uses the original LDM key names (input_blocks.*, middle_block.*); convert it to the diffusers layout first";
  if (has("unet.conv_in.")) return "this file holds a whole pipeline with 'unet.' prefixed keys; pass prefix 'unet.' or extract the UNet";
  if (has("encoder.down.") || has("decoder.up.") || has("encoder.down_blocks.")) return "this looks like a VAE, not a UNet";
  if (has("text_model.")) return "this looks like a CLIP text encoder, not a UNet";
  if (!keys.includes("conv_in.weight")) return "it has no 'conv_in.weight'";
  return null;
}

/**
 * Loads weights into an existing UNet (e.g. one whose config came from elsewhere).
 * @throws UNetLoadError naming the file: missing/truncated/unknown format, a file of another kind, or keys and
 *   shapes that do not match the model (every issue listed; the StateDictError is the cause).
 */
export function loadUNetWeights(unet: UNet2DConditionModel, weightsPath: string, opts: { external?: boolean; prefix?: string } = {}): void {
  let format;
  try {
    format = detectWeightFormat(weightsPath);
  } catch (e) {
    throw wrap(e, weightsPath);
  }
  let source: WeightSource;
  let close = () => {};
  try {
    if (format === "safetensors") {
      const f = SafetensorsFile.open(weightsPath);
      source = f;
      close = () => f.close();
    } else {
      const r = openWeights(weightsPath);
      try {
        source = r.readAll();
      } finally {
        r.close();
      }
    }
  } catch (e) {
    throw wrap(e, weightsPath);
  }
  try {
    const keys = source instanceof SafetensorsFile ? source.keys() : [...source.keys()];
    const prefix = opts.prefix ?? "";
    const foreign = describeForeignKeys(keys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)));
    if (foreign && !keys.includes(`${prefix}conv_in.weight`)) {
      throw new UNetLoadError("wrong_file", weightsPath, `not a UNet checkpoint: ${foreign}. Expected ${UNET_LAYOUT}`);
    }
    unet.loadStateDict(source, { prefix, external: opts.external ?? true, source: weightsPath });
  } catch (e) {
    if (e instanceof StateDictError) {
      throw new UNetLoadError("state_dict", weightsPath, `does not match the UNet config (expected ${UNET_LAYOUT} for this config).\n${e.message}`, { cause: e });
    }
    throw wrap(e, weightsPath);
  } finally {
    close();
  }
}

function wrap(e: unknown, path: string): unknown {
  if (e instanceof UNetLoadError || !(e instanceof PulidError)) return e;
  const detail = e.message.startsWith(`${path}: `) ? e.message.slice(path.length + 2) : e.message;
  return new UNetLoadError(e.code, path, `${detail}. Expected ${UNET_LAYOUT}`, { cause: e });
}

/**
 * Builds and loads a UNet from a single file or a diffusers folder.
 * @example
 *   const unet = loadUNet("models/sdxl_lightning_4step_unet.safetensors");      // SDXL config assumed
 *   const unet2 = loadUNet("models/stable-diffusion-xl-base-1.0", { variant: "fp16" }); // reads unet/
 * @throws UNetLoadError (see {@link resolveUNetFiles}, {@link loadUNetWeights}); UNetConfigError for bad configs.
 */
export function loadUNet(path: string, opts: LoadUNetOptions = {}): UNet2DConditionModel {
  const files = resolveUNetFiles(path, opts.variant);
  const config = opts.config ?? files.config ?? SDXL_UNET_CONFIG;
  const unet = new UNet2DConditionModel(parseUNetConfig(config as Record<string, unknown>, files.configPath ?? "UNet config"));
  loadUNetWeights(unet, files.weights, { external: opts.external ?? true });
  return unet;
}
