import { PulidError } from "../engine/errors.ts";

/** Stable codes of diffusion errors. */
export type DiffusionErrorCode =
  | "unknown_choice" // a name (sampler, spacing, beta schedule, ...) that is not one of the valid choices
  | "bad_steps" // zero, negative, fractional, or more steps than training timesteps
  | "bad_config" // a config value of the wrong type or range
  | "bad_input" // tensors of mismatched size, or steps called out of order
  | "unsupported"; // a diffusers option this port deliberately does not implement

/** A bad schedule/sampler request. The message names the input and, for names, lists the valid choices. */
export class DiffusionError extends PulidError {
  declare readonly code: DiffusionErrorCode;
  constructor(code: DiffusionErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * Checks that `value` is one of `choices`, else throws `unknown_choice` naming `what` and listing every choice.
 * @example checkChoice("timestep_spacing", "trailng", ["leading", "trailing", "linspace"]) // throws
 */
export function checkChoice<T extends string>(what: string, value: unknown, choices: readonly T[]): T {
  if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T;
  throw new DiffusionError(
    "unknown_choice",
    `unknown ${what} ${JSON.stringify(value)}; valid choices: ${choices.map((c) => JSON.stringify(c)).join(", ")}`,
  );
}

/** Checks a number of inference steps: an integer >= 1 and, when given, <= `numTrainTimesteps`. */
export function checkSteps(steps: unknown, numTrainTimesteps?: number): number {
  if (typeof steps !== "number" || !Number.isInteger(steps) || steps <= 0) {
    throw new DiffusionError("bad_steps", `num_inference_steps must be a positive integer, got ${String(steps)}`);
  }
  if (numTrainTimesteps !== undefined && steps > numTrainTimesteps) {
    throw new DiffusionError(
      "bad_steps",
      `num_inference_steps ${steps} is more than num_train_timesteps ${numTrainTimesteps}; use at most ${numTrainTimesteps}`,
    );
  }
  return steps;
}
