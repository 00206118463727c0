/**
 * Optimizers run on the host over Float32 parameter arrays, updating `Parameter` values in place, so a compiled
 * training program (which feeds trainable parameters as inputs) sees the new values at its next run.
 */
import type { Parameter } from "../parameter.ts";
import { HostTensor, shapeStr } from "../../engine/host-tensor.ts";
import { PulidError } from "../../engine/errors.ts";

/** Serializable optimizer state: per-parameter tensors plus JSON-able scalars. */
export interface OptimizerState {
  tensors: Map<string, HostTensor>;
  meta: Record<string, unknown>;
}

export abstract class Optimizer {
  readonly params: readonly Parameter[];
  /** Number of steps taken. */
  stepCount = 0;

  constructor(params: readonly Parameter[]) {
    const names = new Set<string>();
    for (const p of params) {
      if (!p.name) throw new PulidError("param_unnamed", "optimizer parameters need names: call module.bindNames() (or initialize/loadStateDict) first");
      if (names.has(p.name)) throw new PulidError("param_duplicate", `parameter '${p.name}' given to the optimizer twice`);
      names.add(p.name);
    }
    this.params = params;
  }

  /** Parameters that are updated (requiresGrad). */
  get trainable(): Parameter[] {
    return this.params.filter((p) => p.requiresGrad);
  }

  /**
   * Applies one update. `grads` maps each trainable parameter (by object) to its gradient; frozen parameters
   * are skipped even if a gradient is given. `lr` is this step's learning rate (from a schedule).
   */
  step(grads: ReadonlyMap<Parameter, HostTensor>, lr: number): void {
    for (const p of this.trainable) {
      const g = grads.get(p);
      if (!g) throw new PulidError("missing_grad", `no gradient for trainable parameter '${p.name}'`);
      if (g.shape.join(",") !== p.shape.join(",")) {
        throw new PulidError("grad_shape", `gradient for '${p.name}' has shape ${shapeStr(g.shape)}, parameter is ${shapeStr(p.shape)}`);
      }
      const v = p.get();
      if (v.dtype !== "float32") throw new PulidError("param_dtype", `optimizer updates float32 parameters; '${p.name}' is ${v.dtype}`);
      // float32 gradients are read in place (no per-step copy); other dtypes are decoded once.
      this.update(p, v.data as Float32Array, g.dtype === "float32" ? (g.data as Float32Array) : g.toFloat64(), lr);
    }
    this.stepCount++;
  }

  protected abstract update(p: Parameter, w: Float32Array, g: ArrayLike<number>, lr: number): void;
  abstract state(): OptimizerState;
  abstract loadState(s: OptimizerState): void;
}

/** Scales gradients in place so their global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradNorm(grads: ReadonlyMap<Parameter, HostTensor>, maxNorm: number): number {
  let sq = 0;
  for (const g of grads.values()) {
    const d = g.data as Float32Array;
    for (let i = 0; i < d.length; i++) sq += d[i]! * d[i]!;
  }
  const norm = Math.sqrt(sq);
  if (norm > maxNorm && norm > 0) {
    const s = maxNorm / (norm + 1e-6);
    for (const g of grads.values()) {
      const d = g.data as Float32Array;
      for (let i = 0; i < d.length; i++) d[i] = d[i]! * s;
    }
  }
  return norm;
}
