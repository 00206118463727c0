/**
 * Adds cross-attention at the 16x16 level to a trained world UNet (`growUNetWeights`: the same function to start
 * with; the base's or the student's file, or a run's checkpoint).
 *   node --import tsx tools/unet-grow.ts <checkpoint.safetensors|diffusion_pytorch_model.safetensors> <out.safetensors>
 * The output (its metadata names the source, so `world ship` keeps the shipped chain) is an `initFrom` for a
 * base run with top-level attention:
 *   node --import tsx tools/world-train-continue.ts base <out.safetensors> /work/runs/base-8 2000 3e-4 topAttention=true
 */
import { resolve } from "node:path";
import { saveSafetensors } from "../src/engine/io/safetensors.ts";
import { DERIVED_FROM } from "../src/train/harness/ship.ts";
import { readInitWeights } from "../src/train/harness/init-from.ts";
import { UNet2DConditionModel } from "../src/models/unet/unet2d-condition.ts";
import { WORLD_UNET_CONFIG, withTopAttention } from "../src/models/world/unet.ts";
import { growUNetWeights } from "../src/train/world/unet-grow.ts";

const [from, out] = process.argv.slice(2);
if (!from || !out) {
  console.error("usage: unet-grow.ts <checkpoint.safetensors|diffusion_pytorch_model.safetensors> <out.safetensors>");
  process.exit(2);
}
try {
  const trained = readInitWeights(from);
  const fresh = new UNet2DConditionModel(withTopAttention(WORLD_UNET_CONFIG)).initialize(0).bindNames().stateDict();
  const { weights, added } = growUNetWeights(trained, fresh);
  await saveSafetensors(out, weights, { [DERIVED_FROM]: resolve(from) });
  const params = [...weights.values()].reduce((n, t) => n + t.size, 0) - [...trained.values()].reduce((n, t) => n + t.size, 0);
  console.log(`${out}: added ${added.join(", ")} (${params} parameters)`);
} catch (e) {
  console.error(`${from}: ${(e as Error).message}`);
  process.exit(1);
}
