/**
 * The recipe shared by the world's three face nets. Each net has its own file (face-id.ts, face-loss.ts,
 * face-metric.ts) that picks an architecture, a loss and a seed; this file trains any of them: a FaceNet plus a
 * matrix of class centres under a margin softmax (ArcFace or CurricularFace) over the first `classes` train
 * identities. Only the FaceNet is exported, as `<name>.onnx` with the ArcFace contract.
 */
import { join } from "node:path";
import { Module } from "../../nn/module.ts";
import { Parameter } from "../../nn/parameter.ts";
import { input, type Tensor } from "../../engine/tensor.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { saveOnnx } from "../../engine/onnx/save-onnx.ts";
import { FaceNet, type FaceNetConfig } from "../../models/world/face-net.ts";
import type { BaseHyper, Recipe, RecipeState } from "../harness/recipe.ts";
import { FACE_CROP, faceTrainBatch } from "./face-data.ts";
import { arcfaceLoss, cosines, curricularLoss, rampedMargin, updateCurricularT } from "./margin-loss.ts";

export interface FaceHyper extends BaseHyper {
  /** Number of train identities used as classes. */
  classes: number;
  /** Share of photo-style images in the data. */
  photoShare: number;
  /** Images of each identity in a batch (P x K sampling: every class in a batch gets K examples). */
  perIdentity: number;
  /** Landmark jitter in pixels (a detector's error). */
  jitter: number;
  /** Margin softmax scale s and margin m. */
  scale: number;
  margin: number;
  /** Steps over which the margin ramps up from 0. */
  marginRamp: number;
}

/** FaceNet + a free centre per class (the centres are training-only). */
export class FaceTrainer extends Module {
  net: FaceNet;
  centres: Parameter;
  constructor(config: FaceNetConfig, classes: number) {
    super();
    this.net = new FaceNet(config);
    this.centres = new Parameter([classes, config.embedDim], { kind: "normal", std: 0.01 });
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
    createModel: (h) => new FaceTrainer(spec.config, h.classes),
    graph(model, h) {
      const m = model as FaceTrainer;
      const x = input("crops", [h.batch, 3, FACE_CROP, FACE_CROP]);
      const y = input("onehot", [h.batch, h.classes]);
      const cos = cosines(m.net.call(x), m.centres.toTensor());
      const margin = input("margin", []);
      const opts = { scale: h.scale, margin };
      if (spec.loss === "arcface") {
        const r = arcfaceLoss(cos, y, opts);
        return { inputs: [x, y, margin], loss: r.loss, metrics: { target_cos: r.targetCos } };
      }
      const t = input("curricular_t", []);
      const r = curricularLoss(cos, y, t, opts);
      return { inputs: [x, y, margin, t], loss: r.loss, metrics: { target_cos: r.targetCos } };
    },
    batch(step, h) {
      const b = faceTrainBatch(step, h);
      return [b.crops, oneHot(b.labels, h.classes), HostTensor.scalar(rampedMargin(h.margin, step, h.marginRamp))];
    },
    ...(spec.loss === "curricular"
      ? {
          initialState: (): RecipeState => ({ t: 0 }),
          stateFeeds: (s: RecipeState) => [HostTensor.scalar(s.t ?? 0)],
          afterStep: (metrics: Readonly<Record<string, number>>, s: RecipeState) => void (s.t = updateCurricularT(s.t ?? 0, metrics.target_cos!)),
        }
      : {}),
    async export(model, _h, dir) {
      const net = (model as FaceTrainer).net;
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
  await saveOnnx(path, { inputs: [x], outputs: [out], name: "world_face_net", params: net.parameters() });
}

function oneHot(labels: readonly number[], k: number): HostTensor<"float32"> {
  const t = HostTensor.f32([labels.length, k]);
  labels.forEach((l, i) => (t.data[i * k + l] = 1));
  return t;
}
