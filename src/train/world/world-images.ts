/**
 * Whole-image training data from the world: renders of train-split identities with random attributes, as
 * [B, 3, 64, 64] in [-1, 1] (the diffusion convention). Only the image is rendered (the dataset's examples
 * also render an ID reference, which an image model does not need).
 */
import { HostTensor } from "../../engine/host-tensor.ts";
import { renderFace, type RenderedFace } from "../../world/render.ts";
import { sampleAttributes } from "../../world/attributes.ts";
import { identityAt } from "../../world/identity.ts";
import { Rng, hashSeed } from "../../world/rng.ts";
import { SPLITS, splitIdentity, type SplitName } from "../../world/splits.ts";
import { toCHW } from "../../world/dataset.ts";
import { WORLD_SIZE } from "./face-data.ts";

/** Example `k` of a stream: identity, attributes and render seed drawn from (tag, seed, k). */
export function worldImage(split: SplitName, tag: string, seed: number, k: number, photoShare: number): RenderedFace {
  const rng = new Rng(hashSeed(tag, split, seed, k));
  const identity = identityAt(splitIdentity(split, rng.int(SPLITS[split].count)));
  return renderFace(identity, sampleAttributes(rng.fork("attributes"), photoShare), { size: WORLD_SIZE, seed: rng.fork("seed").nextU32() });
}

/** Stacks renders into [B, 3, H, W] in [-1, 1]. */
export function stackImages(images: readonly RenderedFace[]): HostTensor<"float32"> {
  const { width: W, height: H } = images[0]!;
  const t = HostTensor.f32([images.length, 3, H, W]);
  images.forEach((r, i) => toCHW(r.rgb, W, H, t.data, i * 3 * W * H, "signed"));
  return t;
}
