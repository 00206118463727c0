/**
 * The recipe shared by the world's two CLIPs (clip-id.ts, clip-metric.ts pick configs and seeds): an EVA02 image
 * tower and a CLIP text tower trained with open_clip's symmetric contrastive loss (InfoNCE over the batch, both
 * directions, learned temperature) on whole train-split images and their captions.
 *
 * Departure, measured: on this CPU a pure contrastive run sees ~15k pairs in its time budget and reached only
 * ~0.15 in-batch top-1 after 180 steps. The image embedding therefore also feeds a training-only linear head that
 * predicts the image's attributes (the judge's labels; weight `auxWeight`): dense labels teach the tower what
 * the captions talk about much faster than 1-of-32 discrimination. Only the CLIP itself is exported.
 *
 * Export, one folder per model, each part readable by the real loaders:
 *   <name>/visual/config.json         open_clip model config { embed_dim, vision_cfg }   (parseEvaConfig)
 *   <name>/visual/model.safetensors   visual.* + logit_scale, fp16                       (loadEvaVisual)
 *   <name>/text_encoder/              config.json + model.safetensors, transformers CLIPTextModelWithProjection
 *                                     keys, fp16                                         (loadClipTextEncoder)
 *   <name>/tokenizer/                 vocab.json, merges.txt, tokenizer_config.json      (ClipTokenizer.fromFolder)
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { input, constant, type Tensor } from "../../engine/tensor.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import * as ops from "../../engine/ops.ts";
import { writeFileAtomic } from "../../engine/atomic-write.ts";
import { saveSafetensors } from "../../engine/io/safetensors.ts";
import { Module } from "../../nn/module.ts";
import { Linear } from "../../nn/layers.ts";
import { LOGIT_SCALE_INIT, WorldClip, type WorldClipConfig } from "../../models/world/clip.ts";
import { l2Normalize } from "../../models/eva/vision-transformer.ts";
import { judgeLayout } from "../../models/world/judge.ts";
import { WORLD_JUDGE_LABELS, judgeTargets } from "./judge-data.ts";
import { worldClipTokenizerFiles } from "../../world/clip-vocab.ts";
import { loadInitWeights } from "../harness/init-from.ts";
import type { BaseHyper, Recipe } from "../harness/recipe.ts";
import { CLIP_CONTEXT, clipPairs } from "./clip-data.ts";

export interface ClipHyper extends BaseHyper {
  /** Share of photo-style images (the world's default draw is 0.4). */
  photoShare: number;
  /** Weight of the auxiliary attribute loss on the image embedding (0: contrastive only). */
  auxWeight: number;
  /**
   * Start from the model weights of another run's checkpoint (its path; "" = from scratch): a second, shorter
   * schedule when the first one ran out of time. The chain is recorded in each run's recipe.json.
   */
  initFrom?: string;
}

/** The CLIP plus its training-only attribute head. */
export class ClipTrainer extends Module {
  clip: WorldClip;
  aux: Linear;
  constructor(config: WorldClipConfig, readonly initFrom = "") {
    super();
    this.clip = new WorldClip(config);
    this.aux = new Linear(config.vision.embed_dim, judgeLayout(WORLD_JUDGE_LABELS).total);
  }
  override initialize(seed = 0): this {
    super.initialize(seed);
    this.clip.logit_scale.set(HostTensor.scalar(LOGIT_SCALE_INIT));
    if (this.initFrom) loadInitWeights(this, this.initFrom);
    return this;
  }
}

export interface ClipRecipeSpec {
  name: string;
  summary: string;
  config: WorldClipConfig;
  defaults: ClipHyper;
}

/** Sum over attributes of the mean cross-entropy (one softmax per single-valued attribute, sigmoids for accessories). */
function attributeLoss(logits: Tensor, y: Tensor, b: number, L: ReturnType<typeof judgeLayout>): Tensor {
  let loss: Tensor | null = null;
  for (const [o, n] of Object.values(L.heads)) {
    const ce = ops.div(ops.neg(ops.sum(ops.mul(ops.slice(y, 1, o, o + n), ops.logSoftmax(ops.slice(logits, 1, o, o + n), 1)))), b);
    loss = loss ? ops.add(loss, ce) : ce;
  }
  const [o, n] = L.multi;
  const z = ops.slice(logits, 1, o, o + n);
  return ops.add(loss!, ops.div(ops.sum(ops.sub(ops.softplus(z), ops.mul(ops.slice(y, 1, o, o + n), z))), b));
}

/** Mean cross-entropy of each row of logits [B, B] against the diagonal. */
function diagonalCe(logits: Tensor, eye: Tensor, b: number): Tensor {
  return ops.div(ops.neg(ops.sum(ops.mul(eye, ops.logSoftmax(logits, 1)))), b);
}

export function clipRecipe(spec: ClipRecipeSpec): Recipe<ClipHyper> {
  const size = spec.config.vision.image_size;
  return {
    name: spec.name,
    summary: spec.summary,
    defaults: spec.defaults,
    createModel: (h) => new ClipTrainer(spec.config, h.initFrom ?? ""),
    graph(model, h) {
      const t = model as ClipTrainer;
      const m = t.clip;
      const x = input("images", [h.batch, 3, size, size]);
      const ids = input("input_ids", [h.batch, CLIP_CONTEXT], "int64");
      const L = judgeLayout(WORLD_JUDGE_LABELS);
      const y = input("attributes", [h.batch, L.total]);
      const raw = m.visual.call(x, []).embedding;
      const img = l2Normalize(raw);
      const txt = m.encodeText(ids);
      const logits = ops.mul(ops.matmul(img, ops.transpose(txt, [1, 0])), m.scale()); // [B, B] image x text
      const eyeData = HostTensor.f32([h.batch, h.batch]);
      for (let i = 0; i < h.batch; i++) eyeData.data[i * h.batch + i] = 1;
      const eye = constant(eyeData);
      const contrastive = ops.div(ops.add(diagonalCe(logits, eye, h.batch), diagonalCe(ops.transpose(logits, [1, 0]), eye, h.batch)), 2);
      const aux = attributeLoss(t.aux.call(raw), y, h.batch, L);
      const z = ops.stopGradient(logits);
      const top1 = ops.div(ops.sum(ops.mul(eye, ops.cast(ops.equal(z, ops.max(z, 0, true)), "float32"))), h.batch); // text -> image
      return {
        inputs: [x, ids, y],
        loss: ops.add(contrastive, ops.mul(aux, h.auxWeight)),
        metrics: { contrastive, aux, text_to_image_top1: top1, logit_scale: ops.stopGradient(m.scale()) },
      };
    },
    batch(step, h) {
      const p = clipPairs("train", h.dataSeed, step * h.batch, h.batch, { photoShare: h.photoShare, size });
      const total = judgeLayout(WORLD_JUDGE_LABELS).total;
      const y = HostTensor.f32([h.batch, total]);
      p.attributes.forEach((a, i) => judgeTargets(a, y.data, i * total));
      return [p.images, p.ids, y];
    },
    async export(model, _h, dir) {
      return exportWorldClip((model as ClipTrainer).clip, join(dir, spec.name));
    },
  };
}

const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o, null, 2) + "\n");

/** Writes the folder described at the top of this file; returns the paths. */
export async function exportWorldClip(m: WorldClip, root: string): Promise<string[]> {
  const out: string[] = [];
  const write = async (rel: string, bytes: Uint8Array) => {
    const p = join(root, rel);
    mkdirSync(join(p, ".."), { recursive: true });
    await writeFileAtomic(p, bytes);
    out.push(p);
  };
  const half = (entries: [string, { value(): HostTensor | null }][]) => Object.fromEntries(entries.map(([k, p]) => [k, p.value()!.cast("float16")]));
  m.bindNames();
  const named = m.namedParameters();
  const visual = half(named.filter(([k]) => k.startsWith("visual.") || k === "logit_scale"));
  const text = half(named.filter(([k]) => k.startsWith("text.")).map(([k, p]) => [k.slice("text.".length), p]));
  const { embed_dim, ...vision_cfg } = m.config.vision;
  await write("visual/config.json", json({ embed_dim, vision_cfg }));
  mkdirSync(join(root, "visual"), { recursive: true });
  await saveSafetensors(join(root, "visual/model.safetensors"), visual);
  out.push(join(root, "visual/model.safetensors"));
  await write("text_encoder/config.json", json({ ...m.config.text, architectures: ["CLIPTextModelWithProjection"], model_type: "clip_text_model" }));
  await saveSafetensors(join(root, "text_encoder/model.safetensors"), text);
  out.push(join(root, "text_encoder/model.safetensors"));
  for (const [f, body] of Object.entries(worldClipTokenizerFiles(CLIP_CONTEXT))) await write(`tokenizer/${f}`, new TextEncoder().encode(body));
  return out;
}
