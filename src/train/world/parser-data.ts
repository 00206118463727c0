/**
 * Data of the world's parser: the FFHQ-style aligned crop (`ffhqCrop`, the 512 template scaled to `crop` px) of a
 * rendered face, as BiSeNet's input, and the renderer's mask carried through the same similarity transform
 * (nearest pixel; outside the image = background, as the crop's border is), with world classes written as the
 * CelebAMask-HQ ids BiSeNet predicts.
 *
 * Class mapping: background -> 0 background, face -> 1 skin, hair -> 17 hair, clothes -> 16 cloth,
 * accessories -> 18 hat. Accessories are one class in the world; 18 is an accessory id PuLID's white-background
 * rule whitens (real BiSeNet keeps glasses, eye_g = 6, which the world cannot tell apart from hats).
 */
import { HostTensor } from "../../engine/host-tensor.ts";
import { renderFace, type RenderedFace } from "../../world/render.ts";
import { sampleAttributes, type Style } from "../../world/attributes.ts";
import { identityAt } from "../../world/identity.ts";
import { Rng, hashSeed } from "../../world/rng.ts";
import { SPLITS, splitIdentity, type SplitName } from "../../world/splits.ts";
import { ffhqCrop } from "../../face/align.ts";
import { invertAffine, type Affine2x3 } from "../../face/similarity.ts";
import { bisenetInput } from "../../face/eva-input.ts";
import { landmarkPoints, renderedToRgb, WORLD_SIZE } from "./face-data.ts";

/** CelebAMask-HQ id of each world mask class (background, face, hair, accessories, clothes). */
export const WORLD_TO_CELEBA: readonly number[] = [0, 1, 17, 18, 16];
/** BiSeNet's class count (the CelebAMask-HQ ids). */
export const PARSER_CLASSES = 19;

/** Labels of the crop made with `M` (source -> crop): the mask's CelebAMask-HQ id at the nearest source pixel. */
export function warpMask(r: RenderedFace, M: Affine2x3, size: number): Uint8Array {
  const A = invertAffine(M);
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = Math.round(A[0] * x + A[1] * y + A[2]);
      const sy = Math.round(A[3] * x + A[4] * y + A[5]);
      if (sx >= 0 && sy >= 0 && sx < r.width && sy < r.height) out[y * size + x] = WORLD_TO_CELEBA[r.mask[sy * r.width + sx]!]!;
    }
  }
  return out;
}

/** A parser example: BiSeNet input [1, 3, crop, crop] and the crop's labels. */
export interface ParserExample {
  input: HostTensor<"float32">;
  labels: Uint8Array;
  rendered: RenderedFace;
}

/** The aligned crop of a rendered face from its landmarks (moved by up to `jitter` px, a detector's error). */
export function parserExample(r: RenderedFace, crop: number, jitter = 0, rng?: Rng): ParserExample {
  const aligned = ffhqCrop(renderedToRgb(r), landmarkPoints(r.landmarks, jitter, rng), crop);
  return { input: bisenetInput(aligned.image), labels: warpMask(r, aligned.M, crop), rendered: r };
}

/** A face from `split` drawn from `rng`: identity, attributes (any style and framing), render seed. */
export function parserFace(rng: Rng, split: SplitName, photoShare: number, identities = SPLITS[split].count, style?: Style): RenderedFace {
  const k = rng.fork("identity").int(Math.min(identities, SPLITS[split].count));
  const a = sampleAttributes(rng.fork("attributes"), photoShare);
  return renderFace(identityAt(splitIdentity(split, k)), style ? { ...a, style } : a, {
    size: WORLD_SIZE,
    seed: rng.fork("seed").nextU32(),
  });
}

/** Batch `step` of the parser's training stream (train-split identities): inputs and one-hot labels. */
export function parserTrainBatch(step: number, o: { batch: number; crop: number; dataSeed: number; photoShare: number; jitter: number; identities: number }) {
  const C = o.crop;
  const n = C * C;
  const images = HostTensor.f32([o.batch, 3, C, C]);
  const onehot = HostTensor.f32([o.batch, PARSER_CLASSES, C, C]);
  for (let i = 0; i < o.batch; i++) {
    const rng = new Rng(hashSeed("parser-train", o.dataSeed, step, i));
    const ex = parserExample(parserFace(rng, "train", o.photoShare, o.identities), C, o.jitter, rng.fork("jitter"));
    images.data.set(ex.input.data, i * 3 * n);
    for (let p = 0; p < n; p++) onehot.data[(i * PARSER_CLASSES + ex.labels[p]!) * n + p] = 1;
  }
  return { images, onehot };
}
