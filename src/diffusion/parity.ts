/**
 * Parity case kind `schedulers`: replays every sub-case of a scheduler fixture (tensor names `SUB.*`, settings in
 * the JSON's `runs`) through this folder's diffusers adapter or PuLID v1.1 path, with the recorded model outputs
 * standing in for the UNet, and compares timesteps, sigmas, init noise sigma, scaled model inputs, every step's
 * sample and (PuLID v1.1) what the network was called with. Step counts, spacings and shapes come from the fixture.
 */
import type { ParityKind } from "../parity/kind.ts";
import type { Fixture } from "../parity/fixture.ts";
import { compareTensors, type Comparison } from "../parity/compare.ts";
import { HostTensor } from "../engine/host-tensor.ts";
import { parseSchedulerConfig } from "./diffusers-config.ts";
import { createScheduler } from "./diffusers-scheduler.ts";
import { PulidV11Schedule } from "./pulid-v11.ts";
import { sampleDpmpp2m } from "./samplers.ts";

interface Run {
  name: string;
  class?: string;
  config_overrides?: Record<string, unknown>;
  effective_config?: Record<string, unknown>;
  config?: Record<string, unknown>;
  num_inference_steps?: number;
}

function isPulidV11(cls: string | undefined): boolean {
  return cls !== undefined && (cls.startsWith("PuLID v1.1") || cls.includes("get_sigmas_karras"));
}

/** Stacks equally long arrays into one flat array. */
function stack(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Row i (along the first axis) of a tensor, as float64. */
function row(t: HostTensor, i: number): Float64Array {
  return t.index(i).toFloat64();
}

function runDiffusers(f: Fixture, p: string, run: Run, keys: Set<string>, cmp: Compare): void {
  const json = { ...f.config, ...(run.effective_config ?? run.config_overrides ?? {}) };
  const config = parseSchedulerConfig(json, run.class ?? (json["_class_name"] as string));
  const outputs = f.io(`${p}.model_outputs`);
  const steps = run.num_inference_steps ?? outputs.shape[0]!;
  const s = createScheduler(config, steps);
  cmp("timesteps", s.timesteps, true);
  cmp("sigmas", s.sigmas);
  cmp("init_noise_sigma", [s.initNoiseSigma]);
  let x: Float64Array = f.io(`${p}.x0`).toFloat64().map((v) => v * s.initNoiseSigma);
  cmp("x_start", x);
  const noise = keys.has(`${p}.noise`) ? f.io(`${p}.noise`) : null;
  const n = Math.min(s.timesteps.length, outputs.shape[0]!);
  const scaled: Float64Array[] = [];
  const prev: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    scaled.push(s.scaleModelInput(x, i));
    const out = s.step(row(outputs, i), i, x, noise ? { noise: row(noise, i) } : {});
    if (i === 0) cmp("step0_pred_original_sample", out.predOriginalSample);
    x = out.prevSample;
    prev.push(x);
  }
  cmp("scaled_model_inputs", stack(scaled));
  cmp("prev_samples", stack(prev));
}

function runPulidV11(f: Fixture, p: string, run: Run, cmp: Compare): void {
  const c = { ...f.config, ...(run.config ?? {}) };
  const sched = new PulidV11Schedule({
    betaStart: typeof c["beta_start"] === "number" ? c["beta_start"] : 0.00085,
    betaEnd: typeof c["beta_end"] === "number" ? c["beta_end"] : 0.012,
    numTrainTimesteps: typeof c["num_train_timesteps"] === "number" ? c["num_train_timesteps"] : 1000,
  });
  const denoised = f.io(`${p}.denoised`);
  const steps = run.num_inference_steps ?? denoised.shape[0]!;
  const sigmas = sched.sigmas(steps);
  cmp("sigmas", sigmas);
  const x0 = f.io(`${p}.x0`);
  // The reference passes one timestep per sample (`sigma * s_in`), so each call records `batch` of them.
  const batch = x0.shape[0] ?? 1;
  const x = x0.toFloat64().map((v) => v * sigmas[0]!);
  cmp("x_start", x);
  const xIn: Float64Array[] = [];
  const xDdim: Float64Array[] = [];
  const ts: number[] = [];
  let call = 0;
  const model = sched.denoiser((xScaled, t) => {
    xDdim.push(xScaled);
    for (let b = 0; b < batch; b++) ts.push(t);
    // The recorded denoised output replaces the UNet + CFG: undo `x - sigma*eps` by returning the eps that
    // reproduces it, so the wrapper's own arithmetic is exercised.
    const d = row(denoised, call);
    const xv = xIn[xIn.length - 1]!;
    const sigma = sigmas[call++]!;
    return xv.map((v, i) => (v - d[i]!) / sigma);
  });
  const final = sampleDpmpp2m(
    (xv, sigma) => {
      xIn.push(xv);
      return model(xv, sigma);
    },
    x,
    sigmas,
  );
  cmp("model_x_in", stack(xIn));
  cmp("x_ddim_space", stack(xDdim));
  cmp("unet_timesteps", ts, true);
  cmp("final", final);
}

type Compare = (output: string, got: ArrayLike<number>, isTimestep?: boolean) => void;

export const schedulerParityKind: ParityKind = {
  name: "schedulers",
  matches(f) {
    return f.name === "schedulers" || (Array.isArray(f.meta.runs) && f.meta.runs.length > 0 && /Scheduler|PuLID v1\.1/.test(String(f.meta.runs[0]?.class)));
  },
  async run(f) {
    const keys = new Set(f.ioKeys());
    const runs: Run[] = Array.isArray(f.meta.runs) ? f.meta.runs : [];
    const prefixes = [...new Set([...keys].map((k) => k.split(".")[0]!))];
    const tol = f.tolerance;
    const results: Comparison[] = [];
    for (const p of prefixes) {
      const run = runs.find((r) => r.name === p);
      const cmp: Compare = (output, got, isTimestep = false) => {
        const name = `${p}.${output}`;
        if (!keys.has(name)) return;
        const atol = isTimestep ? (tol["timesteps_atol"] ?? tol.atol) : tol.atol;
        results.push(compareTensors(name, got, f.io(name), atol, tol.rtol));
      };
      const fail = (note: string) =>
        results.push({ label: p, maxAbsError: Infinity, worstExcess: Infinity, atol: tol.atol, rtol: tol.rtol, pass: false, note });
      if (!run) {
        fail(`no entry named '${p}' in the fixture's runs`);
        continue;
      }
      try {
        if (isPulidV11(run.class)) runPulidV11(f, p, run, cmp);
        else runDiffusers(f, p, run, keys, cmp);
      } catch (e) {
        fail(`${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    return results;
  },
};
