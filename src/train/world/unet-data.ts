/**
 * Captioned whole images for the world's text-to-image models: renders of train-split identities under attributes
 * drawn as the world draws them, each with a caption from its attributes (`makeCaption`), a pure function of
 * (split, seed, index).
 *
 * Held-out attribute combinations: one (style, background, expression) triple in 8 never appears in the
 * training stream (a draw that lands on one is redrawn), so the base's evaluation prompts ask for scenes it was
 * never shown (issue 12's "held-out attribute combinations"), with test-split identities for the renders.
 *
 * Caption dropout: with probability `dropout` the caption is the empty prompt, which is what the pipeline encodes
 * for an empty negative prompt, so classifier-free guidance has an unconditional model to push away from.
 */
import { HostTensor } from "../../engine/host-tensor.ts";
import { renderFace } from "../../world/render.ts";
import { sampleAttributes, type Attributes } from "../../world/attributes.ts";
import { makeCaption } from "../../world/captions.ts";
import { identityAt } from "../../world/identity.ts";
import { Rng, hashSeed } from "../../world/rng.ts";
import { SPLITS, splitIdentity, type SplitName } from "../../world/splits.ts";
import { toCHW } from "../../world/dataset.ts";

export const WORLD_IMAGE_SIZE = 64;

/** Whether an attribute set is one of the held-out (style, background, expression) combinations. */
export function isHeldOutCombination(a: Pick<Attributes, "style" | "background" | "expression">): boolean {
  return hashSeed("unet-held-out", a.style, a.background, a.expression) % 8 === 0;
}

/** Attributes drawn as the world draws them, restricted to held-out (or to training) combinations. */
export function drawAttributes(rng: Rng, photoShare: number, heldOut: boolean): Attributes {
  for (let k = 0; ; k++) {
    const a = sampleAttributes(rng.fork(`attributes-${k}`), photoShare);
    if (isHeldOutCombination(a) === heldOut) return a;
  }
}

export interface CaptionedImages {
  /** [B, 3, 64, 64] in [-1, 1]. */
  images: HostTensor<"float32">;
  /** The prompt each image is trained with ("" when dropped). */
  captions: string[];
  attributes: Attributes[];
  /** Each render's face box [x1, y1, x2, y2] in pixels (the renderer's ground truth). */
  faceBoxes: [number, number, number, number][];
}

export interface CaptionedOptions {
  photoShare: number;
  /** Probability of the empty prompt. */
  dropout: number;
  /** Draw from the held-out combinations instead of the training ones. */
  heldOut?: boolean;
}

/** Examples start..start+count-1 of a split's stream. */
export function captionedImages(split: SplitName, seed: number, start: number, count: number, o: CaptionedOptions): CaptionedImages {
  const S = WORLD_IMAGE_SIZE;
  const images = HostTensor.f32([count, 3, S, S]);
  const captions: string[] = [];
  const attributes: Attributes[] = [];
  const faceBoxes: [number, number, number, number][] = [];
  for (let i = 0; i < count; i++) {
    const rng = new Rng(hashSeed("unet-data", split, seed, start + i));
    const identity = identityAt(splitIdentity(split, rng.int(SPLITS[split].count)));
    const a = drawAttributes(rng.fork("attributes"), o.photoShare, o.heldOut ?? false);
    const r = renderFace(identity, a, { size: S, seed: rng.fork("seed").nextU32() });
    toCHW(r.rgb, S, S, images.data, i * 3 * S * S, "signed");
    captions.push(rng.fork("dropout").chance(o.dropout) ? "" : makeCaption(a, rng.fork("caption")).text);
    attributes.push(a);
    faceBoxes.push(r.faceBox);
  }
  return { images, captions, attributes, faceBoxes };
}

/** Prompts only (no renders): captions of attribute draws of the training combinations, with dropout. */
export function worldCaptions(seed: number, start: number, count: number, o: CaptionedOptions): string[] {
  return Array.from({ length: count }, (_, i) => {
    const rng = new Rng(hashSeed("unet-captions", seed, start + i));
    const a = drawAttributes(rng.fork("attributes"), o.photoShare, o.heldOut ?? false);
    return rng.fork("dropout").chance(o.dropout) ? "" : makeCaption(a, rng.fork("caption")).text;
  });
}
