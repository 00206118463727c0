/**
 * The training side of an SDXL-family noise schedule: alphā_t of the folder's scheduler config (SDXL: scaled
 * linear, 1000 steps, float32 as diffusers builds it), the forward process x_t = sqrt(ā_t) x_0 + sqrt(1 - ā_t) eps
 * (diffusers `DDPMScheduler.add_noise`, what SDXL's training scripts use). Host-side: a batch is noised before
 * the traced step.
 */
import { parseSchedulerConfig } from "../../diffusion/diffusers-config.ts";
import { alphasCumprod, makeBetas } from "../../diffusion/beta-schedule.ts";
import { PulidError } from "../../engine/errors.ts";

export class TrainSchedule {
  constructor(readonly alphasCumprod: Float64Array) {}

  /** From a diffusers `scheduler_config.json` (any of the classes `parseSchedulerConfig` knows). */
  static fromConfig(config: Record<string, unknown>): TrainSchedule {
    const c = parseSchedulerConfig(config, String(config._class_name ?? "EulerDiscreteScheduler"));
    if (c.predictionType !== "epsilon") throw new PulidError("bad_config", `the world's diffusion recipes train epsilon prediction; the scheduler config says ${c.predictionType}`);
    const betas = makeBetas({ numTrainTimesteps: c.numTrainTimesteps, betaStart: c.betaStart, betaEnd: c.betaEnd, schedule: c.betaSchedule, trainedBetas: c.trainedBetas });
    return new TrainSchedule(alphasCumprod(betas, "float32"));
  }

  get numTimesteps(): number {
    return this.alphasCumprod.length;
  }

  /** [sqrt(ā_t), sqrt(1 - ā_t)]. */
  coefs(t: number): [number, number] {
    const a = this.alphasCumprod[t];
    if (a === undefined || !Number.isInteger(t)) throw new RangeError(`timestep ${t} is not an integer in [0, ${this.numTimesteps})`);
    return [Math.sqrt(a), Math.sqrt(1 - a)];
  }

  /** x_t of every sample: `x0` and `eps` hold B samples of `per` numbers each, sample i at timestep t[i]. */
  addNoise(x0: Float32Array, eps: Float32Array, t: ArrayLike<number>, per: number): Float32Array {
    const out = new Float32Array(x0.length);
    for (let i = 0; i < t.length; i++) {
      const [a, s] = this.coefs(t[i]!);
      for (let j = i * per; j < (i + 1) * per; j++) out[j] = a * x0[j]! + s * eps[j]!;
    }
    return out;
  }
}
