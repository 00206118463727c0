/**
 * The one training loop every world recipe runs: AdamW with warm-up + cosine decay and gradient clipping, a JSONL
 * log of every step, atomic checkpoints (model, optimizer, step, recipe state, wall time), bit-exact resume, a
 * loss-curve PNG, and the recipe's export at the end.
 *
 * With `emaDecay` the loop also keeps a moving average of the weights (`WeightEma`), checkpoints it, and exports
 * it in place of the last weights.
 *
 * A run folder holds: recipe.json (every hyper-parameter and the data seed), log.jsonl, checkpoint.safetensors,
 * loss.png, and export/ once training is done.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AdamW } from "../../nn/optim/adamw.ts";
import { WeightEma } from "../../nn/optim/ema.ts";
import { clipGradNorm } from "../../nn/optim/optimizer.ts";
import { cosineLr } from "../../nn/optim/schedule.ts";
import { TrainStep } from "../../nn/train-step.ts";
import { loadCheckpoint, saveCheckpoint } from "../../nn/checkpoint.ts";
import type { Module } from "../../nn/module.ts";
import { PulidError } from "../../engine/errors.ts";
import { writeFileAtomicSync } from "../../engine/atomic-write.ts";
import type { BaseHyper, Recipe, RecipeState } from "./recipe.ts";
import { smoothCurve, writeCurvePng, type CurvePoint } from "./loss-curve.ts";
import { appendLogLine, readLog, truncateLog } from "./run-log.ts";

export interface StepInfo {
  step: number;
  total: number;
  loss: number;
  lr: number;
  metrics: Readonly<Record<string, number>>;
  /** Seconds spent training in this run folder, resumed runs included. */
  wallSeconds: number;
}

export interface TrainRunOptions<H extends BaseHyper> {
  /** Run folder (created if missing). */
  out: string;
  /** Continue from out/checkpoint.safetensors with the hyper-parameters recorded in out/recipe.json. */
  resume?: boolean;
  /** Changes to the recipe's defaults (fresh runs only). */
  overrides?: Partial<H>;
  /** Stop (after a checkpoint) once this many steps are done in total, as an interruption would. */
  stopAfter?: number;
  /** Set to stop at the next step boundary (a checkpoint is written first). */
  signal?: AbortSignal;
  onStep?(info: StepInfo): void;
  /** Called once with the step the run starts from (0, or the checkpoint's). */
  onStart?(step: number, h: H): void;
}

export interface TrainRunResult<H extends BaseHyper> {
  model: Module;
  hyper: H;
  step: number;
  /** True when every step of the recipe is done and the export was written. */
  finished: boolean;
  wallSeconds: number;
  /** Files written by the recipe's export (empty unless finished). */
  exported: string[];
}

export const RUN_FILES = {
  recipe: "recipe.json",
  log: "log.jsonl",
  checkpoint: "checkpoint.safetensors",
  curve: "loss.png",
  export: "export",
} as const;

/** Trains `recipe` in the run folder `o.out`. */
export async function trainRecipe<H extends BaseHyper>(recipe: Recipe<H>, o: TrainRunOptions<H>): Promise<TrainRunResult<H>> {
  mkdirSync(o.out, { recursive: true });
  const paths = {
    recipe: join(o.out, RUN_FILES.recipe),
    log: join(o.out, RUN_FILES.log),
    ckpt: join(o.out, RUN_FILES.checkpoint),
    curve: join(o.out, RUN_FILES.curve),
    export: join(o.out, RUN_FILES.export),
  };
  const h = resolveHyper(recipe, o, paths);
  const model = recipe.createModel(h);
  model.initialize(h.seed);
  model.bindNames();
  const opt = new AdamW(model.trainableParameters(), { weightDecay: h.weightDecay });
  const ema = h.emaDecay ? new WeightEma(model.trainableParameters(), h.emaDecay) : undefined;
  const schedule = cosineLr(h.lr, h.steps, h.warmup, h.lr * h.minLrRatio);
  let state: RecipeState = recipe.initialState?.(h) ?? {};
  let step = 0;
  let wallBefore = 0;
  if (o.resume) {
    const c = loadCheckpoint(paths.ckpt, { model, optimizer: opt, ema });
    step = c.step;
    state = { ...state, ...((c.extra.state as RecipeState | undefined) ?? {}) };
    wallBefore = Number(c.extra.wallSeconds ?? 0);
    truncateLog(paths.log, step);
  } else {
    writeFileAtomicSync(paths.log, "");
  }
  o.onStart?.(step, h);

  const g = recipe.graph(model, h);
  const metricNames = Object.keys(g.metrics ?? {});
  const trainStep = new TrainStep(model, g.inputs, g.loss, metricNames.map((k) => g.metrics![k]!), recipe.stepSession?.(h));
  const t0 = performance.now();
  const wall = () => wallBefore + (performance.now() - t0) / 1000;
  const save = () => saveCheckpoint(paths.ckpt, { model, optimizer: opt, ema, step, extra: { state, wallSeconds: wall(), recipe: recipe.name } });
  const last = Math.min(h.steps, o.stopAfter ?? h.steps);
  try {
    let next = step < last ? await recipe.batch(step, h) : null;
    while (step < last && next) {
      const feeds = [...next, ...(recipe.stateFeeds?.(state) ?? [])];
      const pending = trainStep.run(feeds);
      // Build the next batch while ONNX Runtime's threads run the step.
      const building = step + 1 < last ? recipe.batch(step + 1, h) : null;
      const [r, built] = await Promise.all([pending, building]);
      next = built;
      const lr = schedule(step);
      if (h.clip > 0) clipGradNorm(r.grads, h.clip);
      opt.step(r.grads, lr);
      ema?.update();
      step++;
      const metrics = Object.fromEntries(metricNames.map((k, i) => [k, r.extras[i]!.get(0)]));
      recipe.afterStep?.(metrics, state);
      if (!Number.isFinite(r.loss)) {
        throw new PulidError("train_diverged", `${recipe.name}: loss is ${r.loss} at step ${step}; the last checkpoint (${paths.ckpt}) is intact`);
      }
      appendLogLine(paths.log, { step, loss: r.loss, lr, ...metrics, t: Number(wall().toFixed(2)) });
      o.onStep?.({ step, total: h.steps, loss: r.loss, lr, metrics, wallSeconds: wall() });
      if (step % h.checkpointEvery === 0 || step === last || o.signal?.aborted) {
        await save();
        await drawCurve(paths.log, paths.curve, recipe.name);
      }
      if (o.signal?.aborted) break;
    }
  } finally {
    await trainStep.dispose();
    await recipe.dispose?.();
  }
  const finished = step >= h.steps;
  let exported: string[] = [];
  if (finished) {
    mkdirSync(paths.export, { recursive: true });
    const restore = ema?.swapIn();
    try {
      exported = await recipe.export(model, h, paths.export);
    } finally {
      restore?.();
    }
  }
  return { model, hyper: h, step, finished, wallSeconds: wall(), exported };
}

/** The hyper-parameters of this run: recorded ones on resume, defaults + overrides (then recorded) otherwise. */
function resolveHyper<H extends BaseHyper>(recipe: Recipe<H>, o: TrainRunOptions<H>, paths: { recipe: string; ckpt: string }): H {
  if (o.resume) {
    if (!existsSync(paths.ckpt)) {
      throw new PulidError("no_checkpoint", `${o.out}: nothing to resume (no ${RUN_FILES.checkpoint}); start without --resume`);
    }
    const rec = JSON.parse(readFileSync(paths.recipe, "utf8")) as { recipe: string; hyper: H };
    if (rec.recipe !== recipe.name) {
      throw new PulidError("wrong_recipe", `${o.out}: this run folder trains '${rec.recipe}', not '${recipe.name}'`);
    }
    const changed = Object.entries(o.overrides ?? {}).filter(([k, v]) => v !== undefined && (rec.hyper as Record<string, unknown>)[k] !== v);
    if (changed.length) {
      throw new PulidError("resume_changed", `${o.out}: cannot change ${changed.map(([k]) => k).join(", ")} when resuming (recorded in ${RUN_FILES.recipe})`);
    }
    // A hyper-parameter added after the run was recorded takes its default (defaults keep earlier behaviour).
    return { ...recipe.defaults, ...rec.hyper };
  }
  if (existsSync(paths.ckpt)) {
    throw new PulidError("run_exists", `${o.out} already holds a run (${RUN_FILES.checkpoint}); pass --resume to continue it or choose another --out`);
  }
  const h = { ...recipe.defaults, ...definedOnly(o.overrides ?? {}) } as H;
  checkHyper(recipe.name, h);
  writeFileAtomicSync(paths.recipe, JSON.stringify({ recipe: recipe.name, summary: recipe.summary, hyper: h }, null, 2) + "\n");
  return h;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkHyper(name: string, h: BaseHyper): void {
  const positiveInts: (keyof BaseHyper)[] = ["steps", "batch", "checkpointEvery"];
  for (const k of positiveInts) {
    if (!Number.isInteger(h[k]) || (h[k] as number) < 1) throw new PulidError("bad_hyper", `${name}: ${k} must be a positive integer, got ${h[k]}`);
  }
  if (!(h.lr > 0)) throw new PulidError("bad_hyper", `${name}: lr must be positive, got ${h.lr}`);
  if (h.emaDecay !== undefined && h.emaDecay !== 0 && !(h.emaDecay > 0 && h.emaDecay < 1)) throw new PulidError("bad_hyper", `${name}: emaDecay must be 0 (off) or in (0, 1), got ${h.emaDecay}`);
}

async function drawCurve(logPath: string, pngPath: string, title: string): Promise<void> {
  const rows = readLog(logPath);
  const every = Math.max(1, Math.floor(rows.length / 200));
  const points: CurvePoint[] = rows.map((r) => ({ step: r.step, series: "loss", value: r.loss }));
  await writeCurvePng(pngPath, smoothCurve(points, every), `${title}: training loss`);
}

