/**
 * Random-weight EVA02-CLIP checkpoints in the layout of `EVA02_CLIP_L_336_psz14_s6B.pt` (torch zip, float16,
 * `visual.*` plus a text tower the loader must skip; here a small stand-in `text.*` and `logit_scale`).
 */
import { HostTensor } from "../../engine/host-tensor.ts";
import type { DType } from "../../engine/dtype.ts";
import { Rng } from "../../engine/rng.ts";
import { saveSafetensors } from "../../engine/io/safetensors.ts";
import { saveTorchCheckpoint } from "../../engine/io/torch-save.ts";
import { EvaVisionTransformer } from "./vision-transformer.ts";
import { EVA02_CLIP_L_14_336, type EvaVisionConfig } from "./config.ts";

export interface RandomEvaOptions {
  config?: EvaVisionConfig;
  seed?: number;
  /** Storage dtype (default float16, as published). */
  dtype?: DType;
  /** "torch" (default, `.pt`) or "safetensors". */
  format?: "torch" | "safetensors";
}

export async function writeRandomEvaCheckpoint(path: string, opts: RandomEvaOptions = {}): Promise<void> {
  const seed = opts.seed ?? 0;
  const dtype = opts.dtype ?? "float16";
  const model = new EvaVisionTransformer(opts.config ?? EVA02_CLIP_L_14_336).initialize(seed);
  const out = new Map<string, HostTensor>();
  for (const [k, v] of model.stateDict()) out.set(`visual.${k}`, v.cast(dtype));
  // The reference file also carries the rope buffers and the text tower; the loader must skip both.
  const cos = new Float32Array(4).fill(1);
  out.set("visual.rope.freqs_cos", new HostTensor("float32", [2, 2], cos).cast(dtype));
  const rng = new Rng(seed + 1);
  const text = new Float32Array(16);
  rng.fillNormal(text, 0, 0.02);
  out.set("text.positional_embedding", new HostTensor("float32", [4, 4], text).cast(dtype));
  out.set("logit_scale", new HostTensor("float32", [], new Float32Array([4.6052])).cast(dtype));
  if ((opts.format ?? "torch") === "torch") await saveTorchCheckpoint(path, out);
  else await saveSafetensors(path, out);
}
