/**
 * Distillation targets for a few-step student: at each of its steps, the eps that makes the student's own
 * sampler step land on the teacher's state at the next step's timestep (on its final sample after the last).
 * A student that outputs these exactly, started from the teacher's noise, visits the teacher's states one by one
 * and ends where the teacher ends.
 *
 * The sampler is the diffusers scheduler the pipeline runs (DPM-Solver++ 2M or Euler, trailing spacing), used as
 * a black box: one step is affine in the model output with one scalar slope (x' = a + b * eps, element-wise; for
 * 2M the previous x_0 estimate sits in `a`), so two probe steps from a replayed scheduler give a and b, and
 * eps = (x_target - a) / b. No sampler coefficients are re-derived here, so the targets cannot drift from the
 * sampler. |b| is how much an eps error moves the next state; its square weights the loss (unet-student.ts).
 */
import { createScheduler } from "../../diffusion/diffusers-scheduler.ts";
import { parseSchedulerConfig } from "../../diffusion/diffusers-config.ts";
import type { SchedulerClass } from "../../diffusion/diffusers-config.ts";

export interface SegmentTargets {
  /** The UNet input at each step (scaleModelInput of the state). */
  inputs: Float32Array[];
  /** The eps target at each step. */
  eps: Float32Array[];
  /** The slope b of each step. */
  slopes: number[];
}

/**
 * Targets of one trajectory: `states[k]` is the teacher's sample at the student's k-th timestep (states[0] the
 * initial noise times init_noise_sigma), `final` where the teacher ends.
 */
export function segmentTargets(schedulerConfig: Record<string, unknown>, className: SchedulerClass, steps: number, states: readonly Float32Array[], final: Float32Array): SegmentTargets {
  const config = parseSchedulerConfig({ ...schedulerConfig, timestep_spacing: "trailing" }, className);
  const solved: Float64Array[] = [];
  const out: SegmentTargets = { inputs: [], eps: [], slopes: [] };
  const n = final.length;
  for (let k = 0; k < steps; k++) {
    const x = Float64Array.from(states[k]!);
    // Replays the student's scheduler through steps 0..k-1 with the eps solved so far (its history), then steps with e.
    const probe = (e: Float64Array) => {
      const s = createScheduler(config, steps);
      for (let j = 0; j < k; j++) s.step(solved[j]!, j, Float64Array.from(states[j]!));
      return s.step(e, k, x).prevSample;
    };
    const a = probe(new Float64Array(n));
    const b = probe(new Float64Array(n).fill(1))[0]! - a[0]!;
    const target = k + 1 < steps ? states[k + 1]! : final;
    const e = new Float64Array(n);
    for (let i = 0; i < n; i++) e[i] = (target[i]! - a[i]!) / b;
    solved.push(e);
    out.inputs.push(Float32Array.from(createScheduler(config, steps).scaleModelInput(x, k)));
    out.eps.push(Float32Array.from(e));
    out.slopes.push(b);
  }
  return out;
}
