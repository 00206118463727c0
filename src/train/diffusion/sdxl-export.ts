/**
 * Writing a trained text-to-image model in the files the real loaders read: a diffusers SDXL pipeline folder
 * (`loadSdxlFolder`) and a single-file UNet (the SDXL-Lightning override). Weights are fp16 (the shipped
 * precision; the loaders cast in the graph).
 *
 * The frozen parts (VAE, text encoders, tokenizers) are copied from the component folders the recipe trained
 * against, so an exported folder is complete and loads on its own (ship overwrites identical files).
 */
import { copyFileSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../engine/atomic-write.ts";
import { saveSafetensors } from "../../engine/io/safetensors.ts";
import type { HostTensor } from "../../engine/host-tensor.ts";
import type { UNet2DConditionModel } from "../../models/unet/unet2d-condition.ts";
import type { UNet2DConditionConfig } from "../../models/unet/config.ts";
import { SDXL_MODEL_INDEX, SDXL_SCHEDULER_CONFIG, diffusersConfigJson } from "../../models/sdxl/random-folder.ts";

/** Where each frozen part comes from: component folders in the diffusers / transformers layouts. */
export interface FrozenParts {
  /** text_encoder and text_encoder_2 (config.json + model.safetensors). */
  textEncoder: string;
  /** text_encoder_2 when it differs from text_encoder. */
  textEncoder2?: string;
  /** tokenizer and tokenizer_2 (vocab.json, merges.txt, ...). */
  tokenizer: string;
  tokenizer2?: string;
  /** vae/ (config.json + diffusion_pytorch_model.safetensors). */
  vae: string;
}

const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o, null, 2) + "\n");

/** The UNet's weights as fp16 tensors under diffusers' keys. */
function halfStateDict(unet: UNet2DConditionModel): Map<string, HostTensor> {
  unet.bindNames();
  return new Map([...unet.stateDict()].map(([k, v]) => [k, v.cast("float16")] as const));
}

/** Writes a single-file UNet (like sdxl_lightning_4step_unet.safetensors). */
export async function writeUNetFile(path: string, unet: UNet2DConditionModel): Promise<string> {
  await saveSafetensors(path, halfStateDict(unet));
  return path;
}

function copyFolder(from: string, to: string, out: string[]): void {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) {
    if (!statSync(join(from, f)).isFile()) continue;
    copyFileSync(join(from, f), join(to, f));
    out.push(join(to, f));
  }
}

/**
 * Writes `root` as a diffusers SDXL folder: unet/ (the trained UNet and its config), text_encoder/,
 * text_encoder_2/, tokenizer/, tokenizer_2/, vae/ (copied), scheduler/scheduler_config.json (SDXL's) and
 * model_index.json. Returns the paths written.
 */
export async function writeSdxlFolder(root: string, unet: UNet2DConditionModel, config: UNet2DConditionConfig, parts: FrozenParts): Promise<string[]> {
  const out: string[] = [];
  const write = async (rel: string, bytes: Uint8Array) => {
    mkdirSync(join(root, rel, ".."), { recursive: true });
    await writeFileAtomic(join(root, rel), bytes);
    out.push(join(root, rel));
  };
  await write("unet/config.json", json(diffusersConfigJson("UNet2DConditionModel", config)));
  out.push(await writeUNetFile(join(root, "unet", "diffusion_pytorch_model.safetensors"), unet));
  copyFolder(parts.textEncoder, join(root, "text_encoder"), out);
  copyFolder(parts.textEncoder2 ?? parts.textEncoder, join(root, "text_encoder_2"), out);
  copyFolder(parts.tokenizer, join(root, "tokenizer"), out);
  copyFolder(parts.tokenizer2 ?? parts.tokenizer, join(root, "tokenizer_2"), out);
  copyFolder(parts.vae, join(root, "vae"), out);
  await write("scheduler/scheduler_config.json", json(SDXL_SCHEDULER_CONFIG));
  // Both slots hold a tower with a projection (the world uses one text tower twice: unet-base.ts).
  await write("model_index.json", json({ ...SDXL_MODEL_INDEX, text_encoder: ["transformers", "CLIPTextModelWithProjection"] }));
  return out;
}
