/**
 * Adds one resnet per level to a trained world VAE (`growVaeWeights`: the same function to start with).
 *   node --import tsx tools/vae-grow.ts <checkpoint.safetensors|diffusion_pytorch_model.safetensors> <out.safetensors>
 * The output (its metadata names the source, so `world ship` keeps the shipped chain) is an `initFrom` for a
 * decoder-only run at the grown depth:
 *   node --import tsx tools/world-train-continue.ts vae <out.safetensors> /work/runs/vae-3 2500 5e-4 decoderOnly=true layersPerBlock=2
 */
import { resolve } from "node:path";
import { saveSafetensors } from "../src/engine/io/safetensors.ts";
import { DERIVED_FROM } from "../src/train/harness/ship.ts";
import { readInitWeights } from "../src/train/harness/init-from.ts";
import { AutoencoderKL } from "../src/models/vae/autoencoder-kl.ts";
import { WORLD_VAE_CONFIG } from "../src/train/world/vae.ts";
import { growVaeWeights } from "../src/train/world/vae-grow.ts";

const [from, out] = process.argv.slice(2);
if (!from || !out) {
  console.error("usage: vae-grow.ts <checkpoint.safetensors|diffusion_pytorch_model.safetensors> <out.safetensors>");
  process.exit(2);
}
try {
  const trained = readInitWeights(from);
  const lpb = Math.max(...[...trained.keys()].map((k) => Number(/^decoder\.up_blocks\.0\.resnets\.(\d+)\./.exec(k)?.[1] ?? -1))); // decoder: layers_per_block + 1 resnets
  const grown = { ...WORLD_VAE_CONFIG, layers_per_block: lpb + 1 };
  const fresh = new AutoencoderKL(grown).initialize(0).bindNames().stateDict();
  const { weights, added } = growVaeWeights(trained, fresh);
  await saveSafetensors(out, weights, { [DERIVED_FROM]: resolve(from) });
  console.log(`${out}: layers_per_block ${lpb} -> ${lpb + 1}; added ${added.join(", ")}`);
} catch (e) {
  console.error(`${from}: ${(e as Error).message}`);
  process.exit(1);
}
