/**
 * Data of the world's CLIPs: whole 64 px images of random identities under attributes drawn as the world draws
 * them, each with a caption made from its attributes (`makeCaption`), tokenised by the world's CLIP BPE
 * tokenizer. Images are CLIP-normalised ((x - mean) / std, OpenAI's constants, as EVA-CLIP's input) and resized
 * to the tower's side when it is not 64.
 */
import { HostTensor } from "../../engine/host-tensor.ts";
import { ClipTokenizer } from "../../models/clip/tokenizer.ts";
import { CLIP_MEAN, CLIP_STD } from "../../face/eva-input.ts";
import { resizeBicubicTorch } from "../../face/bicubic.ts";
import { sampleAttributes, type Attributes } from "../../world/attributes.ts";
import { makeCaption } from "../../world/captions.ts";
import { worldClipVocab } from "../../world/clip-vocab.ts";
import { identityAt } from "../../world/identity.ts";
import { renderFace } from "../../world/render.ts";
import { Rng, hashSeed } from "../../world/rng.ts";
import { SPLITS, splitIdentity, type SplitName } from "../../world/splits.ts";

export const WORLD_SIZE = 64;
/** Token sequence length: the world tokenizer's (CLIP's 77). */
export const CLIP_CONTEXT = 77;

let tokenizer: ClipTokenizer | null = null;
/** The world's CLIP tokenizer, built from the caption phrases (the same files the export writes). */
export function worldClipTokenizer(): ClipTokenizer {
  if (!tokenizer) {
    const v = worldClipVocab();
    tokenizer = new ClipTokenizer(v.vocab, v.merges, { maxLength: CLIP_CONTEXT }, "world CLIP tokenizer");
  }
  return tokenizer;
}

/** HWC [0, 1] floats -> CLIP-normalised planar [3, size, size] at `out[offset..]`. */
export function clipPlanes(rgb: Float32Array, side: number, size: number, out: Float32Array, offset: number): void {
  let planes: Float32Array = new Float32Array(3 * side * side);
  const n = side * side;
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) planes[c * n + p] = rgb[3 * p + c]!;
  if (size !== side) planes = resizeBicubicTorch(planes, 3, side, side, size, size);
  const m = size * size;
  for (let c = 0; c < 3; c++) for (let p = 0; p < m; p++) out[offset + c * m + p] = (planes[c * m + p]! - CLIP_MEAN[c]!) / CLIP_STD[c]!;
}

export interface ClipPairs {
  /** [B, 3, size, size], CLIP-normalised. */
  images: HostTensor<"float32">;
  /** [B, 77] int64. */
  ids: HostTensor<"int64">;
  captions: string[];
  attributes: Attributes[];
}

/** Pairs start..start+count-1 of a split's stream: a pure function of (split, seed, index). */
export function clipPairs(split: SplitName, seed: number, start: number, count: number, o: { photoShare: number; size: number }): ClipPairs {
  const plane = 3 * o.size * o.size;
  const images = HostTensor.f32([count, 3, o.size, o.size]);
  const captions: string[] = [];
  const attributes: Attributes[] = [];
  for (let i = 0; i < count; i++) {
    const rng = new Rng(hashSeed("clip", split, seed, start + i));
    const identity = identityAt(splitIdentity(split, rng.int(SPLITS[split].count)));
    const a = sampleAttributes(rng.fork("attributes"), o.photoShare);
    const r = renderFace(identity, a, { size: WORLD_SIZE, seed: rng.fork("seed").nextU32() });
    clipPlanes(r.rgb, WORLD_SIZE, o.size, images.data, i * plane);
    captions.push(makeCaption(a, rng.fork("caption")).text);
    attributes.push(a);
  }
  return { images, ids: worldClipTokenizer().encode(captions).inputIds, captions, attributes };
}
