/**
 * `scheduler_config.json` (diffusers) parsed into one typed, validated object. Key names and per-class defaults
 * follow diffusers v0.25.0 (PuLID's pin). Keys a class does not know are ignored, as `from_config` does.
 */
import { BETA_SCHEDULES, type BetaScheduleName } from "./beta-schedule.ts";
import { DiffusionError, checkChoice } from "./errors.ts";
import { PREDICTION_TYPES, type PredictionType } from "./parametrisation.ts";
import { TIMESTEP_SPACINGS, type TimestepSpacing } from "./timestep-spacing.ts";

/** The diffusers scheduler classes this adapter reproduces step for step. */
export const SCHEDULER_CLASSES = [
  "EulerDiscreteScheduler",
  "EulerAncestralDiscreteScheduler",
  "DPMSolverMultistepScheduler",
  "DDIMScheduler",
] as const;
export type SchedulerClass = (typeof SCHEDULER_CLASSES)[number];

/** DPM-Solver's last sigma: v0.25's behaviour (sigma(t=0), or the repeated last Karras sigma), sigma(t=0), or 0. */
export const FINAL_SIGMAS_TYPES = ["sigma_min", "zero"] as const;
export type FinalSigmasType = (typeof FINAL_SIGMAS_TYPES)[number] | "v0.25";

export interface SchedulerConfig {
  className: SchedulerClass;
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaScheduleName;
  trainedBetas: number[] | null;
  predictionType: PredictionType;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
  rescaleBetasZeroSnr: boolean;
  /** Euler, DPM: Karras sigmas. */
  useKarrasSigmas: boolean;
  /** Euler: Karras range overrides (else the schedule's own). */
  sigmaMin: number | null;
  sigmaMax: number | null;
  /** Euler: "linear" (interpolate sigma at the timesteps) or "log_linear". */
  interpolationType: "linear" | "log_linear";
  /** DPM: 1 or 2. */
  solverOrder: number;
  /** DPM: only dpmsolver++ (diffusers maps "deis" to it as well). */
  algorithmType: "dpmsolver++";
  solverType: "midpoint" | "heun";
  lowerOrderFinal: boolean;
  eulerAtFinal: boolean;
  finalSigmasType: FinalSigmasType;
  lambdaMinClipped: number;
  /** DDIM. */
  clipSample: boolean;
  clipSampleRange: number;
  setAlphaToOne: boolean;
}

type Defaults = Partial<Record<string, unknown>>;

const COMMON: Defaults = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: "linear",
  trained_betas: null,
  prediction_type: "epsilon",
  steps_offset: 0,
  rescale_betas_zero_snr: false,
};

const DEFAULTS: Record<SchedulerClass, Defaults> = {
  EulerDiscreteScheduler: { ...COMMON, timestep_spacing: "linspace", use_karras_sigmas: false, interpolation_type: "linear" },
  EulerAncestralDiscreteScheduler: { ...COMMON, timestep_spacing: "linspace" },
  DPMSolverMultistepScheduler: {
    ...COMMON,
    timestep_spacing: "linspace",
    use_karras_sigmas: false,
    solver_order: 2,
    algorithm_type: "dpmsolver++",
    solver_type: "midpoint",
    lower_order_final: true,
    euler_at_final: false,
    lambda_min_clipped: -Infinity,
  },
  DDIMScheduler: { ...COMMON, timestep_spacing: "leading", clip_sample: true, clip_sample_range: 1.0, set_alpha_to_one: true },
};

function num(json: Record<string, unknown>, d: Defaults, key: string): number {
  const v = key in json && json[key] !== null ? json[key] : d[key];
  if (typeof v !== "number" || Number.isNaN(v)) throw new DiffusionError("bad_config", `scheduler config: ${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}
function bool(json: Record<string, unknown>, d: Defaults, key: string): boolean {
  const v = key in json && json[key] !== null ? json[key] : (d[key] ?? false);
  if (typeof v !== "boolean") throw new DiffusionError("bad_config", `scheduler config: ${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}
function str(json: Record<string, unknown>, d: Defaults, key: string): unknown {
  return key in json && json[key] !== null ? json[key] : d[key];
}
function unsupported(what: string): never {
  throw new DiffusionError("unsupported", `scheduler config: ${what} is not supported by this port`);
}

/**
 * Parses a diffusers scheduler config. `className` overrides `_class_name` (like `Class.from_config(other)`).
 * Throws `unknown_choice` for an unknown class, spacing, beta schedule, prediction type or solver name (listing
 * the valid ones), `bad_config` for mistyped values, `unsupported` for options this port does not implement
 * (thresholding, SDE/noise-prediction DPM variants, solver_order 3, lu lambdas, continuous timesteps, learned variance).
 */
export function parseSchedulerConfig(json: Record<string, unknown>, className?: string): SchedulerConfig {
  const cls = checkChoice("scheduler class", className ?? json["_class_name"], SCHEDULER_CLASSES);
  const d = DEFAULTS[cls];
  const isDpm = cls === "DPMSolverMultistepScheduler";
  if (bool(json, d, "thresholding")) unsupported("thresholding = true");
  if (str(json, d, "timestep_type") !== undefined && str(json, d, "timestep_type") !== "discrete" && cls === "EulerDiscreteScheduler") {
    unsupported(`timestep_type ${JSON.stringify(json["timestep_type"])} (only "discrete")`);
  }
  const variance = json["variance_type"];
  if (isDpm && (variance === "learned" || variance === "learned_range")) unsupported(`variance_type ${variance}`);
  if (isDpm && bool(json, d, "use_lu_lambdas")) unsupported("use_lu_lambdas = true");

  const algorithmType = "dpmsolver++" as const;
  let solverType: "midpoint" | "heun" = "midpoint";
  let solverOrder = 1;
  let finalSigmasType: FinalSigmasType = "v0.25";
  if (isDpm) {
    const algo = checkChoice("algorithm_type", str(json, d, "algorithm_type"), ["dpmsolver++", "deis", "dpmsolver", "sde-dpmsolver", "sde-dpmsolver++"]);
    if (algo !== "dpmsolver++" && algo !== "deis") unsupported(`algorithm_type ${JSON.stringify(algo)} (only "dpmsolver++")`);
    const st = checkChoice("solver_type", str(json, d, "solver_type"), ["midpoint", "heun", "logrho", "bh1", "bh2"]);
    solverType = st === "heun" ? "heun" : "midpoint"; // diffusers maps logrho/bh1/bh2 to midpoint
    solverOrder = num(json, d, "solver_order");
    if (solverOrder !== 1 && solverOrder !== 2) unsupported(`solver_order ${solverOrder} (supported: 1, 2)`);
    const fst = json["final_sigmas_type"];
    if (fst !== undefined && fst !== null) finalSigmasType = checkChoice("final_sigmas_type", fst, FINAL_SIGMAS_TYPES);
  }
  const interp = cls === "EulerDiscreteScheduler" ? checkChoice("interpolation_type", str(json, d, "interpolation_type"), ["linear", "log_linear"] as const) : "linear";
  const trained = json["trained_betas"];
  const optNum = (key: string) => (typeof json[key] === "number" && cls === "EulerDiscreteScheduler" ? (json[key] as number) : null);
  const steps = num(json, d, "num_train_timesteps");
  if (!Number.isInteger(steps) || steps < 2) throw new DiffusionError("bad_config", `scheduler config: num_train_timesteps must be an integer >= 2, got ${steps}`);
  return {
    className: cls,
    numTrainTimesteps: steps,
    betaStart: num(json, d, "beta_start"),
    betaEnd: num(json, d, "beta_end"),
    betaSchedule: checkChoice("beta_schedule", str(json, d, "beta_schedule"), BETA_SCHEDULES),
    trainedBetas: Array.isArray(trained) ? trained.map(Number) : null,
    predictionType: checkChoice("prediction_type", str(json, d, "prediction_type"), PREDICTION_TYPES),
    timestepSpacing: checkChoice("timestep_spacing", str(json, d, "timestep_spacing"), TIMESTEP_SPACINGS),
    stepsOffset: num(json, d, "steps_offset"),
    rescaleBetasZeroSnr: cls === "DPMSolverMultistepScheduler" ? false : bool(json, d, "rescale_betas_zero_snr"),
    useKarrasSigmas: cls === "EulerDiscreteScheduler" || isDpm ? bool(json, d, "use_karras_sigmas") : false,
    sigmaMin: optNum("sigma_min"),
    sigmaMax: optNum("sigma_max"),
    interpolationType: interp,
    solverOrder,
    algorithmType,
    solverType,
    lowerOrderFinal: isDpm ? bool(json, d, "lower_order_final") : false,
    eulerAtFinal: isDpm ? bool(json, d, "euler_at_final") : false,
    finalSigmasType,
    lambdaMinClipped: isDpm ? num(json, d, "lambda_min_clipped") : -Infinity,
    clipSample: cls === "DDIMScheduler" ? bool(json, d, "clip_sample") : false,
    clipSampleRange: cls === "DDIMScheduler" ? num(json, d, "clip_sample_range") : 1,
    setAlphaToOne: cls === "DDIMScheduler" ? bool(json, d, "set_alpha_to_one") : false,
  };
}
