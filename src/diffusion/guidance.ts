/**
 * Classifier-free guidance (Ho & Salimans 2022): out = uncond + scale * (cond - uncond), with an optional
 * guidance rescale (Lin et al. 2023, arXiv:2305.08891, sec. 3.4; diffusers `rescale_noise_cfg`) that pulls the
 * per-sample standard deviation of the guided output back to that of the conditional one:
 *     out' = rescale * out * std(cond)/std(out) + (1 - rescale) * out
 * std is over every element of one batch item, with Bessel's correction (torch's default).
 */
import { DiffusionError } from "./errors.ts";

export interface GuidanceOptions {
  /** Guidance scale (1 = the conditional output; PuLID v1 uses 1.2). */
  scale: number;
  /** Guidance rescale phi in [0, 1] (0 = off, default). */
  rescale?: number;
  /** Batch size of the flat arrays (each item is length/batch elements); the rescale std is per item. Default 1. */
  batch?: number;
}

function std(a: Float64Array, from: number, to: number): number {
  const n = to - from;
  let mean = 0;
  for (let i = from; i < to; i++) mean += a[i]!;
  mean /= n;
  let ss = 0;
  for (let i = from; i < to; i++) ss += (a[i]! - mean) ** 2;
  return Math.sqrt(ss / (n - 1));
}

/** Combines unconditional and conditional outputs (flat, same length). Throws `bad_input` on mismatched sizes. */
export function applyGuidance(uncond: Float64Array, cond: Float64Array, opts: GuidanceOptions): Float64Array {
  if (uncond.length !== cond.length) {
    throw new DiffusionError("bad_input", `guidance: uncond has ${uncond.length} elements, cond has ${cond.length}`);
  }
  const batch = opts.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1 || cond.length % batch !== 0) {
    throw new DiffusionError("bad_input", `guidance: batch ${batch} does not divide ${cond.length} elements`);
  }
  const out = new Float64Array(cond.length);
  for (let i = 0; i < out.length; i++) out[i] = uncond[i]! + opts.scale * (cond[i]! - uncond[i]!);
  const phi = opts.rescale ?? 0;
  if (phi === 0) return out;
  const m = cond.length / batch;
  for (let b = 0; b < batch; b++) {
    const factor = std(cond, b * m, (b + 1) * m) / std(out, b * m, (b + 1) * m);
    for (let i = b * m; i < (b + 1) * m; i++) out[i] = phi * out[i]! * factor + (1 - phi) * out[i]!;
  }
  return out;
}

/** A conditioned network over a flat batch: x holds `batch` items, cond whatever the model needs. */
export type ConditionedNet<C> = (x: Float64Array, t: number, cond: C) => Float64Array;

export interface GuidedNetOptions<C> extends GuidanceOptions {
  /** The positive condition (prompt, ID tokens, ...). */
  cond: C;
  /** The separate negative condition (negative prompt, zero ID tokens, ...). */
  uncond: C;
  /**
   * Batched CFG: joins [uncond; cond] into one condition for a single call on [x; x] of batch 2*batch, as diffusers
   * pipelines do (output split in that order). Leave out for two separate calls (PuLID v1.1). Same numbers either way.
   */
  concat?: (uncond: C, cond: C) => C;
}

/** Wraps a conditioned network into a guided one: (x, t) -> CFG output, in one batched call or two calls. */
export function guidedNet<C>(net: ConditionedNet<C>, opts: GuidedNetOptions<C>): (x: Float64Array, t: number) => Float64Array {
  return (x, t) => {
    let u: Float64Array;
    let c: Float64Array;
    if (opts.concat) {
      const both = new Float64Array(2 * x.length);
      both.set(x);
      both.set(x, x.length);
      const out = net(both, t, opts.concat(opts.uncond, opts.cond));
      if (out.length !== both.length) throw new DiffusionError("bad_input", `guidance: batched model returned ${out.length} elements for ${both.length}`);
      u = out.subarray(0, x.length);
      c = out.subarray(x.length);
    } else {
      u = net(x, t, opts.uncond);
      c = net(x, t, opts.cond);
    }
    return applyGuidance(u, c, opts);
  };
}
