/**
 * The world's face nets and detector ship as ONNX files (their real counterparts are ONNX), but PuLID's ID loss
 * needs them INSIDE the traced training graph, with their VJPs: the module is rebuilt from its class and loaded
 * by initializer name (`src/nn/onnx-weights.ts`). An ONNX file from elsewhere (glintr100, SCRFD) has other names
 * and fails with the list of missing keys.
 */
import { readFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import { PulidError } from "../../engine/errors.ts";
import { loadOnnxInto, readOnnxWeights } from "../../nn/onnx-weights.ts";
import { FaceNet, FLIP_TEST_KEY, type FaceNetConfig } from "../../models/world/face-net.ts";

/**
 * A world face net (`pulid world train face-loss` export, ArcFace contract) rebuilt from its ONNX file; the
 * config is read from the shapes (stage widths, blocks per stage, head, embedding), the graph (pool, size) and the
 * metadata (flip test).
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
    flipTest: w.metadata[FLIP_TEST_KEY] === "1",
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
