/**
 * Parity kind `vae_sdxl_tiny`: diffusers AutoencoderKL `encode(image).latent_dist` (mean, logvar, std) and
 * `decode(latents).sample`, config and shapes from the fixture, weights by name through `loadAutoencoderKLWeights`.
 */
import type { ParityKind } from "../../parity/kind.ts";
import type { Fixture } from "../../parity/fixture.ts";
import { compareTensors, type Comparison } from "../../parity/compare.ts";
import { SafetensorsFile } from "../../engine/io/safetensors.ts";
import type { HostTensor } from "../../engine/host-tensor.ts";
import { input, type Tensor } from "../../engine/tensor.ts";
import { evaluate } from "../../engine/compile.ts";
import { parseAutoencoderKLConfig } from "./config.ts";
import { AutoencoderKL } from "./autoencoder-kl.ts";
import { loadAutoencoderKLWeights } from "./pretrained.ts";

async function runVae(f: Fixture): Promise<Comparison[]> {
  const vae = new AutoencoderKL(parseAutoencoderKLConfig(f.config, `${f.name}.json config`));
  if (!f.weightsPath) throw new Error(`${f.name}: fixture has no weights file`);
  const file = SafetensorsFile.open(f.weightsPath);
  try {
    loadAutoencoderKLWeights(vae, file);
  } finally {
    file.close();
  }
  const keys = new Set(f.ioKeys());
  const wanted = (f.meta.outputs as string[] | undefined) ?? ["latent_mean", "latent_logvar", "latent_std", "decoded"];
  const inputs: Tensor[] = [];
  const values: HostTensor[] = [];
  const named: Record<string, Tensor> = {};
  if (keys.has("image")) {
    const img = f.io("image");
    const x = input("image", img.shape);
    const dist = vae.encode(x);
    Object.assign(named, { latent_mean: dist.mean, latent_logvar: dist.logvar, latent_std: dist.std });
    inputs.push(x);
    values.push(img);
  }
  if (keys.has("latents")) {
    const lat = f.io("latents");
    const z = input("latents", lat.shape);
    named.decoded = vae.decode(z);
    inputs.push(z);
    values.push(lat);
  }
  const outs = wanted.filter((n) => named[n]);
  const got = await evaluate(outs.map((n) => named[n]!), inputs, values);
  const { atol, rtol } = f.tolerance;
  return outs.map((n, i) => compareTensors(n, got[i]!, f.io(n), atol, rtol));
}

export const vaeSdxlTinyKind: ParityKind = {
  name: "vae_sdxl_tiny",
  matches: (f) => f.name === "vae_sdxl_tiny" || f.config._class_name === "AutoencoderKL",
  run: runVae,
};
