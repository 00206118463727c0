/**
 * Small stand-ins for the antelopev2 networks, built with the engine and written as .onnx files, with the
 * I/O layout of the real ones: SCRFD `input.1` [1, 3, ?, ?] -> 9 unbatched outputs (scores 8/16/32 [N, 1],
 * bboxes [N, 4], kps [N, 10]); ArcFace `input.1` [1, 3, 112, 112] -> one [1, 512] output.
 */
import { writeFileSync } from "node:fs";
import { input, constant } from "../../src/engine/tensor.ts";
import * as ops from "../../src/engine/ops.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { lowerToOnnx, encodeModel } from "../../src/engine/onnx/lower.ts";
import { craftScrfdOutputs, type PlantedFace } from "./scrfd-fake.ts";

/** Output names of insightface's scrfd_10g_bnkps export, in model order (names are not relied upon). */
export const SCRFD_OUTPUT_NAMES = ["448", "471", "494", "451", "474", "497", "454", "477", "500"];

type Lowered = ReturnType<typeof lowerToOnnx>;

/** Renames graph outputs and optionally makes input dims symbolic, then writes the file. */
function write(path: string, lowered: Lowered, outNames: readonly string[], symbolicDims: readonly number[]): void {
  const g = lowered.model.graph!;
  g.output!.forEach((o, i) => {
    const old = o.name!;
    o.name = outNames[i]!;
    for (const n of g.node!) n.output = n.output!.map((x) => (x === old ? outNames[i]! : x));
  });
  const dims = g.input![0]!.type!.tensorType!.shape!.dim!;
  for (const d of symbolicDims) dims[d] = { dimParam: "?" };
  writeFileSync(path, encodeModel(lowered.model));
}

/**
 * A detector whose outputs are the crafted raw outputs for `faces` (given in 640-canvas pixels) plus
 * 0 * sum(input), so the graph depends on its input. `staticSize` keeps the declared input 640x640.
 */
export function writeFakeScrfd(path: string, faces: PlantedFace[], opts: { size?: number; staticSize?: boolean } = {}): void {
  const size = opts.size ?? 640;
  const x = input("input.1", [1, 3, size, size]);
  const zero = ops.mul(ops.sum(x), 0);
  const outs = craftScrfdOutputs(size, faces).map((t) => ops.add(constant(t as HostTensor), zero));
  const lowered = lowerToOnnx({ inputs: [x.node], outputs: outs.map((t) => t.node) });
  write(path, lowered, SCRFD_OUTPUT_NAMES, opts.staticSize ? [] : [2, 3]);
}

/**
 * A recogniser: embedding = mean over pixels of the 3 input planes [1, 3] times `w` [3, 512] plus `b`.
 * `mxnetNames` renames the first nodes `_minus0` / `_mul0`, which makes insightface use mean 0, std 1.
 */
export function writeFakeArcFace(path: string, w: Float32Array, b: Float32Array, opts: { mxnetNames?: boolean } = {}): void {
  const x = input("input.1", [1, 3, 112, 112]);
  const m = ops.mean(x, [2, 3]);
  const y = ops.add(ops.matmul(m, constant(HostTensor.f32([3, 512], w))), constant(HostTensor.f32([512], b)));
  const lowered = lowerToOnnx({ inputs: [x.node], outputs: [y.node] });
  if (opts.mxnetNames) {
    const nodes = lowered.model.graph!.node!;
    nodes[0]!.name = "_minus0";
    nodes[1]!.name = "_mul0";
  }
  write(path, lowered, ["fc1"], []);
}
