import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DiffusionError,
  createScheduler,
  getSampler,
  makeBetas,
  parseSchedulerConfig,
  sampleEulerAncestral,
  spacedTimesteps,
  PulidV11Schedule,
} from "../../src/diffusion/index.ts";

function throwsWith(fn: () => unknown, code: string, ...parts: string[]) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DiffusionError, `expected DiffusionError, got ${String(e)}`);
    assert.equal(e.code, code);
    for (const p of parts) assert.ok(e.message.includes(p), `message "${e.message}" lacks "${p}"`);
    return true;
  });
}

const euler = parseSchedulerConfig({ _class_name: "EulerDiscreteScheduler" });

test("unknown names list the valid choices", () => {
  throwsWith(() => getSampler("dpmpp_3m"), "unknown_choice", "dpmpp_3m", '"euler"', '"euler_ancestral"', '"dpmpp_2m"', '"lcm"');
  throwsWith(() => parseSchedulerConfig({ _class_name: "EulerDiscreteScheduler", timestep_spacing: "trailng" }), "unknown_choice", "timestep_spacing", '"leading"', '"trailing"', '"linspace"');
  throwsWith(() => spacedTimesteps("uniform", 4, { numTrainTimesteps: 1000, stepsOffset: 0, variant: "euler" }), "unknown_choice", '"trailing"');
  throwsWith(() => makeBetas({ numTrainTimesteps: 1000, betaStart: 0.1, betaEnd: 0.2, schedule: "cosine" }), "unknown_choice", "beta_schedule", '"scaled_linear"', '"squaredcos_cap_v2"');
  throwsWith(() => parseSchedulerConfig({ _class_name: "PNDMScheduler" }), "unknown_choice", "scheduler class", '"DDIMScheduler"');
  throwsWith(() => parseSchedulerConfig({ _class_name: "DDIMScheduler", prediction_type: "x0" }), "unknown_choice", '"v_prediction"');
});

test("zero, negative, fractional, or too many steps are refused with the limit in the message", () => {
  for (const bad of [0, -3, 2.5, NaN]) {
    throwsWith(() => createScheduler(euler, bad), "bad_steps", "positive integer");
  }
  throwsWith(() => createScheduler(euler, 1001), "bad_steps", "1001", "1000");
  throwsWith(() => new PulidV11Schedule().sigmas(0), "bad_steps");
  assert.equal(createScheduler(euler, 1000).timesteps.length, 1000);
});

test("unsupported diffusers options say so instead of silently doing something else", () => {
  throwsWith(() => parseSchedulerConfig({ _class_name: "DPMSolverMultistepScheduler", algorithm_type: "sde-dpmsolver++" }), "unsupported", "sde-dpmsolver++");
  throwsWith(() => parseSchedulerConfig({ _class_name: "DPMSolverMultistepScheduler", solver_order: 3 }), "unsupported", "solver_order 3");
  throwsWith(() => parseSchedulerConfig({ _class_name: "DDIMScheduler", thresholding: true }), "unsupported", "thresholding");
  throwsWith(() => parseSchedulerConfig({ _class_name: "EulerDiscreteScheduler", num_train_timesteps: "1000" }), "bad_config", "num_train_timesteps");
});

test("misuse at run time: missing noise, wrong sizes, out-of-order multistep calls", () => {
  const x = new Float64Array(4);
  throwsWith(() => sampleEulerAncestral((v) => v, x, [1, 0]), "bad_input", "opts.noise");
  throwsWith(() => getSampler("euler")((v) => v, x, [1]), "bad_input", "at least 2");
  throwsWith(() => getSampler("euler")((v) => v.subarray(1), x, [1, 0]), "bad_input", "denoiser returned 3");
  const ea = createScheduler(parseSchedulerConfig({ _class_name: "EulerAncestralDiscreteScheduler" }), 4);
  throwsWith(() => ea.step(x, 0, x), "bad_input", "extras.noise");
  const dpm = createScheduler(parseSchedulerConfig({ _class_name: "DPMSolverMultistepScheduler" }), 4);
  throwsWith(() => dpm.step(x, 1, x), "bad_input", "expected step 0");
  throwsWith(() => dpm.step(new Float64Array(3), 0, x), "bad_input", "3 elements");
});
