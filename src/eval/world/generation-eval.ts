/**
 * `pulid world eval base | student`: the world's text-to-image model measured with the shipped perception models.
 * Prompts are complete captions (every attribute named) of held-out attribute combinations (unet-data.ts: the
 * base never saw these (style, background, expression) triples), sampled by the pipeline's own loop
 * (`sampleLatent` in lockstep batches, v1: DPM++ 2M with trailing spacing) with CFG against the empty prompt, decoded by the folder's
 * VAE and quantised to 8 bits as a saved image would be.
 *
 * - attribute_accuracy: per category, the share of samples where the `judge` reads what the prompt asked
 *   (accessories: the exact set, none included); min_attribute_accuracy beside it;
 * - face_rate: the share where the `detector` finds a face;
 * - world_fid: Fréchet distance in `clip-metric` image space between the samples and renders of the same
 *   attribute sets (random test identities); world_fid_floor: the same between two independent render sets;
 * - identity_spread: mean pairwise `face-metric` cosine over the samples' detected faces; identity_spread_renders:
 *   the same over the renders' (both with the detector's landmarks), so a model that draws one face stands out.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { input } from "../../engine/tensor.ts";
import { compile } from "../../engine/compile.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { loadSdxlFolder } from "../../models/sdxl/folder.ts";
import { encodeSdxlPrompts } from "../../models/sdxl/text-conditioning.ts";
import { loadJudge, openJudge, type JudgeMeta, type JudgeVerdict } from "../../models/world/judge-file.ts";
import { loadWorldClip, openWorldClip } from "../../models/world/clip-folder.ts";
import { FaceSimilarity } from "../face-similarity.ts";
import { type RgbImage, rgbFromUnitFloats } from "../../face/rgb-image.ts";
import { cfgBatchInput, guidedRow, sampleLatentsInLockstep } from "../../pulid/lockstep-sampling.ts";
import { VaeRunner } from "../../pulid/vae-runner.ts";
import { ATTRIBUTE_VALUES, type Attributes, type ScalarAttributeKey } from "../../world/attributes.ts";
import { makeCaption } from "../../world/captions.ts";
import { renderFace } from "../../world/render.ts";
import { identityAt } from "../../world/identity.ts";
import { Rng, hashSeed } from "../../world/rng.ts";
import { SPLITS, splitIdentity } from "../../world/splits.ts";
import { drawAttributes, WORLD_IMAGE_SIZE } from "../../train/world/unet-data.ts";
import { worldTimeIds } from "../../train/world/unet-base.ts";
import { clipPlanes } from "../../train/world/clip-data.ts";
import { frechetDistance } from "./frechet.ts";

export interface GenerationEvalOptions {
  /** The SDXL folder (default models/world/sdxl). */
  folder: string;
  /** A single-file UNet replacing the folder's (the student). */
  unetFile?: string;
  steps: number;
  cfg: number;
  /** Samples (default 256). */
  samples?: number;
  /** Where the perception models are (default models/world). */
  perception: string;
  onProgress?(done: number, total: number): void;
}

const EVAL_SEED = 9201;
/** Samples per batch; a sample count is rounded up to a multiple of it. */
export const GENERATION_EVAL_BATCH = 16;
const BATCH = GENERATION_EVAL_BATCH;
const CATEGORIES = [...(Object.keys(ATTRIBUTE_VALUES) as ScalarAttributeKey[]), "accessories"] as const;

/** Prompt i of the evaluation: a held-out attribute set and its complete caption. */
export function evalPrompt(i: number): { attributes: Attributes; prompt: string } {
  const rng = new Rng(hashSeed("generation-eval", EVAL_SEED, i));
  const a = drawAttributes(rng.fork("attributes"), 0.4, true);
  return { attributes: a, prompt: makeCaption(a, rng.fork("caption"), { complete: true }).text };
}

/** A render of prompt i's attributes with a random test identity (`set` 0 or 1: independent sets). */
function renderFor(a: Attributes, i: number, set: number) {
  const rng = new Rng(hashSeed("generation-eval-render", EVAL_SEED, set, i));
  return renderFace(identityAt(splitIdentity("test", rng.int(SPLITS.test.count))), a, { size: WORLD_IMAGE_SIZE, seed: rng.nextU32() });
}

function agrees(v: JudgeVerdict, a: Attributes, k: (typeof CATEGORIES)[number]): boolean {
  if (k === "accessories") {
    const got = new Set(v.accessories as string[]);
    return got.size === a.accessories.length && a.accessories.every((x) => got.has(x));
  }
  return v[k] === a[k];
}

function meanPairwiseCos(v: readonly Float32Array[]): number | null {
  let s = 0;
  let n = 0;
  for (let i = 0; i < v.length; i++) for (let j = i + 1; j < v.length; j++) {
    let d = 0;
    for (let k = 0; k < v[i]!.length; k++) d += v[i]![k]! * v[j]![k]!;
    s += d;
    n++;
  }
  return n ? s / n : null;
}

export async function evalGeneration(o: GenerationEvalOptions): Promise<Record<string, unknown>> {
  const f = loadSdxlFolder(o.folder, o.unetFile ? { unetFile: o.unetFile } : {});
  const N = Math.ceil((o.samples ?? 256) / BATCH) * BATCH;
  const per = f.unet.config.in_channels * 16 * 16;
  const judgePath = join(o.perception, "judge.safetensors");
  const judge = openJudge(loadJudge(judgePath, JSON.parse(readFileSync(join(o.perception, "judge.json"), "utf8")) as JudgeMeta));
  const faceSim = await FaceSimilarity.open(join(o.perception, "detector.onnx"), join(o.perception, "face-metric.onnx"));
  const clip = openWorldClip(loadWorldClip(join(o.perception, "clip-metric")));
  // The UNet on both CFG branches of a batch, and the VAE decoder, compiled once.
  const x = input("x", [2 * BATCH, per / 256, 16, 16]);
  const t = input("t", [2 * BATCH]);
  const cross = f.unet.config.crossDims[0]!;
  const c = input("context", [2 * BATCH, 77, cross]);
  const q = input("pooled", [2 * BATCH, f.textEncoder2.config.projection_dim]);
  const ti = input("time_ids", [2 * BATCH, 6]);
  const unet = compile({ inputs: [x, t, c, q, ti], outputs: [f.unet.call(x, t, c, { added: { textEmbeds: q, timeIds: ti } })], name: "eval_unet" });
  const vae = new VaeRunner(f.vae);
  const hits = new Map<string, number>(CATEGORIES.map((k) => [k, 0]));
  let faces = 0;
  const sampleEmb: Float32Array[] = [];
  const sampleFaces: Float32Array[] = [];
  const renderEmb: [Float32Array[], Float32Array[]] = [[], []];
  const renderFaces: Float32Array[] = [];
  const faceEmbedding = (img: RgbImage) => faceSim.embed(img);
  const clipEmbed = async (rgbs: readonly Float32Array[]) => {
    const S = clip.imageSize;
    const batch = HostTensor.f32([rgbs.length, 3, S, S]);
    rgbs.forEach((r, i) => clipPlanes(r, WORLD_IMAGE_SIZE, S, batch.data, i * 3 * S * S));
    const e = await clip.embedImages(batch);
    const E = e.shape[1]!;
    return rgbs.map((_, i) => Float32Array.from({ length: E }, (_, k) => e.get(i * E + k)));
  };
  try {
    for (let s = 0; s < N; s += BATCH) {
      const items = Array.from({ length: BATCH }, (_, i) => evalPrompt(s + i));
      const cond = await encodeSdxlPrompts(f, [...new Array<string>(BATCH).fill(""), ...items.map((it) => it.prompt)]);
      // BATCH copies of the pipeline's loop in lockstep; their UNet calls are gathered into one batched run.
      const specs = items.map((_, i) => ({ version: "v1" as const, sampler: "dpmpp_2m" as const, steps: o.steps, schedulerConfig: f.schedulerConfig, seed: hashSeed("generation-eval-noise", EVAL_SEED, s + i), size: per }));
      const latents = await sampleLatentsInLockstep(specs, async (calls) => {
        const ts = new Float32Array(2 * BATCH);
        for (const k of calls) ts[k.index] = ts[BATCH + k.index] = k.t;
        const [out] = await unet.run([new HostTensor("float32", [2 * BATCH, per / 256, 16, 16], cfgBatchInput(calls, BATCH, per)), new HostTensor("float32", [2 * BATCH], ts), cond.promptEmbeds, cond.pooledPromptEmbeds, worldTimeIds(2 * BATCH)]);
        return calls.map((k) => guidedRow(out!.data as Float32Array, BATCH, k.index, per, o.cfg));
      });
      const rgbs = await vae.decodeMany(latents, [per / 256, 16, 16]);
      // What the perception models see: the 8-bit images, back in [-1, 1] for the judge.
      const judged = HostTensor.f32([BATCH, 3, WORLD_IMAGE_SIZE, WORLD_IMAGE_SIZE]);
      const n = WORLD_IMAGE_SIZE * WORLD_IMAGE_SIZE;
      rgbs.forEach((r, i) => {
        for (let p = 0; p < n; p++) for (let ch = 0; ch < 3; ch++) judged.data[i * 3 * n + ch * n + p] = (r.data[3 * p + ch]! / 255) * 2 - 1;
      });
      // One detector pass per image gives Face Sim's embedding and the judge's face box.
      const measured = [];
      for (const r of rgbs) measured.push(await faceSim.measure(r));
      const verdicts = await judge.predict(judged, measured.map((m) => m?.box ?? null));
      items.forEach((it, i) => {
        for (const k of CATEGORIES) if (agrees(verdicts[i]!, it.attributes, k)) hits.set(k, hits.get(k)! + 1);
      });
      for (const m of measured) {
        const e = m?.embedding ?? null;
        if (e) {
          faces++;
          sampleFaces.push(e);
        }
      }
      sampleEmb.push(...(await clipEmbed(rgbs.map((r) => Float32Array.from(r.data, (v) => v / 255)))));
      for (const set of [0, 1] as const) {
        const renders = items.map((it, i) => renderFor(it.attributes, s + i, set));
        renderEmb[set].push(...(await clipEmbed(renders.map((r) => r.rgb))));
        if (set === 0) {
          for (const r of renders) {
            const e = await faceEmbedding(rgbFromUnitFloats(r.width, r.height, r.rgb));
            if (e) renderFaces.push(e);
          }
        }
      }
      o.onProgress?.(s / BATCH + 1, N / BATCH);
    }
  } finally {
    await Promise.all([unet.dispose(), vae.dispose(), judge.dispose(), faceSim.dispose(), clip.dispose()]);
  }
  const accuracy = Object.fromEntries(CATEGORIES.map((k) => [k, hits.get(k)! / N]));
  const spread = meanPairwiseCos(sampleFaces);
  const spreadRenders = meanPairwiseCos(renderFaces);
  return {
    attribute_accuracy: accuracy,
    min_attribute_accuracy: Math.min(...Object.values(accuracy)),
    face_rate: faces / N,
    world_fid: frechetDistance(sampleEmb, renderEmb[0]),
    world_fid_floor: frechetDistance(renderEmb[1], renderEmb[0]),
    identity_spread: spread,
    identity_spread_renders: spreadRenders,
    samples: N,
    steps: o.steps,
    cfg: o.cfg,
    sampler: "dpmpp_2m (trailing)",
    prompts: "complete captions of held-out (style, background, expression) combinations",
  };
}
