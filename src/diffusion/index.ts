/**
 * diffusion/: noise schedules, samplers and guidance.
 *
 * - k-diffusion-style core: schedules return descending sigmas ending in 0 (`karrasSigmas`), samplers share one
 *   signature over a denoiser D(x, sigma) (`sampleEuler`, `sampleEulerAncestral`, `sampleDpmpp2m`, `sampleDpmppSde`,
 *   `sampleLcm`, `getSampler(name)`), prediction types are wrappers (`scalings`, `denoiserFromNetwork`), and every update is a
 *   linear combination with scalar coefficients (`step-coefs.ts`) so it can be re-expressed over graph tensors.
 * - diffusers adapter: `parseSchedulerConfig(scheduler_config.json)` + `createScheduler(config, steps)` reproduce
 *   EulerDiscrete, EulerAncestralDiscrete, DPMSolverMultistep and DDIM (v0.25.0) step for step.
 * - PuLID v1.1's Karras + DPM++ SDE / 2M path: `PulidV11Schedule` (`.sample`), `pulidV11SamplerFor(base)`.
 * - traced rollouts over engine tensors (same loop, same coefficients): `traceSampler`.
 * - `GaussianSource`: seeded, platform-independent standard normal numbers.
 */
export { DiffusionError, type DiffusionErrorCode } from "./errors.ts";
export { GaussianSource, gaussian, seededNoiseSampler, brownianNoiseSampler, type NoiseSampler } from "./noise.ts";
export {
  BETA_SCHEDULES,
  makeBetas,
  alphasCumprod,
  sigmasFromAlphasCumprod,
  rescaleZeroTerminalSnr,
  type BetaScheduleName,
  type BetaScheduleOptions,
} from "./beta-schedule.ts";
export { karrasSigmas, exponentialSigmas, sigmaToT, sigmaToDiscreteT, tToSigma } from "./sigma-schedule.ts";
export { TIMESTEP_SPACINGS, spacedTimesteps, type TimestepSpacing, type SpacingVariant } from "./timestep-spacing.ts";
export {
  PREDICTION_TYPES,
  scalings,
  denoisedFromOutput,
  denoiserFromNetwork,
  type PredictionType,
  type Scalings,
  type Denoiser,
  type NetworkFn,
} from "./parametrisation.ts";
export {
  applyStep,
  eulerCoefs,
  eulerAncestralCoefs,
  ancestralSplit,
  dpmpp2mCoefs,
  dpmppSdeCoefs,
  lcmCoefs,
  type StepCoefs,
  type MidpointCoefs,
} from "./step-coefs.ts";
export {
  SAMPLER_NAMES,
  getSampler,
  sampleEuler,
  sampleEulerAncestral,
  sampleDpmpp2m,
  sampleDpmppSde,
  sampleLcm,
  type Sampler,
  type SamplerName,
  type SamplerOptions,
  type StepInfo,
} from "./samplers.ts";
export { applyGuidance, guidedNet, type GuidanceOptions, type GuidedNetOptions, type ConditionedNet } from "./guidance.ts";
export { SCHEDULER_CLASSES, parseSchedulerConfig, type SchedulerClass, type SchedulerConfig } from "./diffusers-config.ts";
export { createScheduler, type Scheduler, type StepOutput, type StepExtras } from "./diffusers-scheduler.ts";
export {
  PulidV11Schedule,
  PULID_V11_SAMPLERS,
  pulidV11SamplerFor,
  type PulidV11ScheduleOptions,
  type PulidV11SampleOptions,
  type PulidV11SamplerName,
} from "./pulid-v11.ts";
export { rollout, samplerCoefs, stepPlan, type StepArith, type RolloutOptions, type StepPlan } from "./samplers.ts";
export { traceSampler, applyStepTensor, tensorArith } from "./traced.ts";
