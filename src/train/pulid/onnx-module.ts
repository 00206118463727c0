/**
 * The world's face nets and detector ship as ONNX files (their real counterparts are ONNX), but PuLID's ID loss
 * needs them INSIDE the traced training graph, with their VJPs. Our own exports name every initializer by its
 * parameter path (`net.stages.0.down.conv.weight`, `down.0.conv.weight`), so the module is rebuilt from its class
 * and loaded by name; shapes are checked by `loadStateDict`. An ONNX file from elsewhere (glintr100, SCRFD) has
 * other names and fails with the list of missing keys.
 */
import { readFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import { HostTensor } from "../../engine/host-tensor.ts";
import { PulidError } from "../../engine/errors.ts";
import type { Module } from "../../nn/module.ts";
import { onnxTensorValue } from "../../nn/onnx-graph.ts";
import { FaceNet, type FaceNetConfig } from "../../models/world/face-net.ts";

/** What an ONNX file holds: float initializers by name (prefix removed), the first AveragePool kernel, the input size. */
export interface OnnxWeights {
  tensors: Map<string, HostTensor>;
  avgPoolKernel: number | null;
  inputSize: number | null;
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
  return { tensors, avgPoolKernel: kernel === undefined ? null : Number(kernel), inputSize: side === undefined || side === null ? null : Number(side) };
}

/** Loads float32 copies of `w` into `module` (strict: every key must match). */
export function loadOnnxInto<M extends Module>(module: M, w: OnnxWeights, source: string): M {
  const f32 = new Map([...w.tensors].map(([k, v]) => [k, v.dtype === "float32" ? v : v.cast("float32")] as const));
  module.bindNames().loadStateDict(f32, { source });
  return module;
}

/**
 * A world face net (`pulid world train face-loss` export, ArcFace contract) rebuilt from its ONNX file; the
 * config is read from the shapes (stage widths, blocks per stage, head, embedding) and the graph (pool, size).
 * @throws PulidError `bad_model_file` when the file is not a world face net.
 */
export function loadWorldFaceNet(path: string): FaceNet {
  const w = readOnnxWeights(path, "net.");
  const widths: number[] = [];
  const blocks: number[] = [];
  while (w.tensors.has(`stages.${widths.length}.down.conv.weight`)) {
    const i = widths.length;
    widths.push(w.tensors.get(`stages.${i}.down.conv.weight`)!.shape[0]!);
    let b = 0;
    while (w.tensors.has(`stages.${i}.blocks.${b}.a.conv.weight`)) b++;
    blocks.push(b);
  }
  const fc = w.tensors.get("fc.weight");
  if (!widths.length || !fc || !w.inputSize) throw new PulidError("bad_model_file", `${path}: not a world face net (no net.stages.*.down.conv.weight / net.fc.weight initializers)`);
  const config: FaceNetConfig = {
    inputSize: w.inputSize,
    pool: w.avgPoolKernel ?? 1,
    widths,
    blocks,
    head: fc.shape[1] === widths.at(-1) ? "mean" : "flatten",
    embedDim: fc.shape[0]!,
  };
  return loadOnnxInto(new FaceNet(config), w, path);
}

/** The declared dims of an ONNX file's first output (0 where symbolic), e.g. a recogniser's embedding width. */
export function readOnnxOutputDims(path: string): number[] {
  const m = onnxProto.onnx.ModelProto.decode(readFileSync(path));
  const dims = m.graph?.output?.[0]?.type?.tensorType?.shape?.dim ?? [];
  if (!dims.length) throw new PulidError("bad_model_file", `${path}: the ONNX file declares no output shape`);
  return dims.map((d) => Number(d.dimValue ?? 0));
}
