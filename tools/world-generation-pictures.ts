/**
 * The README's pictures of the world's text-to-image model, from the shipped files:
 *   node --import tsx tools/world-generation-pictures.ts [OUT_DIR]   (default docs/)
 * docs/world-vae.png: held-out renders of every style (top) and their VAE reconstructions (bottom), 3x.
 * docs/world-samples.png (once base and student are shipped): one evaluation prompt per category (rows); base at
 *   30 DPM++ 2M steps (CFG 5) on the left, student at 4 steps (CFG 1.2) on the right, the same 4 seeds each.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { input } from "../src/engine/tensor.ts";
import { compile } from "../src/engine/compile.ts";
import { HostTensor } from "../src/engine/host-tensor.ts";
import { loadAutoencoderKL } from "../src/models/vae/pretrained.ts";
import { loadSdxlFolder } from "../src/models/sdxl/folder.ts";
import { WorldSampler } from "../src/eval/world/world-sampler.ts";
import type { RgbImage } from "../src/face/rgb-image.ts";
import { STYLES, withDefaults } from "../src/world/attributes.ts";
import { renderFace } from "../src/world/render.ts";
import { identityAt } from "../src/world/identity.ts";
import { splitIdentity } from "../src/world/splits.ts";
import { toCHW } from "../src/world/dataset.ts";
import { EVAL_PROMPTS, PROMPT_CATEGORIES } from "../src/world/benchmarks.ts";

const out = process.argv[2] ?? "docs";
const Z = 3;
const S = 64;
const GAP = 4;

/** A white canvas of cols x rows tiles of S*Z pixels; `gapAfter` adds a wider gutter after that column. */
function canvas(cols: number, rows: number, gapAfter = -1) {
  const T = S * Z;
  const extra = gapAfter >= 0 ? 4 * GAP : 0;
  const w = cols * (T + GAP) + GAP + extra;
  const h = rows * (T + GAP) + GAP;
  const data = new Uint8Array(w * h * 3).fill(255);
  /** `rgb`: HWC bytes, or HWC floats in [0, 1] when `unit`. */
  const put = (rgb: ArrayLike<number>, col: number, row: number, unit = false) => {
    const x0 = GAP + col * (T + GAP) + (gapAfter >= 0 && col > gapAfter ? extra : 0);
    const y0 = GAP + row * (T + GAP);
    for (let y = 0; y < T; y++) {
      for (let x = 0; x < T; x++) {
        const s = (Math.floor(y / Z) * S + Math.floor(x / Z)) * 3;
        for (let c = 0; c < 3; c++) data[((y0 + y) * w + x0 + x) * 3 + c] = unit ? Math.round(Math.min(1, Math.max(0, rgb[s + c]!)) * 255) : rgb[s + c]!;
      }
    }
  };
  const png = (path: string) => sharp(Buffer.from(data), { raw: { width: w, height: h, channels: 3 } }).png().toFile(path);
  return { put, png };
}

async function vaePicture(): Promise<void> {
  const vae = loadAutoencoderKL("models/world/sdxl/vae");
  const B = STYLES.length;
  const x = input("images", [B, 3, S, S]);
  const prog = compile({ inputs: [x], outputs: [vae.forward(x)], name: "readme_vae" });
  const images = HostTensor.f32([B, 3, S, S]);
  const renders = STYLES.map((style, i) => renderFace(identityAt(splitIdentity("test", 40 + i)), withDefaults({ style }), { size: S, seed: 500 + i }));
  renders.forEach((r, i) => toCHW(r.rgb, S, S, images.data, i * 3 * S * S, "signed"));
  const [y] = await prog.run([images]);
  await prog.dispose();
  const c = canvas(B, 2);
  const n = S * S;
  renders.forEach((r, i) => {
    c.put(r.rgb, i, 0, true);
    const hwc = new Float32Array(3 * n);
    for (let p = 0; p < n; p++) for (let ch = 0; ch < 3; ch++) hwc[3 * p + ch] = Math.min(1, Math.max(0, y!.get(i * 3 * n + ch * n + p) / 2 + 0.5));
    c.put(hwc, i, 1, true);
  });
  await c.png(join(out, "world-vae.png"));
  console.log(join(out, "world-vae.png"));
}

async function samplesPicture(): Promise<void> {
  const student = "models/world/sdxl_lightning_4step_unet.safetensors";
  if (!existsSync(student)) {
    console.log("samples: skipped (the student is not shipped)");
    return;
  }
  const seeds = [1, 2, 3, 4];
  const prompts = PROMPT_CATEGORIES.map((cat) => EVAL_PROMPTS.find((p) => p.category === cat)!);
  const c = canvas(2 * seeds.length, prompts.length, seeds.length - 1);
  const runs: [string, { steps: number; cfg: number }, number][] = [
    ["", { steps: 30, cfg: 5 }, 0],
    [student, { steps: 4, cfg: 1.2 }, seeds.length],
  ];
  for (const [unetFile, o, col0] of runs) {
    const sampler = new WorldSampler(loadSdxlFolder("models/world/sdxl", unetFile ? { unetFile } : {}));
    for (const [row, p] of prompts.entries()) {
      for (const [k, seed] of seeds.entries()) {
        const img: RgbImage = await sampler.sample(p.text, { seed, ...o });
        c.put(img.data, col0 + k, row);
      }
      console.log(`${p.category}: ${p.text}`);
    }
    await sampler.dispose();
  }
  await c.png(join(out, "world-samples.png"));
  console.log(join(out, "world-samples.png"));
}

await vaePicture();
await samplesPicture();
