/** `face-id`: the world's glintr100 (feeds the ID encoder). Residual CNN, flatten head, ArcFace loss. */
import type { FaceNetConfig } from "../../models/world/face-net.ts";
import { faceRecipe } from "./face-recipe.ts";

export const FACE_ID_NET: FaceNetConfig = { inputSize: 112, pool: 4, widths: [24, 48, 96], blocks: [0, 1, 1], head: "flatten", embedDim: 128, flipTest: true };

export const faceIdRecipe = faceRecipe({
  name: "face-id",
  summary: "identity embedding feeding the ID encoder (stands for antelopev2 glintr100); ArcFace loss",
  config: FACE_ID_NET,
  loss: "arcface",
  defaults: {
    steps: 2000, batch: 64, lr: 2e-3, warmup: 50, minLrRatio: 0.02, weightDecay: 5e-4, clip: 5, seed: 11, dataSeed: 101,
    checkpointEvery: 100, photoShare: 0.7, jitter: 1, scale: 16, margin: 0.3, marginRamp: 400, idWeight: 1,
  },
});
