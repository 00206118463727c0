/**
 * `parser`: the world's facexlib BiSeNet. The BiSeNet class of the real path at a small config, trained with
 * per-pixel cross-entropy on its main head (the auxiliary heads are optional: `auxWeight`; at 0, the default, the
 * shipped file's auxiliary heads keep their initial weights, and PuLID reads only the main head), on aligned crops
 * of train-split faces. Exported as `parser.safetensors` (fp16, BiSeNet key names, loaded by `loadBiSeNet`) plus
 * `parser.json`, the config and crop size the loader needs (`openWorldParser`).
 *
 * BatchNorm trains on batch statistics (as facexlib's BiSeNet was trained); before export the running statistics
 * are set from `calibration` further batches of the training stream (the batches' mean and variance averaged),
 * so the shipped file runs in BiSeNet's eval mode like the published one.
 */
import { join } from "node:path";
import { constant, input, type Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { writeFileAtomic } from "../../engine/atomic-write.ts";
import { saveSafetensors } from "../../engine/io/safetensors.ts";
import { BatchNorm2d, BiSeNet, type BiSeNetConfig } from "../../models/bisenet/index.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { compile } from "../../engine/compile.ts";
import type { BaseHyper, Recipe } from "../harness/recipe.ts";
import { withInitWeights } from "../harness/init-from.ts";
import { PARSER_CLASSES, WORLD_TO_CELEBA, parserTrainBatch } from "./parser-data.ts";
import { LABELS } from "../../world/render.ts";
import { PulidError } from "../../engine/errors.ts";

export interface ParserHyper extends BaseHyper {
  /** Side of the aligned crop (the 512 template scaled). */
  crop: number;
  photoShare: number;
  /** Landmark jitter in pixels (a detector's error). */
  jitter: number;
  identities: number;
  /** Weight of each auxiliary head's loss. */
  auxWeight: number;
  /** Batches used to set BatchNorm's running statistics before export. */
  calibration: number;
  /** Weights to start from (a second schedule): a parser run's checkpoint or a shipped `parser.safetensors`. */
  initFrom?: string;
  /**
   * Per-pixel loss weight of a world class (default 1), e.g. `{ "clothes": 4 }`: clothes are 1% of a crop's
   * pixels, a strip at its lower edge, and plain cross-entropy left them at IoU 0.47.
   */
  classWeights?: Partial<Record<(typeof LABELS)[number], number>>;
}

/** The shipped parser's BiSeNet config. */
export const WORLD_PARSER_CONFIG: BiSeNetConfig = { num_class: PARSER_CLASSES, resnet_widths: [16, 32, 64, 128], context_channels: 48, aux_mid_channels: 16 };

/** Mean cross-entropy per pixel: logits [B, C, H, W] against one-hot [B, C, H, W] (weighted per class if given). */
function pixelCe(logits: Tensor, onehot: Tensor, pixels: number, weights?: Tensor): Tensor {
  const target = weights ? ops.mul(onehot, weights) : onehot;
  return ops.div(ops.neg(ops.sum(ops.mul(target, ops.logSoftmax(logits, 1)))), pixels);
}

/** Per-pixel loss weights over the 19 CelebAMask-HQ ids, from weights by world class name; null if none. */
export function parserClassWeights(w: ParserHyper["classWeights"]): Float32Array | null {
  if (!w || !Object.keys(w).length) return null;
  const out = new Float32Array(PARSER_CLASSES).fill(1);
  for (const [name, v] of Object.entries(w)) {
    const k = LABELS.indexOf(name as (typeof LABELS)[number]);
    if (k < 0 || !(typeof v === "number" && v > 0)) {
      throw new PulidError("bad_hyper", `parser classWeights: "${name}": ${v} is not a positive weight of a world class (${LABELS.join(", ")})`);
    }
    out[WORLD_TO_CELEBA[k]!] = v;
  }
  return out;
}

export const parserRecipe: Recipe<ParserHyper> = {
  name: "parser",
  summary: "per-pixel class of the aligned face crop, CelebAMask-HQ ids (stands for facexlib BiSeNet)",
  defaults: {
    steps: 1200, batch: 16, lr: 4e-3, warmup: 40, minLrRatio: 0.02, weightDecay: 1e-4, clip: 5, seed: 51, dataSeed: 501,
    checkpointEvery: 100, crop: 96, photoShare: 0.5, jitter: 0.5, identities: 20000, auxWeight: 0, calibration: 24,
  },
  createModel(h) {
    const net = withInitWeights(new BiSeNet(WORLD_PARSER_CONFIG), h.initFrom);
    for (const bn of batchNorms(net)) bn.useBatchStats = true;
    return net;
  },
  graph(model, h) {
    const net = model as BiSeNet;
    const x = input("images", [h.batch, 3, h.crop, h.crop]);
    const y = input("onehot", [h.batch, PARSER_CLASSES, h.crop, h.crop]);
    const o = net.call(x);
    const n = h.batch * h.crop * h.crop;
    const w = parserClassWeights(h.classWeights);
    const weights = w ? constant(HostTensor.f32([1, PARSER_CLASSES, 1, 1], w)) : undefined;
    const main = pixelCe(o.out, y, n, weights);
    // Full-resolution cross-entropy over 19 classes costs as much as the convolutions; the auxiliary heads are
    // trained only when asked (auxWeight > 0), otherwise left out of the traced graph.
    const aux = h.auxWeight > 0 ? ops.mul(ops.add(pixelCe(o.out16, y, n, weights), pixelCe(o.out32, y, n, weights)), h.auxWeight) : 0;
    const logits = ops.stopGradient(o.out);
    const hit = ops.mul(y, ops.cast(ops.equal(logits, ops.max(logits, 1, true)), "float32"));
    return { inputs: [x, y], loss: ops.add(main, aux), metrics: { main, pixel_acc: ops.div(ops.sum(hit), n) } };
  },
  batch(step, h) {
    const b = parserTrainBatch(step, h);
    return [b.images, b.onehot];
  },
  async export(model, h, dir) {
    await calibrateBatchNorm(model as BiSeNet, h);
    const weights = join(dir, "parser.safetensors");
    const meta = join(dir, "parser.json");
    const tensors = Object.fromEntries(model.namedParameters().map(([k, p]) => [k, p.value()!.cast("float16")]));
    await saveSafetensors(weights, tensors);
    await writeFileAtomic(meta, new TextEncoder().encode(JSON.stringify({ config: WORLD_PARSER_CONFIG, size: h.crop }, null, 2) + "\n"));
    return [weights, meta];
  },
};

const batchNorms = (net: BiSeNet) => net.namedModules().map(([, m]) => m).filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);

/** Sets every BatchNorm's running mean and variance from batches after the training stream, then eval mode. */
async function calibrateBatchNorm(net: BiSeNet, h: ParserHyper): Promise<void> {
  const bns = batchNorms(net);
  for (const bn of bns) bn.useBatchStats = true;
  const x = input("images", [h.batch, 3, h.crop, h.crop]);
  net.call(x);
  const program = compile({ inputs: [x], outputs: bns.flatMap((bn) => [bn.batchStats!.mean, bn.batchStats!.var]), name: "bisenet_bn_stats" });
  await program.ready();
  const sums = bns.flatMap((bn) => [new Float64Array(bn.channels), new Float64Array(bn.channels)]);
  try {
    for (let i = 0; i < h.calibration; i++) {
      const outs = await program.run([parserTrainBatch(h.steps + i, h).images]);
      outs.forEach((o, j) => sums[j]!.forEach((_, c) => (sums[j]![c]! += o.get(c))));
    }
  } finally {
    await program.dispose();
  }
  bns.forEach((bn, j) => {
    bn.running_mean.set(HostTensor.f32([bn.channels], Float32Array.from(sums[2 * j]!, (v) => v / h.calibration)));
    bn.running_var.set(HostTensor.f32([bn.channels], Float32Array.from(sums[2 * j + 1]!, (v) => v / h.calibration)));
    bn.useBatchStats = false;
  });
}
