/**
 * Opening the shipped judge: `judge.safetensors` (fp16, Judge key names) + `judge.json` beside it ({ config }),
 * compiled once per batch size. `predict` returns, per image, the most likely value of every head and the set
 * of multi-label values whose probability is above one half. A judge with a face branch also needs each image's
 * face box (the caller's detector finds it; null where it found none).
 */
import { loadSafetensors } from "../../engine/io/safetensors.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { input } from "../../engine/tensor.ts";
import { compile, type Program } from "../../engine/compile.ts";
import type { SessionOptions } from "../../engine/session.ts";
import { PulidError } from "../../engine/errors.ts";
import { Judge, judgeLayout, type JudgeConfig } from "./judge.ts";
import { cutFaceCrops, judgeFaceSquare, type JudgeFaceBox } from "./judge-crop.ts";

/** One image's verdict: head name -> value, plus the multi-label attribute's name -> values. */
export type JudgeVerdict = Record<string, string | string[]>;

/** The judge's config in `judge.json` (passed in by the caller, which reads the file). */
export interface JudgeMeta {
  config: JudgeConfig;
}

export function loadJudge(weightsPath: string, meta: JudgeMeta): Judge {
  const judge = new Judge(meta.config);
  judge.loadStateDict(loadSafetensors(weightsPath), { source: weightsPath });
  return judge;
}

/** Reads the verdicts out of logits [B, total]. */
export function decodeJudge(logits: HostTensor, config: JudgeConfig): JudgeVerdict[] {
  const L = judgeLayout(config);
  const [B] = logits.shape as [number];
  const out: JudgeVerdict[] = [];
  for (let b = 0; b < B; b++) {
    const row = (i: number) => logits.get(b * L.total + i);
    const v: JudgeVerdict = {};
    for (const h of config.heads) {
      const [o, n] = L.heads[h.name]!;
      let best = 0;
      for (let i = 1; i < n; i++) if (row(o + i) > row(o + best)) best = i;
      v[h.name] = h.values[best]!;
    }
    const [o] = L.multi;
    v[config.multi.name] = config.multi.values.filter((_, i) => row(o + i) > 0);
    out.push(v);
  }
  return out;
}

export interface OpenedJudge {
  readonly config: JudgeConfig;
  /** Whether `faces` (one face box per image) must be passed. */
  readonly needsFaces: boolean;
  /** images [B, 3, S, S] RGB in [-1, 1] (+ each image's face box for a face branch) -> raw logits [B, total]. */
  logits(images: HostTensor<"float32">, faces?: readonly JudgeFaceBox[]): Promise<HostTensor>;
  predict(images: HostTensor<"float32">, faces?: readonly JudgeFaceBox[]): Promise<JudgeVerdict[]>;
  dispose(): Promise<void>;
}

export function openJudge(judge: Judge, session: SessionOptions = {}): OpenedJudge {
  const programs = new Map<number, Program>();
  const S = judge.config.imageSize;
  const face = judge.config.face;
  const logits = async (images: HostTensor<"float32">, faces?: readonly JudgeFaceBox[]) => {
    if (images.shape.length !== 4 || images.shape[1] !== 3 || images.shape[2] !== S || images.shape[3] !== S) {
      throw new PulidError("bad_inputs", `judge: images must be [B, 3, ${S}, ${S}], got [${images.shape.join(", ")}]`);
    }
    const B = images.shape[0]!;
    if (face && faces?.length !== B) throw new PulidError("bad_inputs", `judge: this judge reads faces; pass one face box (or null) per image (${B}), got ${faces?.length ?? "none"}`);
    let p = programs.get(B);
    if (!p) {
      const x = input("images", [B, 3, S, S]);
      const f = face ? input("faces", [B, 3, face.size, face.size]) : undefined;
      p = compile({ ...session, inputs: f ? [x, f] : [x], outputs: [judge.call(x, f)], name: `world_judge_${B}` });
      programs.set(B, p);
    }
    const feeds = face ? [images, cutFaceCrops(images, faces!.map((b) => judgeFaceSquare(b, S)), face.size)] : [images];
    return (await p.run(feeds))[0]!;
  };
  return {
    config: judge.config,
    needsFaces: !!face,
    logits,
    predict: async (images, faces) => decodeJudge(await logits(images, faces), judge.config),
    dispose: async () => void (await Promise.all([...programs.values()].map((p) => p.dispose()))),
  };
}
