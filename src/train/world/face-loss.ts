/**
 * `face-loss`: the world's arcface-50 (computes PuLID's ID loss in training only). A different net from face-id
 * on purpose: four stages, narrower first stage, its own seeds. Its head was a global average until 2026-12-02;
 * the shipped net continued from those weights with the same function as a flatten head (tools/face-net-grow.ts),
 * which can weigh where on the face a feature is.
 */
import type { FaceNetConfig } from "../../models/world/face-net.ts";
import { faceRecipe } from "./face-recipe.ts";

export const FACE_LOSS_NET: FaceNetConfig = { inputSize: 112, pool: 4, widths: [24, 48, 96, 160], blocks: [0, 1, 1, 0], head: "flatten", embedDim: 128, flipTest: true };

export const faceLossRecipe = faceRecipe({
  name: "face-loss",
  summary: "identity embedding for the ID loss in training (stands for arcface-50); ArcFace loss",
  config: FACE_LOSS_NET,
  loss: "arcface",
  defaults: {
    steps: 1200, batch: 64, lr: 2e-3, warmup: 50, minLrRatio: 0.02, weightDecay: 5e-4, clip: 5, seed: 22, dataSeed: 202,
    checkpointEvery: 100, photoShare: 0.7, jitter: 1, scale: 16, margin: 0.3, marginRamp: 400, idWeight: 1,
  },
});
