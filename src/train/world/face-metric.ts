/**
 * `face-metric`: the world's CurricularFace (Face Sim in evaluation only; never used in generation or training).
 * A third net: three stages with the residual blocks at the coarse end, CurricularFace loss, its own seeds.
 */
import type { FaceNetConfig } from "../../models/world/face-net.ts";
import { faceRecipe } from "./face-recipe.ts";

export const FACE_METRIC_NET: FaceNetConfig = { inputSize: 112, pool: 4, widths: [24, 56, 112], blocks: [0, 1, 2], head: "flatten", embedDim: 128, flipTest: true };

export const faceMetricRecipe = faceRecipe({
  name: "face-metric",
  summary: "identity embedding for Face Sim in evaluation (stands for CurricularFace); CurricularFace loss",
  config: FACE_METRIC_NET,
  loss: "curricular",
  defaults: {
    steps: 1500, batch: 64, lr: 2e-3, warmup: 50, minLrRatio: 0.02, weightDecay: 5e-4, clip: 5, seed: 33, dataSeed: 303,
    checkpointEvery: 100, photoShare: 0.7, jitter: 1, scale: 16, margin: 0.2, marginRamp: 400, idWeight: 1,
  },
});
