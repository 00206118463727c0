/**
 * Data of the world's face nets: ArcFace-aligned 112 crops of rendered faces, as the real path feeds glintr100
 * (`arcfaceCrop` of the 5 landmarks, then `ARCFACE_BLOB`), so a net trained here runs behind `openArcFace`.
 *
 * Faces are rendered at the world's 64 px. 'far' framing is left out of training and of the verification bar:
 * there the face is ~9 px wide (eyes 3 px apart) and identity is not recoverable at this resolution; its score is
 * reported on its own by the evaluation.
 */
import { HostTensor } from "../../engine/host-tensor.ts";
import { renderFace, type RenderedFace } from "../../world/render.ts";
import { sampleAttributes, type Attributes, type Framing } from "../../world/attributes.ts";
import { IDENTITY_DIM, IDENTITY_DIMS, identityAt } from "../../world/identity.ts";
import { Rng, hashSeed } from "../../world/rng.ts";
import { SPLITS, splitIdentity } from "../../world/splits.ts";
import { arcfaceCrop } from "../../face/align.ts";
import { ARCFACE_BLOB, toBlob } from "../../face/blob.ts";
import { rgbImage, type RgbImage } from "../../face/rgb-image.ts";
import type { Points } from "../../face/similarity.ts";

export const FACE_CROP = 112;
export const WORLD_SIZE = 64;
export const FACE_FRAMINGS: readonly Framing[] = ["close-up", "portrait", "half-body"];

/** A rendered image as 8-bit RGB (what a user's photo file decodes to). */
export function renderedToRgb(r: RenderedFace): RgbImage {
  const bytes = new Uint8Array(r.rgb.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, r.rgb[i]!)) * 255);
  return rgbImage(r.width, r.height, bytes);
}

/** The 5 landmarks (flat x, y), each moved by up to `jitter` px when a stream is given. */
export function landmarkPoints(l: Float32Array, jitter = 0, rng?: Rng): Points {
  if (!jitter || !rng) return l;
  return l.map((v) => v + (rng.next() * 2 - 1) * jitter);
}

/** The blob-normalised 112 crop of a rendered face, [3, 112, 112] floats. */
export function faceCropPlanes(r: RenderedFace, jitter = 0, rng?: Rng): Float32Array {
  const crop = arcfaceCrop(renderedToRgb(r), landmarkPoints(r.landmarks, jitter, rng), FACE_CROP);
  return toBlob(crop.image, ARCFACE_BLOB).data;
}

/** Attributes for face-net data: any style and attribute, framings where a face is resolvable. */
export function faceAttributes(rng: Rng, photoShare: number): Attributes {
  const a = sampleAttributes(rng, photoShare);
  return FACE_FRAMINGS.includes(a.framing) ? a : { ...a, framing: rng.pick(FACE_FRAMINGS) };
}

/**
 * Batch `step` of a face net's training stream: P = batch / 2 distinct train identities, rows i and P + i two
 * renders of identity i with independently drawn attributes and seeds, landmarks jittered by up to `jitter` px
 * (a detector's error).
 *
 * `hardGroup` > 1 draws the identities in groups of that size: a random anchor and its hardGroup - 1 nearest
 * identities (Euclidean, in identity-vector space) among `hardPool` random train identities. In-batch negatives
 * then differ in a few features only, which random batches almost never offer once the net separates easy pairs.
 * `hardDims` (comma-separated identity dimension names) measures the distance on those dimensions only: the
 * nets' false accepts share skin tone and hair colour (see the README), so neighbours in colour alone force the
 * net to read the face's geometry.
 */
export function faceTrainBatch(
  step: number,
  o: { batch: number; dataSeed: number; photoShare: number; jitter: number; hardGroup?: number; hardPool?: number; hardDims?: string },
): { crops: HostTensor<"float32">; identities: HostTensor<"float32"> } {
  const P = o.batch / 2;
  const plane = 3 * FACE_CROP * FACE_CROP;
  const crops = HostTensor.f32([o.batch, 3, FACE_CROP, FACE_CROP]);
  const identities = HostTensor.f32([o.batch, IDENTITY_DIM]);
  const dims = hardDimIndices(o.hardDims ?? "");
  const ids = batchIdentities(P, new Rng(hashSeed("face-identities", o.dataSeed, step)), o.hardGroup ?? 1, o.hardPool ?? 1000, dims);
  ids.forEach((k, i) => {
    const identity = identityAt(splitIdentity("train", k));
    // Centred and scaled to unit variance (identity vectors are uniform in [0, 1]).
    const centred = identity.map((v) => (v - 0.5) * Math.sqrt(12));
    for (const view of [0, 1]) {
      identities.data.set(centred, (view * P + i) * IDENTITY_DIM);
      const rng = new Rng(hashSeed("face-train", o.dataSeed, step, i, view));
      const r = renderFace(identity, faceAttributes(rng.fork("attributes"), o.photoShare), { size: WORLD_SIZE, seed: rng.fork("seed").nextU32() });
      crops.data.set(faceCropPlanes(r, o.jitter, rng.fork("jitter")), (view * P + i) * plane);
    }
  });
  return { crops, identities };
}

/** Indices of comma-separated identity dimension names; "" is every dimension. */
export function hardDimIndices(names: string): number[] {
  if (!names.trim()) return IDENTITY_DIMS.map((_, j) => j);
  return names.split(",").map((n) => {
    const j = (IDENTITY_DIMS as readonly string[]).indexOf(n.trim());
    if (j < 0) throw new RangeError(`hardDims: "${n.trim()}" is not an identity dimension (one of ${IDENTITY_DIMS.join(", ")})`);
    return j;
  });
}

/**
 * P distinct train-split identity indices; with group > 1, anchors each followed by their nearest pool members,
 * the distance taken over the identity dimensions `dims` (default: all).
 */
export function batchIdentities(P: number, pick: Rng, group: number, pool: number, dims: readonly number[] = hardDimIndices("")): number[] {
  if (!Number.isInteger(group) || group < 1 || P % group !== 0) {
    throw new RangeError(`hardGroup must be a positive integer dividing ${P} (identities per batch), got ${group}`);
  }
  if (group > 1 && !(Number.isInteger(pool) && pool >= 10 * group)) {
    throw new RangeError(`hardPool must be an integer of at least ${10 * group} (10 x hardGroup), got ${pool}`);
  }
  const ids = new Set<number>();
  if (group === 1) {
    while (ids.size < P) ids.add(pick.int(SPLITS.train.count));
    return [...ids];
  }
  while (ids.size < P) {
    let anchor = pick.int(SPLITS.train.count);
    while (ids.has(anchor)) anchor = pick.int(SPLITS.train.count);
    const a = identityAt(splitIdentity("train", anchor));
    const candidates: { k: number; d: number }[] = [];
    for (let c = 0; c < pool; c++) {
      const k = pick.int(SPLITS.train.count);
      if (k === anchor || ids.has(k)) continue;
      const v = identityAt(splitIdentity("train", k));
      let d = 0;
      for (const j of dims) d += (v[j]! - a[j]!) ** 2;
      candidates.push({ k, d });
    }
    candidates.sort((x, y) => x.d - y.d);
    ids.add(anchor);
    for (const c of candidates) {
      if (ids.size % group === 0) break;
      ids.add(c.k);
    }
  }
  return [...ids];
}
