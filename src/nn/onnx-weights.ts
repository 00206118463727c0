/**
 * Weights of an ONNX file read back by initializer name. Our own exports name every initializer by its parameter
 * path, so a module rebuilt from its class loads them by name (`loadStateDict` checks the shapes); a file from
 * elsewhere has other names and fails with the list of missing keys.
 */
import { readFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import type { HostTensor } from "../engine/host-tensor.ts";
import type { Module } from "./module.ts";
import { onnxTensorValue } from "./onnx-graph.ts";

/** What an ONNX file holds: float initializers by name (prefix removed), the first AveragePool kernel, the input size, metadata. */
export interface OnnxWeights {
  tensors: Map<string, HostTensor>;
  avgPoolKernel: number | null;
  inputSize: number | null;
  /** The model's metadata_props. */
  metadata: Record<string, string>;
}

/** Reads the raw-data float initializers of an ONNX file (float16 kept as raw bits; cast in the graph). */
export function readOnnxWeights(path: string, prefix = ""): OnnxWeights {
  const m = onnxProto.onnx.ModelProto.decode(readFileSync(path));
  const tensors = new Map<string, HostTensor>();
  for (const t of m.graph?.initializer ?? []) {
    const name = t.name ?? "";
    // Graph constants of our lowering (c_12, const_7, shape_3) are not parameters.
    if (/^(c|const|shape)_\d+$/.test(name) || !name.startsWith(prefix) || !t.rawData?.length) continue;
    const v = onnxTensorValue(t);
    if (v && (v.dtype === "float32" || v.dtype === "float16")) tensors.set(name.slice(prefix.length), v);
  }
  const pool = m.graph?.node?.find((n) => n.opType === "AveragePool");
  const kernel = pool?.attribute?.find((a) => a.name === "kernel_shape")?.ints?.[0];
  const dims = m.graph?.input?.[0]?.type?.tensorType?.shape?.dim ?? [];
  const side = dims[2]?.dimValue;
  const metadata = Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? "", p.value ?? ""]));
  return { tensors, avgPoolKernel: kernel === undefined ? null : Number(kernel), inputSize: side === undefined || side === null ? null : Number(side), metadata };
}

/** Loads float32 copies of `w` into `module` (strict: every key must match). */
export function loadOnnxInto<M extends Module>(module: M, w: OnnxWeights, source: string): M {
  const f32 = new Map([...w.tensors].map(([k, v]) => [k, v.dtype === "float32" ? v : v.cast("float32")] as const));
  module.bindNames().loadStateDict(f32, { source });
  return module;
}
