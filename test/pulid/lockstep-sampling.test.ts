/**
 * Lockstep sampling: B loops whose model calls are gathered into one batched call give exactly the latents of B
 * separate `sampleLatent` loops (a made-up eps model, so the check is of the gathering, not of a network), every
 * batch holds one call per loop in loop order, and guidedRow is u + cfg (c - u) on the right rows.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { sampleLatent, type LoopSpec } from "../../src/pulid/sampling.ts";
import { cfgBatchInput, guidedRow, sampleLatentsInLockstep } from "../../src/pulid/lockstep-sampling.ts";
import { SDXL_SCHEDULER_CONFIG } from "../../src/models/sdxl/random-folder.ts";

/** A deterministic stand-in for a UNet: depends on the input, the timestep and the element. */
const fakeEps = (xIn: Float64Array, t: number) => xIn.map((v, j) => 0.3 * v + Math.sin(0.01 * t + j));

for (const sampler of ["dpmpp_2m", "euler", "dpmpp_sde"] as const) {
  test(`lockstep ${sampler} loops equal separate loops, with one call per loop per batch`, async () => {
    const specs: LoopSpec[] = [5, 6, 7].map((seed) => ({ version: "v1", sampler, steps: 4, schedulerConfig: SDXL_SCHEDULER_CONFIG, seed, size: 12 }));
    const separate = await Promise.all(specs.map((s) => sampleLatent(s, async (x, t) => fakeEps(x, t))));
    let batches = 0;
    const together = await sampleLatentsInLockstep(specs, async (calls) => {
      batches++;
      assert.deepEqual(calls.map((c) => c.index), [0, 1, 2]);
      assert.ok(calls.every((c) => c.t === calls[0]!.t), "the loops are in step");
      return calls.map((c) => fakeEps(c.xIn, c.t));
    });
    assert.deepEqual(together, separate);
    assert.equal(batches, sampler === "dpmpp_sde" ? 7 : 4, "one batch per model evaluation");
    assert.notDeepEqual(together[0], together[1], "seeds differ");
  });
}

test("a failing batched call rejects every loop", async () => {
  const specs: LoopSpec[] = [1, 2].map((seed) => ({ version: "v1", sampler: "dpmpp_2m", steps: 2, schedulerConfig: SDXL_SCHEDULER_CONFIG, seed, size: 4 }));
  await assert.rejects(sampleLatentsInLockstep(specs, async () => Promise.reject(new Error("unet failed"))), /unet failed/);
});

test("guidedRow: u + cfg (c - u) with the negative branch in row i and the positive in row B + i", () => {
  const B = 2;
  const size = 3;
  const out = Float32Array.from({ length: 2 * B * size }, (_, k) => k * 0.5);
  const cfg = 4;
  for (let i = 0; i < B; i++) {
    const want = Array.from({ length: size }, (_, j) => out[i * size + j]! + cfg * (out[(B + i) * size + j]! - out[i * size + j]!));
    assert.deepEqual(Array.from(guidedRow(out, B, i, size, cfg)), want);
  }
  assert.throws(() => guidedRow(out, 3, 0, size, cfg), /expected 2 x 3 x 3/);
});

test("cfgBatchInput: call i's input in rows i and B + i", () => {
  const calls = [0, 1].map((index) => ({ index, t: 9, xIn: Float64Array.from([index + 1, index + 2]) }));
  assert.deepEqual(Array.from(cfgBatchInput(calls, 2, 2)), [1, 2, 2, 3, 1, 2, 2, 3]);
});
