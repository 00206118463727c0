import { Optimizer, type OptimizerState } from "./optimizer.ts";
import type { Parameter } from "../parameter.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { PulidError } from "../../engine/errors.ts";

export interface SgdOptions {
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** SGD with momentum as PyTorch's `torch.optim.SGD` (buffer starts as the first gradient; dampening 0). */
export class Sgd extends Optimizer {
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private buf = new Map<string, Float32Array>();

  constructor(params: readonly Parameter[], opts: SgdOptions = {}) {
    super(params);
    this.momentum = opts.momentum ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
  }

  protected update(p: Parameter, w: Float32Array, g: ArrayLike<number>, lr: number): void {
    let b = this.buf.get(p.name);
    const first = !b;
    if (!b && this.momentum !== 0) this.buf.set(p.name, (b = new Float32Array(w.length)));
    for (let i = 0; i < w.length; i++) {
      let d = g[i]! + this.weightDecay * w[i]!;
      if (b) {
        b[i] = first ? d : this.momentum * b[i]! + d;
        d = this.nesterov ? d + this.momentum * b[i]! : b[i]!;
      }
      w[i] = w[i]! - lr * d;
    }
  }

  state(): OptimizerState {
    const tensors = new Map<string, HostTensor>();
    for (const [k, b] of this.buf) tensors.set(`${k}.momentum_buffer`, new HostTensor("float32", [b.length], b.slice()));
    return { tensors, meta: { kind: "sgd", step: this.stepCount, momentum: this.momentum, weightDecay: this.weightDecay, nesterov: this.nesterov } };
  }

  loadState(s: OptimizerState): void {
    if (s.meta.kind !== "sgd") throw new PulidError("optimizer_state", `optimizer state is for '${String(s.meta.kind)}', not sgd`);
    this.stepCount = Number(s.meta.step);
    this.buf.clear();
    for (const p of this.params) {
      const b = s.tensors.get(`${p.name}.momentum_buffer`);
      if (b) this.buf.set(p.name, Float32Array.from(b.data as Float32Array));
    }
  }
}
