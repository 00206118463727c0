/**
 * Finding the files of one component of a diffusers pipeline folder (`text_encoder/`, `text_encoder_2/`, `vae/`,
 * ...): `config.json` plus one safetensors weights file, `NAME.safetensors` or its `NAME.VARIANT.safetensors`
 * variant (`model.fp16.safetensors`). Every failure names the path and the layout that was expected.
 */
import { existsSync, readFileSync, statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { SafetensorsFile } from "../../engine/io/safetensors.ts";
import { PulidError } from "../../engine/errors.ts";
import { ModelFileError } from "./model-file-error.ts";

export interface ComponentSpec {
  /** What the folder holds, for messages (`CLIP text encoder (text_encoder/)`). */
  what: string;
  /** Weight file stem: `model` (transformers) or `diffusion_pytorch_model` (diffusers). */
  weightsStem: string;
  /**
   * `fp16` (or another variant name) to require `STEM.fp16.safetensors`; null to require `STEM.safetensors`;
   * undefined (default) takes `STEM.safetensors` and falls back to `STEM.fp16.safetensors`.
   */
  variant?: string | null;
}

export interface ComponentFiles {
  dir: string;
  configPath: string;
  /** Parsed config.json. */
  config: Record<string, unknown>;
  weightsPath: string;
}

/** The layout line every error repeats. */
export function expectedLayout(spec: ComponentSpec): string {
  const v = spec.variant ? `${spec.weightsStem}.${spec.variant}.safetensors` : `${spec.weightsStem}.safetensors (or ${spec.weightsStem}.fp16.safetensors)`;
  return `expected a folder holding config.json and ${v} for the ${spec.what}`;
}

/** Reads and parses a JSON file, with errors naming it. */
export function readJsonFile(path: string, layout: string): Record<string, unknown> {
  if (!existsSync(path)) throw new ModelFileError("model_file_missing", path, `file not found; ${layout}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ModelFileError("config_invalid", path, `not valid JSON (${(e as Error).message}); ${layout}`, { cause: e });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ModelFileError("config_invalid", path, `expected a JSON object; ${layout}`);
  }
  return parsed as Record<string, unknown>;
}

/** Locates config.json and the weights file of a component folder. */
export function resolveComponent(dir: string, spec: ComponentSpec): ComponentFiles {
  const layout = expectedLayout(spec);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelFileError("model_file_missing", dir, `folder not found; ${layout}`);
  }
  const config = readJsonFile(join(dir, "config.json"), layout);
  const plain = join(dir, `${spec.weightsStem}.safetensors`);
  const candidates =
    spec.variant === undefined
      ? [plain, join(dir, `${spec.weightsStem}.fp16.safetensors`)]
      : spec.variant === null
        ? [plain]
        : [join(dir, `${spec.weightsStem}.${spec.variant}.safetensors`)];
  const weightsPath = candidates.find((p) => existsSync(p));
  if (!weightsPath) {
    const present = readdirSync(dir).filter((f) => /\.(safetensors|bin|ckpt|pt|pth)$/.test(f));
    const hint = present.length ? ` (found ${present.join(", ")}; only safetensors weights are read from pipeline folders)` : "";
    throw new ModelFileError("model_file_missing", candidates[0]!, `weights file not found${hint}; ${layout}`);
  }
  return { dir, configPath: join(dir, "config.json"), config, weightsPath };
}

/** Opens a safetensors weights file; a truncated or malformed file becomes a `model_file_invalid` naming it. */
export function openWeightsFile(path: string, layout: string): SafetensorsFile {
  try {
    return SafetensorsFile.open(path);
  } catch (e) {
    if (!(e instanceof PulidError)) throw e;
    throw new ModelFileError("model_file_invalid", path, `cannot read as safetensors [${e.code}]: ${e.message}; ${layout}`, { cause: e });
  }
}
