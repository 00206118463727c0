/**
 * A traced 4-step rollout of a tiny model equals the host loop, and its gradient w.r.t. a model parameter
 * matches central finite differences of the host loop (run in float64).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { input, type Tensor } from "../../src/engine/tensor.ts";
import * as ops from "../../src/engine/ops.ts";
import { grad } from "../../src/engine/autodiff.ts";
import { compile } from "../../src/engine/compile.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { traceSampler } from "../../src/diffusion/traced.ts";
import { getSampler, gaussian, PulidV11Schedule, type SamplerName } from "../../src/diffusion/index.ts";

const B = 2;
const D = 3;
const sched = new PulidV11Schedule();
const sigmas = sched.sigmas(4);

/** Tiny eps-predicting model: eps = tanh(W (x / sqrt(sigma^2+1)) + b + t/1000); denoised = x - sigma eps. */
function hostDenoiser(W: Float64Array, b: Float64Array) {
  return (x: Float64Array, sigma: number) => {
    const cIn = 1 / Math.sqrt(sigma * sigma + 1);
    const t = sched.timestep(sigma);
    const out = new Float64Array(x.length);
    for (let n = 0; n < B; n++) {
      for (let o = 0; o < D; o++) {
        let acc = b[o]! + t / 1000;
        for (let i = 0; i < D; i++) acc += W[o * D + i]! * x[n * D + i]! * cIn;
        out[n * D + o] = x[n * D + o]! - sigma * Math.tanh(acc);
      }
    }
    return out;
  };
}

function tracedDenoiser(W: Tensor, b: Tensor) {
  return (x: Tensor, sigma: number) => {
    const cIn = 1 / Math.sqrt(sigma * sigma + 1);
    const t = sched.timestep(sigma);
    const eps = ops.tanh(ops.add(ops.linear(ops.mul(x, cIn), W, b), t / 1000));
    return ops.sub(x, ops.mul(eps, sigma));
  };
}

for (const name of ["dpmpp_2m", "euler", "euler_ancestral", "lcm"] as SamplerName[]) {
  test(`traced ${name} 4-step rollout equals the host loop; d(loss)/dW passes a finite-difference check`, async () => {
    const W0 = gaussian(1, D * D).map((v) => v * 0.5);
    const b0 = gaussian(2, D);
    const x0 = gaussian(3, B * D).map((v) => v * sigmas[0]!);
    const u = gaussian(4, B * D); // loss = <u, final>
    const noises = [0, 1, 2, 3].map((i) => gaussian(10 + i, B * D));

    const x = input("x", [B, D]);
    const W = input("W", [D, D]);
    const b = input("b", [D]);
    const noiseIn = noises.map((_, i) => input(`noise${i}`, [B, D]));
    let k = 0;
    const final = traceSampler(name, tracedDenoiser(W, b), x, sigmas, { noise: () => noiseIn[k++]! });
    const uIn = input("u", [B, D]);
    const [gW] = grad(ops.sum(ops.mul(final, uIn)), [W]);
    const prog = compile({ inputs: [x, W, b, uIn, ...noiseIn], outputs: [final, gW!] });
    try {
      const f32 = (shape: number[], a: Float64Array) => HostTensor.f32(shape, a);
      const [got, gotGrad] = await prog.run([f32([B, D], x0), f32([D, D], W0), f32([D], b0), f32([B, D], u), ...noises.map((n) => f32([B, D], n))]);

      let j = 0;
      const hostRun = (W: Float64Array) => {
        j = 0;
        return getSampler(name)(hostDenoiser(W, b0), Float64Array.from(x0, Math.fround), sigmas, { noise: () => noises[j++]! });
      };
      const host = hostRun(W0);
      const g = got!.toFloat64();
      for (let i = 0; i < host.length; i++) assert.ok(Math.abs(g[i]! - host[i]!) < 1e-4 * (1 + Math.abs(host[i]!)), `final[${i}] ${g[i]} vs host ${host[i]}`);

      // <grad, v> vs (L(W + eps v) - L(W - eps v)) / 2 eps on the float64 host loop.
      const v = gaussian(99, D * D);
      const L = (W: Float64Array) => hostRun(W).reduce((s, val, i) => s + val * u[i]!, 0);
      const eps = 1e-5;
      const numeric = (L(W0.map((w, i) => w + eps * v[i]!)) - L(W0.map((w, i) => w - eps * v[i]!))) / (2 * eps);
      const analytic = gotGrad!.toFloat64().reduce((s, gi, i) => s + gi * v[i]!, 0);
      const rel = Math.abs(analytic - numeric) / Math.max(1, Math.abs(numeric));
      assert.ok(rel < 1e-4, `analytic ${analytic} vs numeric ${numeric} (rel ${rel})`);
    } finally {
      await prog.dispose();
    }
  });
}
