/**
 * PuLID generation speed and peak memory (issue 13).
 *
 *   npm run bench:generate [-- --json] [-- --world-only] [-- --images N] [-- --cache DIR] [-- --keep-loaded] [-- --no-arena]
 *
 * - world: the shipped world models (`models/world/`, the no-argument `fromPretrained()`), 4 steps with CFG,
 *   ID encoding included, images/s (target >= 4). Skipped with a reason while that folder is incomplete; the
 *   same measurement on a tiny random-weight folder is always reported (`tiny_images_per_s`).
 * - sdxl_v1 / sdxl_v11 (not with --world-only): full-size SDXL + PuLID with random fp16 weights in the published
 *   layouts (written once into --cache, ~9 GB each), v1 at 1024x768 4 steps CFG 1.2, v1.1 at 1152x896 (5 steps,
 *   dpmpp_sde on a "Lightning" base), each in its own process so peak RSS is per version: seconds per image with
 *   a breakdown (text encoders, face + EVA + ID encoder, UNet steps, VAE decode) and peak RSS (target <= 12 GiB).
 *   SCRFD and ArcFace are small stand-in graphs (their cost is negligible next to SDXL's). The pipeline runs with
 *   `lowMemory` (each stage's sessions released once its output is computed; session builds are counted in the
 *   stage times); --keep-loaded measures the default, every stage's sessions staying resident (v1: 20.5 GiB).
 *   --no-arena turns ONNX Runtime's memory arena off. The child alone: node --import tsx bench/generate.ts
 *   --child v1|v1.1 --cache DIR [--keep-loaded] [--no-arena].
 *
 * With --json the last line is one JSON object with world_images_per_s, sdxl_v1_seconds_per_image,
 * sdxl_v1_peak_rss_gib, sdxl_v11_seconds_per_image, sdxl_v11_peak_rss_gib (null when skipped, with *_skipped).
 * No PyTorch reference run here: the reference pipeline needs ~15 GB for the UNet alone on CPU (issue 13).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PulidPipeline } from "../src/pulid/index.ts";
import { missingLayoutFiles } from "../src/pulid/layout.ts";
import { nodePlatform } from "../src/node/pulid-platform.ts";
import { demoReference } from "../src/cli/world-demo.ts";
import { writeRandomSdxlFolder } from "../src/models/sdxl/random-folder.ts";
import { writeRandomPulidCheckpoint, sdxlIdAttnLayerDims } from "../src/models/pulid/random-checkpoint.ts";
import { writeRandomEvaCheckpoint, EVA02_CLIP_L_14_336 } from "../src/models/eva/index.ts";
import { writeRandomBiSeNetCheckpoint, BISENET_FACEXLIB } from "../src/models/bisenet/index.ts";
import { ID_ENCODER_V1_CONFIG } from "../src/models/pulid/id-encoder.ts";
import { ID_FORMER_V1_1_CONFIG } from "../src/models/pulid/id-former.ts";
import { Rng } from "../src/engine/rng.ts";
import { writeFakeArcFace, writeFakeScrfd } from "../test/face/fake-onnx.ts";
import { writePhotos, writeTinyPulidFolder } from "../test/pulid/tiny-folder.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const images = Number(opt("images") ?? 4);
const cache = opt("cache") ?? join(tmpdir(), "pulid-bench-models");
const log = (s: string) => console.error(s);
const gib = (kb: number) => kb / 2 ** 20;

/** images/s of `num` images at 4 steps with CFG, ID encoding included (after one warm-up image). */
async function imagesPerSecond(pipe: PulidPipeline, photo: string, num: number): Promise<number> {
  const options = { steps: 4, seed: 1, num: 1 };
  await pipe.generate({ id: [photo], options });
  const t0 = performance.now();
  for (let i = 0; i < num; i++) await pipe.generate({ id: [photo], options: { ...options, seed: 2 + i } });
  return num / ((performance.now() - t0) / 1000);
}

/** Writes a full-size random folder in the published layouts (once). */
async function fullFolder(version: "v1" | "v1.1"): Promise<string> {
  const dir = join(cache, version === "v1" ? "sdxl-v1" : "sdxl-v11-lightning");
  if (missingLayoutFiles(dir, existsSync).length === 0) return dir;
  log(`writing a full-size random ${version} folder to ${dir} (once)...`);
  mkdirSync(join(dir, "antelopev2"), { recursive: true });
  mkdirSync(join(dir, "eva-clip"), { recursive: true });
  mkdirSync(join(dir, "facexlib"), { recursive: true });
  await writeRandomSdxlFolder(join(dir, "sdxl"), { config: "full", dtype: "float16", seed: 1, log });
  if (version === "v1.1") writeFileSync(join(dir, "sdxl", "model_index.json"), JSON.stringify({ _class_name: "StableDiffusionXLPipeline", _name_or_path: "Lykon/dreamshaper-xl-lightning" }));
  await writeRandomPulidCheckpoint(join(dir, version === "v1" ? "pulid_v1.bin" : "pulid_v1.1.safetensors"), version, {
    encoder: version === "v1" ? ID_ENCODER_V1_CONFIG : ID_FORMER_V1_1_CONFIG,
    attnLayerDims: sdxlIdAttnLayerDims(),
    seed: 2,
  });
  await writeRandomEvaCheckpoint(join(dir, "eva-clip", "EVA02_CLIP_L_336_psz14_s6B.pt"), { config: EVA02_CLIP_L_14_336, seed: 3 });
  await writeRandomBiSeNetCheckpoint(join(dir, "facexlib", "parsing_bisenet.pth"), { config: BISENET_FACEXLIB, seed: 4 });
  writeFakeScrfd(join(dir, "antelopev2", "scrfd_10g_bnkps.onnx"), [{ box: [300, 200, 460, 400], stride: 16, score: 0.95 }]);
  const rng = new Rng(5);
  const w = new Float32Array(3 * 512);
  rng.fillNormal(w, 0, 20);
  writeFakeArcFace(join(dir, "antelopev2", "glintr100.onnx"), w, new Float32Array(512));
  return dir;
}

/** Child mode: one full-size version, one image, timed by stage; prints one JSON line. */
async function runFull(version: "v1" | "v1.1"): Promise<void> {
  const dir = await fullFolder(version);
  const photo = (await writePhotos(mkdtempSync(join(tmpdir(), "pulid-bench-photo-")))).face;
  const lowMemory = !args.includes("--keep-loaded");
  let t = performance.now();
  const noArena = args.includes("--no-arena");
  const pipe = await PulidPipeline.fromPretrained(dir, { platform: nodePlatform, lowMemory, ...(noArena ? { memoryArena: false } : {}) });
  const load = (performance.now() - t) / 1000;
  // Per stage: seconds (session build + run, + release with lowMemory), resident and peak RSS when it ends.
  // ONNX Runtime runs on the main thread, so RSS cannot be sampled during a run here; the peak (maxRSS) is
  // cumulative, so a stage's own peak shows where it rises.
  const stages: Record<string, { seconds: number; rss_gib: number; peak_so_far_gib: number }> = {};
  const mark = (name: string, seconds: number) => {
    const prev = stages[name]?.seconds ?? 0;
    stages[name] = { seconds: prev + seconds, rss_gib: process.memoryUsage().rss / 2 ** 30, peak_so_far_gib: gib(process.resourceUsage().maxRSS) };
  };
  const timed = <A extends unknown[], R>(name: string, f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    const t0 = performance.now();
    try {
      return await f(...a);
    } finally {
      mark(name, (performance.now() - t0) / 1000);
    }
  };
  pipe.textRunner.encode = timed("text", pipe.textRunner.encode.bind(pipe.textRunner));
  pipe.vaeRunner.decode = timed("vae", pipe.vaeRunner.decode.bind(pipe.vaeRunner));
  t = performance.now();
  const { embedding } = await pipe.encodeId([photo]);
  const idSeconds = (performance.now() - t) / 1000;
  mark("id", idSeconds);
  const options = version === "v1" ? { seed: 1 } : { seed: 1, steps: 5 };
  let evals = 0;
  let lastEval = 0;
  t = performance.now();
  await pipe.generate({
    idEmbedding: embedding,
    options,
    onEval: () => {
      lastEval = performance.now();
      log(`  eval ${++evals} at ${((lastEval - t) / 1000).toFixed(1)} s, RSS ${(process.memoryUsage().rss / 2 ** 30).toFixed(2)} GiB, peak ${gib(process.resourceUsage().maxRSS).toFixed(2)} GiB`);
    },
  });
  const end = performance.now();
  // The UNet stage: everything between the text encoders and the decode (its session build and release included).
  const unet = (end - t) / 1000 - stages.text!.seconds - stages.vae!.seconds;
  stages.unet = { seconds: unet, rss_gib: NaN, peak_so_far_gib: NaN };
  const total = idSeconds + (end - t) / 1000;
  const r = stages;
  console.log(
    JSON.stringify({
      version,
      low_memory: lowMemory,
      memory_arena: !noArena,
      load_seconds: load,
      seconds_per_image: total,
      text_seconds: r.text!.seconds,
      id_seconds: idSeconds,
      unet_seconds: unet,
      unet_evals: evals,
      vae_seconds: r.vae!.seconds,
      peak_rss_gib: gib(process.resourceUsage().maxRSS),
      stages,
    }),
  );
  await pipe.dispose();
}

type ChildResult = Record<string, number> & { stages: Record<string, unknown>; low_memory: boolean };

function child(version: string): Promise<ChildResult | { error: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", import.meta.filename, "--child", version, "--cache", cache, ...["--keep-loaded", "--no-arena"].filter((f) => args.includes(f))], { maxBuffer: 1 << 24 }, (e, out, err) => {
      process.stderr.write(err);
      const last = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(last));
      } catch {
        resolve({ error: e ? e.message.split("\n")[0]! : "no result" });
      }
    });
  });
}

async function main(): Promise<void> {
  const c = opt("child");
  if (c === "v1" || c === "v1.1") return runFull(c);
  const result: Record<string, unknown> = {};
  const tmp = mkdtempSync(join(tmpdir(), "pulid-bench-"));
  try {
    const photo = (await writePhotos(tmp)).face;
    await writeTinyPulidFolder(join(tmp, "tiny"), "v1", 1);
    const tiny = await PulidPipeline.fromPretrained(join(tmp, "tiny"));
    result.tiny_images_per_s = await imagesPerSecond(tiny, photo, images);
    await tiny.dispose();
    log(`tiny random v1 folder (64x64, 4 steps, CFG, ID encoding included): ${(result.tiny_images_per_s as number).toFixed(2)} images/s`);
    const world = nodePlatform.defaultModelsDir();
    const missing = missingLayoutFiles(world, existsSync);
    if (missing.length) {
      result.world_images_per_s = null;
      result.world_skipped = `${world} is incomplete (${missing.length} files missing, e.g. ${missing[0]!.path})`;
      log(`world: skipped: ${result.world_skipped}`);
    } else {
      // The world's detector knows world renders only (the tiny folder's test photo has no face it can find):
      // the demo's reference portrait of its default person.
      const worldPhoto = join(tmp, "world-face.png");
      writeFileSync(worldPhoto, await nodePlatform.encodePng(demoReference()));
      const pipe = await PulidPipeline.fromPretrained();
      result.world_images_per_s = await imagesPerSecond(pipe, worldPhoto, images);
      await pipe.dispose();
      log(`world models: ${(result.world_images_per_s as number).toFixed(2)} images/s (target >= 4)`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  for (const [key, version] of [["sdxl_v1", "v1"], ["sdxl_v11", "v1.1"]] as const) {
    if (args.includes("--world-only")) {
      result[`${key}_seconds_per_image`] = null;
      result[`${key}_peak_rss_gib`] = null;
      result[`${key}_skipped`] = "--world-only";
      continue;
    }
    const r = await child(version);
    if ("error" in r) {
      result[`${key}_seconds_per_image`] = null;
      result[`${key}_peak_rss_gib`] = null;
      result[`${key}_skipped`] = r.error;
      continue;
    }
    result[`${key}_seconds_per_image`] = r.seconds_per_image;
    result[`${key}_peak_rss_gib`] = r.peak_rss_gib;
    result[`${key}_breakdown`] = { text: r.text_seconds, face_eva_id: r.id_seconds, unet: r.unet_seconds, unet_evals: r.unet_evals, vae: r.vae_seconds, load: r.load_seconds };
    result[`${key}_stages`] = r.stages;
    result[`${key}_low_memory`] = r.low_memory;
    log(`${key}: ${r.seconds_per_image!.toFixed(1)} s/image (text ${r.text_seconds!.toFixed(1)}, face+EVA+ID ${r.id_seconds!.toFixed(1)}, UNet ${r.unet_seconds!.toFixed(1)} over ${r.unet_evals} evals, VAE ${r.vae_seconds!.toFixed(1)}), peak RSS ${r.peak_rss_gib!.toFixed(2)} GiB (target <= 12)`);
  }
  if (json) console.log(JSON.stringify(result));
}

await main();
