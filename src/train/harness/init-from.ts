/**
 * Starting a run from earlier weights (a further schedule after a first run ended below its bar): the model part
 * of a training checkpoint, or the file a model shipped as, is loaded over freshly initialised parameters. The
 * optimizer starts anew.
 */
import { SafetensorsFile } from "../../engine/io/safetensors.ts";
import type { HostTensor } from "../../engine/host-tensor.ts";
import type { Module } from "../../nn/module.ts";
import { loadOnnxInto, readOnnxWeights } from "../../nn/onnx-weights.ts";

/** The model part (keys `model/...`) of a harness checkpoint. */
export function loadCheckpointWeights(model: Module, checkpointPath: string): void {
  const f = SafetensorsFile.open(checkpointPath);
  try {
    model.bindNames().loadStateDict(f, { prefix: "model/", source: checkpointPath });
  } finally {
    f.close();
  }
}

/**
 * Loads `path` into `model` by parameter name, whichever form it has: a harness checkpoint
 * (`checkpoint.safetensors`), an exported ONNX file (initializers named by parameter path, as our exports write
 * them), or an exported safetensors state dict (float16 as shipped; cast to float32 for training). Strict: a
 * missing, unexpected or mis-shaped key fails with the list.
 */
export function loadInitWeights(model: Module, path: string): void {
  if (path.endsWith(".onnx")) {
    loadOnnxInto(model, readOnnxWeights(path), path);
    return;
  }
  const f = SafetensorsFile.open(path);
  try {
    if (f.keys().some((k) => k.startsWith("model/"))) {
      model.bindNames().loadStateDict(f, { prefix: "model/", source: path });
      return;
    }
    const f32 = new Map<string, HostTensor>(f.keys().map((k) => [k, f.read(k)] as const).map(([k, t]) => [k, t.dtype === "float32" ? t : t.cast("float32")] as const));
    model.bindNames().loadStateDict(f32, { source: path });
  } finally {
    f.close();
  }
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
