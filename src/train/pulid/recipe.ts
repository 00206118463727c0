/**
 * PuLID training as a recipe of the shared harness (train/harness: AdamW + warm-up + cosine, clipping, JSONL of
 * every loss term, atomic checkpoints, bit-exact resume, loss.png, export).
 *
 * Usage (the CLI wraps this):
 *   const r = pulidRecipe(tinySource());
 *   await trainRecipe(r, { out: "runs/pulid-stage1", overrides: { stage: 1, steps: 10 } });
 *   // stage 2 from stage 1's adapter:
 *   await trainRecipe(r, { out: "runs/pulid-stage2", overrides: { stage: 2, from: "runs/pulid-stage1/export/pulid_v1.safetensors" } });
 *
 * The model the harness optimises is the {@link PulidAdapter} only (ID encoder + id_to_k/id_to_v); the frozen
 * networks come from the `PulidSource` and are traced as constants. Each stage starts from the previous stage's
 * adapter (`from`), as the paper's stages do.
 */
import { join } from "node:path";
import type { BaseHyper, Recipe } from "../harness/recipe.ts";
import { PulidError } from "../../engine/errors.ts";
import { PulidAdapter, saveAdapter } from "./adapter.ts";
import { buildStageGraph, type PulidFrozen, type StageSettings } from "./stage-graph.ts";
import { orderFeeds, type StageData } from "./stage-data.ts";
import { ADAPTER_FILES } from "../../pulid/layout.ts";
import { SampleGrid, SAMPLE_DATA_STEP } from "./samples.ts";
import { envOptimization } from "../../engine/session.ts";

/** Every hyper-parameter of a PuLID stage (recorded in recipe.json). */
export interface PulidHyper extends BaseHyper, StageSettings {
  /** Adapter file to start from (published layout; "" = fresh). Stage 2 starts from stage 1's, 3 from 2's. */
  from: string;
  /** Draw the ID condition from another image of the same identity instead of the trained image itself. */
  idFromOtherImage: boolean;
  /** --config world: draw every trained image at this framing (e.g. close-up, where the face fills the latent); "" = sampled. */
  targetFraming: string;
  /** Decay of the harness's moving average of the adapter's weights (0 = none); the export is the average. */
  emaDecay: number;
  /** Training image side in pixels (0 = the base UNet's native size; the world always trains at its 64). */
  resolution: number;
  /** Steps between sample grids (0 = none); rows of the grid. */
  sampleEvery: number;
  sampleRows: number;
}

/** The recipe plus the run's sample grid (the CLI calls it every `sampleEvery` steps). */
export interface PulidRecipe extends Recipe<PulidHyper> {
  /** Writes a grid (rows: fixed ID conditions and prompts; columns: the student without / with the ID). */
  writeSamples(path: string, h: PulidHyper): Promise<void>;
}

/** Where the frozen networks and the data come from (tiny: built in code; world: models/world/). */
export interface PulidSource {
  readonly name: string;
  /** Opens (once) the frozen networks. */
  frozen(h: PulidHyper): PulidFrozen;
  /**
   * Step `step`'s data: a pure function of (h.dataSeed, step) and, for a source that detects the faces of the
   * Lightning rollout on the host (sdxl), of the adapter's current weights.
   */
  data(step: number, h: PulidHyper, f: PulidFrozen, adapter?: PulidAdapter): StageData | Promise<StageData>;
  dispose?(): Promise<void>;
}

/** The paper's published weights (pulid-paper.md 1.5) and defaults sized for this machine. */
export const PULID_DEFAULTS: PulidHyper = {
  steps: 300, batch: 4, lr: 1e-4, warmup: 20, minLrRatio: 0.1, weightDecay: 0.01, clip: 1, seed: 81, dataSeed: 801, checkpointEvery: 25,
  stage: 1, naiveIdLoss: false, lambdaId: 1.0, lambdaAlignSem: 0.6, lambdaAlignLayout: 0.1,
  backpropSteps: 4, checkpointBlocks: false, faceThreshold: 0.5, faceLossWeight: 0, vLossCap: 0, diffusionUnet: "base",
  from: "", idFromOtherImage: false, targetFraming: "", emaDecay: 0, resolution: 0, sampleEvery: 50, sampleRows: 4,
};

/** The file name of the exported adapter (the models layout's converted-v1 slot). */
export const ADAPTER_EXPORT = ADAPTER_FILES[2]!.path;

/** Checks the stage settings. @throws PulidError `bad_hyper` naming the field. */
export function checkStage(h: PulidHyper): void {
  if (![1, 2, 3].includes(h.stage)) throw new PulidError("bad_hyper", `stage must be 1, 2 or 3, got ${h.stage}`);
  if (h.naiveIdLoss && h.stage !== 2) throw new PulidError("bad_hyper", `the naive ID loss replaces stage 2's Lightning ID loss: use it with stage 2, not ${h.stage}`);
  if (h.diffusionUnet !== "base" && h.diffusionUnet !== "student") throw new PulidError("bad_hyper", `diffusionUnet must be 'base' or 'student', got '${String(h.diffusionUnet)}'`);
  if (!(h.faceLossWeight >= 0) || !Number.isFinite(h.faceLossWeight)) throw new PulidError("bad_hyper", `faceLossWeight must be a finite number >= 0, got ${h.faceLossWeight}`);
  if (!(h.vLossCap === 0 || h.vLossCap >= 1) || !Number.isFinite(h.vLossCap)) throw new PulidError("bad_hyper", `vLossCap must be 0 (none) or a number >= 1, got ${h.vLossCap}`);
  if (!Number.isInteger(h.backpropSteps) || h.backpropSteps < 1 || h.backpropSteps > 4) throw new PulidError("bad_hyper", `backpropSteps must be 1..4, got ${h.backpropSteps}`);
}

/** The PuLID stage recipe over a source of frozen networks and data. */
export function pulidRecipe(source: PulidSource, defaults: Partial<PulidHyper> = {}): PulidRecipe {
  let opened: PulidFrozen | null = null;
  let adapter: PulidAdapter | null = null;
  let grid: SampleGrid | null = null;
  // Grids are written one after another, beside training (they only read the weights); dispose waits for them.
  let queue: Promise<void> = Promise.resolve();
  let names: string[] = [];
  // The harness's createModel is synchronous, so the frozen networks open synchronously (once per recipe).
  const openSync = (h: PulidHyper): PulidFrozen => (opened ??= source.frozen(h));
  return {
    name: `pulid-${source.name}`,
    summary: "PuLID stages 1-3: L_diff, + Lightning ID loss through a 4-step rollout, + contrastive alignment",
    defaults: { ...PULID_DEFAULTS, ...defaults },
    createModel(h) {
      checkStage(h);
      const f = openSync(h);
      return (adapter = new PulidAdapter(f.encoder, f.student, h.from));
    },
    graph(model, h) {
      const g = buildStageGraph(model as PulidAdapter, openSync(h), h);
      names = g.names;
      return { inputs: g.inputs, loss: g.loss, metrics: g.metrics };
    },
    async batch(step, h) {
      return orderFeeds(names, await source.data(step, h, openSync(h), adapter ?? undefined));
    },
    writeSamples(path, h) {
      const model = adapter;
      if (!model) return Promise.reject(new PulidError("no_model", "writeSamples: the recipe has not created its model yet"));
      const run = async () => {
        const f = openSync(h);
        grid ??= new SampleGrid(model, f, h.sampleRows);
        // Stage 1 data: the grid needs no landmarks, and a host-side face search would cost a rollout.
        await grid.write(path, await source.data(SAMPLE_DATA_STEP, { ...h, stage: 1, batch: h.sampleRows }, f, model));
      };
      const done = queue.then(run);
      queue = done.catch(() => {});
      return done;
    },
    async dispose() {
      await queue;
      const g = grid;
      grid = null;
      await g?.dispose();
      await source.dispose?.();
    },
    // ONNX Runtime's optimiser off unless PULID_ORT_OPT says otherwise: with it on, creating the step's session
    // grows ~quadratically with the graph (the guard on 16-bit weight casts, engine/session.ts). Measured
    // 2026-12-02: a world stage-2 step compiled in 41 s with it and 5 s without, then ran 0.78 vs 0.81 s a step
    // (the two totals meet at ~1,200 steps); the tiny --config sdxl test's single step went from 140 s to 25 s.
    stepSession: () => ({ graphOptimization: envOptimization() ?? "disabled" }),
    async export(model, _h, dir) {
      const path = join(dir, ADAPTER_EXPORT);
      await saveAdapter(model as PulidAdapter, path);
      return [path];
    },
  };
}
