/**
 * The host side of a training batch, shared by the world and SDXL sources: the noising and prompts of a stage's
 * feeds, the EVA tower on the batch's white-background face crops (one program per batch size), and the
 * encoder's `id_cond` input assembled as inference assembles it (raw face-net embedding, then the normalised EVA CLS).
 */
import { compile, type Program } from "../../engine/compile.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { input } from "../../engine/tensor.ts";
import { l2Normalize, type EvaVisionTransformer } from "../../models/eva/vision-transformer.ts";
import type { Rng } from "../../engine/rng.ts";
import { CHALLENGING_PROMPTS } from "../../world/benchmarks.ts";
import type { FrozenLatentEncoder, FrozenTextEncoder } from "../diffusion/frozen-encoders.ts";
import type { TrainSchedule } from "../diffusion/train-schedule.ts";
import type { StageData } from "./stage-data.ts";

export class EvaBatchRunner {
  private readonly programs = new Map<number, Program>();
  constructor(readonly eva: EvaVisionTransformer) {}

  /** images [B, 3, S, S] -> [normalised CLS embedding [B, E], hidden states...]. */
  async run(images: HostTensor): Promise<HostTensor[]> {
    const b = images.shape[0]!;
    let p = this.programs.get(b);
    if (!p) {
      const x = input("eva_images", images.shape);
      const o = this.eva.call(x);
      p = compile({ inputs: [x], outputs: [l2Normalize(o.embedding), ...o.hidden], name: "pulid_train_eva" });
      this.programs.set(b, p);
    }
    return p.run([images]);
  }

  /**
   * Fills `out.id_cond` ([B, A + E]: each face-net embedding, then its EVA CLS) and `out.vit_<l>` from the
   * per-sample face-net embeddings and the EVA inputs [B, 3, S, S].
   */
  async fillIdCondition(out: StageData, arcface: readonly Float32Array[], evaImages: HostTensor): Promise<void> {
    const [cls, ...hidden] = await this.run(evaImages);
    const B = arcface.length;
    const A = arcface[0]!.length;
    const E = cls!.shape[1]!;
    const idCond = HostTensor.f32([B, A + E]);
    for (let i = 0; i < B; i++) {
      idCond.data.set(arcface[i]!, i * (A + E));
      idCond.data.set((cls as HostTensor<"float32">).data.subarray(i * E, (i + 1) * E), i * (A + E) + A);
    }
    out.id_cond = idCond;
    hidden.forEach((v, l) => (out[`vit_${l}`] = v));
  }

  dispose(): Promise<void> {
    const all = [...this.programs.values()];
    this.programs.clear();
    return Promise.all(all.map((p) => p.dispose())).then(() => {});
  }
}

/** What every file-backed source draws the same way: the noising of the batch and the three prompt sets. */
export interface BatchDraw {
  rng: Rng;
  schedule: TrainSchedule;
  latent: FrozenLatentEncoder;
  text: FrozenTextEncoder;
  /** The ID loss's rollout prompt (default Table 8's first, "portrait, color, cinematic"). */
  idPrompt?: string;
}

/**
 * The diffusion branch's feeds (posterior sample, noise, timestep, SDXL's forward process), the two rollouts'
 * initial noise, and the prompts: the batch's captions, the ID loss's photo prompt ("portrait, color, cinematic",
 * Table 8's first) and one of Table 8's challenging prompts per sample for the alignment pair.
 */
export async function drawStageBatch(d: BatchDraw, images: HostTensor, latent: readonly [number, number, number], captions: readonly string[], timeIds: HostTensor): Promise<StageData> {
  const B = images.shape[0]!;
  const [C, hh, ww] = latent;
  const per = C * hh * ww;
  const shape = [B, C, hh, ww];
  const posterior = d.rng.fillNormal(new Float32Array(B * per));
  const eps = d.rng.fillNormal(new Float32Array(B * per));
  const t = Float32Array.from({ length: B }, () => d.rng.int(d.schedule.numTimesteps));
  const z0 = await d.latent.encode(images, posterior);
  const out: StageData = {
    noisy_latents: new HostTensor("float32", shape, d.schedule.addNoise(z0.data, eps, t, per)),
    timesteps: new HostTensor("float32", [B], t),
    target: new HostTensor("float32", shape, eps),
    sqrt_alpha: HostTensor.f32([B], Array.from(t, (v) => d.schedule.coefs(v)[0])),
    sqrt_one_minus_alpha: HostTensor.f32([B], Array.from(t, (v) => d.schedule.coefs(v)[1])),
    time_ids: timeIds,
    id_noise: new HostTensor("float32", shape, d.rng.fillNormal(new Float32Array(B * per))),
    align_noise: new HostTensor("float32", shape, d.rng.fillNormal(new Float32Array(B * per))),
  };
  const cap = await d.text.encode(captions);
  const photo = await d.text.encode(new Array<string>(B).fill(d.idPrompt ?? CHALLENGING_PROMPTS[0]!.text));
  const hard = await d.text.encode(Array.from({ length: B }, () => CHALLENGING_PROMPTS[d.rng.int(CHALLENGING_PROMPTS.length)]!.text));
  return Object.assign(out, { context: cap.context, pooled: cap.pooled, id_context: photo.context, id_pooled: photo.pooled, align_context: hard.context, align_pooled: hard.pooled });
}
