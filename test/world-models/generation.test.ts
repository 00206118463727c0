/**
 * The shipped world text-to-image model (models/world/sdxl/ + the 4-step student file) through the public loader
 * (`loadSdxlFolder`, the Lightning override) and the pipeline's sampler and VAE runner:
 * - a fixed-seed 4-step student sample of a prompt has a face the shipped detector finds;
 * - CFG with an empty prompt draws something else than CFG with a prompt (same noise);
 * - the VAE round-trips held-out renders within its measured PSNR.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { input } from "../../src/engine/tensor.ts";
import { compile } from "../../src/engine/compile.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { loadSdxlFolder, type SdxlFolder } from "../../src/models/sdxl/folder.ts";
import { loadAutoencoderKL } from "../../src/models/vae/pretrained.ts";
import { WorldSampler } from "../../src/eval/world/world-sampler.ts";
import type { RgbImage } from "../../src/face/rgb-image.ts";
import { openScrfd } from "../../src/face/scrfd-model.ts";
import { renderFace } from "../../src/world/render.ts";
import { identityAt } from "../../src/world/identity.ts";
import { withDefaults } from "../../src/world/attributes.ts";
import { splitIdentity } from "../../src/world/splits.ts";
import { toCHW } from "../../src/world/dataset.ts";

const SDXL = "models/world/sdxl";
const STUDENT = "models/world/sdxl_lightning_4step_unet.safetensors";
const shipped = existsSync(`${SDXL}/unet/config.json`) && existsSync(STUDENT);
const skip = !shipped && "the world's base and student are not shipped";

/** PSNR the test holds the shipped VAE to, per photo render: the eval measured a mean of 25.4 dB (bar 30: missed), these four give 23.2-25.0. */
const VAE_PSNR_FLOOR = 22;

const PROMPT = "portrait, a photo, an adult, smiling, facing the camera, on a beach at sunset";

/** One 4-step sample at the Lightning CFG (1.2) against `negative`. */
async function sample(f: SdxlFolder, prompt: string, negative: string): Promise<RgbImage> {
  const sampler = new WorldSampler(f);
  try {
    return await sampler.sample(prompt, { seed: 3, steps: 4, cfg: 1.2, negative });
  } finally {
    await sampler.dispose();
  }
}

test("the shipped student loads with the public loader and its 4-step sample of a prompt has a detected face", { skip }, async () => {
  const f = loadSdxlFolder(SDXL, { unetFile: STUDENT });
  assert.equal(f.vae.downFactor, 4);
  const img = await sample(f, PROMPT, "");
  assert.equal(img.width, 64);
  const det = await openScrfd("models/world/detector.onnx");
  try {
    const d = await det.detect(img, { minFaceSize: 0 });
    assert.ok(d.face.score > 0.5, `face score ${d.face.score}`);
  } finally {
    await det.dispose();
  }
});

test("CFG against the empty prompt differs from CFG against a prompt (same noise)", { skip }, async () => {
  const f = loadSdxlFolder(SDXL, { unetFile: STUDENT });
  const a = await sample(f, PROMPT, "");
  const b = await sample(f, "", "");
  let diff = 0;
  for (let i = 0; i < a.data.length; i++) diff += Math.abs(a.data[i]! - b.data[i]!);
  diff /= a.data.length;
  // Mean absolute difference in 8-bit levels; a prompt that changes nothing would give ~0.
  assert.ok(diff > 5, `mean |prompt - empty| = ${diff.toFixed(2)} levels`);
});

test("the shipped VAE round-trips held-out photo renders within its PSNR floor", { skip: !existsSync(`${SDXL}/vae/config.json`) && "the world VAE is not shipped" }, async () => {
  const vae = loadAutoencoderKL(`${SDXL}/vae`);
  const S = 64;
  const B = 4;
  const x = input("images", [B, 3, S, S]);
  const prog = compile({ inputs: [x], outputs: [vae.forward(x)] });
  const images = HostTensor.f32([B, 3, S, S]);
  for (let i = 0; i < B; i++) {
    const r = renderFace(identityAt(splitIdentity("test", 20 + i)), withDefaults({ style: "photo" }), { size: S, seed: i });
    toCHW(r.rgb, S, S, images.data, i * 3 * S * S, "signed");
  }
  try {
    const [y] = await prog.run([images]);
    for (let i = 0; i < B; i++) {
      let se = 0;
      const n = 3 * S * S;
      for (let j = 0; j < n; j++) {
        // Both quantised to 8 bits, as saved images are.
        const q = (v: number) => Math.round(Math.min(1, Math.max(0, v / 2 + 0.5)) * 255);
        se += (q(images.data[i * n + j]!) - q(y!.get(i * n + j))) ** 2;
      }
      const psnr = 10 * Math.log10(255 ** 2 / (se / n));
      assert.ok(psnr >= VAE_PSNR_FLOOR, `image ${i}: ${psnr.toFixed(2)} dB < ${VAE_PSNR_FLOOR}`);
    }
  } finally {
    await prog.dispose();
  }
});
