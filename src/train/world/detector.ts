/**
 * `detector`: the world's SCRFD (box, score and 5 landmarks of the face in a whole image). Trained on train-split
 * identities and empty scenes; exported as `detector.onnx` with scrfd_10g_bnkps's contract (static 64 px input),
 * so `openScrfd` opens it and `detect` decodes it.
 *
 * Loss: binary cross-entropy on anchor scores (positives weighted 4x), L1 on box distances (stride units) near
 * the face, and for the landmarks cross-entropy of each heatmap against the point's bilinear weights (a strong
 * signal from the first step; its optimum puts the soft-argmax exactly on the point) plus L1 on the soft-argmax
 * itself (pixels).
 */
import { join } from "node:path";
import { input, type Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { saveOnnx } from "../../engine/onnx/save-onnx.ts";
import { WorldDetector, WORLD_DETECTOR, type WorldDetectorConfig } from "../../models/world/detector.ts";
import type { BaseHyper, Recipe } from "../harness/recipe.ts";
import { withInitWeights } from "../harness/init-from.ts";
import { anchorCount, detectorTrainBatch } from "./detector-data.ts";

export interface DetectorHyper extends BaseHyper {
  /** Share of photo-style images (the rest spread over the other styles). */
  photoShare: number;
  /** Share of images with nobody in them. */
  emptyShare: number;
  /** Train identities drawn from (the first n of the train split). */
  identities: number;
  /** Weights of the landmark losses (soft-argmax L1 in pixels, heatmap cross-entropy). */
  landmarkWeight: number;
  heatWeight: number;
  /** Weights to start from (a second schedule): a detector run's checkpoint or a shipped `detector.onnx`. */
  initFrom?: string;
}

const bceWithLogits = (z: Tensor, y: Tensor) => ops.add(ops.sub(ops.relu(z), ops.mul(z, y)), ops.log(ops.add(1, ops.exp(ops.neg(ops.abs(z))))));

export const detectorRecipe: Recipe<DetectorHyper> = {
  name: "detector",
  summary: "face box, score and 5 landmarks in a whole image (stands for SCRFD scrfd_10g_bnkps)",
  defaults: {
    steps: 1200, batch: 32, lr: 3e-3, warmup: 50, minLrRatio: 0.02, weightDecay: 1e-4, clip: 5, seed: 41, dataSeed: 401,
    checkpointEvery: 100, photoShare: 0.5, emptyShare: 0.3, identities: 20000, landmarkWeight: 2, heatWeight: 1,
  },
  createModel: (h) => withInitWeights(new WorldDetector(WORLD_DETECTOR), h.initFrom),
  graph(model, h) {
    const net = model as WorldDetector;
    const S = WORLD_DETECTOR.inputSize;
    const A = anchorCount(S);
    const B = h.batch;
    const x = input("images", [B, 3, S, S]);
    const y = input("score", [B, A]);
    const w = input("weight", [B, A]);
    const bt = input("box", [B, A, 4]);
    const bm = input("box_mask", [B, A]);
    const lt = input("landmarks", [B, 10]);
    const lm = input("has_face", [B, 1]);
    const ht = input("heat", [B, 5, (S / 2) ** 2]);
    const o = net.call(x);
    const z = ops.reshape(ops.concat(o.logits, 1), [B, A]);
    const cls = ops.div(ops.sum(ops.mul(w, bceWithLogits(z, y))), B * 8);
    const boxErr = ops.sum(ops.abs(ops.sub(ops.concat(o.boxes, 1), bt)), [2]);
    const box = ops.div(ops.sum(ops.mul(bm, boxErr)), ops.add(ops.mul(ops.sum(bm), 4), 1));
    const lmErr = ops.mul(lm, ops.abs(ops.sub(o.landmarks, lt)));
    const lmk = ops.div(ops.sum(lmErr), ops.add(ops.mul(ops.sum(lm), 10), 1e-6));
    const heat = ops.div(ops.neg(ops.sum(ops.mul(ht, ops.logSoftmax(o.heat, -1)))), ops.add(ops.mul(ops.sum(lm), 5), 1e-6));
    const loss = ops.add(ops.add(ops.add(cls, box), ops.mul(lmk, h.landmarkWeight)), ops.mul(heat, h.heatWeight));
    return { inputs: [x, y, w, bt, bm, lt, lm, ht], loss, metrics: { cls, box, landmark_px: lmk, heat } };
  },
  batch(step, h) {
    const b = detectorTrainBatch(step, h);
    return [b.images, b.score, b.weight, b.box, b.boxMask, b.landmarks, b.hasFace, b.heat];
  },
  async export(model, _h, dir) {
    const path = join(dir, "detector.onnx");
    await exportDetector(model as WorldDetector, path);
    return [path];
  },
};

/** Writes the detector with SCRFD's contract: input 'input.1' [1, 3, S, S], outputs score/bbox/kps x 8, 16, 32. */
export async function exportDetector(net: WorldDetector, path: string, config: WorldDetectorConfig = net.config): Promise<void> {
  const S = config.inputSize;
  const x = input("input.1", [1, 3, S, S]);
  await saveOnnx(path, { inputs: [x], outputs: net.scrfdOutputs(x), name: "world_scrfd", params: net.parameters() });
}
