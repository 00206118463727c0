/**
 * Similarity transforms (rotation, uniform scale, translation; no reflection) fitted to landmarks, and the
 * templates the reference aligns faces to.
 *
 * Coordinates are (x, y) pixel coordinates with pixel centres at integers (OpenCV convention). A transform is
 * a row-major 2x3 matrix `M` mapping source (x, y) to destination `(M[0] x + M[1] y + M[2], M[3] x + M[4] y + M[5])`.
 */
import { FaceError } from "./errors.ts";

/** A 2x3 affine matrix, row-major: [a, b, tx, c, d, ty]. */
export type Affine2x3 = readonly [number, number, number, number, number, number];

/** Points as [x0, y0, x1, y1, ...]. */
export type Points = ArrayLike<number>;

/**
 * insightface `arcface_dst` (float32 values, as the reference stores them): the 112x112 ArcFace template,
 * order left eye, right eye, nose tip, left mouth corner, right mouth corner (left/right as seen in the image).
 */
export const ARCFACE_TEMPLATE_112: readonly number[] = [
  38.2946, 51.6963, 73.5318, 51.5014, 56.0252, 71.7366, 41.5493, 92.3655, 70.7299, 92.2041,
].map(Math.fround);

/**
 * facexlib `FaceRestoreHelper` FFHQ 512x512 template (face_size 512, crop_ratio (1, 1)), same landmark order.
 */
export const FFHQ_TEMPLATE_512: readonly number[] = [
  192.98138, 239.94708, 318.90277, 240.1936, 256.63416, 314.01935, 201.26117, 371.41043, 313.08905, 371.15118,
];

/**
 * Least-squares similarity from `src` to `dst` points (Umeyama 1991, with scale), exactly what
 * `skimage.transform.SimilarityTransform().estimate(src, dst)` computes in 2-D.
 *
 * In 2-D the SVD solution has a closed form: with A = mean(dst_c src_c^T) (centred points), write A's
 * "similarity part" as p = ((A00 + A11) / 2, (A10 - A01) / 2). The optimal rotation has angle atan2(p1, p0) and
 * the trace term S.d of Umeyama equals 2|p| whatever the sign of det(A) (the reflection case included), so
 * scale = 2|p| / sum(var(src)).
 * @throws FaceError `bad_landmarks` when the points are not finite, differ in count, or all coincide.
 */
export function estimateSimilarity(src: Points, dst: Points, photo = ""): Affine2x3 {
  const n = src.length / 2;
  if (!Number.isInteger(n) || n < 2 || dst.length !== src.length) {
    throw new FaceError("bad_landmarks", photo, `need matching point lists of >= 2 (x, y) pairs, got ${src.length} and ${dst.length} numbers`);
  }
  for (let i = 0; i < src.length; i++) {
    if (!Number.isFinite(src[i]!) || !Number.isFinite(dst[i]!)) {
      throw new FaceError("bad_landmarks", photo, "landmarks contain NaN or infinite values");
    }
  }
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[2 * i]!;
    sy += src[2 * i + 1]!;
    dx += dst[2 * i]!;
    dy += dst[2 * i + 1]!;
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let a00 = 0, a01 = 0, a10 = 0, a11 = 0, varSum = 0;
  for (let i = 0; i < n; i++) {
    const px = src[2 * i]! - sx, py = src[2 * i + 1]! - sy;
    const qx = dst[2 * i]! - dx, qy = dst[2 * i + 1]! - dy;
    a00 += qx * px; a01 += qx * py; a10 += qy * px; a11 += qy * py;
    varSum += px * px + py * py;
  }
  a00 /= n; a01 /= n; a10 /= n; a11 /= n; varSum /= n;
  const p0 = (a00 + a11) / 2;
  const p1 = (a10 - a01) / 2;
  const norm = Math.hypot(p0, p1);
  if (!(varSum > 0) || !(norm > 0)) {
    throw new FaceError("bad_landmarks", photo, "landmarks are degenerate (all points coincide or carry no rotation information)");
  }
  const scale = (2 * norm) / varSum;
  const c = (p0 / norm) * scale;
  const s = (p1 / norm) * scale;
  return [c, -s, dx - (c * sx - s * sy), s, c, dy - (s * sx + c * sy)];
}

/**
 * insightface `estimate_norm(lmk, image_size, 'arcface')` (pip 0.7.x): the ArcFace template scaled to
 * `imageSize` (a multiple of 112: template * size/112; a multiple of 128: template * size/128, shifted right by
 * 8 * size/128), then the similarity from the 5 landmarks to it.
 */
export function estimateNorm(landmarks: Points, imageSize = 112, photo = ""): Affine2x3 {
  if (landmarks.length !== 10) {
    throw new FaceError("bad_landmarks", photo, `estimate_norm needs 5 (x, y) landmarks, got ${landmarks.length / 2}`);
  }
  let ratio: number, shiftX: number;
  if (imageSize % 112 === 0) {
    ratio = imageSize / 112;
    shiftX = 0;
  } else if (imageSize % 128 === 0) {
    ratio = imageSize / 128;
    shiftX = 8 * ratio;
  } else {
    throw new RangeError(`estimateNorm: image size ${imageSize} is not a multiple of 112 or 128`);
  }
  // numpy: float32 template * python float stays float32.
  const dst = ARCFACE_TEMPLATE_112.map((v, i) => Math.fround(Math.fround(v * ratio) + (i % 2 === 0 ? shiftX : 0)));
  return estimateSimilarity(landmarks, dst, photo);
}

/** Applies M to points [x0, y0, ...]. */
export function transformPoints(M: Affine2x3, pts: Points): Float64Array {
  const out = new Float64Array(pts.length);
  for (let i = 0; i < pts.length; i += 2) {
    const x = pts[i]!, y = pts[i + 1]!;
    out[i] = M[0] * x + M[1] * y + M[2];
    out[i + 1] = M[3] * x + M[4] * y + M[5];
  }
  return out;
}

/** The inverse affine map (OpenCV `invertAffineTransform`). */
export function invertAffine(M: Affine2x3): Affine2x3 {
  const det = M[0] * M[4] - M[1] * M[3];
  const D = det !== 0 ? 1 / det : 0;
  const a = M[4] * D, b = -M[1] * D, c = -M[3] * D, d = M[0] * D;
  return [a, b, -a * M[2] - b * M[5], c, d, -c * M[2] - d * M[5]];
}
