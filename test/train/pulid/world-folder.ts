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

const WORLD = resolve(import.meta.dirname, "..", "..", "..", "models", "world");
const LINKED = ["clip-id", "face-id.onnx", "parser.safetensors", "parser.json", "detector.onnx", "face-loss.onnx"];

/** Writes the folder into `root` and returns it. */
export async function writeWorldModelsFolder(root: string): Promise<string> {
  mkdirSync(root, { recursive: true });
  const parts = await writeWorldParts(join(root, "parts"));
  const base = new UNet2DConditionModel(TINY_WORLD_UNET).initialize(11);
  await writeSdxlFolder(join(root, "sdxl"), base, TINY_WORLD_UNET, parts);
  await writeUNetFile(join(root, LIGHTNING_UNET.path), new UNet2DConditionModel(TINY_WORLD_UNET).initialize(12));
  for (const f of LINKED) symlinkSync(join(WORLD, f), join(root, f));
  return root;
}
