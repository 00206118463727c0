/**
 * A compiled training step: the loss and the gradients of every trainable parameter in one ONNX program.
 * Trainable parameters are fed from their current values at each run; frozen ones are embedded.
 */
import type { Module } from "./module.ts";
import type { Parameter } from "./parameter.ts";
import type { Tensor } from "../engine/tensor.ts";
import { grad } from "../engine/autodiff.ts";
import { compile, type Program } from "../engine/compile.ts";
import type { HostTensor } from "../engine/host-tensor.ts";
import type { SessionOptions } from "../engine/session.ts";
import type { ParamSource } from "../engine/graph.ts";
import type { ParamMode } from "../engine/onnx/lower.ts";

export interface StepResult {
  loss: number;
  /**
   * Gradient of each trainable parameter. Like PyTorch's `.grad`, these buffers belong to the step and are
   * overwritten by its next `run` (reusing them saves allocating the gradients' size every step); `clone()`
   * one to keep it.
   */
  grads: Map<Parameter, HostTensor>;
  /** Values of `extras` given at build time, in order. */
  extras: HostTensor[];
}

/**
 * Trainable weights are fed at each run (they change); frozen ones are embedded, or stay ONNX external data when
 * they live in a file (a full-size SDXL UNet is 5 GB: ONNX Runtime reads it once instead of a copy in the model).
 */
export function trainingParamMode(p: ParamSource): ParamMode {
  if ((p as Parameter).requiresGrad) return "input";
  return p.external && !p.value() ? "external" : "initializer";
}

export class TrainStep {
  readonly params: readonly Parameter[];
  /** The compiled program (outputs: loss, extras, one gradient per entry of `params`), for inspection. */
  readonly program: Program;
  private readonly nExtras: number;
  private gradBuffers: HostTensor[] = [];

  /**
   * @param model   the module whose trainable parameters get gradients
   * @param inputs  graph inputs of the traced loss, fed in this order by `run`
   * @param loss    a scalar traced from `inputs` and the model
   * @param extras  more traced values to return (e.g. logits for accuracy)
   */
  constructor(model: Module, inputs: readonly Tensor[], loss: Tensor, extras: readonly Tensor[] = [], opts: SessionOptions = {}) {
    model.bindNames();
    this.params = model.trainableParameters();
    const grads = grad(loss, this.params.map((p) => p.toTensor()));
    this.nExtras = extras.length;
    this.program = compile({
      ...opts,
      inputs,
      outputs: [loss, ...extras, ...grads],
      paramMode: trainingParamMode,
      name: "train_step",
    });
  }

  /** Resolves when ONNX Runtime's session exists (its creation dominates the first step of a large graph). */
  ready(): Promise<void> {
    return this.program.ready();
  }

  async run(batch: readonly HostTensor[]): Promise<StepResult> {
    // Outputs are [loss, ...extras, ...grads]; only the gradients are written into last run's buffers.
    const into = [...Array<undefined>(1 + this.nExtras), ...this.gradBuffers];
    const [loss, ...rest] = await this.program.run(batch, into);
    const extras = rest.slice(0, this.nExtras);
    const gs = rest.slice(this.nExtras);
    this.gradBuffers = gs;
    return { loss: loss!.get(0), grads: new Map(this.params.map((p, i) => [p, gs[i]!])), extras };
  }

  dispose(): Promise<void> {
    return this.program.dispose();
  }
}
