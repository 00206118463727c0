/**
 * Teacher trajectories for few-step distillation. The teacher (a frozen UNet with classifier-free guidance)
 * solves the sampling ODE from pure noise the way the pipeline samples (`pulid/sampling.ts`, v1 dpmpp_2m):
 * diffusers' DPM-Solver++ 2M from the folder's scheduler config with trailing spacing, here at
 * `studentSteps * substeps` steps so that every timestep of the student's `studentSteps`-step schedule is also a
 * teacher step. The states it passes at those timesteps are recorded together with where it ends.
 *
 * The student's targets are solved from these states (segment-targets.ts).
 */
import { input } from "../../engine/tensor.ts";
import { compile, type Program } from "../../engine/compile.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { PulidError } from "../../engine/errors.ts";
import type { UNet2DConditionModel } from "../../models/unet/unet2d-condition.ts";
import { createScheduler } from "../../diffusion/diffusers-scheduler.ts";
import { parseSchedulerConfig } from "../../diffusion/diffusers-config.ts";

/** The pipeline's v1 override of the scheduler config (pulid/sampling.ts `trailingConfig`). */
const trailingConfig = (config: Record<string, unknown>, className: string) => parseSchedulerConfig({ ...config, timestep_spacing: "trailing" }, className);

export interface TeacherOptions {
  /** The student's number of steps (4 for the Lightning stand-in). */
  studentSteps: number;
  /** Teacher steps per student step. */
  substeps: number;
  /** Guidance scale of the teacher. */
  cfg: number;
}

/** Conditioning of R trajectories, both CFG branches: rows 0..R-1 unconditional, R..2R-1 the prompts. */
export interface TeacherConditioning {
  context: HostTensor<"float32">;
  pooled: HostTensor<"float32">;
  timeIds: HostTensor<"float32">;
}

export interface Trajectories {
  /** The student's timesteps (descending, integers). */
  timesteps: number[];
  /** states[k]: the R samples [R * per] when the teacher reached timesteps[k] (states[0] is the noise). */
  states: Float32Array[];
  /** Where the teacher ends [R * per]. */
  x0: Float32Array;
}

/** Timesteps of diffusers' DPM-Solver++ multistep scheduler with trailing spacing, for `steps` steps. */
export function trailingTimesteps(schedulerConfig: Record<string, unknown>, steps: number): number[] {
  return [...createScheduler(trailingConfig(schedulerConfig, "DPMSolverMultistepScheduler"), steps).timesteps];
}

export class TeacherTrajectories {
  readonly timesteps: number[];
  private readonly teacherSteps: number;
  private readonly marks: Map<number, number>;
  private readonly programs = new Map<number, Program>();

  constructor(
    readonly unet: UNet2DConditionModel,
    readonly schedulerConfig: Record<string, unknown>,
    readonly o: TeacherOptions,
  ) {
    this.timesteps = trailingTimesteps(schedulerConfig, o.studentSteps);
    this.teacherSteps = o.studentSteps * o.substeps;
    const teacher = trailingTimesteps(schedulerConfig, this.teacherSteps);
    this.marks = new Map(this.timesteps.map((t, k) => [teacher.indexOf(t), k]));
    if (this.marks.has(-1)) {
      throw new PulidError("bad_config", `teacher timesteps (${this.teacherSteps} trailing) do not contain the student's ${this.timesteps.join(", ")}; choose substeps so they do`);
    }
  }

  private program(rows: number, latent: readonly number[], ctx: readonly number[], pooled: number): Program {
    let p = this.programs.get(rows);
    if (!p) {
      const x = input("sample", [rows, ...latent]);
      const t = input("timestep", [rows]);
      const c = input("context", [rows, ...ctx]);
      const q = input("pooled", [rows, pooled]);
      const ti = input("time_ids", [rows, 6]);
      const eps = this.unet.call(x, t, c, { added: { textEmbeds: q, timeIds: ti } });
      this.programs.set(rows, (p = compile({ inputs: [x, t, c, q, ti], outputs: [eps], name: "teacher_unet" })));
    }
    return p;
  }

  /** Rolls out R trajectories from `noise` [R * per] (standard normal), `latent` = [C, h, w]. */
  async rollout(noise: Float32Array, latent: readonly [number, number, number], cond: TeacherConditioning): Promise<Trajectories> {
    const per = latent[0] * latent[1] * latent[2];
    const R = noise.length / per;
    const scheds = Array.from({ length: R }, () => createScheduler(trailingConfig(this.schedulerConfig, "DPMSolverMultistepScheduler"), this.teacherSteps));
    const prog = this.program(2 * R, latent, cond.context.shape.slice(1), cond.pooled.shape[1]!);
    let xs: Float64Array[] = Array.from({ length: R }, (_, r) => Float64Array.from(noise.subarray(r * per, (r + 1) * per), (v) => v * scheds[r]!.initNoiseSigma));
    const states: Float32Array[] = [];
    for (let i = 0; i < this.teacherSteps; i++) {
      const k = this.marks.get(i);
      if (k !== undefined) states[k] = Float32Array.from(xs.flatMap((x) => [...x]));
      const xIn = new Float32Array(2 * R * per);
      xs.forEach((x, r) => {
        const v = scheds[r]!.scaleModelInput(x, i);
        xIn.set(v, r * per);
        xIn.set(v, (R + r) * per);
      });
      const t = scheds[0]!.timesteps[i]!;
      const [out] = await prog.run([new HostTensor("float32", [2 * R, ...latent], xIn), new HostTensor("float32", [2 * R], new Float32Array(2 * R).fill(t)), cond.context, cond.pooled, cond.timeIds]);
      const o = out!.data as Float32Array;
      xs = xs.map((x, r) => {
        const e = new Float64Array(per);
        for (let j = 0; j < per; j++) {
          const u = o[r * per + j]!;
          e[j] = u + this.o.cfg * (o[(R + r) * per + j]! - u);
        }
        return scheds[r]!.step(e, i, x).prevSample;
      });
    }
    return { timesteps: this.timesteps, states, x0: Float32Array.from(xs.flatMap((x) => [...x])) };
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.programs.values()].map((p) => p.dispose()));
    this.programs.clear();
  }
}
