/**
 * Saves a traced graph as a standalone ONNX file (weights embedded), for models that ship as `.onnx` and are
 * opened by a loader of the real path (e.g. the world's face nets behind `openArcFace`).
 */
import type { Tensor } from "../tensor.ts";
import type { ParamSource } from "../graph.ts";
import type { DType } from "../dtype.ts";
import type { HostTensor } from "../host-tensor.ts";
import { lowerToOnnx, encodeModel } from "./lower.ts";
import { writeFileAtomic } from "../atomic-write.ts";

export interface SaveOnnxOptions {
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
  name?: string;
  /**
   * Storage dtype of float weights (default float16: half the file, cast to float32 inside the graph at run time).
   * Parameters are cast for the export only; their values are unchanged afterwards.
   */
  weightDtype?: DType;
  /** The parameters of the graph (to cast them); usually `module.parameters()`. */
  params?: readonly WeightHolder[];
  /** String key/value pairs stored as the model's metadata_props (how a loader learns options the weights do not show). */
  metadata?: Readonly<Record<string, string>>;
}

/** A parameter whose stored value can be swapped (nn's Parameter). */
interface WeightHolder extends ParamSource {
  value(): HostTensor | null;
  set(v: HostTensor): void;
}

/** Lowers `inputs -> outputs` and writes the ONNX bytes atomically; returns the file size. */
export async function saveOnnx(path: string, o: SaveOnnxOptions): Promise<number> {
  const dtype = o.weightDtype ?? "float16";
  const saved = (o.params ?? []).map((p) => [p, p.value()] as const);
  try {
    for (const [p, v] of saved) if (v && v.dtype === "float32" && dtype !== "float32") p.set(v.cast(dtype));
    const lowered = lowerToOnnx({
      inputs: o.inputs.map((t) => t.node),
      outputs: o.outputs.map((t) => t.node),
      paramMode: () => "initializer",
      name: o.name,
    });
    if (o.metadata) lowered.model.metadataProps = Object.entries(o.metadata).map(([key, value]) => ({ key, value }));
    const bytes = encodeModel(lowered.model);
    await writeFileAtomic(path, bytes);
    return bytes.length;
  } finally {
    for (const [p, v] of saved) if (v) p.set(v);
  }
}
