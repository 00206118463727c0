/**
 * Trains one of the toy tasks end to end with the engine (traced loss + gradients on ONNX Runtime, AdamW on
 * the host), with checkpoint/resume. Used by tests and by `pulid demo --toy`.
 */
import { Rng } from "../../engine/rng.ts";
import { AdamW } from "../optim/adamw.ts";
import { cosineLr } from "../optim/schedule.ts";
import { clipGradNorm } from "../optim/optimizer.ts";
import { TrainStep } from "../train-step.ts";
import { saveCheckpoint, loadCheckpoint } from "../checkpoint.ts";
import { evaluate } from "../../engine/compile.ts";
import type { Module } from "../module.ts";
import type { HostTensor } from "../../engine/host-tensor.ts";
import {
  BarNet,
  TinyTransformer,
  barBatch,
  sameEndsBatch,
  classifierGraph,
  oneHot,
  argmaxRows,
  BAR_CLASSES,
  BAR_SIZE,
  SEQ_LEN,
} from "./toy-tasks.ts";

export type ToyTask = "bars" | "same-ends";

export interface ToyOptions {
  task: ToyTask;
  steps: number;
  batch?: number;
  lr?: number;
  seed?: number;
  /** Stop (after saving a checkpoint, if a path is given) once this many steps are done. */
  stopAfter?: number;
  checkpointPath?: string;
  resume?: boolean;
  onStep?: (step: number, loss: number) => void;
}

export interface ToyResult {
  model: Module;
  /** The optimizer as the run left it (its state is what a checkpoint saves). */
  optimizer: AdamW;
  step: number;
  /** One loss per step this call ran (after a resume: only the remaining steps). */
  losses: number[];
}

function makeTask(task: ToyTask) {
  if (task === "bars") {
    return {
      model: new BarNet() as Module & { forward(x: any): any },
      k: BAR_CLASSES,
      shape: (b: number) => [b, 1, BAR_SIZE, BAR_SIZE],
      dtype: "float32" as const,
      batch: (rng: Rng, b: number) => {
        const d = barBatch(rng, b);
        return { x: d.images, labels: d.labels };
      },
    };
  }
  return {
    model: new TinyTransformer() as Module & { forward(x: any): any },
    k: 2,
    shape: (b: number) => [b, SEQ_LEN],
    dtype: "int64" as const,
    batch: (rng: Rng, b: number) => {
      const d = sameEndsBatch(rng, b);
      return { x: d.ids, labels: d.labels };
    },
  };
}

export async function trainToy(o: ToyOptions): Promise<ToyResult> {
  const seed = o.seed ?? 0;
  const batch = o.batch ?? 32;
  const t = makeTask(o.task);
  t.model.initialize(seed);
  const dataRng = new Rng(seed + 1);
  const opt = new AdamW(t.model.parameters(), { weightDecay: 0.01 });
  const schedule = cosineLr(o.lr ?? 1e-2, o.steps, Math.min(10, o.steps / 10));
  let step = 0;
  if (o.resume && o.checkpointPath) {
    step = loadCheckpoint(o.checkpointPath, { model: t.model, optimizer: opt, rng: dataRng }).step;
  }
  const g = classifierGraph(t.model, t.shape(batch), t.dtype, t.k);
  const trainStep = new TrainStep(t.model, [g.x, g.y], g.loss);
  const losses: number[] = [];
  try {
    while (step < o.steps) {
      const d = t.batch(dataRng, batch);
      const r = await trainStep.run([d.x, oneHot(d.labels, t.k)]);
      clipGradNorm(r.grads, 1.0);
      opt.step(r.grads, schedule(step));
      step++;
      losses.push(r.loss);
      o.onStep?.(step, r.loss);
      if (o.stopAfter !== undefined && step >= o.stopAfter) break;
    }
  } finally {
    await trainStep.dispose();
  }
  if (o.checkpointPath) await saveCheckpoint(o.checkpointPath, { model: t.model, optimizer: opt, step, rng: dataRng });
  return { model: t.model, optimizer: opt, step, losses };
}

/** Accuracy of a trained toy model on `n` fresh examples drawn from `seed`. */
export async function toyAccuracy(task: ToyTask, model: Module, n = 256, seed = 12345): Promise<number> {
  const t = makeTask(task);
  const d = t.batch(new Rng(seed), n);
  const g = classifierGraph(model as Module & { forward(x: any): any }, t.shape(n), t.dtype, t.k);
  const [logits] = await evaluate([g.logits], [g.x], [d.x as HostTensor]);
  const pred = argmaxRows(logits!);
  return pred.filter((p, i) => p === d.labels[i]).length / n;
}
