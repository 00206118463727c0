/**
 * Crafted raw SCRFD outputs for tests: the inverse of the anchor decoding, so a fake network can "detect" any
 * boxes we choose. Layout as scrfd_10g_bnkps: scores 8/16/32, bboxes 8/16/32, kps 8/16/32.
 */
import { HostTensor } from "../../src/engine/host-tensor.ts";

/** A face to plant, in INPUT-canvas pixels. */
export interface PlantedFace {
  box: [number, number, number, number];
  /** 5 keypoints [x0, y0, ...]; default: spread inside the box. */
  kps?: number[];
  score?: number;
  /** Which stride's head reports it (default 16). */
  stride?: number;
}

export function defaultKps(b: [number, number, number, number]): number[] {
  const [x1, y1, x2, y2] = b;
  const w = x2 - x1, h = y2 - y1;
  return [x1 + 0.3 * w, y1 + 0.4 * h, x1 + 0.7 * w, y1 + 0.4 * h, x1 + 0.5 * w, y1 + 0.6 * h, x1 + 0.35 * w, y1 + 0.8 * h, x1 + 0.65 * w, y1 + 0.8 * h];
}

/** Raw outputs for a size x size input, with `faces` planted at the anchor nearest their box centre. */
export function craftScrfdOutputs(size: number, faces: PlantedFace[], opts: { batched?: boolean; background?: number } = {}): HostTensor[] {
  const strides = [8, 16, 32];
  const scores: Float32Array[] = [], bboxes: Float32Array[] = [], kps: Float32Array[] = [];
  for (const s of strides) {
    const n = (size / s) * (size / s) * 2;
    scores.push(new Float32Array(n).fill(opts.background ?? 0.01));
    bboxes.push(new Float32Array(n * 4).fill(1));
    kps.push(new Float32Array(n * 10));
  }
  for (const f of faces) {
    const s = f.stride ?? 16;
    const si = strides.indexOf(s);
    const fw = size / s;
    const [x1, y1, x2, y2] = f.box;
    const col = Math.min(fw - 1, Math.max(0, Math.round((x1 + x2) / 2 / s)));
    const row = Math.min(fw - 1, Math.max(0, Math.round((y1 + y2) / 2 / s)));
    const a = (row * fw + col) * 2;
    const cx = col * s, cy = row * s;
    scores[si]![a] = f.score ?? 0.9;
    bboxes[si]!.set([(cx - x1) / s, (cy - y1) / s, (x2 - cx) / s, (y2 - cy) / s], a * 4);
    const k = f.kps ?? defaultKps(f.box);
    for (let j = 0; j < 10; j += 2) {
      kps[si]![a * 10 + j] = (k[j]! - cx) / s;
      kps[si]![a * 10 + j + 1] = (k[j + 1]! - cy) / s;
    }
  }
  const lead = opts.batched ? [1] : [];
  return [
    ...scores.map((d) => new HostTensor("float32", [...lead, d.length, 1], d)),
    ...bboxes.map((d) => new HostTensor("float32", [...lead, d.length / 4, 4], d)),
    ...kps.map((d) => new HostTensor("float32", [...lead, d.length / 10, 10], d)),
  ];
}
