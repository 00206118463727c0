/**
 * The samplers over engine tensors: the same loop (`rollout`) and the same step coefficients as the host
 * samplers, with the linear combinations written in engine ops, so a rollout can be traced, lowered and
 * differentiated (e.g. the Lightning branch of PuLID training rolls out 4 steps with gradients).
 * Sigmas are host numbers, so every coefficient is a graph constant.
 *
 * @example
 *   const x = input("x", [1, 4, 8, 8]);
 *   const out = traceSampler("dpmpp_2m", (x, sigma) => denoise(x, sigma), ops.mul(x, sigmas[0]), sigmas);
 *   const [g] = grad(ops.sum(out), [someParameter]);
 */
import type { Tensor } from "../engine/tensor.ts";
import * as ops from "../engine/ops.ts";
import { rollout, type RolloutOptions, type SamplerName, type StepArith } from "./samplers.ts";
import { checkChoice } from "./errors.ts";
import { SAMPLER_NAMES } from "./samplers.ts";
import type { StepCoefs } from "./step-coefs.ts";

/** x' = c.x x + c.denoised d + c.oldDenoised old + c.noise noise in engine ops (zero terms are left out). */
export function applyStepTensor(c: StepCoefs, x: Tensor, denoised: Tensor, old: Tensor | null = null, noise: Tensor | null = null): Tensor {
  const terms: [number, Tensor | null][] = [
    [c.x, x],
    [c.denoised, denoised],
    [c.oldDenoised, old],
    [c.noise, noise],
  ];
  let out: Tensor | null = null;
  for (const [coef, t] of terms) {
    if (coef === 0) continue;
    if (!t) throw new RangeError(`applyStepTensor: a term with coefficient ${coef} is missing`);
    const term = coef === 1 ? t : ops.mul(t, coef);
    out = out ? ops.add(out, term) : term;
  }
  return out ?? ops.mul(x, 0);
}

export const tensorArith: StepArith<Tensor> = { combine: applyStepTensor };

/**
 * Traces a whole sampling run: `model(x, sigma)` returns the denoised tensor (it may call a traced UNet);
 * stochastic samplers take their noise from `opts.noise` (graph inputs or constants). Throws `unknown_choice`
 * for an unknown sampler name.
 */
export function traceSampler(
  name: SamplerName | string,
  model: (x: Tensor, sigma: number) => Tensor,
  x: Tensor,
  sigmas: ArrayLike<number>,
  opts: RolloutOptions<Tensor> = {},
): Tensor {
  return rollout(checkChoice("sampler", name, SAMPLER_NAMES), tensorArith, model, x, sigmas, opts);
}
