/**
 * The ArcFace crop of GENERATED images inside the training graph, from landmarks that are themselves computed in
 * the graph (the detector run on a detached copy of the image). `face/differentiable-crop.ts` bakes the warp of
 * host landmarks into constants; a training step cannot, because the generated image (and so the landmarks)
 * changes every step and re-tracing a UNet rollout per step would cost a compile each time.
 *
 * Same maths as `estimateNorm` + `differentiableCrop` (insightface norm_crop, border 0, exact sub-pixel
 * positions): the least-squares similarity from the 5 landmarks to the ArcFace template (2-D Umeyama in closed
 * form, `estimateSimilarity`), inverted, then bilinear sampling. The landmarks, the matrix, the tap indices and
 * the tap weights depend on the detached image only (stop-gradient), so the crop is linear in the pixels and its
 * gradient is a scatter-add (the engine's gather along axis 0), exactly as in the host-landmark version.
 */
import { constant, type Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { ARCFACE_TEMPLATE_112 } from "../../face/similarity.ts";

/**
 * The similarity M (source pixels -> crop pixels) of `estimateNorm` per sample, as [B, 6] = (c, -s, tx, s, c, ty).
 * landmarks [B, 10] (x0, y0, ..., x4, y4), size a multiple of 112.
 */
export function arcfaceMatrixOp(landmarks: Tensor, size = 112): Tensor {
  if (size % 112 !== 0) throw new RangeError(`arcfaceMatrixOp: size ${size} is not a multiple of 112`);
  const b = landmarks.dim(0);
  const dst = HostTensor.f32([1, 5, 2], ARCFACE_TEMPLATE_112.map((v) => v * (size / 112)));
  const p = ops.reshape(ops.stopGradient(landmarks), [b, 5, 2]);
  const q = constant(dst);
  const pc = ops.sub(p, ops.mean(p, 1, true));
  const qc = ops.sub(q, ops.mean(q, 1, true));
  const [px, py] = ops.split(pc, 2, 2).map((t) => ops.reshape(t, [b, 5]));
  const [qx, qy] = ops.split(qc, 2, 2).map((t) => ops.reshape(t, [-1, 5]));
  const dot = (u: Tensor, v: Tensor) => ops.sum(ops.mul(u, v), 1); // [B]
  const varSum = dot(px!, px!);
  const variance = ops.add(varSum, dot(py!, py!));
  // c = (A00 + A11) / var, s = (A10 - A01) / var (estimateSimilarity with its 1/n factors cancelled).
  const c = ops.div(ops.add(dot(qx!, px!), dot(qy!, py!)), variance);
  const s = ops.div(ops.sub(dot(qy!, px!), dot(qx!, py!)), variance);
  const [mpx, mpy] = ops.split(ops.reshape(ops.mean(p, 1), [b, 2]), 2, 1).map((t) => ops.reshape(t, [b]));
  const [mqx, mqy] = ops.split(ops.reshape(ops.mean(q, 1), [1, 2]), 2, 1).map((t) => ops.reshape(t, [1]));
  const tx = ops.sub(mqx!, ops.sub(ops.mul(c, mpx!), ops.mul(s, mpy!)));
  const ty = ops.sub(mqy!, ops.add(ops.mul(s, mpx!), ops.mul(c, mpy!)));
  return ops.stack([c, ops.neg(s), tx, s, c, ty], 1);
}

/**
 * Warps image [B, C, H, W] by per-sample similarities M [B, 6] (source -> crop, pixel centres at integers, as
 * cv2.warpAffine) to [B, C, size, size], border 0. Differentiable in the image only.
 */
export function affineCropOp(image: Tensor, M: Tensor, size: number): Tensor {
  const [B, C, H, W] = image.shape as [number, number, number, number];
  const m = ops.stopGradient(M);
  const col = (j: number) => ops.slice(m, 1, j, j + 1); // [B, 1]
  // Inverse of [c -s tx; s c ty]: [c s; -s c] / (c^2 + s^2) applied to (x - tx, y - ty).
  const c = col(0), s = col(3), tx = col(2), ty = col(5);
  const det = ops.add(ops.square(c), ops.square(s));
  const grid = HostTensor.f32([2, size * size]);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      grid.data[y * size + x] = x;
      grid.data[size * size + y * size + x] = y;
    }
  }
  const gx = ops.sub(constant(HostTensor.f32([1, size * size], grid.data.subarray(0, size * size))), tx); // [B, R]
  const gy = ops.sub(constant(HostTensor.f32([1, size * size], grid.data.subarray(size * size))), ty);
  const u = ops.div(ops.add(ops.mul(c, gx), ops.mul(s, gy)), det); // source x
  const v = ops.div(ops.sub(ops.mul(c, gy), ops.mul(s, gx)), det); // source y
  const x0 = ops.floor(u);
  const y0 = ops.floor(v);
  const fx = ops.sub(u, x0);
  const fy = ops.sub(v, y0);
  // Pixels first: [B*H*W, C], so one gather along axis 0 serves every sample (indices offset by b*H*W).
  const flat = ops.reshape(ops.transpose(ops.reshape(image, [B, C, H * W]), [0, 2, 1]), [B * H * W, C]);
  const offsets = constant(HostTensor.f32([B, 1], Array.from({ length: B }, (_, b) => b * H * W)));
  let out: Tensor | null = null;
  for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
    const xi = ops.add(x0, dx);
    const yi = ops.add(y0, dy);
    const w = ops.mul(dx ? fx : ops.sub(1, fx), dy ? fy : ops.sub(1, fy));
    const f = (cond: Tensor) => ops.cast(cond, "float32");
    const inside = ops.mul(ops.mul(f(ops.greaterEqual(xi, 0)), f(ops.less(xi, W))), ops.mul(f(ops.greaterEqual(yi, 0)), f(ops.less(yi, H))));
    const idx = ops.add(ops.add(ops.mul(ops.minimum(ops.maximum(yi, 0), H - 1), W), ops.minimum(ops.maximum(xi, 0), W - 1)), offsets);
    const taps = ops.gather(flat, ops.cast(ops.reshape(idx, [B * size * size]), "int64"), 0); // [B*R, C]
    const term = ops.mul(taps, ops.reshape(ops.mul(w, inside), [B * size * size, 1]));
    out = out ? ops.add(out, term) : term;
  }
  return ops.reshape(ops.transpose(ops.reshape(out!, [B, size * size, C]), [0, 2, 1]), [B, C, size, size]);
}

/** The 112 (or `size`) ArcFace crop of generated images from in-graph landmarks [B, 10]. */
export function arcfaceCropFromLandmarks(image: Tensor, landmarks: Tensor, size = 112): Tensor {
  return affineCropOp(image, arcfaceMatrixOp(landmarks, size), size);
}
