/**
 * The README's picture of the world face-metric net, from the shipped model on test-split identities:
 *   node --import tsx tools/world-face-pictures.ts [OUT_DIR]   (default docs/)
 * docs/world-face-metric.png: each row is a query photo (left) and its three nearest identities among the 400
 * test identities' gallery photos (other attributes and seed), 3x; a green frame marks the query's own identity.
 */
import sharp from "sharp";
import { join } from "node:path";
import { openArcFace } from "../src/face/arcface-model.ts";
import { splitIdentity } from "../src/world/splits.ts";
import { renderedToRgb } from "../src/train/world/face-data.ts";
import { renderEvalFace, type FaceImageSpec } from "../src/eval/world/face-pairs.ts";
import type { RenderedFace } from "../src/world/render.ts";

const out = process.argv[2] ?? "docs";
const Z = 3;
const T = 64 * Z;
const GAP = 8;
const QUERIES = [5, 48, 97, 150, 222, 301];
const IDS = 400;

const spec = (k: number, which: number): FaceImageSpec => ({ identityIndex: splitIdentity("test", k), style: "photo", seed: 1_000_000 * which + k });

const net = await openArcFace("models/world/face-metric.onnx");
const embed = async (r: RenderedFace) => (await net.embed(renderedToRgb(r), r.landmarks)).normed;
const gallery: { r: RenderedFace; e: Float32Array }[] = [];
for (let k = 0; k < IDS; k++) {
  const r = renderEvalFace(spec(k, 1));
  gallery.push({ r, e: await embed(r) });
}
const W = 4 * T + 4 * GAP;
const H = QUERIES.length * (T + GAP);
const img = new Uint8Array(W * H * 3).fill(255);
const blit = (r: RenderedFace, ox: number, oy: number, frame: readonly number[] | null) => {
  for (let y = 0; y < T; y++) {
    for (let x = 0; x < T; x++) {
      const s = (Math.floor(y / Z) * 64 + Math.floor(x / Z)) * 3;
      const edge = frame && (x < 4 || y < 4 || x >= T - 4 || y >= T - 4);
      for (let c = 0; c < 3; c++) img[((oy + y) * W + ox + x) * 3 + c] = edge ? frame[c]! : Math.round(r.rgb[s + c]! * 255);
    }
  }
};
for (const [row, k] of QUERIES.entries()) {
  const q = renderEvalFace(spec(k, 2));
  const e = await embed(q);
  const ranked = gallery.map((g, j) => ({ j, s: g.e.reduce((a, v, i) => a + v * e[i]!, 0) })).sort((a, b) => b.s - a.s);
  const oy = row * (T + GAP);
  blit(q, 0, oy, null);
  ranked.slice(0, 3).forEach((m, n) => blit(gallery[m.j]!.r, (n + 1) * (T + GAP) + GAP, oy, m.j === k ? [0, 200, 0] : [220, 40, 40]));
}
await net.dispose();
await sharp(Buffer.from(img), { raw: { width: W, height: H, channels: 3 } }).png().toFile(join(out, "world-face-metric.png"));
console.log(join(out, "world-face-metric.png"));
