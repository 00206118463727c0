/**
 * The model sets a PuLID stage can train on (`pulid train --config`):
 *
 * - `tiny`: random toy networks built in code (tests, smoke runs; nothing on disk).
 * - `world`: the shipped world models in `models/world/` (base and 4-step student, VAE, text tower, face-id +
 *   clip-id + parser for the ID features, face-loss for L_id, detector for the generated faces).
 * - `sdxl`: the published SDXL models in the pipeline's layout (`pulid/layout.ts`) plus arcface-50 for L_id,
 *   trained on a folder of captioned photos (`sdxl-source.ts`).
 *
 * Each file-backed config first checks that every file it reads is present and fails with one line listing the
 * missing ones (the world's diffusion models are trained by `pulid world train base|student` and are not shipped
 * until those runs end).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PulidError } from "../../engine/errors.ts";
import { FACE_PATHS, LIGHTNING_UNET } from "../../pulid/layout.ts";
import type { PulidSource } from "./recipe.ts";
import { tinySource } from "./tiny.ts";
import { worldSource } from "./world-source.ts";
import { ARCFACE_50, sdxlSource } from "./sdxl-source.ts";

export const PULID_CONFIGS = ["tiny", "world", "sdxl"] as const;
export type PulidConfigName = (typeof PULID_CONFIGS)[number];

/** Files (relative to the models folder) each file-backed config reads. */
export const CONFIG_FILES: Record<Exclude<PulidConfigName, "tiny">, readonly string[]> = {
  world: [
    "sdxl/unet/config.json",
    "sdxl/unet/diffusion_pytorch_model.safetensors",
    "sdxl/vae/config.json",
    "sdxl/scheduler/scheduler_config.json",
    LIGHTNING_UNET.path,
    "clip-id/text_encoder/model.safetensors",
    "clip-id/tokenizer/vocab.json",
    FACE_PATHS.world.recognizer,
    FACE_PATHS.world.eva,
    FACE_PATHS.world.evaConfig,
    FACE_PATHS.world.parser,
    FACE_PATHS.world.detector,
    "face-loss.onnx",
  ],
  sdxl: [
    "sdxl/unet/config.json",
    "sdxl/vae/config.json",
    "sdxl/scheduler/scheduler_config.json",
    LIGHTNING_UNET.path,
    FACE_PATHS.published.detector,
    FACE_PATHS.published.recognizer,
    FACE_PATHS.published.eva,
    FACE_PATHS.published.parser,
    ARCFACE_50,
  ],
};

/** The default models folder of each file-backed config. */
export const CONFIG_DIRS: Record<Exclude<PulidConfigName, "tiny">, string> = { world: "models/world", sdxl: "models/pulid-sdxl" };

/** Files of `config` missing under `dir`. */
export function missingConfigFiles(config: Exclude<PulidConfigName, "tiny">, dir: string, exists: (p: string) => boolean = existsSync): string[] {
  return CONFIG_FILES[config].map((f) => join(dir, f)).filter((p) => !exists(p));
}

/**
 * The recipe source of a config.
 * @throws PulidError `missing_model_files` (one line, every missing path) for a file-backed config whose files
 *   are not all there; `bad_dataset` for sdxl without a photo folder (or a folder that is not one).
 */
export function pulidSource(config: PulidConfigName, modelsDir?: string, dataDir?: string): PulidSource {
  if (config === "tiny") return tinySource();
  const dir = modelsDir ?? CONFIG_DIRS[config];
  const missing = missingConfigFiles(config, dir);
  if (missing.length) {
    throw new PulidError("missing_model_files", `--config ${config} needs ${missing.length} file(s) not found: ${missing.join(", ")}`);
  }
  if (config === "world") return worldSource(dir);
  if (!dataDir) throw new PulidError("bad_dataset", "--config sdxl needs --data DIR: a folder of photos, each with a caption file of the same name (.txt)");
  return sdxlSource(dir, dataDir);
}
