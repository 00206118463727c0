/**
 * The recipe shared by the world's three face nets. Each net has its own file (face-id.ts, face-loss.ts,
 * face-metric.ts) that picks an architecture, a loss and a seed; this file trains any of them under a margin
 * softmax (ArcFace or CurricularFace) over in-batch identity proxies (see FaceTrainer). The FaceNet is exported
 * as `<name>.onnx` with the ArcFace contract.
 */
import { join } from "node:path";
import { Module } from "../../nn/module.ts";
import * as ops from "../../engine/ops.ts";
import { Linear } from "../../nn/layers.ts";
import { IDENTITY_DIM } from "../../world/identity.ts";
import { input, type Tensor } from "../../engine/tensor.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { saveOnnx } from "../../engine/onnx/save-onnx.ts";
import { evaluate } from "../../engine/compile.ts";
import { FaceNet, FLIP_TEST_KEY, type FaceNetConfig } from "../../models/world/face-net.ts";
import { loadInitWeights } from "../harness/init-from.ts";
import type { BaseHyper, Recipe, RecipeState } from "../harness/recipe.ts";
import { FACE_CROP, faceTrainBatch } from "./face-data.ts";
import { arcfaceLoss, cosines, curricularLoss, rampedMargin, updateCurricularT } from "./margin-loss.ts";

export interface FaceHyper extends BaseHyper {
  /** Share of photo-style images in the data. */
  photoShare: number;
  /** Landmark jitter in pixels (a detector's error). */
  jitter: number;
  /** Margin softmax scale s and margin m. */
  scale: number;
  margin: number;
  /** Steps over which the margin ramps up from 0. */
  marginRamp: number;
  /** Weight of the auxiliary identity-vector regression (see FaceTrainer.idHead). */
  idWeight: number;
  /** Identities per nearest-neighbour group in a batch (1: all random; see faceTrainBatch). Absent: 1. */
  hardGroup?: number;
  /** Random train identities searched for each group's neighbours. Absent: 1000. */
  hardPool?: number;
  /** Identity dimensions (comma-separated names) the neighbours are near in. Absent or "": all. */
  hardDims?: string;
  /** A run's checkpoint to start from (a further schedule); the optimizer starts anew. */
  initFrom?: string;
}

/**
 * FaceNet trained with a margin softmax whose class centres are in-batch proxies: a batch holds two images of
 * each of P distinct identities, and each image is classified among the P identities with the OTHER images'
 * embeddings as the centres (both directions). Why not a free centre per class: with free centres a class is seen
 * a few times per thousand steps on this machine's budget, every centre is pushed away from all features far more
 * often than it is pulled to its own, and probes stayed at chance (target cosine below 0 after 120 steps with 600
 * classes). Proxies also let every step use fresh identities from the whole train split.
 */
export class FaceTrainer extends Module {
  net: FaceNet;
  /**
   * Auxiliary head regressing the (centred) ground-truth identity vector from the embedding. The world knows each
   * face's identity, and this dense signal gets the features off the ground: with the margin loss alone a probe's
   * embeddings stayed collapsed (every pair at cosine ~0.94, loss near ln P) for 150 steps.
   */
  idHead: Linear;
  constructor(config: FaceNetConfig, readonly initFrom = "") {
    super();
    this.net = new FaceNet(config);
    this.idHead = new Linear(config.embedDim, IDENTITY_DIM);
  }
  override initialize(seed = 0): this {
    super.initialize(seed);
    // A shipped .onnx file holds the net only: the training-only identity head then starts fresh.
    if (this.initFrom) loadInitWeights(this, this.initFrom, { allowMissing: (k) => k.startsWith("idHead.") });
    return this;
  }
}

export interface FaceRecipeSpec {
  name: string;
  summary: string;
  config: FaceNetConfig;
  loss: "arcface" | "curricular";
  defaults: FaceHyper;
}

export function faceRecipe(spec: FaceRecipeSpec): Recipe<FaceHyper> {
  return {
    name: spec.name,
    summary: spec.summary,
    defaults: spec.defaults,
    createModel: (h) => new FaceTrainer(spec.config, h.initFrom ?? ""),
    graph(model, h) {
      const m = model as FaceTrainer;
      const P = h.batch / 2;
      const x = input("crops", [h.batch, 3, FACE_CROP, FACE_CROP]);
      const y = input("onehot", [P, P]);
      // Batch-centred, as the BatchNorm after ArcFace's FC does: without it the shared component of all
      // embeddings dominated (every pair at cosine ~0.97 after 200 steps) and the margin loss had nothing to grip.
      const raw = m.net.single(x);
      const emb = ops.sub(raw, ops.mean(raw, 0, true));
      const target = input("identities", [h.batch, IDENTITY_DIM]);
      const idLoss = ops.mean(ops.square(ops.sub(m.idHead.call(raw), target)));
      const first = ops.slice(emb, 0, 0, P);
      const second = ops.slice(emb, 0, P, h.batch);
      const cos = cosines(first, second);
      const cosT = cos.transpose([1, 0]);
      const margin = input("margin", []);
      const opts = { scale: h.scale, margin };
      const both = (f: (c: Tensor) => { loss: Tensor; targetCos: Tensor }) => {
        const [a, b] = [f(cos), f(cosT)];
        return { loss: ops.mul(ops.add(a.loss, b.loss), 0.5), targetCos: a.targetCos };
      };
      const total = (r: { loss: Tensor }) => ops.add(r.loss, ops.mul(idLoss, h.idWeight));
      if (spec.loss === "arcface") {
        const r = both((c) => arcfaceLoss(c, y, opts));
        return { inputs: [x, target, y, margin], loss: total(r), metrics: { margin_loss: r.loss, id_mse: idLoss, target_cos: r.targetCos } };
      }
      const t = input("curricular_t", []);
      const r = both((c) => curricularLoss(c, y, t, opts));
      return { inputs: [x, target, y, margin, t], loss: total(r), metrics: { margin_loss: r.loss, id_mse: idLoss, target_cos: r.targetCos } };
    },
    batch(step, h) {
      const b = faceTrainBatch(step, h);
      return [b.crops, b.identities, eye(h.batch / 2), HostTensor.scalar(rampedMargin(h.margin, step, h.marginRamp))];
    },
    ...(spec.loss === "curricular"
      ? {
          initialState: (): RecipeState => ({ t: 0 }),
          stateFeeds: (s: RecipeState) => [HostTensor.scalar(s.t ?? 0)],
          afterStep: (metrics: Readonly<Record<string, number>>, s: RecipeState) => void (s.t = updateCurricularT(s.t ?? 0, metrics.target_cos!)),
        }
      : {}),
    async export(model, h, dir) {
      const net = (model as FaceTrainer).net;
      await foldDataMean(net, h);
      const path = join(dir, `${spec.name}.onnx`);
      await exportFaceNet(net, path);
      return [path];
    },
  };
}

/** Writes a FaceNet as an ArcFace-contract ONNX file: input 'input.1' [1, 3, S, S], output 'embedding' [1, D]. */
export async function exportFaceNet(net: FaceNet, path: string): Promise<void> {
  const S = net.config.inputSize;
  const x = input("input.1", [1, 3, S, S]);
  const out: Tensor = net.call(x);
  const metadata = net.config.flipTest ? { [FLIP_TEST_KEY]: "1" } : undefined;
  await saveOnnx(path, { inputs: [x], outputs: [out], name: "world_face_net", params: net.parameters(), metadata });
}

/**
 * Training compared batch-centred embeddings; a single photo has no batch, so the mean embedding of training
 * crops is subtracted once, inside the net (from the final LayerNorm's bias), before export.
 */
async function foldDataMean(net: FaceNet, h: FaceHyper): Promise<void> {
  // Random identities: the mean of the data, not of neighbour groups.
  const crops = faceTrainBatch(1_000_000, { ...h, batch: 256, hardGroup: 1 }).crops;
  const x = input("crops", crops.shape);
  const [emb] = await evaluate([net.call(x)], [x], [crops]);
  const D = net.config.embedDim;
  const n = crops.shape[0]!;
  const bias = net.norm.bias!.get().clone();
  for (let d = 0; d < D; d++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += emb!.get(i * D + d);
    bias.data[d] = bias.get(d) - s / n;
  }
  net.norm.bias!.set(bias);
}

function eye(n: number): HostTensor<"float32"> {
  const t = HostTensor.f32([n, n]);
  for (let i = 0; i < n; i++) t.data[i * n + i] = 1;
  return t;
}
