/**
 * A training recipe: everything one model's training needs, in one object the shared loop can run. The loop owns
 * what is common (optimizer, schedule, progress, JSONL log, checkpoints, resume, loss curve); a recipe owns the
 * model, its traced loss and its data.
 *
 * Data must be a pure function of (data seed, step): that is what makes a resumed run continue bit for bit
 * without saving any data-loader state.
 */
import type { Module } from "../../nn/module.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { HostTensor } from "../../engine/host-tensor.ts";
import type { SessionOptions } from "../../engine/session.ts";

/** Hyper-parameters every recipe has; recipes add their own keys. All JSON-able: they are written to recipe.json. */
export interface BaseHyper {
  /** Optimizer updates. */
  steps: number;
  batch: number;
  /** Peak learning rate (AdamW), reached after `warmup` steps, then cosine decay to `minLrRatio * lr`. */
  lr: number;
  warmup: number;
  minLrRatio: number;
  weightDecay: number;
  /** Global gradient-norm clip (0 = off). */
  clip: number;
  /** Weight initialisation seed. */
  seed: number;
  /** Seed of the data stream (batch of step s is a function of this and s). */
  dataSeed: number;
  /** Steps between checkpoints. */
  checkpointEvery: number;
  /**
   * Keep an exponential moving average of the weights with this decay (e.g. 0.999) and export the average
   * instead of the last weights; 0 or absent = off. Checkpoints carry the average, so resume keeps it.
   */
  emaDecay?: number;
}

/** The traced training graph of a recipe, built once per run. */
export interface TrainGraph {
  /** Graph inputs, fed in this order with the arrays `batch` returns. */
  inputs: readonly Tensor[];
  /** Scalar loss. */
  loss: Tensor;
  /** Scalars to log each step (accuracy, margins...), by name. */
  metrics?: Readonly<Record<string, Tensor>>;
}

/** Host-side state a recipe keeps across steps (e.g. CurricularFace's running t), saved in checkpoints. */
export type RecipeState = Record<string, number>;

export interface Recipe<H extends BaseHyper = BaseHyper> {
  /** Model name, e.g. "face-id". */
  readonly name: string;
  readonly summary: string;
  readonly defaults: H;
  /** Builds the model (parameters initialised from `h.seed`). */
  createModel(h: H): Module;
  /** Traces the training graph for the model (shapes fixed by `h.batch`). */
  graph(model: Module, h: H): TrainGraph;
  /**
   * Data inputs of step `step` (0-based): a pure function of (h.dataSeed, step), so the loop may build it while
   * the previous step runs. May be async: a diffusion recipe runs frozen networks (VAE encoder, text encoder, a
   * teacher) on the batch before the step sees it.
   */
  batch(step: number, h: H): HostTensor[] | Promise<HostTensor[]>;
  /** Inputs computed from the host state, fed after the data inputs (e.g. CurricularFace's t). */
  stateFeeds?(state: RecipeState): HostTensor[];
  /** Initial host state (default: empty). */
  initialState?(h: H): RecipeState;
  /** Updates host state from this step's metrics (e.g. a running average). */
  afterStep?(metrics: Readonly<Record<string, number>>, state: RecipeState): void;
  /** Releases what `batch` opened (compiled frozen networks); called once when the run ends. */
  dispose?(): Promise<void>;
  /** Writes the shipped files for a trained model into `dir`; returns their paths. */
  export(model: Module, h: H, dir: string): Promise<string[]>;
  /** ONNX Runtime options of the training step's session (default: the engine's defaults). */
  stepSession?(h: H): SessionOptions;
}
