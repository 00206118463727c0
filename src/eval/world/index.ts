/** Every world model's evaluation, by the name `pulid world eval <model>` takes, with its bars. */
import { join } from "node:path";
import { evalFaceNet } from "./face-net-eval.ts";
import { evalDetector } from "./detector-eval.ts";
import { evalParser } from "./parser-eval.ts";
import { evalClip } from "./clip-eval.ts";
import { evalJudge } from "./judge-eval.ts";
import { evalVae } from "./vae-eval.ts";
import { evalGeneration } from "./generation-eval.ts";
export { GENERATION_EVAL_BATCH } from "./generation-eval.ts";
import { readManifest } from "../../train/harness/ship.ts";
import { LIGHTNING_UNET } from "../../pulid/layout.ts";

/** Where the shipped world models live (relative to the working directory: the repository root). */
export const WORLD_MODELS_DIR = "models/world";

export interface WorldEvalRun {
  /** Weights to measure (default: the shipped file). */
  model?: string;
  /** Samples of the generation evaluations (base, student; default 256): more for a tighter estimate. */
  samples?: number;
  onProgress?(done: number, total: number): void;
}

export interface WorldEval {
  run(o: WorldEvalRun): Promise<Record<string, unknown>>;
  /** The evaluation generates images and takes `WorldEvalRun.samples` (base, student). */
  sampled?: boolean;
  /** The bars, each a readable line and a check on the result. */
  bars: { text: string; pass(r: Record<string, unknown>): boolean }[];
}

const FACE_NETS = ["face-id", "face-loss", "face-metric"] as const;

/** The base at 30 steps with this CFG (chosen for the world's base: strong prompt following at 16x16 latents). */
export const BASE_EVAL = { steps: 30, cfg: 5 } as const;
/** The student at the pipeline's Lightning settings (v1: 4 steps, CFG 1.2). */
export const STUDENT_EVAL = { steps: 4, cfg: 1.2 } as const;

type Scores = Record<string, unknown> & { attribute_accuracy?: Record<string, number>; face_rate?: number; identity_spread?: number | null; identity_spread_renders?: number | null };

/**
 * Within `d` of each other in every attribute category and in face rate (issue 12: "within 5 points"), measured on
 * the same number of samples (the same prompts and seeds).
 */
function within(r: Scores, base: Scores | undefined, d = 0.05): boolean {
  if (!base?.attribute_accuracy || !r.attribute_accuracy || base.samples !== r.samples) return false;
  return (
    Object.entries(base.attribute_accuracy).every(([k, v]) => Math.abs((r.attribute_accuracy![k] ?? 0) - v) <= d) &&
    Math.abs((r.face_rate ?? 0) - (base.face_rate ?? 0)) <= d
  );
}

const generationBars = [
  { text: "attribute_accuracy >= 0.85 in every category (judge, held-out combinations)", pass: (r: Record<string, unknown>) => (r.min_attribute_accuracy as number) >= 0.85 },
  { text: "face_rate >= 0.95 (detector)", pass: (r: Record<string, unknown>) => (r.face_rate as number) >= 0.95 },
  {
    text: "identity_spread within 0.05 of the renders' (face-metric mean pairwise cosine)",
    pass: (r: Record<string, unknown>) => r.identity_spread !== null && r.identity_spread_renders !== null && Math.abs((r.identity_spread as number) - (r.identity_spread_renders as number)) <= 0.05,
  },
];

function faceNetEval(name: (typeof FACE_NETS)[number]): WorldEval {
  return {
    run: (o) => {
      const others = Object.fromEntries(FACE_NETS.filter((n) => n !== name).map((n) => [n, join(WORLD_MODELS_DIR, `${n}.onnx`)]));
      return evalFaceNet(o.model ?? join(WORLD_MODELS_DIR, `${name}.onnx`), { others, onProgress: o.onProgress }) as never;
    },
    bars: [{ text: "verification_accuracy >= 0.97 (photo style, held-out identities)", pass: (r) => (r.verification_accuracy as number) >= 0.97 }],
  };
}

export const WORLD_EVALS: Record<string, WorldEval> = {
  ...Object.fromEntries(FACE_NETS.map((n) => [n, faceNetEval(n)])),
  detector: {
    run: (o) => evalDetector(o.model ?? join(WORLD_MODELS_DIR, "detector.onnx"), { onProgress: o.onProgress }) as never,
    bars: [
      { text: "detection_rate >= 0.99 (photo style, held-out identities)", pass: (r) => (r.detection_rate as number) >= 0.99 },
      { text: "landmark_nme <= 0.03 (by inter-ocular distance)", pass: (r) => (r.landmark_nme as number) <= 0.03 },
      { text: "false_positive_rate <= 0.01 (images with no person)", pass: (r) => (r.false_positive_rate as number) <= 0.01 },
    ],
  },
  parser: {
    run: (o) => evalParser(o.model ?? join(WORLD_MODELS_DIR, "parser.safetensors"), { onProgress: o.onProgress }) as never,
    bars: [{ text: "miou >= 0.90 over the world's classes (held-out identities)", pass: (r) => (r.miou as number) >= 0.9 }],
  },
  ...Object.fromEntries(
    (["clip-id", "clip-metric"] as const).map((n) => [
      n,
      {
        run: (o: WorldEvalRun) => evalClip(o.model ?? join(WORLD_MODELS_DIR, n), { onProgress: o.onProgress }),
        bars: [{ text: "retrieval_top1 >= 0.80 (caption -> image in batches of 32, held-out identities)", pass: (r: Record<string, unknown>) => (r.retrieval_top1 as number) >= 0.8 }],
      },
    ]),
  ),
  vae: {
    run: (o) => evalVae(o.model ?? join(WORLD_MODELS_DIR, "sdxl", "vae"), { perception: WORLD_MODELS_DIR, onProgress: o.onProgress }),
    bars: [
      { text: "psnr_db >= 30 (photo style, held-out identities)", pass: (r) => (r.psnr_db as number) >= 30 },
      { text: "face_cos >= 0.95 (face-metric, median, photo style)", pass: (r) => (r.face_cos as number) >= 0.95 },
    ],
  },
  base: {
    // --model: another SDXL folder (e.g. runs/base/export/sdxl).
    sampled: true,
    run: (o) => evalGeneration({ folder: o.model ?? join(WORLD_MODELS_DIR, "sdxl"), ...BASE_EVAL, samples: o.samples, perception: WORLD_MODELS_DIR, onProgress: o.onProgress }),
    bars: generationBars,
  },
  student: {
    // --model: another Lightning UNet file (e.g. runs/student/export/sdxl_lightning_4step_unet.safetensors).
    sampled: true,
    async run(o) {
      const folder = join(WORLD_MODELS_DIR, "sdxl");
      const unetFile = o.model ?? join(WORLD_MODELS_DIR, LIGHTNING_UNET.path);
      const r: Scores = await evalGeneration({ folder, unetFile, ...STUDENT_EVAL, samples: o.samples, perception: WORLD_MODELS_DIR, onProgress: o.onProgress });
      // The alternative to distillation: the base itself at the student's 4 steps (its own CFG).
      const alt = await evalGeneration({ folder, steps: STUDENT_EVAL.steps, cfg: BASE_EVAL.cfg, samples: o.samples, perception: WORLD_MODELS_DIR, onProgress: o.onProgress });
      return { ...r, base_at_30_steps: readManifest(WORLD_MODELS_DIR).models.base?.bars ?? null, alternative_base_at_4_steps: alt };
    },
    bars: [
      ...generationBars,
      { text: "every key within 5 points of the base at 30 steps (base's bars recorded in the manifest, on as many samples)", pass: (r) => within(r as Scores, (r.base_at_30_steps ?? undefined) as Scores | undefined) },
    ],
  },
  judge: {
    run: (o) => evalJudge(o.model ?? join(WORLD_MODELS_DIR, "judge.safetensors"), { detector: join(WORLD_MODELS_DIR, "detector.onnx"), onProgress: o.onProgress }),
    bars: [{ text: "accuracy >= 0.95 in every attribute category (held-out identities)", pass: (r) => (r.min_accuracy as number) >= 0.95 }],
  },
};
