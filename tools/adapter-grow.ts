/**
 * Moves a trained world PuLID adapter onto the world UNet grown by top-level attention (`growAdapterWeights`: the
 * same images until a further stage trains the added layers' projections).
 *   node --import tsx tools/adapter-grow.ts <pulid_v1.safetensors|export> <out.safetensors>
 * then: pulid train --stage 2 --config world --models <folder with the grown UNets> --from <out.safetensors> ...
 */
import { resolve } from "node:path";
import { saveSafetensors } from "../src/engine/io/safetensors.ts";
import { DERIVED_FROM } from "../src/train/harness/ship.ts";
import { readInitWeights } from "../src/train/harness/init-from.ts";
import { UNet2DConditionModel } from "../src/models/unet/unet2d-condition.ts";
import { IdAttentionLayers } from "../src/models/pulid/id-attention.ts";
import { WORLD_UNET_CONFIG, withTopAttention } from "../src/models/world/unet.ts";
import { growAdapterWeights } from "../src/train/pulid/adapter-grow.ts";

const [from, out] = process.argv.slice(2);
if (!from || !out) {
  console.error("usage: adapter-grow.ts <pulid_v1.safetensors> <out.safetensors>");
  process.exit(2);
}
try {
  const trainedUnet = new UNet2DConditionModel(WORLD_UNET_CONFIG);
  const grownUnet = new UNet2DConditionModel(withTopAttention(WORLD_UNET_CONFIG));
  const fresh = new IdAttentionLayers(grownUnet).initialize(0).stateDict();
  const { weights, added } = growAdapterWeights(readInitWeights(from), trainedUnet, grownUnet, fresh);
  await saveSafetensors(out, weights, { [DERIVED_FROM]: resolve(from) });
  console.log(`${out}: ID projections added for ${added.join(", ")}`);
} catch (e) {
  console.error(`${from}: ${(e as Error).message}`);
  process.exit(1);
}
