/** Every world model's evaluation, by the name `pulid world eval <model>` takes, with its bars. */
import { join } from "node:path";
import { evalFaceNet } from "./face-net-eval.ts";
import { evalDetector } from "./detector-eval.ts";
import { evalParser } from "./parser-eval.ts";
import { evalClip } from "./clip-eval.ts";
import { evalJudge } from "./judge-eval.ts";

/** Where the shipped world models live (relative to the working directory: the repository root). */
export const WORLD_MODELS_DIR = "models/world";

export interface WorldEvalRun {
  /** Weights to measure (default: the shipped file). */
  model?: string;
  onProgress?(done: number, total: number): void;
}

export interface WorldEval {
  run(o: WorldEvalRun): Promise<Record<string, unknown>>;
  /** The bars, each a readable line and a check on the result. */
  bars: { text: string; pass(r: Record<string, unknown>): boolean }[];
}

const FACE_NETS = ["face-id", "face-loss", "face-metric"] as const;

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
  judge: {
    run: (o) => evalJudge(o.model ?? join(WORLD_MODELS_DIR, "judge.safetensors"), { onProgress: o.onProgress }),
    bars: [{ text: "accuracy >= 0.95 in every attribute category (held-out identities)", pass: (r) => (r.min_accuracy as number) >= 0.95 }],
  },
};
