/**
 * Backgrounds: plain colours and small procedural scenes. A background depends only on its attribute, the image
 * size and its own random stream, never on the person, so swapping it changes exactly the background pixels.
 */
import type { Background } from "../attributes.ts";
import type { Rng } from "../rng.ts";
import { ellipse, type Colour, type Layer } from "./raster.ts";

const PLAIN: Partial<Record<Background, [Colour, Colour]>> = {
  white: [
    [0.97, 0.97, 0.96],
    [0.9, 0.9, 0.89],
  ],
  grey: [
    [0.62, 0.63, 0.65],
    [0.45, 0.46, 0.48],
  ],
  blue: [
    [0.45, 0.65, 0.92],
    [0.25, 0.42, 0.75],
  ],
  yellow: [
    [0.98, 0.9, 0.5],
    [0.92, 0.75, 0.3],
  ],
};

/** Paints `bg` over the whole layer. */
export function drawBackground(L: Layer, bg: Background, rng: Rng): void {
  const W = L.width;
  const H = L.height;
  const plain = PLAIN[bg];
  if (plain) {
    L.verticalGradient(plain[0], plain[1]);
    return;
  }
  const j = (x: number): number => x * (1 + rng.uniform(-0.08, 0.08));
  switch (bg) {
    case "beach-sunset": {
      const horizon = H * j(0.58);
      L.verticalGradient([0.35, 0.2, 0.5], [0.98, 0.55, 0.3], 0, horizon);
      const sx = W * rng.uniform(0.2, 0.8);
      L.fillPolygon(ellipse(sx, horizon, W * 0.13, W * 0.13), [1.0, 0.85, 0.45]);
      L.fillRect(0, horizon, W, H * 0.8, [0.3, 0.25, 0.5]);
      for (let k = 0; k < 4; k++) {
        const y = horizon + (k + 0.5) * ((H * 0.8 - horizon) / 4);
        L.fillRect(
          sx - W * (0.12 - k * 0.02),
          y,
          sx + W * (0.12 - k * 0.02),
          y + H * 0.012,
          [0.95, 0.6, 0.4],
        );
      }
      L.fillRect(0, H * 0.8, W, H, [0.9, 0.75, 0.55]);
      break;
    }
    case "city": {
      L.verticalGradient([0.05, 0.06, 0.18], [0.2, 0.15, 0.35]);
      let x = -rng.uniform(0, W * 0.1);
      while (x < W) {
        const bw = W * rng.uniform(0.1, 0.2);
        const top = H * rng.uniform(0.15, 0.6);
        const c = rng.uniform(0.12, 0.25);
        L.fillRect(x, top, x + bw - 1, H, [c, c, c + 0.05]);
        const step = Math.max(2, W / 24);
        for (let wy = top + step * 0.6; wy < H - step; wy += step) {
          for (let wx = x + step * 0.4; wx < x + bw - step; wx += step) {
            if (rng.chance(0.45)) L.fillRect(wx, wy, wx + step * 0.45, wy + step * 0.5, [0.95, 0.85, 0.45]);
          }
        }
        x += bw;
      }
      break;
    }
    case "forest": {
      L.verticalGradient([0.7, 0.82, 0.85], [0.55, 0.7, 0.6]);
      for (const [depth, dark] of [
        [0, 0.55],
        [1, 0.35],
      ] as const) {
        for (let k = 0; k < 7; k++) {
          const cx = W * rng.uniform(-0.05, 1.05);
          const base = H * (0.75 + depth * 0.15);
          const h = H * rng.uniform(0.45, 0.7);
          const w = W * rng.uniform(0.08, 0.14);
          L.fillPolygon([cx, base - h, cx + w, base, cx - w, base], [0.1 * dark, 0.5 * dark, 0.2 * dark]);
        }
      }
      L.fillRect(0, H * 0.88, W, H, [0.25, 0.35, 0.15]);
      break;
    }
    case "room": {
      const wall: Colour = rng.pick([
        [0.85, 0.78, 0.65],
        [0.7, 0.8, 0.75],
        [0.8, 0.72, 0.78],
      ] as Colour[]);
      L.verticalGradient(wall, [wall[0] * 0.85, wall[1] * 0.85, wall[2] * 0.85]);
      const wx = W * rng.uniform(0.05, 0.6);
      L.fillRect(wx, H * 0.12, wx + W * 0.32, H * 0.5, [0.6, 0.8, 0.95]);
      L.fillRect(wx + W * 0.155, H * 0.12, wx + W * 0.165, H * 0.5, [0.95, 0.95, 0.95]);
      L.fillRect(wx, H * 0.3, wx + W * 0.32, H * 0.31, [0.95, 0.95, 0.95]);
      L.fillRect(0, H * 0.78, W, H, [0.5, 0.35, 0.2]);
      break;
    }
    case "kitchen": {
      L.verticalGradient([0.92, 0.92, 0.88], [0.85, 0.85, 0.8]);
      const tile = Math.max(3, W / 10);
      for (let y = H * 0.35; y < H * 0.7; y += tile) L.fillRect(0, y, W, y + 0.6, [0.7, 0.75, 0.75]);
      for (let x = 0; x < W; x += tile) L.fillRect(x, H * 0.35, x + 0.6, H * 0.7, [0.7, 0.75, 0.75]);
      L.fillRect(0, H * 0.05, W, H * 0.3, [0.55, 0.38, 0.25]);
      for (let x = W * 0.02; x < W; x += W * 0.25)
        L.fillRect(x, H * 0.07, x + W * 0.22, H * 0.28, [0.65, 0.45, 0.3]);
      L.fillRect(0, H * 0.7, W, H, [0.35, 0.35, 0.38]);
      const px = W * rng.uniform(0.1, 0.8);
      L.fillRect(px, H * 0.6, px + W * 0.14, H * 0.7, [0.75, 0.2, 0.15]);
      break;
    }
    case "office": {
      L.verticalGradient([0.78, 0.8, 0.84], [0.66, 0.68, 0.72]);
      L.fillRect(0, H * 0.72, W, H, [0.45, 0.32, 0.22]);
      const mx = rng.chance(0.5) ? W * 0.04 : W * 0.62;
      L.fillRect(mx, H * 0.38, mx + W * 0.34, H * 0.62, [0.1, 0.1, 0.12]);
      L.fillRect(mx + W * 0.02, H * 0.4, mx + W * 0.32, H * 0.6, [0.3, 0.55, 0.85]);
      for (let k = 0; k < 4; k++) {
        const y = H * (0.43 + 0.04 * k);
        L.fillRect(mx + W * 0.04, y, mx + W * rng.uniform(0.12, 0.3), y + H * 0.015, [0.85, 0.9, 0.95]);
      }
      L.fillRect(mx + W * 0.15, H * 0.62, mx + W * 0.19, H * 0.72, [0.1, 0.1, 0.12]);
      break;
    }
    case "garden": {
      L.verticalGradient([0.6, 0.8, 0.98], [0.8, 0.9, 0.95], 0, H * 0.5);
      L.fillRect(0, H * 0.45, W, H * 0.75, [0.2, 0.45, 0.18]);
      L.fillRect(0, H * 0.75, W, H, [0.35, 0.65, 0.25]);
      const flowers: Colour[] = [
        [0.95, 0.3, 0.4],
        [0.98, 0.85, 0.2],
        [0.9, 0.5, 0.9],
        [1, 1, 1],
      ];
      for (let k = 0; k < 28; k++) {
        const x = W * rng.next();
        const y = H * rng.uniform(0.48, 0.98);
        const r = W * 0.018;
        L.fillPolygon(ellipse(x, y, r, r, 0, 8), rng.pick(flowers));
      }
      break;
    }
    case "snow": {
      L.verticalGradient([0.72, 0.8, 0.9], [0.9, 0.92, 0.95], 0, H * 0.6);
      for (let k = 0; k < 3; k++) {
        const cx = W * rng.uniform(0, 1);
        const h = H * rng.uniform(0.25, 0.4);
        L.fillPolygon([cx, H * 0.6 - h, cx + W * 0.35, H * 0.62, cx - W * 0.35, H * 0.62], [0.55, 0.6, 0.7]);
        L.fillPolygon(
          [cx, H * 0.6 - h, cx + W * 0.1, H * 0.6 - h * 0.7, cx - W * 0.1, H * 0.6 - h * 0.7],
          [0.97, 0.97, 1],
        );
      }
      L.fillRect(0, H * 0.6, W, H, [0.95, 0.96, 0.98]);
      for (let k = 0; k < 30; k++) {
        const x = W * rng.next();
        const y = H * rng.next();
        L.fillPolygon(ellipse(x, y, W * 0.01, W * 0.01, 0, 6), [1, 1, 1], { opacity: 0.9 });
      }
      break;
    }
    default:
      break;
  }
}
