/**
 * Streaming datasets over identity splits. Example k of a split is a pure function of (split, k, dataset seed):
 * an identity from the split, random attributes, a caption made from them, its tokens, and an ID reference image
 * of the same identity under independently drawn attributes and seed.
 *
 * Image layout in batches: float32 [B, 3, H, W], RGB, in [-1, 1] by default (the diffusion convention), or
 * [0, 1] with `range: "unit"`.
 */
import { HostTensor } from "../engine/host-tensor.ts";
import { sampleAttributes, type Attributes, type Framing } from "./attributes.ts";
import { makeCaption, type Caption } from "./captions.ts";
import { WorldError } from "./errors.ts";
import { IDENTITY_DIM, identityAt, type Identity } from "./identity.ts";
import { renderFace, type RenderedFace } from "./render.ts";
import { Rng, hashSeed } from "./rng.ts";
import { SPLITS, splitIdentity, type SplitName } from "./splits.ts";
import { Tokenizer } from "./tokenizer.ts";

/** One training example with its ground truth. */
export interface WorldExample {
  split: SplitName;
  /** Position in the split's stream. */
  k: number;
  identityIndex: number;
  identity: Identity;
  image: RenderedFace;
  caption: Caption;
  tokens: Int32Array;
  /** Same identity, different attributes and seed. */
  reference: RenderedFace;
}

export interface DatasetOptions {
  split: SplitName;
  /** Image side (default 64). */
  size?: number;
  /** Dataset seed: the same seed gives the same stream (default 0). */
  seed?: number;
  /** Share of photo-style images (default 0.4). */
  photoShare?: number;
  /** Draw every image (not the reference) at this framing; the caption says so. Default: sampled as the rest. */
  framing?: Framing;
  tokenizer?: Tokenizer;
}

/** The k-th example of a split's stream. */
export function worldExample(k: number, options: DatasetOptions): WorldExample {
  const { split } = options;
  const size = options.size ?? 64;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(k) || k < 0)
    throw new WorldError("bad_option", `example index must be a non-negative integer, got ${k}`);
  const rng = new Rng(hashSeed("example", split, seed, k));
  const identityIndex = splitIdentity(split, rng.int(SPLITS[split].count));
  const identity = identityAt(identityIndex);
  const drawn: Attributes = sampleAttributes(rng.fork("attributes"), options.photoShare);
  // Overridden after the draw, so every other attribute (and the rest of the stream) stays what it was.
  const attributes: Attributes = options.framing ? { ...drawn, framing: options.framing } : drawn;
  const refAttributes: Attributes = sampleAttributes(rng.fork("reference-attributes"), options.photoShare);
  const image = renderFace(identity, attributes, { size, seed: rng.fork("image-seed").nextU32() });
  const reference = renderFace(identity, refAttributes, { size, seed: rng.fork("reference-seed").nextU32() });
  const caption = makeCaption(attributes, rng.fork("caption"));
  const tokenizer = options.tokenizer ?? defaultTokenizer();
  return {
    split,
    k,
    identityIndex,
    identity,
    image,
    caption,
    tokens: tokenizer.encode(caption.text),
    reference,
  };
}

let tok: Tokenizer | null = null;
function defaultTokenizer(): Tokenizer {
  return (tok ??= new Tokenizer());
}

/** A batch: stacked tensors plus the examples (captions, attributes, masks, landmarks, boxes). */
export interface WorldBatch {
  /** float32 [B, 3, H, W]. */
  images: HostTensor<"float32">;
  /** float32 [B, 3, H, W], the ID references. */
  references: HostTensor<"float32">;
  /** int32 [B, maxLength]. */
  tokens: HostTensor<"int32">;
  /** float32 [B, IDENTITY_DIM]. */
  identities: HostTensor<"float32">;
  captions: string[];
  examples: WorldExample[];
}

export interface BatchOptions extends DatasetOptions {
  batchSize: number;
  /** Stop after this many examples (default: never; the stream is endless). */
  count?: number;
  /** First example index (default 0). */
  start?: number;
  /** "signed" = [-1, 1] (default), "unit" = [0, 1]. */
  range?: "signed" | "unit";
}

/** Streams batches; the last batch may be smaller when `count` is not a multiple of `batchSize`. */
export function* worldBatches(options: BatchOptions): Generator<WorldBatch> {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new WorldError("bad_option", `batchSize must be a positive integer, got ${batchSize}`);
  const end = options.count === undefined ? Infinity : (options.start ?? 0) + options.count;
  const tokenizer = options.tokenizer ?? defaultTokenizer();
  for (let k = options.start ?? 0; k < end; k += batchSize) {
    const n = Math.min(batchSize, end - k);
    const examples = Array.from({ length: n }, (_, i) => worldExample(k + i, { ...options, tokenizer }));
    yield stack(examples, tokenizer.maxLength, options.range ?? "signed");
  }
}

/** Copies HWC [0, 1] floats into CHW at `out[offset..]`, mapping to the requested range. */
export function toCHW(
  rgb: Float32Array,
  W: number,
  H: number,
  out: Float32Array,
  offset: number,
  range: "signed" | "unit",
): void {
  const a = range === "signed" ? 2 : 1;
  const b = range === "signed" ? -1 : 0;
  const plane = W * H;
  for (let p = 0; p < plane; p++) {
    out[offset + p] = rgb[3 * p]! * a + b;
    out[offset + plane + p] = rgb[3 * p + 1]! * a + b;
    out[offset + 2 * plane + p] = rgb[3 * p + 2]! * a + b;
  }
}

function stack(examples: WorldExample[], maxLength: number, range: "signed" | "unit"): WorldBatch {
  const B = examples.length;
  const W = examples[0]!.image.width;
  const H = examples[0]!.image.height;
  const images = HostTensor.f32([B, 3, H, W]);
  const references = HostTensor.f32([B, 3, H, W]);
  const tokens = HostTensor.zeros("int32", [B, maxLength]);
  const identities = HostTensor.f32([B, IDENTITY_DIM]);
  examples.forEach((e, i) => {
    toCHW(e.image.rgb, W, H, images.data, i * 3 * W * H, range);
    toCHW(e.reference.rgb, W, H, references.data, i * 3 * W * H, range);
    tokens.data.set(e.tokens, i * maxLength);
    identities.data.set(e.identity, i * IDENTITY_DIM);
  });
  return { images, references, tokens, identities, captions: examples.map((e) => e.caption.text), examples };
}
