/**
 * Opening the shipped judge: `judge.safetensors` (fp16, Judge key names) + `judge.json` beside it ({ config }),
 * compiled once per batch size. `predict` returns, per image, the most likely value of every head and the set
 * of multi-label values whose probability is above one half.
 */
import { loadSafetensors } from "../../engine/io/safetensors.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { input } from "../../engine/tensor.ts";
import { compile, type Program } from "../../engine/compile.ts";
import type { SessionOptions } from "../../engine/session.ts";
import { PulidError } from "../../engine/errors.ts";
import { Judge, judgeLayout, type JudgeConfig } from "./judge.ts";

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
  /** images [B, 3, S, S] RGB in [-1, 1] -> raw logits [B, total]. */
  logits(images: HostTensor<"float32">): Promise<HostTensor>;
  predict(images: HostTensor<"float32">): Promise<JudgeVerdict[]>;
  dispose(): Promise<void>;
}

export function openJudge(judge: Judge, session: SessionOptions = {}): OpenedJudge {
  const programs = new Map<number, Program>();
  const S = judge.config.imageSize;
  const logits = async (images: HostTensor<"float32">) => {
    if (images.shape.length !== 4 || images.shape[1] !== 3 || images.shape[2] !== S || images.shape[3] !== S) {
      throw new PulidError("bad_inputs", `judge: images must be [B, 3, ${S}, ${S}], got [${images.shape.join(", ")}]`);
    }
    const B = images.shape[0]!;
    let p = programs.get(B);
    if (!p) {
      const x = input("images", [B, 3, S, S]);
      p = compile({ ...session, inputs: [x], outputs: [judge.call(x)], name: `world_judge_${B}` });
      programs.set(B, p);
    }
    return (await p.run([images]))[0]!;
  };
  return {
    config: judge.config,
    logits,
    predict: async (images) => decodeJudge(await logits(images), judge.config),
    dispose: async () => void (await Promise.all([...programs.values()].map((p) => p.dispose()))),
  };
}
