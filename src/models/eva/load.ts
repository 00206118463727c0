/**
 * Loading the EVA02-CLIP vision tower from the original open_clip-style checkpoint
 * (`EVA02_CLIP_L_336_psz14_s6B.pt`, a torch zip holding the whole CLIP: `visual.*`, text tower, `logit_scale`)
 * or from a safetensors file with the same keys. Only `visual.*` storages are read; the text tower is skipped.
 * The rope buffers (`*.rope.freqs_cos` / `freqs_sin`) are dropped, as the reference does with RoPE=1, and
 * recomputed from the config. Wrappers the reference loader accepts (`state_dict.`, `model.`, `module.`
 * prefixes) are found by locating `visual.patch_embed.proj.weight`.
 */
import { openWeights, type WeightsReader } from "../../engine/io/weights.ts";
import { WeightFileError } from "../../engine/errors.ts";
import { EvaVisionTransformer } from "./vision-transformer.ts";
import { EVA02_CLIP_L_14_336, EvaError, type EvaVisionConfig } from "./config.ts";

const ANCHOR = "visual.patch_embed.proj.weight";

/** The prefix in front of `visual.` in this file's keys ("" for the original checkpoint). */
export function findVisualPrefix(keys: readonly string[], path: string): string {
  const hit = keys.find((k) => k === ANCHOR || k.endsWith(`.${ANCHOR}`));
  if (hit === undefined) {
    throw new EvaError(
      "not_eva_checkpoint",
      `${path}: no '${ANCHOR}' key: not an EVA-CLIP checkpoint (expected the open_clip layout of EVA02_CLIP_L_336_psz14_s6B.pt: visual.patch_embed.*, visual.cls_token, visual.pos_embed, visual.blocks.{i}.*, visual.norm.*, visual.head.*; found e.g. ${keys.slice(0, 3).join(", ") || "no keys"})`,
    );
  }
  return hit.slice(0, hit.length - ANCHOR.length);
}

/**
 * Builds the vision tower and loads it from `path` (torch zip or safetensors). Strict: every missing,
 * unexpected or mis-shaped `visual.*` key is reported (StateDictError naming the file).
 * @throws WeightFileError for missing/truncated/unreadable files; EvaError `not_eva_checkpoint`.
 */
export function loadEvaVisual(path: string, config: EvaVisionConfig = EVA02_CLIP_L_14_336): EvaVisionTransformer {
  let r: WeightsReader;
  try {
    r = openWeights(path);
  } catch (e) {
    if (e instanceof WeightFileError) {
      e.message += " (expected the EVA02-CLIP checkpoint EVA02_CLIP_L_336_psz14_s6B.pt, torch zip, keys visual.*)";
    }
    throw e;
  }
  try {
    const prefix = `${findVisualPrefix(r.keys(), path)}visual.`;
    const tensors = r.readAll({ prefix, stripPrefix: true, filter: (k) => !/(^|\.)rope\.freqs_(cos|sin)$/.test(k) });
    const model = new EvaVisionTransformer(config);
    model.loadStateDict(tensors, { source: `${path} (${prefix}*)` });
    return model;
  } finally {
    r.close();
  }
}
