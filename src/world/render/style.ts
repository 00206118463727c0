/**
 * Lighting and art styles, applied to one layer at a time (foreground and background separately, then
 * composited by the mask), so a style never mixes background into foreground pixels or the other way round.
 * Every effect is a per-pixel map or a small neighbourhood filter over a float RGB buffer in [0, 1].
 */
import type { Attributes, LightColour, LightDirection, Style } from "../attributes.ts";
import type { Rng } from "../rng.ts";

type V3 = readonly [number, number, number];
const norm = (v: V3): V3 => {
  const l = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / l, v[1] / l, v[2] / l];
};
const LIGHT_DIR: Record<LightDirection, V3> = {
  front: norm([0, -0.3, 1]),
  left: norm([-0.9, -0.25, 0.45]),
  right: norm([0.9, -0.25, 0.45]),
  above: norm([0, -0.95, 0.35]),
};
export const LIGHT_RGB: Record<LightColour, V3> = {
  white: [1, 1, 1],
  warm: [1.08, 0.88, 0.66],
  cool: [0.78, 0.9, 1.1],
  purple: [0.98, 0.72, 1.1],
};

/** Shades labelled foreground pixels with a pseudo-normal (a sphere around the head, a cylinder for the body). */
export function lightForeground(
  rgb: Float32Array,
  label: Uint8Array,
  W: number,
  H: number,
  head: { cx: number; cy: number; radius: number },
  a: Attributes,
): void {
  const Ld = LIGHT_DIR[a.lightDirection];
  const Lc = LIGHT_RGB[a.lightColour];
  const strong = a.style === "noir" ? 1.3 : 1;
  const amb = a.style === "noir" ? 0.38 : 0.5;
  const R = head.radius * 1.3;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      if (label[p] === 0) continue;
      let nx = (x + 0.5 - head.cx) / R;
      let ny = (y + 0.5 - head.cy) / R;
      let r2 = nx * nx + ny * ny;
      if (r2 >= 0.97) {
        nx = Math.max(-0.9, Math.min(0.9, (x + 0.5 - head.cx) / (R * 1.8)));
        ny = -0.1;
        r2 = nx * nx + ny * ny;
      }
      const nz = Math.sqrt(1 - r2);
      const d = Math.max(0, nx * Ld[0] + ny * Ld[1] + nz * Ld[2]);
      const s = amb + (1 - amb + 0.1) * d * strong;
      const q = 3 * p;
      rgb[q] = rgb[q]! * s * Lc[0];
      rgb[q + 1] = rgb[q + 1]! * s * Lc[1];
      rgb[q + 2] = rgb[q + 2]! * s * Lc[2];
    }
  }
}

/** Tints a background layer by the light colour (half strength: the key light is on the person). */
export function lightBackground(rgb: Float32Array, c: LightColour): void {
  const Lc = LIGHT_RGB[c];
  const k0 = 0.5 + 0.5 * Lc[0];
  const k1 = 0.5 + 0.5 * Lc[1];
  const k2 = 0.5 + 0.5 * Lc[2];
  for (let q = 0; q < rgb.length; q += 3) {
    rgb[q] = rgb[q]! * k0;
    rgb[q + 1] = rgb[q + 1]! * k1;
    rgb[q + 2] = rgb[q + 2]! * k2;
  }
}

function luminance(rgb: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let p = 0, q = 0; p < n; p++, q += 3)
    out[p] = 0.299 * rgb[q]! + 0.587 * rgb[q + 1]! + 0.114 * rgb[q + 2]!;
  return out;
}

/** 3x3 box blur of a `ch`-channel image (edges clamped). */
function blur3(src: Float32Array, W: number, H: number, ch: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let y = 0; y < H; y++) {
    const y0 = y > 0 ? y - 1 : 0;
    const y1 = y < H - 1 ? y + 1 : H - 1;
    for (let x = 0; x < W; x++) {
      const x0 = x > 0 ? x - 1 : 0;
      const x1 = x < W - 1 ? x + 1 : W - 1;
      const a0 = y0 * W;
      const a1 = y * W;
      const a2 = y1 * W;
      for (let c = 0; c < ch; c++) {
        const s =
          src[(a0 + x0) * ch + c]! +
          src[(a0 + x) * ch + c]! +
          src[(a0 + x1) * ch + c]! +
          src[(a1 + x0) * ch + c]! +
          src[(a1 + x) * ch + c]! +
          src[(a1 + x1) * ch + c]! +
          src[(a2 + x0) * ch + c]! +
          src[(a2 + x) * ch + c]! +
          src[(a2 + x1) * ch + c]!;
        out[(y * W + x) * ch + c] = s / 9;
      }
    }
  }
  return out;
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/**
 * Applies `style` in place to one layer. `label` (foreground only) adds outlines at class boundaries for the
 * styles that draw outlines; pass null for a background layer. Pixel art is handled at composite time.
 */
export function applyStyle(
  style: Style,
  rgb: Float32Array,
  W: number,
  H: number,
  label: Uint8Array | null,
  rng: Rng,
): void {
  const n = W * H;
  const scale = W / 64;
  switch (style) {
    case "photo": {
      for (let q = 0; q < rgb.length; q++) rgb[q] = rgb[q]! + (rng.next() + rng.next() - 1) * 0.03;
      return;
    }
    case "pixel":
      return;
    case "pencil": {
      const L = luminance(rgb, n);
      const B = blur3(L, W, H, 1);
      const period = Math.max(3, Math.round(3 * scale));
      for (let y = 0, p = 0; y < H; y++) {
        for (let x = 0; x < W; x++, p++) {
          const l = L[p]!;
          const line = clamp01(
            (B[p]! - l) * 7 + Math.abs(B[p]! - l) * 2 + (label && boundary(label, W, H, x, y) ? 0.6 : 0),
          );
          const hatch = l < 0.55 && (x + y) % period === 0 ? (0.55 - l) * 1.2 : 0;
          const v = (0.45 + 0.55 * l) * (1 - line) * (1 - hatch) + (rng.next() - 0.5) * 0.03;
          rgb[3 * p] = v * 0.98;
          rgb[3 * p + 1] = v * 0.96;
          rgb[3 * p + 2] = v * 0.92;
        }
      }
      return;
    }
    case "watercolor": {
      const b1 = blur3(rgb, W, H, 3);
      for (let p = 0; p < n; p++) {
        const grain = 0.97 + 0.03 * rng.next();
        for (let c = 0; c < 3; c++) {
          const q = 3 * p + c;
          const edge = Math.abs(rgb[q]! - b1[q]!);
          const v = 1 - (1 - b1[q]!) * 0.8 - edge * 0.6;
          rgb[q] = v * grain * (c === 2 ? 0.97 : 1);
        }
      }
      return;
    }
    case "comic": {
      const L = luminance(rgb, n);
      for (let y = 0, p = 0; y < H; y++) {
        for (let x = 0; x < W; x++, p++) {
          const gx = x < W - 1 ? Math.abs(L[p + 1]! - L[p]!) : 0;
          const gy = y < H - 1 ? Math.abs(L[p + W]! - L[p]!) : 0;
          const outline = gx + gy > 0.16 || (label !== null && boundary(label, W, H, x, y));
          const l = L[p]!;
          for (let c = 0; c < 3; c++) {
            const q = 3 * p + c;
            const sat = l + (rgb[q]! - l) * 1.4;
            rgb[q] = outline ? 0.05 : Math.round(clamp01(sat) * 3) / 3;
          }
        }
      }
      return;
    }
    case "noir": {
      const L = luminance(rgb, n);
      for (let y = 0, p = 0; y < H; y++) {
        for (let x = 0; x < W; x++, p++) {
          const t = clamp01((L[p]! - 0.2) / 0.6);
          const dx = (x + 0.5) / W - 0.5;
          const dy = (y + 0.5) / H - 0.5;
          const v = t * t * (3 - 2 * t) * (1 - 1.4 * (dx * dx + dy * dy)) + (rng.next() - 0.5) * 0.06;
          rgb[3 * p] = v;
          rgb[3 * p + 1] = v;
          rgb[3 * p + 2] = v * 1.03;
        }
      }
      return;
    }
    case "neon": {
      const L = luminance(rgb, n);
      const B = blur3(L, W, H, 1);
      for (let p = 0; p < n; p++) {
        const l = L[p]!;
        const glow = clamp01(Math.abs(l - B[p]!) * 6);
        // dark purple -> magenta -> cyan
        let r: number, g: number, b: number;
        if (l < 0.5) {
          const t = l / 0.5;
          r = 0.08 + t * 0.82;
          g = 0.02 + t * 0.08;
          b = 0.18 + t * 0.52;
        } else {
          const t = (l - 0.5) / 0.5;
          r = 0.9 - t * 0.7;
          g = 0.1 + t * 0.85;
          b = 0.7 + t * 0.3;
        }
        rgb[3 * p] = r + glow * 0.1;
        rgb[3 * p + 1] = g + glow * 0.9;
        rgb[3 * p + 2] = b + glow;
      }
      return;
    }
    case "papercut": {
      const Q = new Float32Array(rgb.length);
      for (let q = 0; q < rgb.length; q++) Q[q] = Math.round(clamp01(rgb[q]!) * 3) / 3;
      const s = Math.max(1, Math.round(scale));
      for (let y = 0, p = 0; y < H; y++) {
        for (let x = 0; x < W; x++, p++) {
          const px = Math.max(0, x - s);
          const py = Math.max(0, y - s);
          const o = py * W + px;
          const differs =
            Q[3 * o] !== Q[3 * p] ||
            Q[3 * o + 1] !== Q[3 * p + 1] ||
            Q[3 * o + 2] !== Q[3 * p + 2] ||
            (label !== null && label[o] !== label[p]);
          const k = (differs ? 0.72 : 1) * (0.96 + 0.04 * rng.next());
          rgb[3 * p] = (0.1 + 0.85 * Q[3 * p]!) * k;
          rgb[3 * p + 1] = (0.1 + 0.85 * Q[3 * p + 1]!) * k;
          rgb[3 * p + 2] = (0.1 + 0.85 * Q[3 * p + 2]!) * k;
        }
      }
      return;
    }
  }
}

/** True where a labelled pixel's right or lower neighbour has another label. */
function boundary(label: Uint8Array, W: number, H: number, x: number, y: number): boolean {
  const p = y * W + x;
  const l = label[p]!;
  if (l === 0) return false;
  return (
    (x < W - 1 && label[p + 1] !== l) ||
    (y < H - 1 && label[p + W] !== l) ||
    (x > 0 && label[p - 1] !== l) ||
    (y > 0 && label[p - W] !== l)
  );
}
