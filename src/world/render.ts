/**
 * The world's renderer: (identity, attributes, seed) -> RGB image + ground truth.
 *
 * Pure TypeScript (see render/raster.ts for why not SVG): the person is drawn on a foreground layer and the
 * background on its own layer; each is lit and styled on its own, then the per-pixel mask picks one of the two
 * for every pixel. So the mask's background class is exactly the set of pixels a background change can touch,
 * and every image is a pure function of its inputs (no global state, no Math.random).
 *
 * Example:
 *   const img = renderFace(identityAt(7), withDefaults({ style: "watercolor", expression: "smiling" }), { seed: 1 });
 *   img.rgb  // Float32Array, H*W*3, row-major HWC, values in [0, 1]
 */
import { checkAttributes, type Attributes } from "./attributes.ts";
import { WorldError } from "./errors.ts";
import { decodeIdentity, type Identity } from "./identity.ts";
import { Rng, hashSeed } from "./rng.ts";
import { drawBackground } from "./render/background.ts";
import { HeadFrame } from "./render/frame.ts";
import { drawPerson } from "./render/person.ts";
import { Layer } from "./render/raster.ts";
import { applyStyle, lightBackground, lightForeground } from "./render/style.ts";

export { LABELS, type MaskLabel } from "./render/frame.ts";

/** Smallest and largest supported image side. */
export const MIN_SIZE = 32;
export const MAX_SIZE = 512;

export interface RenderOptions {
  /** Image side in pixels, 32..512 (default 64). */
  size?: number;
  /** Render seed: jitter of pose, layout and light, scene details, texture noise (default 0). */
  seed?: number;
}

/** A rendered image and its ground truth. */
export interface RenderedFace {
  width: number;
  height: number;
  /** H*W*3 floats in [0, 1], row-major, channels last (RGB). */
  rgb: Float32Array;
  /** H*W class ids indexing LABELS: 0 background, 1 face, 2 hair, 3 accessories, 4 clothes. */
  mask: Uint8Array;
  /** 5 x [x, y] pixels, insightface order: image-left eye, image-right eye, nose tip, left/right mouth corner. */
  landmarks: Float32Array;
  /** [x1, y1, x2, y2] in pixels. */
  faceBox: [number, number, number, number];
  identity: Identity;
  attributes: Attributes;
  seed: number;
}

/** Grey the foreground layer starts from; never visible (unlabelled pixels show the background). */
const FG_BASE = 0.5;

/** Renders one image; throws WorldError for a bad size, identity or attribute. */
export function renderFace(
  identity: Identity,
  attributes: Attributes,
  options: RenderOptions = {},
): RenderedFace {
  const size = options.size ?? 64;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(size) || size < MIN_SIZE || size > MAX_SIZE) {
    throw new WorldError("bad_size", `size must be an integer in [${MIN_SIZE}, ${MAX_SIZE}], got ${size}`);
  }
  if (!Number.isInteger(seed)) throw new WorldError("bad_option", `seed must be an integer, got ${seed}`);
  checkAttributes(attributes);
  const face = decodeIdentity(identity);
  const a = attributes;
  const rng = new Rng(hashSeed("render", seed));
  const W = size;
  const H = size;

  // Foreground: person only. Streams are forked by name so changing one attribute leaves the others' draws alone.
  const frame = HeadFrame.fromAttributes(a, size, face, rng.fork("pose"));
  const fg = new Layer(W, H, [FG_BASE, FG_BASE, FG_BASE]);
  const truth = drawPerson(fg, frame, face, a, rng.fork("person"));
  unpremultiply(fg);
  lightForeground(
    fg.rgb,
    fg.label,
    W,
    H,
    { cx: frame.cx, cy: frame.cy, radius: frame.unit * face.headHalfHeight },
    a,
  );

  // Background: depends on background, light colour, style and seed only.
  const bg = new Layer(W, H);
  drawBackground(bg, a.background, rng.fork("background"));
  lightBackground(bg.rgb, a.lightColour);

  applyStyle(a.style, fg.rgb, W, H, fg.label, rng.fork("style-fg"));
  applyStyle(a.style, bg.rgb, W, H, null, rng.fork("style-bg"));

  const rgb = new Float32Array(W * H * 3);
  const mask = new Uint8Array(W * H);
  if (a.style === "pixel") pixelate(fg, bg, rgb, mask, Math.max(2, Math.round(size / 21)));
  else composite(fg, bg, rgb, mask);
  for (let q = 0; q < rgb.length; q++) {
    const v = rgb[q]!;
    rgb[q] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return {
    width: W,
    height: H,
    rgb,
    mask,
    landmarks: truth.landmarks,
    faceBox: truth.faceBox,
    identity,
    attributes: a,
    seed,
  };
}

/** Undo the blend with FG_BASE at partially covered labelled pixels; unlabelled pixels become exactly FG_BASE. */
function unpremultiply(L: Layer): void {
  const { rgb, alpha, label } = L;
  for (let p = 0; p < label.length; p++) {
    const q = 3 * p;
    if (label[p] === 0) {
      rgb[q] = rgb[q + 1] = rgb[q + 2] = FG_BASE;
      continue;
    }
    const al = alpha[p]!;
    if (al >= 0.999) continue;
    const k = (1 - al) * FG_BASE;
    rgb[q] = (rgb[q]! - k) / al;
    rgb[q + 1] = (rgb[q + 1]! - k) / al;
    rgb[q + 2] = (rgb[q + 2]! - k) / al;
  }
}

function composite(fg: Layer, bg: Layer, rgb: Float32Array, mask: Uint8Array): void {
  const lab = fg.label;
  for (let p = 0; p < lab.length; p++) {
    const src = lab[p] === 0 ? bg.rgb : fg.rgb;
    const q = 3 * p;
    rgb[q] = src[q]!;
    rgb[q + 1] = src[q + 1]!;
    rgb[q + 2] = src[q + 2]!;
    mask[p] = lab[p]!;
  }
}

/**
 * Pixel art: blocks of `b` x `b` pixels. A block's label is its most common label; its colour is the mean of the
 * foreground pixels with that label (foreground blocks) or of the background layer (background blocks), then
 * posterised. Each side still depends only on its own layer, so the background guarantee holds.
 */
function pixelate(fg: Layer, bg: Layer, rgb: Float32Array, mask: Uint8Array, b: number): void {
  const W = fg.width;
  const H = fg.height;
  const counts = new Int32Array(8);
  const levels = 5;
  for (let by = 0; by < H; by += b) {
    for (let bx = 0; bx < W; bx += b) {
      counts.fill(0);
      const ye = Math.min(H, by + b);
      const xe = Math.min(W, bx + b);
      for (let y = by; y < ye; y++) for (let x = bx; x < xe; x++) counts[fg.label[y * W + x]!]!++;
      let best = 0;
      for (let k = 1; k < 8; k++) if (counts[k]! > counts[best]!) best = k;
      const src = best === 0 ? bg : fg;
      let r = 0;
      let g = 0;
      let bl = 0;
      let m = 0;
      for (let y = by; y < ye; y++) {
        for (let x = bx; x < xe; x++) {
          const p = y * W + x;
          if (best !== 0 && fg.label[p] !== best) continue;
          r += src.rgb[3 * p]!;
          g += src.rgb[3 * p + 1]!;
          bl += src.rgb[3 * p + 2]!;
          m++;
        }
      }
      const post = (v: number): number =>
        Math.round(Math.min(1, Math.max(0, v / m)) * (levels - 1)) / (levels - 1);
      const cr = post(r);
      const cg = post(g);
      const cb = post(bl);
      for (let y = by; y < ye; y++) {
        for (let x = bx; x < xe; x++) {
          const p = y * W + x;
          rgb[3 * p] = cr;
          rgb[3 * p + 1] = cg;
          rgb[3 * p + 2] = cb;
          mask[p] = best;
        }
      }
    }
  }
}

/**
 * The scene of `renderFace` with nobody in it: the same background, light and style for the same attributes and
 * seed, every mask pixel background. Negatives for the world's detector (its false-positive rate is measured here).
 */
export function renderEmpty(attributes: Attributes, options: RenderOptions = {}): { width: number; height: number; rgb: Float32Array } {
  const size = options.size ?? 64;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(size) || size < MIN_SIZE || size > MAX_SIZE) {
    throw new WorldError("bad_size", `size must be an integer in [${MIN_SIZE}, ${MAX_SIZE}], got ${size}`);
  }
  checkAttributes(attributes);
  const a = attributes;
  const rng = new Rng(hashSeed("render", seed));
  const fg = new Layer(size, size, [FG_BASE, FG_BASE, FG_BASE]);
  const bg = new Layer(size, size);
  drawBackground(bg, a.background, rng.fork("background"));
  lightBackground(bg.rgb, a.lightColour);
  applyStyle(a.style, bg.rgb, size, size, null, rng.fork("style-bg"));
  const rgb = new Float32Array(size * size * 3);
  const mask = new Uint8Array(size * size);
  if (a.style === "pixel") pixelate(fg, bg, rgb, mask, Math.max(2, Math.round(size / 21)));
  else composite(fg, bg, rgb, mask);
  for (let q = 0; q < rgb.length; q++) rgb[q] = Math.min(1, Math.max(0, rgb[q]!));
  return { width: size, height: size, rgb };
}
