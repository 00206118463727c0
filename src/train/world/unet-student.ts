/**
 * `student`: the world's SDXL-Lightning, a 4-step UNet of the same class and config as the base, initialised from
 * the base and distilled from it.
 *
 * Method: trajectory-segment distillation (one round of progressive distillation, Salimans & Ho 2022, from a
 * teacher at 4 x `substeps` steps, as SDXL-Lightning's MSE stage did round by round). For each prompt the frozen
 * base (CFG `teacherCfg`) samples from pure noise with the pipeline's sampler, DPM-Solver++ 2M on trailing
 * timesteps (teacher-trajectories.ts), and records its states at the 4-step schedule's timesteps (999, 749, 499,
 * 249) and its final sample. At each state the target is the eps that makes the student's own DPM++ 2M step land
 * on the teacher's next state (segment-targets.ts, the sampler used as a black box), so a student that fits them
 * walks the teacher's trajectory from the same noise. Loss: MSE on eps weighted by the step's slope squared
 * (normalised to mean 1), i.e. MSE on the next state. Prompts dropped to "" (captionDropout) learn the teacher's
 * unguided trajectory, so the small CFG the pipeline uses on a Lightning base (1.2) has an unconditional branch.
 *
 * Why this and not the alternatives:
 * - the states are the teacher's own from pure noise, which is what PuLID's Lightning branch rolls out, and the
 *   targets are solved for the sampler that rolls it out (v1's dpmpp_2m), multistep history included;
 * - full progressive distillation needs log2(teacher steps / 4) successive runs whose errors compound, over a
 *   60 minute budget; one round from a 12- or 32-step teacher keeps a single run (the shipped student: 450 steps
 *   at substeps 3; the base at 12 steps reads style 0.70, at 32 steps 0.76, and the student follows its teacher,
 *   so substeps 8 is the better setting: README);
 * - consistency distillation (LCM) predicts x_0 and samples with fresh noise per step (its own sampler); its
 *   bootstrapped targets need an EMA network and many timesteps where the 4 fixed ones suffice here;
 * - adversarial distillation (SDXL-Lightning's second stage) needs a discriminator the world does not have.
 * The alternative it is measured against: the base itself at 4 DPM++ 2M trailing steps (`pulid world eval
 * student` reports both).
 *
 * Cost per step: the teacher's rollouts (4 x substeps UNet calls at batch 16, both CFG branches of 8 prompts) plus one
 * training step at batch 32 (8 prompts x 4 steps). Measured with tools/time-world-diffusion.ts at load average
 * ~16 on the 2 cores: 3.7 s/step (first step ~30 s, compiling). Planned: 900 steps = 56 min at that rate.
 *
 * Export: `sdxl_lightning_4step_unet.safetensors` (fp16, diffusers keys), the single file the models layout's
 * Lightning override loads next to sdxl/ (its config is sdxl/unet/config.json, the base's: same class, same config).
 */
import { join } from "node:path";
import { HostTensor } from "../../engine/host-tensor.ts";
import { Rng } from "../../engine/rng.ts";
import { PulidError } from "../../engine/errors.ts";
import { hashSeed } from "../../world/rng.ts";
import type { UNet2DConditionModel } from "../../models/unet/unet2d-condition.ts";
import { loadSdxlFolder } from "../../models/sdxl/folder.ts";
import { WORLD_UNET_CONFIG } from "../../models/world/unet.ts";
import { LIGHTNING_UNET } from "../../pulid/layout.ts";
import type { BaseHyper, Recipe } from "../harness/recipe.ts";
import { FrozenTextEncoder } from "../diffusion/frozen-encoders.ts";
import { epsLossGraph } from "../diffusion/eps-loss.ts";
import { TeacherTrajectories } from "../diffusion/teacher-trajectories.ts";
import { segmentTargets } from "../diffusion/segment-targets.ts";
import { writeUNetFile } from "../diffusion/sdxl-export.ts";
import { InitUNet, unetConfigOf, worldTimeIds, type UNetRecipeSpec } from "./unet-base.ts";
import { worldCaptions } from "./unet-data.ts";
import { CLIP_CONTEXT } from "./clip-data.ts";

export interface UNetStudentHyper extends BaseHyper {
  /** The base: a diffusers SDXL folder (its UNet is the teacher and the initialisation; its text encoders condition both). */
  teacher: string;
  teacherCfg: number;
  /** Teacher DPM++ 2M steps per student step. */
  substeps: number;
  studentSteps: number;
  photoShare: number;
  captionDropout: number;
  /** Start from another run's checkpoint (prefix model/) instead of the teacher's UNet ("" = the teacher). */
  initFrom?: string;
  /** Cross-attention at the 16x16 level too (the teacher's layout must have it: `withTopAttention`). */
  topAttention?: boolean;
}

export const WORLD_STUDENT_DEFAULTS: UNetStudentHyper = {
  steps: 900, batch: 32, lr: 1e-4, warmup: 50, minLrRatio: 0.1, weightDecay: 0, clip: 1, seed: 72, dataSeed: 702, checkpointEvery: 50,
  teacher: "models/world/sdxl", teacherCfg: 5, substeps: 3, studentSteps: 4, photoShare: 0.4, captionDropout: 0.1,
};

/** The student's sampler: the pipeline's v1 sampler (teacher states are DPM-Solver samples, unscaled). */
const STUDENT_SCHEDULER = "DPMSolverMultistepScheduler";

/** Per-step loss weights: slope squared (eps error -> next-state error), normalised to mean 1. */
export function studentWeights(slopes: readonly number[]): number[] {
  const mean = slopes.reduce((a, b) => a + b * b, 0) / slopes.length;
  return slopes.map((b) => (b * b) / mean);
}

export function unetStudentRecipe(spec: UNetRecipeSpec<UNetStudentHyper>): Recipe<UNetStudentHyper> {
  let frozen: { key: string; text: FrozenTextEncoder; teacher: TeacherTrajectories; schedulerConfig: Record<string, unknown> } | null = null;
  const open = (h: UNetStudentHyper) => {
    const key = [h.teacher, h.teacherCfg, h.substeps, h.studentSteps].join("|");
    if (frozen?.key !== key) {
      const f = loadSdxlFolder(h.teacher);
      frozen = {
        key,
        text: new FrozenTextEncoder(f),
        teacher: new TeacherTrajectories(f.unet, f.schedulerConfig, { studentSteps: h.studentSteps, substeps: h.substeps, cfg: h.teacherCfg }),
        schedulerConfig: f.schedulerConfig,
      };
    }
    return frozen;
  };
  const c = spec.config;
  const side = c.sample_size ?? 16;
  const latent = [c.in_channels, side, side] as const;
  const per = latent[0] * latent[1] * latent[2];
  return {
    name: spec.name,
    summary: "the world's SDXL-Lightning: a 4-step UNet distilled from the base on its own DPM++ 2M trajectories",
    defaults: spec.defaults,
    createModel: (h) =>
      new InitUNet(unetConfigOf(c, h), h.initFrom || join(h.teacher, "unet", "diffusion_pytorch_model.safetensors")),
    graph(model, h) {
      if (h.batch % h.studentSteps !== 0) throw new PulidError("bad_hyper", `${spec.name}: batch ${h.batch} must be a multiple of studentSteps ${h.studentSteps} (each prompt gives one state per step)`);
      const cross = Array.isArray(c.cross_attention_dim) ? c.cross_attention_dim[0]! : c.cross_attention_dim;
      const pooled = c.projection_class_embeddings_input_dim! - 6 * c.addition_time_embed_dim!;
      return epsLossGraph(model as UNet2DConditionModel, { batch: h.batch, latent, contextLength: CLIP_CONTEXT, contextDim: cross, pooledDim: pooled, weighted: true });
    },
    async batch(step, h) {
      const f = open(h);
      const S = h.studentSteps;
      const R = h.batch / S;
      const prompts = worldCaptions(h.dataSeed, step * R, R, { photoShare: h.photoShare, dropout: h.captionDropout });
      const cond = await f.text.encode([...new Array<string>(R).fill(""), ...prompts]);
      const noise = new Rng(hashSeed("student-noise", h.dataSeed, step)).fillNormal(new Float32Array(R * per));
      const traj = await f.teacher.rollout(noise, latent, { context: cond.context, pooled: cond.pooled, timeIds: worldTimeIds(2 * R) });
      // Sample k * R + r: prompt r at the student's k-th step, conditioned on the prompt's (positive) rows.
      const [L, D] = cond.context.shape.slice(1) as [number, number];
      const P = cond.pooled.shape[1]!;
      const x = new Float32Array(h.batch * per);
      const target = new Float32Array(h.batch * per);
      const t = new Float32Array(h.batch);
      const w = new Float32Array(h.batch);
      const context = HostTensor.f32([h.batch, L, D]);
      const pooled = HostTensor.f32([h.batch, P]);
      for (let r = 0; r < R; r++) {
        const mine = (a: Float32Array) => a.subarray(r * per, (r + 1) * per);
        const seg = segmentTargets(f.schedulerConfig, STUDENT_SCHEDULER, S, traj.states.map(mine), mine(traj.x0));
        const weights = studentWeights(seg.slopes);
        for (let k = 0; k < S; k++) {
          const i = k * R + r;
          x.set(seg.inputs[k]!, i * per);
          target.set(seg.eps[k]!, i * per);
          t[i] = traj.timesteps[k]!;
          w[i] = weights[k]!;
          context.data.set(cond.context.data.subarray((R + r) * L * D, (R + r + 1) * L * D), i * L * D);
          pooled.data.set(cond.pooled.data.subarray((R + r) * P, (R + r + 1) * P), i * P);
        }
      }
      return [
        new HostTensor("float32", [h.batch, ...latent], x),
        new HostTensor("float32", [h.batch], t),
        context,
        pooled,
        worldTimeIds(h.batch),
        new HostTensor("float32", [h.batch, ...latent], target),
        new HostTensor("float32", [h.batch], w),
      ];
    },
    async dispose() {
      const f = frozen;
      frozen = null;
      if (f) await Promise.all([f.text.dispose(), f.teacher.dispose()]);
    },
    async export(model, _h, dir) {
      return [await writeUNetFile(join(dir, LIGHTNING_UNET.path), model as UNet2DConditionModel)];
    },
  };
}

export const studentRecipe = unetStudentRecipe({ name: "student", config: WORLD_UNET_CONFIG, defaults: WORLD_STUDENT_DEFAULTS });
