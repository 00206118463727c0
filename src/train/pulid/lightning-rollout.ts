/**
 * The Lightning branch of PuLID training: from pure noise, the 4-step student samples with the pipeline's v1
 * sampler (diffusers DPM-Solver++ 2M, trailing timesteps: t = 999, 749, 499, 249 on SDXL's schedule), traced in
 * engine ops so L_id and L_align differentiate through every step (paper 3.3; pulid-paper.md 1.4 for what is
 * not published: the sampler is the one the pipeline and the world's student use).
 *
 * The step is not re-derived: each DPM-Solver step is linear in (x_i, eps_i, x_{i-1}, eps_{i-1}) (the previous
 * step's x_0 estimate enters through the last two), so four probe runs of the host scheduler (the one
 * `pulid/sampling.ts` runs) give the four coefficients of every step, and the traced rollout cannot drift from
 * the sampler that generates at test time (same idea as `segment-targets.ts`).
 *
 * Memory lever: `backpropSteps = k` back-propagates through the last k UNet calls only; the eps of the earlier
 * calls pass through `stopGradient`, so the chain before step 4 - k is a constant to the backward pass (the
 * paper's Table 3 trades this against quality). The early calls still run forward, and anything else computed
 * inside them (the alignment queries) keeps its own gradient.
 */
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { createScheduler } from "../../diffusion/diffusers-scheduler.ts";
import { parseSchedulerConfig } from "../../diffusion/diffusers-config.ts";
import { PulidError } from "../../engine/errors.ts";

/** One step: x_{i+1} = x * x_i + eps * eps_i + xPrev * x_{i-1} + epsPrev * eps_{i-1}. */
export interface RolloutStep {
  /** Integer timestep the UNet sees (the sample is fed unscaled, as DPM-Solver does). */
  t: number;
  x: number;
  eps: number;
  xPrev: number;
  epsPrev: number;
}

/** Coefficients of `steps` DPM-Solver++ 2M trailing steps from a diffusers scheduler config (epsilon prediction). */
export function dpmpp2mTrailingPlan(schedulerConfig: Record<string, unknown>, steps: number): RolloutStep[] {
  const config = parseSchedulerConfig({ ...schedulerConfig, timestep_spacing: "trailing" }, "DPMSolverMultistepScheduler");
  const timesteps = createScheduler(config, steps).timesteps;
  // probe(i, [x_i, eps_i, x_{i-1}, eps_{i-1}]): the scheduler replayed up to step i on one-element samples.
  const probe = (i: number, v: readonly number[]): number => {
    const s = createScheduler(config, steps);
    for (let j = 0; j < i; j++) {
      const last = j === i - 1;
      s.step(Float64Array.of(last ? v[3]! : 0), j, Float64Array.of(last ? v[2]! : 0));
    }
    return s.step(Float64Array.of(v[1]!), i, Float64Array.of(v[0]!)).prevSample[0]!;
  };
  const plan: RolloutStep[] = [];
  for (let i = 0; i < steps; i++) {
    const c = [0, 1, 2, 3].map((k) => (i === 0 && k >= 2 ? 0 : probe(i, [0, 1, 2, 3].map((j) => (j === k ? 1 : 0)))));
    plan.push({ t: timesteps[i]!, x: c[0]!, eps: c[1]!, xPrev: c[2]!, epsPrev: c[3]! });
  }
  return plan;
}

/** The noise prediction of the student at step i: x [B, C, h, w] (unscaled), t the integer timestep. */
export type EpsFn = (x: Tensor, t: number, step: number) => Tensor;

export interface TracedRolloutOptions {
  /** Back-propagate through the last k steps only (1..steps; default all). */
  backpropSteps?: number;
}

/** What a traced rollout gives back. */
export interface TracedRollout {
  /** The final latent (what the VAE decodes after / scaling_factor). */
  latent: Tensor;
  /** The UNet's eps at each step (gradient-stopped for steps before the last k). */
  eps: Tensor[];
}

/**
 * Traces the whole rollout from `noise` (standard normal; DPM-Solver's init_noise_sigma is 1).
 * @throws PulidError `bad_hyper` when backpropSteps is outside 1..steps.
 */
export function traceRollout(plan: readonly RolloutStep[], noise: Tensor, epsFn: EpsFn, o: TracedRolloutOptions = {}): TracedRollout {
  const n = plan.length;
  const k = o.backpropSteps ?? n;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new PulidError("bad_hyper", `backpropSteps must be an integer in 1..${n}, got ${k}`);
  let x = noise;
  let xPrev: Tensor | null = null;
  let epsPrev: Tensor | null = null;
  const all: Tensor[] = [];
  plan.forEach((p, i) => {
    let e = epsFn(x, p.t, i);
    if (i < n - k) e = ops.stopGradient(e);
    all.push(e);
    let next = ops.add(ops.mul(x, p.x), ops.mul(e, p.eps));
    if (xPrev && p.xPrev !== 0) next = ops.add(next, ops.mul(xPrev, p.xPrev));
    if (epsPrev && p.epsPrev !== 0) next = ops.add(next, ops.mul(epsPrev, p.epsPrev));
    xPrev = x;
    epsPrev = e;
    x = next;
  });
  return { latent: x, eps: all };
}

/** The host twin of {@link traceRollout} on flat arrays (tests compare it with the scheduler). */
export function hostRollout(plan: readonly RolloutStep[], noise: Float64Array, epsFn: (x: Float64Array, t: number, step: number) => Float64Array): Float64Array {
  let x = noise;
  let xPrev: Float64Array | null = null;
  let epsPrev: Float64Array | null = null;
  plan.forEach((p, i) => {
    const e = epsFn(x, p.t, i);
    const next = new Float64Array(x.length);
    for (let j = 0; j < x.length; j++) next[j] = p.x * x[j]! + p.eps * e[j]! + (xPrev ? p.xPrev * xPrev[j]! : 0) + (epsPrev ? p.epsPrev * epsPrev[j]! : 0);
    xPrev = x;
    epsPrev = e;
    x = next;
  });
  return x;
}
