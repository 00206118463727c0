/**
 * Starting a run from earlier weights (a further schedule after a first run ended below its bar): the model part
 * of a training checkpoint, or the file a model shipped as, is loaded over freshly initialised parameters. The
 * optimizer starts anew.
 */
import { SafetensorsFile } from "../../engine/io/safetensors.ts";
import type { HostTensor } from "../../engine/host-tensor.ts";
import type { Module } from "../../nn/module.ts";
import { readOnnxWeights } from "../../nn/onnx-weights.ts";
import { PulidError } from "../../engine/errors.ts";

/** Float32 copies by name (shipped files store float16; the optimizer updates float32). */
const float32Copies = (entries: Iterable<readonly [string, HostTensor]>) =>
  new Map<string, HostTensor>([...entries].map(([k, t]) => [k, t.dtype === "float32" ? t : t.cast("float32")] as const));

/**
 * The weights of `path` by parameter name, float32, whichever form it has: the model part of a harness checkpoint
 * (`checkpoint.safetensors`, keys `model/...` with the prefix removed), an exported ONNX file (initializers named by
 * parameter path, as our exports write them), or an exported safetensors state dict (float16 as shipped; the
 * optimizer updates float32).
 */
export function readInitWeights(path: string): Map<string, HostTensor> {
  if (path.endsWith(".onnx")) return float32Copies(readOnnxWeights(path).tensors);
  const f = SafetensorsFile.open(path);
  try {
    const checkpoint = f.keys().some((k) => k.startsWith("model/"));
    const keys = checkpoint ? f.keys().filter((k) => k.startsWith("model/")) : f.keys();
    return float32Copies(keys.map((k) => [checkpoint ? k.slice("model/".length) : k, f.read(k)] as const));
  } finally {
    f.close();
  }
}

/**
 * Loads `path` ({@link readInitWeights}) into `model` by parameter name. Strict: a missing, unexpected or mis-shaped
 * key fails with the list, except the missing or mis-shaped keys `allowMissing` accepts (parts the earlier model
 * did not have, or had at another shape); those keep their fresh initialisation and are returned.
 */
export function loadInitWeights(model: Module, path: string, opts: { allowMissing?: (key: string) => boolean } = {}): string[] {
  const r = model.bindNames().loadStateDict(readInitWeights(path), { source: path, strict: !opts.allowMissing });
  if (!opts.allowMissing) return [];
  const notLoaded = [...r.missing, ...r.mismatched];
  const bad = [...notLoaded.filter((k) => !opts.allowMissing!(k)), ...r.unexpected];
  if (bad.length) throw new PulidError("bad_model_file", `${path}: does not fit this model (${bad.slice(0, 6).join(", ")}${bad.length > 6 ? ", ..." : ""} missing, unexpected or mis-shaped)`);
  return notLoaded;
}

/**
 * `model`, made to load `path` (see {@link loadInitWeights}) right after the harness initialises it; unchanged
 * when `path` is empty. For recipes whose model is the exported class itself (no training-only wrapper).
 */
export function withInitWeights<M extends Module>(model: M, path: string | undefined): M {
  if (!path) return model;
  const initialize = model.initialize.bind(model);
  model.initialize = (seed?: number) => {
    initialize(seed);
    loadInitWeights(model, path);
    return model;
  };
  return model;
}
