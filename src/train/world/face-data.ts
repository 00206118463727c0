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
import { identityAt } from "../../world/identity.ts";
import { Rng, hashSeed } from "../../world/rng.ts";
import { splitIdentity } from "../../world/splits.ts";
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

export interface FaceBatch {
  /** [B, 3, 112, 112]. */
  crops: HostTensor<"float32">;
  /** Class per example, in [0, classes). */
  labels: number[];
}

/**
 * Batch `step` of a face net's training stream: identities drawn from the first `classes` train identities
 * (`perIdentity` consecutive examples share one),
 * attributes and render seed drawn independently, landmarks jittered by up to `jitter` px (a detector's error).
 */
export function faceTrainBatch(
  step: number,
  o: { batch: number; classes: number; perIdentity: number; dataSeed: number; photoShare: number; jitter: number },
): FaceBatch {
  const plane = 3 * FACE_CROP * FACE_CROP;
  const crops = HostTensor.f32([o.batch, 3, FACE_CROP, FACE_CROP]);
  const labels: number[] = [];
  for (let i = 0; i < o.batch; i++) {
    const rng = new Rng(hashSeed("face-train", o.dataSeed, step, i));
    const cls = new Rng(hashSeed("face-class", o.dataSeed, step, Math.floor(i / o.perIdentity))).int(o.classes);
    const r = renderFace(identityAt(splitIdentity("train", cls)), faceAttributes(rng.fork("attributes"), o.photoShare), {
      size: WORLD_SIZE,
      seed: rng.fork("seed").nextU32(),
    });
    crops.data.set(faceCropPlanes(r, o.jitter, rng.fork("jitter")), i * plane);
    labels.push(cls);
  }
  return { crops, labels };
}
