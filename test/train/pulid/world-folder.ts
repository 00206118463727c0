/**
 * A models folder in the world layout for PuLID training tests: random tiny diffusion parts (base UNet folder,
 * student file; tiny world text tower and VAE) beside links to the shipped world face models (face-id, clip-id,
 * parser, detector, face-loss), which are small and already trained.
 */
import { mkdirSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { UNet2DConditionModel } from "../../../src/models/unet/unet2d-condition.ts";
import { writeSdxlFolder, writeUNetFile } from "../../../src/train/diffusion/sdxl-export.ts";
import { LIGHTNING_UNET } from "../../../src/pulid/layout.ts";
import { TINY_WORLD_UNET, writeWorldParts } from "../../world-models/sdxl-world-parts.ts";
import type { UNet2DConditionConfig } from "../../../src/models/unet/config.ts";
import type { AutoencoderKLConfig } from "../../../src/models/vae/config.ts";
import type { ClipTextConfig } from "../../../src/models/clip/config.ts";

const WORLD = resolve(import.meta.dirname, "..", "..", "..", "models", "world");
const LINKED = ["clip-id", "face-id.onnx", "parser.safetensors", "parser.json", "detector.onnx", "face-loss.onnx"];

/** Sizes of the random diffusion parts (default: tiny; the world's own configs for timing runs). */
export interface WorldFolderConfigs {
  unet?: UNet2DConditionConfig;
  vae?: AutoencoderKLConfig;
  text?: ClipTextConfig;
}

/** Writes the folder into `root` and returns it. */
export async function writeWorldModelsFolder(root: string, c: WorldFolderConfigs = {}): Promise<string> {
  mkdirSync(root, { recursive: true });
  const parts = await writeWorldParts(join(root, "parts"), { ...(c.vae ? { vae: c.vae } : {}), ...(c.text ? { text: c.text } : {}) });
  const unet = c.unet ?? TINY_WORLD_UNET;
  const base = new UNet2DConditionModel(unet).initialize(11);
  await writeSdxlFolder(join(root, "sdxl"), base, unet, parts);
  await writeUNetFile(join(root, LIGHTNING_UNET.path), new UNet2DConditionModel(unet).initialize(12));
  for (const f of LINKED) symlinkSync(join(WORLD, f), join(root, f));
  return root;
}
