/**
 * The README's pictures of the world detector and parser, from the shipped models on test-split images:
 *   node --import tsx tools/world-perception-pictures.ts [OUT_DIR]   (default docs/)
 * docs/world-detector.png: one image per style, 4x, detected box (green), landmarks (red), ground truth (blue).
 * docs/world-parser.png: aligned crops (top) and their labels (bottom, CelebAMask-HQ ids coloured).
 */
import sharp from "sharp";
import { join } from "node:path";
import { openScrfd } from "../src/face/scrfd-model.ts";
import { openWorldParser } from "../src/face/world-parser.ts";
import { STYLES } from "../src/world/attributes.ts";
import { Rng, hashSeed } from "../src/world/rng.ts";
import { detectorScene } from "../src/train/world/detector-data.ts";
import { parserExample, parserFace } from "../src/train/world/parser-data.ts";
import { IMAGENET_MEAN, IMAGENET_STD } from "../src/face/eva-input.ts";

const out = process.argv[2] ?? "docs";
const Z = 4;

class Canvas {
  data: Uint8Array;
  constructor(readonly w: number, readonly h: number) {
    this.data = new Uint8Array(w * h * 3);
  }
  set(x: number, y: number, c: readonly number[]): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.w || y >= this.h) return;
    this.data.set(c, (y * this.w + x) * 3);
  }
  dot(x: number, y: number, c: readonly number[], r = 1): void {
    for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) this.set(x + dx, y + dy, c);
  }
  rect(x1: number, y1: number, x2: number, y2: number, c: readonly number[]): void {
    for (let x = x1; x <= x2; x++) {
      this.set(x, y1, c);
      this.set(x, y2, c);
    }
    for (let y = y1; y <= y2; y++) {
      this.set(x1, y, c);
      this.set(x2, y, c);
    }
  }
  png(path: string) {
    return sharp(Buffer.from(this.data), { raw: { width: this.w, height: this.h, channels: 3 } }).png().toFile(path);
  }
}

async function detectorPicture(): Promise<void> {
  const det = await openScrfd("models/world/detector.onnx");
  const S = 64 * Z;
  const c = new Canvas(S * STYLES.length, S * 2);
  for (const [i, style] of STYLES.entries()) {
    for (let row = 0; row < 2; row++) {
      const sc = detectorScene(new Rng(hashSeed("readme-detector", style, row)), { split: "test", photoShare: 1, emptyShare: 0, style, empty: false });
      const ox = i * S;
      const oy = row * S;
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) c.set(ox + x, oy + y, sc.image.data.subarray(((y >> 2) * 64 + (x >> 2)) * 3, ((y >> 2) * 64 + (x >> 2)) * 3 + 3));
      const to = (v: number) => (v + 0.5) * Z;
      for (let k = 0; k < 5; k++) c.dot(ox + to(sc.landmarks![2 * k]!), oy + to(sc.landmarks![2 * k + 1]!), [40, 90, 255], 2);
      try {
        const { face } = await det.detect(sc.image, { minFaceSize: 0 });
        c.rect(ox + to(face.box[0]), oy + to(face.box[1]), ox + to(face.box[2]), oy + to(face.box[3]), [0, 230, 0]);
        for (let k = 0; k < 5; k++) c.dot(ox + to(face.kps[2 * k]!), oy + to(face.kps[2 * k + 1]!), [255, 30, 30], 1);
      } catch {
        // no face: nothing drawn
      }
    }
  }
  await det.dispose();
  await c.png(join(out, "world-detector.png"));
}

const COLOURS: Record<number, readonly number[]> = { 0: [20, 20, 20], 1: [250, 200, 160], 16: [60, 170, 70], 17: [120, 70, 30], 18: [40, 170, 240] };

async function parserPicture(): Promise<void> {
  const parse = await openWorldParser("models/world/parser.safetensors");
  const S = parse.size;
  const c = new Canvas(S * STYLES.length, S * 2);
  for (const [i, style] of STYLES.entries()) {
    const ex = parserExample(parserFace(new Rng(hashSeed("readme-parser", style)), "test", 0.4, undefined, style), S);
    const labels = await parse(ex.input);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const p = y * S + x;
        const rgb = [0, 1, 2].map((ch) => Math.round(Math.min(1, Math.max(0, ex.input.data[ch * S * S + p]! * IMAGENET_STD[ch]! + IMAGENET_MEAN[ch]!)) * 255));
        c.set(i * S + x, y, rgb);
        c.set(i * S + x, S + y, COLOURS[labels[p]!] ?? [255, 0, 255]);
      }
    }
  }
  await c.png(join(out, "world-parser.png"));
}

await detectorPicture();
await parserPicture();
console.log(`wrote ${join(out, "world-detector.png")} and ${join(out, "world-parser.png")}`);
