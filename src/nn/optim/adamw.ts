import { Optimizer, type OptimizerState } from "./optimizer.ts";
import type { Parameter } from "../parameter.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { PulidError } from "../../engine/errors.ts";

export interface AdamWOptions {
  betas?: [number, number];
  eps?: number;
  /** Decoupled weight decay (Loshchilov & Hutter), applied as w -= lr * wd * w. Default 0.01 as PyTorch. */
  weightDecay?: number;
}

/** AdamW as PyTorch's `torch.optim.AdamW` (bias-corrected moments, decoupled weight decay). */
export class AdamW extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private m = new Map<string, Float32Array>();
  private v = new Map<string, Float32Array>();

  constructor(params: readonly Parameter[], opts: AdamWOptions = {}) {
    super(params);
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
  }

  protected update(p: Parameter, w: Float32Array, g: ArrayLike<number>, lr: number): void {
    let m = this.m.get(p.name);
    let v = this.v.get(p.name);
    if (!m || !v) {
      m = new Float32Array(w.length);
      v = new Float32Array(w.length);
      this.m.set(p.name, m);
      this.v.set(p.name, v);
    }
    const [b1, b2] = this.betas;
    const t = this.stepCount + 1;
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    const decay = 1 - lr * this.weightDecay;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i]!;
      const mi = (m[i] = b1 * m[i]! + (1 - b1) * gi);
      const vi = (v[i] = b2 * v[i]! + (1 - b2) * gi * gi);
      w[i] = w[i]! * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + this.eps);
    }
  }

  state(): OptimizerState {
    const tensors = new Map<string, HostTensor>();
    for (const [k, m] of this.m) tensors.set(`${k}.exp_avg`, new HostTensor("float32", [m.length], m.slice()));
    for (const [k, v] of this.v) tensors.set(`${k}.exp_avg_sq`, new HostTensor("float32", [v.length], v.slice()));
    return { tensors, meta: { kind: "adamw", step: this.stepCount, betas: this.betas, eps: this.eps, weightDecay: this.weightDecay } };
  }

  loadState(s: OptimizerState): void {
    if (s.meta.kind !== "adamw") throw new PulidError("optimizer_state", `optimizer state is for '${String(s.meta.kind)}', not adamw`);
    this.stepCount = Number(s.meta.step);
    this.m.clear();
    this.v.clear();
    for (const p of this.params) {
      const m = s.tensors.get(`${p.name}.exp_avg`);
      const v = s.tensors.get(`${p.name}.exp_avg_sq`);
      if (!m !== !v) throw new PulidError("optimizer_state", `optimizer state for '${p.name}' is incomplete`);
      if (m && v) {
        if (m.size !== p.size) throw new PulidError("optimizer_state", `optimizer state for '${p.name}' has ${m.size} elements, parameter has ${p.size}`);
        this.m.set(p.name, Float32Array.from(m.data as Float32Array));
        this.v.set(p.name, Float32Array.from(v.data as Float32Array));
      }
    }
  }
}
