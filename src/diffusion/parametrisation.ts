/**
 * What a network predicts, turned into a denoiser D(x, sigma) ~ E[x0 | x] in the VE formulation x = x0 + sigma*eps
 * (k-diffusion `external.py`; Karras et al. 2022, Table 1): D = c_skip x + c_out F(c_in x, t).
 * The samplers never see a prediction type; they only call denoisers.
 */
import { checkChoice } from "./errors.ts";

/** diffusers' `prediction_type` names. */
export const PREDICTION_TYPES = ["epsilon", "v_prediction", "sample"] as const;
export type PredictionType = (typeof PREDICTION_TYPES)[number];

/** D = cSkip * x + cOut * F(cIn * x). */
export interface Scalings {
  cSkip: number;
  cOut: number;
  cIn: number;
}

/** A denoiser: the estimate of the clean sample given a noisy VE sample `x` at noise level `sigma`. */
export type Denoiser = (x: Float64Array, sigma: number) => Float64Array;

/**
 * The scalings of a parametrisation at one sigma. c_in = 1/sqrt(sigma^2 + sigmaData^2) maps the VE sample to the VP
 * one a DDPM-trained network expects (diffusers' Euler `scale_model_input`).
 * - epsilon: D = x - sigma eps
 * - v_prediction: D = sigmaData^2/(sigma^2+sigmaData^2) x - sigma sigmaData/sqrt(sigma^2+sigmaData^2) v
 * - sample: D = F
 * Throws `unknown_choice` for another prediction type.
 */
export function scalings(predictionType: PredictionType | string, sigma: number, sigmaData = 1): Scalings {
  const type = checkChoice("prediction_type", predictionType, PREDICTION_TYPES);
  const s2 = sigma * sigma + sigmaData * sigmaData;
  const cIn = 1 / Math.sqrt(s2);
  if (type === "epsilon") return { cSkip: 1, cOut: -sigma, cIn };
  if (type === "v_prediction") return { cSkip: (sigmaData * sigmaData) / s2, cOut: (-sigma * sigmaData) / Math.sqrt(s2), cIn };
  return { cSkip: 0, cOut: 1, cIn };
}

/** D = cSkip x + cOut modelOutput, elementwise. */
export function denoisedFromOutput(s: Scalings, x: Float64Array, modelOutput: Float64Array): Float64Array {
  if (x.length !== modelOutput.length) {
    throw new RangeError(`denoisedFromOutput: model output has ${modelOutput.length} elements, x has ${x.length}`);
  }
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = s.cSkip * x[i]! + s.cOut * modelOutput[i]!;
  return out;
}

/** A network in its training parametrisation: input already scaled by c_in, the timestep it expects, the sigma. */
export type NetworkFn = (xIn: Float64Array, t: number, sigma: number) => Float64Array;

/**
 * Wraps a network into a denoiser (k-diffusion `DiscreteEpsDDPMDenoiser` / `DiscreteVDDPMDenoiser`).
 * @param timestep sigma -> the timestep the network was trained with (e.g. `sigmaToT` or `sigmaToDiscreteT`)
 */
export function denoiserFromNetwork(
  net: NetworkFn,
  opts: { predictionType: PredictionType | string; timestep: (sigma: number) => number; sigmaData?: number },
): Denoiser {
  return (x, sigma) => {
    const s = scalings(opts.predictionType, sigma, opts.sigmaData ?? 1);
    const xIn = x.map((v) => v * s.cIn);
    return denoisedFromOutput(s, x, net(xIn, opts.timestep(sigma), sigma));
  };
}
