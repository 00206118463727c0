/**
 * The `face_cells` feed of a face-weighted L_diff (PuLID's `faceLossWeight`, the world base's `faceWeight`): for each latent cell, the share of its area
 * that the face box covers, with the box grown by a quarter of its size on every side first (hair and the head's
 * outline are part of what the ID should decide).
 */
import { HostTensor } from "../../engine/host-tensor.ts";

/** Share of each box's grown area per latent cell: boxes [x1, y1, x2, y2] in pixels of an `imageSide` image -> [B, 1, n, n]. */
export function faceCells(boxes: readonly (readonly [number, number, number, number])[], imageSide: number, latentSide: number): HostTensor<"float32"> {
  const n = latentSide;
  const cell = imageSide / n;
  const out = HostTensor.f32([boxes.length, 1, n, n]);
  boxes.forEach(([x1, y1, x2, y2], b) => {
    const gx = (x2 - x1) / 4;
    const gy = (y2 - y1) / 4;
    const [bx1, by1, bx2, by2] = [x1 - gx, y1 - gy, x2 + gx, y2 + gy];
    for (let i = 0; i < n; i++) {
      const oy = Math.max(0, Math.min(by2, (i + 1) * cell) - Math.max(by1, i * cell));
      for (let j = 0; j < n; j++) {
        const ox = Math.max(0, Math.min(bx2, (j + 1) * cell) - Math.max(bx1, j * cell));
        out.data[b * n * n + i * n + j] = (ox * oy) / (cell * cell);
      }
    }
  });
  return out;
}
