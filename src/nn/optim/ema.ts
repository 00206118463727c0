/**
 * An exponential moving average of trainable weights (Polyak averaging), the copy diffusion models ship: the raw
 * weights of a short, high-learning-rate run jitter from step to step, and sampling 30 steps with one jittered
 * set compounds the error; the average does not.
 *
 * Decay warm-up as diffusers' `EMAModel` (use_ema_warmup off): the effective decay at update n is
 * min(decay, (1 + n) / (10 + n)), so the first updates follow the weights closely instead of remembering the
 * initialisation for ~1/(1 - decay) steps.
 */
import type { Parameter } from "../parameter.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { PulidError } from "../../engine/errors.ts";

export class WeightEma {
  private readonly shadow = new Map<string, Float32Array>();
  /** Updates done. */
  count = 0;

  constructor(
    readonly params: readonly Parameter[],
    readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1)) throw new PulidError("bad_hyper", `EMA decay must be in (0, 1), got ${decay}`);
    for (const p of params) {
      if (!p.name) throw new PulidError("param_unnamed", "EMA parameters need names: call module.bindNames() first");
      this.shadow.set(p.name, Float32Array.from(p.get().toFloat64()));
    }
  }

  /** The decay used at the next update. */
  get effectiveDecay(): number {
    return Math.min(this.decay, (1 + this.count) / (10 + this.count));
  }

  /** Moves every average towards its parameter's current value. */
  update(): void {
    const d = this.effectiveDecay;
    for (const p of this.params) {
      const s = this.shadow.get(p.name)!;
      const w = p.get().data as Float32Array;
      for (let i = 0; i < s.length; i++) s[i] = d * s[i]! + (1 - d) * w[i]!;
    }
    this.count++;
  }

  /** Puts the averages into the parameters; returns a function that puts the raw weights back. */
  swapIn(): () => void {
    const raw = this.params.map((p) => p.get());
    for (const p of this.params) p.set(new HostTensor("float32", p.shape, this.shadow.get(p.name)!.slice()).cast(p.get().dtype));
    return () => this.params.forEach((p, i) => p.set(raw[i]!));
  }

  /** Tensors (by parameter name) and the update count, for a checkpoint. */
  state(): { tensors: Map<string, HostTensor>; count: number } {
    const tensors = new Map<string, HostTensor>();
    for (const p of this.params) tensors.set(p.name, new HostTensor("float32", p.shape, this.shadow.get(p.name)!.slice()));
    return { tensors, count: this.count };
  }

  loadState(s: { tensors: ReadonlyMap<string, HostTensor>; count: number }, source = "checkpoint"): void {
    for (const p of this.params) {
      const t = s.tensors.get(p.name);
      if (!t) throw new PulidError("ema_state", `${source}: no EMA average for parameter '${p.name}'`);
      if (t.shape.join(",") !== p.shape.join(",")) throw new PulidError("ema_state", `${source}: EMA average of '${p.name}' has shape [${t.shape}], parameter is [${p.shape}]`);
      this.shadow.set(p.name, Float32Array.from(t.toFloat64()));
    }
    this.count = s.count;
  }
}
