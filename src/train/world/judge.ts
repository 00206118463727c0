/**
 * `judge`: the world's stand-in for a person's eye. A small CNN (models/world/judge.ts) trained with one
 * cross-entropy per single-valued attribute plus a binary cross-entropy per accessory, on whole train-split
 * images. Exported as `judge.safetensors` (fp16) + `judge.json` (config with the label layout), opened by
 * `loadJudge` / `openJudge`.
 *
 * With `faceBranch` (the default) the judge also reads a crop around the face (`JudgeConfig.face`): in training
 * the render's face box, jittered as a detector errs; at evaluation the world detector's box. A run from an
 * earlier judge without the branch (`initFrom` its checkpoint or its shipped judge.safetensors) keeps those
 * weights and starts the branch with a zero output projection, so it begins exactly where that judge was.
 */
import { join } from "node:path";
import { input, type Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { writeFileAtomic } from "../../engine/atomic-write.ts";
import { loadSafetensors, saveSafetensors } from "../../engine/io/safetensors.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { RUN_FILES } from "../harness/train-loop.ts";
import { loadInitWeights } from "../harness/init-from.ts";
import { CLIP_METRIC_CONFIG } from "./clip-metric.ts";
import { Judge, judgeLayout, type JudgeConfig } from "../../models/world/judge.ts";
import type { BaseHyper, Recipe } from "../harness/recipe.ts";
import { WORLD_JUDGE_LABELS, WORLD_SIZE, judgeTrainBatch } from "./judge-data.ts";

export interface JudgeHyper extends BaseHyper {
  photoShare: number;
  /**
   * "cnn" (default) or "eva": an EVA02 tower at clip-metric's config, started from a world CLIP's image tower
   * (`initFrom`, a visual/model.safetensors; clip-metric's, the evaluation-only CLIP), with the heads on its CLS.
   * `initFrom` may also be an earlier judge run's checkpoint.safetensors (a second schedule).
   */
  backbone?: "cnn" | "eva";
  initFrom?: string;
  /** Weight of the accessories' summed binary cross-entropy. */
  multiWeight: number;
  /** Whether the judge has the face branch (CNN backbone only). */
  faceBranch?: boolean;
  /** Weight of a head's cross-entropy (default 1), e.g. `{ "expression": 4 }` (the shipped judge's last run). */
  headWeights?: Record<string, number>;
  /**
   * Share of training images drawn as clean photo close-ups (`faceFocus` in judge-data.ts); default 0. With the
   * plain stream alone expression stayed at chance even at 4x its loss weight; with 0.4 of close-ups it learned.
   */
  focusShare?: number;
}

/** The whole-image CNN without the face branch (the first shipped judges). */
export const WORLD_JUDGE_WHOLE_CONFIG: JudgeConfig = { imageSize: WORLD_SIZE, widths: [32, 64, 96, 128], stemStride: 2, blocks: [1, 1, 1, 0], hidden: 256, ...WORLD_JUDGE_LABELS };

/**
 * The shipped judge's config: the whole-image CNN plus a face branch on 48 px crops, down to 3 x 3 (a close-up's
 * face square is ~60 px: at 32 px the 1-2 px strokes of an expression blurred away and expression stayed at
 * chance; at 48 px a probe learned it). The fifth stage keeps the flattened head small (models/world/ budget).
 */
export const WORLD_JUDGE_CONFIG: JudgeConfig = { ...WORLD_JUDGE_WHOLE_CONFIG, face: { size: 48, widths: [24, 48, 64, 96, 96], blocks: [1, 1, 1, 0, 0] } };

/** The transformer variant: clip-metric's image tower under the same heads. */
export const WORLD_JUDGE_EVA_CONFIG: JudgeConfig = { ...WORLD_JUDGE_WHOLE_CONFIG, widths: [], blocks: [], eva: CLIP_METRIC_CONFIG.vision };

/** A Judge that, after its random initialisation, takes its EVA tower from a CLIP's visual weights. */
class JudgeTrainer extends Judge {
  constructor(config: JudgeConfig, readonly initFrom: string) {
    super(config);
  }
  override initialize(seed = 0): this {
    super.initialize(seed);
    if (this.initFrom.endsWith(RUN_FILES.checkpoint) || this.initFrom.endsWith("judge.safetensors")) {
      // A further schedule from an earlier judge's weights (a run's checkpoint or the shipped file). The face
      // branch may be absent there, or have another crop size or depth: what fits is kept.
      const notLoaded = loadInitWeights(this, this.initFrom, { allowMissing: (k) => /^face(Stages|Fc)\./.test(k) });
      // Its output projection did not fit: it starts at zero, so the judge begins exactly where the earlier one was.
      if (this.faceFc && notLoaded.some((k) => k.startsWith("faceFc."))) this.faceFc.weight.set(HostTensor.f32([...this.faceFc.weight.shape]));
    } else if (this.initFrom && this.visual) {
      const t = loadSafetensors(this.initFrom);
      const visual = new Map([...t].filter(([k]) => k.startsWith("visual.")).map(([k, v]) => [k.slice(7), v.cast("float32")]));
      this.visual.loadStateDict(visual, { source: this.initFrom });
    }
    return this;
  }
}

/** The config a run trains: EVA or CNN, with or without the face branch. */
function judgeConfig(h: JudgeHyper): JudgeConfig {
  if (h.backbone === "eva") return WORLD_JUDGE_EVA_CONFIG;
  return h.faceBranch === false ? WORLD_JUDGE_WHOLE_CONFIG : WORLD_JUDGE_CONFIG;
}

export const judgeRecipe: Recipe<JudgeHyper> = {
  name: "judge",
  summary: "every non-identity attribute of a whole world image (stands for a person's eye)",
  defaults: {
    steps: 900, batch: 48, lr: 3e-3, warmup: 40, minLrRatio: 0.02, weightDecay: 1e-4, clip: 5, seed: 81, dataSeed: 801,
    checkpointEvery: 100, photoShare: 0.4, multiWeight: 1, faceBranch: true,
  },
  createModel: (h) => new JudgeTrainer(judgeConfig(h), h.initFrom ?? ""),
  graph(model, h) {
    const x = input("images", [h.batch, 3, WORLD_SIZE, WORLD_SIZE]);
    const L = judgeLayout(WORLD_JUDGE_CONFIG);
    const y = input("targets", [h.batch, L.total]);
    const face = judgeConfig(h).face;
    const f = face ? input("faces", [h.batch, 3, face.size, face.size]) : undefined;
    const logits = (model as Judge).call(x, f);
    const metrics: Record<string, Tensor> = {};
    let loss: Tensor | null = null;
    let correct: Tensor | null = null;
    for (const head of WORLD_JUDGE_CONFIG.heads) {
      const [o, n] = L.heads[head.name]!;
      const z = ops.slice(logits, 1, o, o + n);
      const t = ops.slice(y, 1, o, o + n);
      const ce = ops.div(ops.neg(ops.sum(ops.mul(t, ops.logSoftmax(z, 1)))), h.batch);
      const weighted = ops.mul(ce, h.headWeights?.[head.name] ?? 1);
      loss = loss ? ops.add(loss, weighted) : weighted;
      metrics[`${head.name}_ce`] = ce;
      const zs = ops.stopGradient(z);
      const hit = ops.div(ops.sum(ops.mul(t, ops.cast(ops.equal(zs, ops.max(zs, 1, true)), "float32"))), h.batch);
      correct = correct ? ops.add(correct, hit) : hit;
    }
    const [mo, mn] = L.multi;
    const z = ops.slice(logits, 1, mo, mo + mn);
    const t = ops.slice(y, 1, mo, mo + mn);
    const bce = ops.div(ops.sum(ops.sub(ops.softplus(z), ops.mul(t, z))), h.batch);
    metrics.head_acc = ops.div(correct!, WORLD_JUDGE_CONFIG.heads.length);
    metrics.multi_bce = bce;
    return { inputs: f ? [x, y, f] : [x, y], loss: ops.add(loss!, ops.mul(bce, h.multiWeight)), metrics };
  },
  batch: (step, h) => judgeTrainBatch(step, { ...h, faceSize: judgeConfig(h).face?.size }),
  async export(model, _h, dir) {
    const weights = join(dir, "judge.safetensors");
    const meta = join(dir, "judge.json");
    const tensors = Object.fromEntries(model.namedParameters().map(([k, p]) => [k, p.value()!.cast("float16")]));
    await saveSafetensors(weights, tensors);
    await writeFileAtomic(meta, new TextEncoder().encode(JSON.stringify({ config: (model as Judge).config }, null, 2) + "\n"));
    return [weights, meta];
  },
};
