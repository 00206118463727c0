/**
 * Moving a trained PuLID adapter onto a UNet that gained attention layers (the world UNet grown by top-level
 * attention): the checkpoint's `id_adapter_attn_layers.{k}` index counts ALL attention layers in diffusers' order,
 * so added layers shift every k after them. Each trained projection moves to its layer's new index (matched by the
 * attention module's path, e.g. `down_blocks.1.attentions.0.transformer_blocks.0.attn2`); the ID encoder is kept.
 * The added attn2 layers get a fresh `id_to_k` and a zero `id_to_v`: their ID attention output is zero (id_to_v
 * has no bias, and both ortho modes scale that output), so the grown adapter draws what the trained one drew
 * until a further stage trains them.
 */
import { HostTensor } from "../../engine/host-tensor.ts";
import { ID_PREFIX } from "../../models/pulid/id-attention.ts";
import type { UNet2DConditionModel } from "../../models/unet/unet2d-condition.ts";

/**
 * The adapter weights for `grownUnet`'s layout, from `trained` (an adapter file's weights for `trainedUnet`) and
 * `fresh` (a freshly initialised adapter, or only its ID projections, for `grownUnet`). Returns them and the paths
 * of the added attn2 layers. Throws when a trained attention layer has no counterpart in the grown UNet.
 */
export function growAdapterWeights(
  trained: ReadonlyMap<string, HostTensor>,
  trainedUnet: UNet2DConditionModel,
  grownUnet: UNet2DConditionModel,
  fresh: ReadonlyMap<string, HostTensor>,
): { weights: Map<string, HostTensor>; added: string[] } {
  const grownIndex = new Map(grownUnet.attentionLayers().map((a, k) => [a.path, k] as const));
  // The ID encoder (and anything else outside the projections) is the trained one.
  const weights = new Map([...trained, ...fresh].filter(([key]) => !key.startsWith(ID_PREFIX)).map(([key]) => [key, trained.get(key) ?? fresh.get(key)!] as const));
  const moved = new Set<number>();
  trainedUnet.attentionLayers().forEach((a, k) => {
    const to = grownIndex.get(a.path);
    if (to === undefined) throw new RangeError(`${a.path}: trained attention layer ${k} is not in the grown UNet`);
    if (!a.isCrossAttention) return;
    for (const p of ["id_to_k", "id_to_v"]) {
      const t = trained.get(`${ID_PREFIX}${k}.${p}.weight`);
      if (!t) throw new RangeError(`${ID_PREFIX}${k}.${p}.weight: missing from the trained adapter (${a.path})`);
      weights.set(`${ID_PREFIX}${to}.${p}.weight`, t);
    }
    moved.add(to);
  });
  const added: string[] = [];
  grownUnet.attentionLayers().forEach((a, k) => {
    if (!a.isCrossAttention || moved.has(k)) return;
    weights.set(`${ID_PREFIX}${k}.id_to_k.weight`, fresh.get(`${ID_PREFIX}${k}.id_to_k.weight`)!);
    const v = fresh.get(`${ID_PREFIX}${k}.id_to_v.weight`)!;
    weights.set(`${ID_PREFIX}${k}.id_to_v.weight`, HostTensor.f32(v.shape));
    added.push(a.path);
  });
  for (const key of fresh.keys()) if (!weights.has(key)) throw new RangeError(`${key}: no weight for it (the grown UNet's layout?)`);
  return { weights, added };
}
