/**
 * One PuLID training step as one traced graph (DESIGN.md section 8): the diffusion branch, the Lightning
 * branch (4 student steps from pure noise, decode, face crop, face-loss net), and the with / without-ID
 * alignment pair. Which parts exist depends on the stage (paper 4.1, pulid-paper.md 1.7):
 *
 *   stage 1:  L = L_diff
 *   stage 2:  L = L_diff + lambda_id L_id                       (--naive-id-loss: L_id on the one-step x_0
 *                                                                 prediction of the diffusion branch instead)
 *   stage 3:  L = L_diff + lambda_id L_id + 0.6 L_align-sem + 0.1 L_align-layout
 *
 * The only parameters are the adapter's (ID encoder + id_to_k/id_to_v); every frozen network is traced with
 * its weights as graph constants (`requiresGrad` false), so the optimizer never sees them.
 *
 * Face landmarks for the crop: `detector` runs the frozen detector inside the graph on a detached copy of the
 * decoded image (its score gives the face mask); without one the landmarks and the mask are graph inputs (a
 * fixed face position: tiny models, and the finite-difference check, where a detector's landmarks would move
 * with the perturbed weights and the difference quotient would include a term the gradient rightly has not).
 */
import { input, constant, type Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import type { UNet2DConditionModel } from "../../models/unet/unet2d-condition.ts";
import type { AutoencoderKL } from "../../models/vae/autoencoder-kl.ts";
import type { ProcessorSelector } from "../../models/unet/attention.ts";
import { defaultProcessor } from "../../models/unet/attention.ts";
import type { WorldDetector } from "../../models/world/detector.ts";
import type { Module } from "../../nn/module.ts";
import type { IdEncoderConfig } from "../../models/pulid/id-encoder.ts";
import type { PulidAdapter } from "./adapter.ts";
import { alignTerms, idLoss, vLossWeights, type AlignPair } from "./losses.ts";
import { diffusionLoss, weightedDiffusionLoss } from "../diffusion/weighted-loss.ts";
import { traceRollout, type RolloutStep } from "./lightning-rollout.ts";
import { arcfaceCropFromLandmarks } from "../face/landmark-crop.ts";

/** A face-recognition net with the ArcFace contract: [B, 3, S, S] crops in [-1, 1] -> [B, E] raw embeddings. */
export interface FaceEmbedder {
  readonly inputSize: number;
  embed(crops: Tensor): Tensor;
}

/** The frozen networks and shapes one stage graph needs. */
export interface PulidFrozen {
  /** The base UNet (the diffusion branch's unless `diffusionUnet` says student). */
  diffusionUnet: UNet2DConditionModel;
  /** The 4-step student of the Lightning branch. */
  student: UNet2DConditionModel;
  vae: AutoencoderKL;
  face: FaceEmbedder;
  /** Sizes of the ID encoder to train (its input widths follow the ID-feature nets; its token width the UNet's context). */
  encoder: IdEncoderConfig;
  /** Every frozen module (for checks that they never change). */
  frozenModules: Module[];
  /** In-graph detector on the detached decoded image (null: landmarks and mask are fed). */
  detector: WorldDetector | null;
  /** The student's rollout (dpmpp2mTrailingPlan of its scheduler config). */
  plan: readonly RolloutStep[];
  /** [C, h, w] of a latent. */
  latent: readonly [number, number, number];
  contextLength: number;
  contextDim: number;
  pooledDim: number;
  /** Tokens of each ID-feature hidden state (CLS + patches) and width of the face embedding. */
  vitTokens: number;
  faceDim: number;
}

/** What a stage trains on; JSON-able (recorded in the run's recipe.json). */
export interface StageSettings {
  stage: 1 | 2 | 3;
  naiveIdLoss: boolean;
  batch: number;
  lambdaId: number;
  lambdaAlignSem: number;
  lambdaAlignLayout: number;
  /** Back-propagate the Lightning branch through its last k steps (1..4). */
  backpropSteps: number;
  /**
   * UNet of L_diff in every stage: the base (default; the authors' advice in their issue #150, better
   * compatibility) or the 4-step student (the paper's first implementation computed every loss on it).
   */
  diffusionUnet: "base" | "student";
  /** Gradient checkpointing per UNet block (down, mid, up) in every UNet call of the step: less memory, more time. */
  checkpointBlocks: boolean;
  /** Detector score above which a generated face counts (in-graph detector only). */
  faceThreshold: number;
  /**
   * Extra weight of the face's latent cells in L_diff (0, the default: the paper's plain mean). The data source
   * then supplies `face_cells` (the world source does, from its renders' face boxes).
   */
  faceLossWeight: number;
  /**
   * Cap of a per-sample weight min(1 + 1/SNR, cap) on L_diff (0, the default: none, the paper's plain mean): a
   * capped v-loss, which weighs the high-noise steps where the ID decides the face.
   */
  vLossCap: number;
}

/** Graph inputs in feed order with their names (the recipe's batch returns the same names). */
export interface StageGraph {
  names: string[];
  inputs: Tensor[];
  loss: Tensor;
  /** Logged values (gradient-stopped): each unweighted term and the face count. */
  metrics: Record<string, Tensor>;
  /** The unweighted terms with their gradients (gradient checks). */
  terms: Record<string, Tensor>;
}

/** Records the query (full width, before heads) and the text key of every attn2 the selector runs. */
function recording(base: ProcessorSelector | undefined, record: (q: Tensor, k: Tensor) => void): ProcessorSelector {
  return (attn) => {
    const proc = base?.(attn);
    if (!attn.isCrossAttention) return proc;
    const run = proc ?? defaultProcessor;
    return (a, hidden, context) => {
      record(a.to_q.call(hidden), a.to_k.call(context ?? hidden));
      return run(a, hidden, context);
    };
  };
}

/**
 * L_diff, plain or with the settings' weightings. The weighted forms declare their extra feeds: `face_cells`, and
 * `sqrt_alpha` / `sqrt_one_minus_alpha` (which every source already supplies for the naive ID loss).
 */
function diffusionBranchLoss(pred: Tensor, target: Tensor, s: StageSettings, add: (name: string, shape: readonly number[]) => Tensor, lat: readonly number[]): Tensor {
  const B = s.batch;
  if (!(s.faceLossWeight > 0) && !(s.vLossCap > 0)) return diffusionLoss(pred, target);
  return weightedDiffusionLoss(pred, target, {
    ...(s.faceLossWeight > 0 ? { faceCells: add("face_cells", [B, 1, lat[1]!, lat[2]!]), faceWeight: s.faceLossWeight } : {}),
    ...(s.vLossCap > 0 ? { sampleWeights: vLossWeights(add("sqrt_alpha", [B]), add("sqrt_one_minus_alpha", [B]), s.vLossCap) } : {}),
  });
}

/** Builds the stage's graph over `adapter` (the only parameters) and the frozen networks. */
export function buildStageGraph(adapter: PulidAdapter, f: PulidFrozen, s: StageSettings): StageGraph {
  const B = s.batch;
  const names: string[] = [];
  const inputs: Tensor[] = [];
  // One graph input per name: a second request (e.g. sqrt_alpha for both v-loss weights and the naive ID loss)
  // gets the first one.
  const add = (name: string, shape: readonly number[]) => {
    const i = names.indexOf(name);
    if (i >= 0) return inputs[i]!;
    const t = input(name, shape);
    names.push(name);
    inputs.push(t);
    return t;
  };
  const enc = adapter.id_adapter.config;
  const tokensOf = () => {
    const idCond = add("id_cond", [B, enc.width]);
    const vit = Array.from({ length: enc.num_vit_layers ?? 5 }, (_, i) => add(`vit_${i}`, [B, f.vitTokens, enc.vit_dim]));
    return adapter.id_adapter.call(idCond, vit);
  };
  const lat = f.latent;

  // Diffusion branch: noise prediction with text + ID at a random timestep (host-noised).
  const tokens = tokensOf();
  const idSelect = adapter.selector({ embedding: tokens, scale: 1, mode: "normal" });
  const noisy = add("noisy_latents", [B, ...lat]);
  const t = add("timesteps", [B]);
  const context = add("context", [B, f.contextLength, f.contextDim]);
  const pooled = add("pooled", [B, f.pooledDim]);
  const timeIds = add("time_ids", [B, 6]);
  const target = add("target", [B, ...lat]);
  const diffusionUnet = s.diffusionUnet === "student" ? f.student : f.diffusionUnet;
  const pred = diffusionUnet.call(noisy, t, context, { added: { textEmbeds: pooled, timeIds }, select: idSelect, checkpointBlocks: s.checkpointBlocks });
  const lDiff = diffusionBranchLoss(pred, target, s, add, lat);
  const metrics: Record<string, Tensor> = { l_diff: ops.stopGradient(lDiff) };
  const terms: Record<string, Tensor> = { l_diff: lDiff };
  let loss = lDiff;

  const faceLoss = (latent: Tensor) => {
    const faceRef = add("face_ref", [B, f.faceDim]);
    const image = f.vae.decode(f.vae.latentsForDecode(latent)); // [B, 3, H, W] ~[-1, 1]
    let landmarks: Tensor, mask: Tensor;
    if (f.detector) {
      // SCRFD blob (RGB - 127.5) / 128 of the clamped, detached image.
      const blob = ops.mul(ops.minimum(ops.maximum(ops.stopGradient(image), -1), 1), 127.5 / 128);
      const out = f.detector.forward(blob);
      landmarks = ops.stopGradient(out.landmarks);
      const best = ops.max(ops.concat(out.logits.map((l) => ops.reshape(l, [B, -1])), 1), 1); // [B]
      mask = ops.stopGradient(ops.cast(ops.greater(ops.sigmoid(best), s.faceThreshold), "float32"));
    } else {
      landmarks = add("landmarks", [B, 10]);
      mask = add("face_mask", [B]);
    }
    // ArcFace blob (RGB - 127.5) / 127.5 is the [-1, 1] image itself.
    const crops = arcfaceCropFromLandmarks(image, landmarks, f.face.inputSize);
    return idLoss(f.face.embed(crops), faceRef, mask);
  };

  const studentEps = (ctx: Tensor, pool: Tensor, ids: Tensor, select: ProcessorSelector | undefined) => (x: Tensor, timestep: number) => {
    const tt = constant(HostTensor.f32([B], new Array<number>(B).fill(timestep)));
    return f.student.call(x, tt, ctx, { added: { textEmbeds: pool, timeIds: ids }, checkpointBlocks: s.checkpointBlocks, ...(select ? { select } : {}) });
  };

  if (s.stage >= 2 && s.naiveIdLoss) {
    // x_0 = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t) of the diffusion branch, then the same face path.
    const sa = add("sqrt_alpha", [B]);
    const so = add("sqrt_one_minus_alpha", [B]);
    const col = (v: Tensor) => ops.reshape(v, [B, 1, 1, 1]);
    const x0 = ops.div(ops.sub(noisy, ops.mul(col(so), pred)), col(sa));
    const r = faceLoss(x0);
    metrics.l_id_naive = ops.stopGradient(r.loss);
    terms.l_id_naive = r.loss;
    metrics.faces = r.faces;
    loss = ops.add(loss, ops.mul(r.loss, s.lambdaId));
  } else if (s.stage >= 2) {
    const noise = add("id_noise", [B, ...lat]);
    const ctx = add("id_context", [B, f.contextLength, f.contextDim]);
    const pool = add("id_pooled", [B, f.pooledDim]);
    const eps = studentEps(ctx, pool, timeIds, idSelect);
    const roll = traceRollout(f.plan, noise, eps, { backpropSteps: s.backpropSteps });
    const r = faceLoss(roll.latent);
    metrics.l_id = ops.stopGradient(r.loss);
    terms.l_id = r.loss;
    metrics.faces = r.faces;
    loss = ops.add(loss, ops.mul(r.loss, s.lambdaId));
  }

  if (s.stage === 3) {
    const noise = add("align_noise", [B, ...lat]);
    const ctx = add("align_context", [B, f.contextLength, f.contextDim]);
    const pool = add("align_pooled", [B, f.pooledDim]);
    const without: { q: Tensor; k: Tensor }[] = [];
    const withId: { q: Tensor; k: Tensor }[] = [];
    // Path A (no ID): a fixed target; path B (ID): the same prompt and noise.
    traceRollout(f.plan, noise, studentEps(ctx, pool, timeIds, recording(undefined, (q, k) => without.push({ q, k }))), { backpropSteps: f.plan.length });
    traceRollout(f.plan, noise, studentEps(ctx, pool, timeIds, recording(idSelect, (q, k) => withId.push({ q, k }))), { backpropSteps: s.backpropSteps });
    const pairs: AlignPair[] = withId.map((w, i) => ({ qId: w.q, q: without[i]!.q, k: without[i]!.k }));
    const a = alignTerms(pairs);
    metrics.l_align_sem = ops.stopGradient(a.sem);
    metrics.l_align_layout = ops.stopGradient(a.layout);
    terms.l_align_sem = a.sem;
    terms.l_align_layout = a.layout;
    loss = ops.add(loss, ops.add(ops.mul(a.sem, s.lambdaAlignSem), ops.mul(a.layout, s.lambdaAlignLayout)));
  }
  return { names, inputs, loss, metrics, terms };
}
