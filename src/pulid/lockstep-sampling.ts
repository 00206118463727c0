/**
 * Many images through one set of UNet runs: B copies of the pipeline's own loop (`sampleLatent`) step in
 * lockstep, and at each model evaluation their B calls are handed together to one batched function. On small
 * nets one batched call costs far less than B single ones; the images are those of B separate loops.
 *
 * Every loop must evaluate the model the same number of times (same sampler and steps), or the batch would wait
 * forever for a loop that has finished: callers group their jobs so.
 */
import { PulidError } from "../engine/errors.ts";
import { sampleLatent, type LoopSpec } from "./sampling.ts";

/** One loop's model evaluation, gathered into a batch. */
export interface LockstepCall {
  /** Which loop (its index in the specs). */
  index: number;
  /** The model input (already scaled). */
  xIn: Float64Array;
  t: number;
}

/** Evaluates the model for the gathered calls (one per loop, in loop order); returns each call's CFG-combined eps. */
export type BatchedEps = (calls: readonly LockstepCall[]) => Promise<Float64Array[]>;

/** Runs one `sampleLatent` per spec in lockstep; returns the final latents in spec order. */
export async function sampleLatentsInLockstep(specs: readonly LoopSpec[], eps: BatchedEps): Promise<Float64Array[]> {
  const B = specs.length;
  type Waiting = LockstepCall & { done: (e: Float64Array) => void; fail: (e: unknown) => void };
  let pending: Waiting[] = [];
  const flush = async (calls: Waiting[]) => {
    calls.sort((a, b) => a.index - b.index);
    const out = await eps(calls);
    calls.forEach((c, k) => c.done(out[k]!));
  };
  return Promise.all(
    specs.map((spec, index) =>
      sampleLatent(spec, (xIn, t) =>
        new Promise<Float64Array>((done, fail) => {
          pending.push({ index, xIn, t, done, fail });
          if (pending.length < B) return;
          const calls = pending;
          pending = [];
          flush(calls).catch((err: unknown) => calls.forEach((c) => c.fail(err)));
        }),
      ),
    ),
  );
}

/** The UNet input of a CFG batch of 2B rows: each call's input in row `index` (negative branch) and row B + `index` (positive). */
export function cfgBatchInput(calls: readonly LockstepCall[], batch: number, size: number): Float32Array {
  const x = new Float32Array(2 * batch * size);
  for (const c of calls) {
    x.set(c.xIn, c.index * size);
    x.set(c.xIn, (batch + c.index) * size);
  }
  return x;
}

/**
 * Classifier-free guidance on a batched output of 2B rows of `size` elements (rows 0..B-1 the negative branches,
 * B..2B-1 the positive ones): u + cfg * (c - u) for loop `index`.
 */
export function guidedRow(out: Float32Array, batch: number, index: number, size: number, cfg: number): Float64Array {
  if (out.length !== 2 * batch * size) throw new PulidError("bad_inputs", `batched UNet output has ${out.length} values, expected 2 x ${batch} x ${size}`);
  const r = new Float64Array(size);
  const neg = index * size;
  const pos = (batch + index) * size;
  for (let j = 0; j < size; j++) r[j] = out[neg + j]! + cfg * (out[pos + j]! - out[neg + j]!);
  return r;
}
