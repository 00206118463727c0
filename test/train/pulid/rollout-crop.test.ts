/**
 * The traced Lightning rollout against the pipeline's host scheduler (diffusers DPM-Solver++ 2M, trailing), the
 * last-k back-propagation, and the in-graph face crop against the host-landmark crop of `face/`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { input, constant } from "../../../src/engine/tensor.ts";
import * as ops from "../../../src/engine/ops.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { grad } from "../../../src/engine/autodiff.ts";
import { Rng } from "../../../src/engine/rng.ts";
import { createScheduler } from "../../../src/diffusion/diffusers-scheduler.ts";
import { trailingConfig } from "../../../src/pulid/sampling.ts";
import { SDXL_SCHEDULER_CONFIG } from "../../../src/models/sdxl/random-folder.ts";
import { dpmpp2mTrailingPlan, hostRollout, traceRollout } from "../../../src/train/pulid/lightning-rollout.ts";
import { arcfaceMatrixOp, arcfaceCropFromLandmarks } from "../../../src/train/face/landmark-crop.ts";
import { estimateNorm } from "../../../src/face/similarity.ts";
import { arcfaceCropOp } from "../../../src/face/differentiable-crop.ts";

const config = { ...SDXL_SCHEDULER_CONFIG };
/** A non-linear stand-in for the UNet: eps depends on x and t. */
const fakeEps = (x: Float64Array, t: number) => x.map((v, j) => Math.sin(v + 0.001 * t + j));

test("the plan is the pipeline's scheduler: trailing timesteps and the same final sample", () => {
  const plan = dpmpp2mTrailingPlan(config, 4);
  assert.deepEqual(plan.map((p) => p.t), [999, 749, 499, 249]);
  const noise = new Rng(1).fillNormal(new Float64Array(6));
  const s = createScheduler(trailingConfig(config, "DPMSolverMultistepScheduler"), 4);
  let x: Float64Array = Float64Array.from(noise);
  for (let i = 0; i < 4; i++) x = s.step(fakeEps(s.scaleModelInput(x, i), s.timesteps[i]!), i, x).prevSample;
  const mine = hostRollout(plan, Float64Array.from(noise), fakeEps);
  mine.forEach((v, j) => assert.ok(Math.abs(v - x[j]!) < 1e-9, `element ${j}: ${v} vs ${x[j]}`));
});

test("the traced rollout equals the host rollout", async () => {
  const plan = dpmpp2mTrailingPlan(config, 4);
  const noise = new Rng(2).fillNormal(new Float32Array(6));
  const x = input("x", [6]);
  const j = constant(HostTensor.f32([6], [0, 1, 2, 3, 4, 5]));
  const r = traceRollout(plan, x, (v, t) => ops.sin(ops.add(ops.add(v, 0.001 * t), j)));
  const [got] = await evaluate([r.latent], [x], [new HostTensor("float32", [6], noise)]);
  const want = hostRollout(plan, Float64Array.from(noise), fakeEps);
  want.forEach((v, i) => assert.ok(Math.abs(got!.get(i) - v) < 1e-4, `element ${i}: ${got!.get(i)} vs ${v}`));
});

test("backpropSteps = 1 back-propagates through the last UNet call only", async () => {
  const plan = dpmpp2mTrailingPlan(config, 4);
  const w = input("w", []);
  const x = input("x", [3]);
  const noise = HostTensor.f32([3], [0.5, -1, 2]);
  // eps = w * x: with k = 1, d sum(latent) / dw = plan[3].eps * sum(x_3) with x_3 held constant.
  const r1 = traceRollout(plan, x, (v) => ops.mul(v, w), { backpropSteps: 1 });
  const r4 = traceRollout(plan, x, (v) => ops.mul(v, w), { backpropSteps: 4 });
  const [g1] = grad(ops.sum(r1.latent), [w]);
  const [g4] = grad(ops.sum(r4.latent), [w]);
  const wv = HostTensor.scalar(0.3);
  const [a, b] = await evaluate([g1!, g4!], [w, x], [wv, noise]);
  const host = (wn: number) => hostRollout(plan.slice(0, 3), Float64Array.from(noise.data), (v) => v.map((e) => e * wn));
  const x3 = host(0.3).reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(a!.get(0) - plan[3]!.eps * x3) < 1e-4, `k=1 gradient ${a!.get(0)} vs ${plan[3]!.eps * x3}`);
  assert.ok(Math.abs(a!.get(0) - b!.get(0)) > 1e-3, "k=4 differs from k=1");
});

test("the in-graph ArcFace matrix and crop equal estimateNorm + the host-landmark differentiable crop", async () => {
  const rng = new Rng(3);
  const kps = [20.3, 24.1, 41.7, 23.2, 31.2, 34.8, 22.9, 45.6, 40.1, 45.2].map((v) => v + 2 * rng.uniform() - 1);
  const img = HostTensor.f32([1, 3, 64, 64], rng.fillNormal(new Float32Array(3 * 64 * 64)));
  const lm = input("lm", [1, 10]);
  const im = input("im", [1, 3, 64, 64]);
  const [M, crop] = await evaluate([arcfaceMatrixOp(lm), arcfaceCropFromLandmarks(im, lm)], [lm, im], [HostTensor.f32([1, 10], kps), img]);
  const want = estimateNorm(kps);
  want.forEach((v, i) => assert.ok(Math.abs(M!.get(i) - v) < 1e-4, `M[${i}] ${M!.get(i)} vs ${v}`));
  const [ref] = await evaluate([arcfaceCropOp(im, kps)], [im], [img]);
  let worst = 0;
  for (let i = 0; i < ref!.size; i++) worst = Math.max(worst, Math.abs(ref!.get(i) - crop!.get(i)));
  assert.ok(worst < 1e-3, `crop max error ${worst}`);
});
