/**
 * `pulid world eval vae`: reconstructions of held-out (test-split) renders, every style, both images quantised to
 * 8 bits as saved images are.
 * - psnr_db: mean per-image PSNR of photo-style images (per_style beside it);
 * - face_cos: median `face-metric` cosine between an image's face and its reconstruction's, both aligned with the
 *   renderer's landmarks (the reconstruction has the same geometry), photo style;
 * - beside it, per framing, and `face_cos_noise`: the same median for the image plus Gaussian noise of its
 *   reconstruction's MSE. It says how much of the gap is the face net's sensitivity to any error of that size
 *   (unstructured) rather than what the VAE loses.
 */
import { join } from "node:path";
import { input } from "../../engine/tensor.ts";
import { compile } from "../../engine/compile.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { loadAutoencoderKL } from "../../models/vae/pretrained.ts";
import { openArcFace } from "../../face/arcface-model.ts";
import { cosine } from "../face-similarity.ts";
import { rgbImage } from "../../face/rgb-image.ts";
import { STYLES } from "../../world/attributes.ts";
import { renderFace } from "../../world/render.ts";
import { identityAt } from "../../world/identity.ts";
import { sampleAttributes } from "../../world/attributes.ts";
import { Rng, hashSeed } from "../../world/rng.ts";
import { SPLITS, splitIdentity } from "../../world/splits.ts";
import { toCHW } from "../../world/dataset.ts";
import { WORLD_IMAGE_SIZE } from "../../train/world/unet-data.ts";

export interface VaeEvalOptions {
  /** Images per style (default 64; photo gets 4x). */
  perStyle?: number;
  perception: string;
  onProgress?(done: number, total: number): void;
}

const EVAL_SEED = 9301;

const median = (v: readonly number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const BATCH = 16;

const bytes = (planar: Float32Array, off: number, n: number) => {
  const out = new Uint8Array(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[3 * p + c] = Math.round(Math.min(1, Math.max(0, planar[off + c * n + p]! / 2 + 0.5)) * 255);
  return out;
};

export async function evalVae(dir: string, o: VaeEvalOptions): Promise<Record<string, unknown>> {
  const vae = loadAutoencoderKL(dir);
  const S = WORLD_IMAGE_SIZE;
  const n = S * S;
  const x = input("images", [BATCH, 3, S, S]);
  const prog = compile({ inputs: [x], outputs: [vae.forward(x)], name: "eval_vae_roundtrip" });
  const faceNet = await openArcFace(join(o.perception, "face-metric.onnx"));
  const per = Math.ceil((o.perStyle ?? 64) / BATCH) * BATCH;
  const psnr = new Map<string, number[]>(STYLES.map((s) => [s, []]));
  const cos: number[] = [];
  const noiseCos: number[] = [];
  const cosByFraming = new Map<string, number[]>();
  try {
    let done = 0;
    for (const style of STYLES) {
      const count = style === "photo" ? 4 * per : per;
      for (let s = 0; s < count; s += BATCH) {
        const images = HostTensor.f32([BATCH, 3, S, S]);
        const framings: string[] = [];
        const renders = Array.from({ length: BATCH }, (_, i) => {
          const rng = new Rng(hashSeed("vae-eval", EVAL_SEED, style, s + i));
          const a = { ...sampleAttributes(rng.fork("attributes")), style };
          framings.push(a.framing);
          const r = renderFace(identityAt(splitIdentity("test", rng.int(SPLITS.test.count))), a, { size: S, seed: rng.fork("seed").nextU32() });
          toCHW(r.rgb, S, S, images.data, i * 3 * n, "signed");
          return r;
        });
        const [recon] = await prog.run([images]);
        for (let i = 0; i < BATCH; i++) {
          const a = bytes(images.data, i * 3 * n, n);
          const b = bytes(recon!.data as Float32Array, i * 3 * n, n);
          let mse = 0;
          for (let k = 0; k < a.length; k++) mse += (a[k]! - b[k]!) ** 2;
          mse /= a.length;
          psnr.get(style)!.push(mse === 0 ? 100 : 10 * Math.log10((255 * 255) / mse));
          if (style === "photo") {
            const lm = renders[i]!.landmarks;
            const embed = async (img: Uint8Array) => (await faceNet.embed(rgbImage(S, S, img), lm)).normed;
            const ea = await embed(a);
            const c = cosine(ea, await embed(b));
            cos.push(c);
            const framing = framings[i]!;
            if (!cosByFraming.has(framing)) cosByFraming.set(framing, []);
            cosByFraming.get(framing)!.push(c);
            const noise = new Rng(hashSeed("vae-eval-noise", EVAL_SEED, s + i));
            const sd = Math.sqrt(mse);
            noiseCos.push(cosine(ea, await embed(a.map((v) => Math.round(Math.min(255, Math.max(0, v + sd * noise.normal())))))));
          }
        }
        o.onProgress?.(++done, (STYLES.length + 3) * (per / BATCH));
      }
    }
  } finally {
    await Promise.all([prog.dispose(), faceNet.dispose()]);
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return {
    psnr_db: mean(psnr.get("photo")!),
    face_cos: median(cos),
    face_cos_per_framing: Object.fromEntries([...cosByFraming].map(([f, v]) => [f, median(v)])),
    face_cos_noise: median(noiseCos),
    per_style: Object.fromEntries([...psnr].map(([s, v]) => [s, mean(v)])),
    images: [...psnr.values()].reduce((a, v) => a + v.length, 0),
    split: "test",
  };
}
