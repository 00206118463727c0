/**
 * Random-weight BiSeNet checkpoints in the layout of facexlib's `parsing_bisenet.pth` (torch zip, float32, with
 * the `num_batches_tracked` int64 buffers a PyTorch BatchNorm state dict carries). Running statistics are random
 * too (mean ~ N(0, 0.1), var ~ U(0.5, 1.5)) so that a test can see they are used.
 */
import { HostTensor } from "../../engine/host-tensor.ts";
import { Rng } from "../../engine/rng.ts";
import { saveTorchCheckpoint } from "../../engine/io/torch-save.ts";
import { BiSeNet } from "./bisenet.ts";
import { BatchNorm2d } from "./batch-norm.ts";
import { BISENET_FACEXLIB, type BiSeNetConfig } from "./config.ts";

export async function writeRandomBiSeNetCheckpoint(path: string, opts: { config?: BiSeNetConfig; seed?: number } = {}): Promise<void> {
  const seed = opts.seed ?? 0;
  const model = new BiSeNet(opts.config ?? BISENET_FACEXLIB).initialize(seed);
  const rng = new Rng(seed + 1);
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof BatchNorm2d)) continue;
    const mean = new Float32Array(m.channels);
    const v = new Float32Array(m.channels);
    rng.fillNormal(mean, 0, 0.1);
    rng.fillUniform(v, 0.5, 1.5);
    m.running_mean.set(new HostTensor("float32", [m.channels], mean));
    m.running_var.set(new HostTensor("float32", [m.channels], v));
  }
  const out = new Map<string, HostTensor>();
  for (const [path2, m] of model.namedModules()) {
    for (const [name, p] of m.ownParameters()) out.set(path2 ? `${path2}.${name}` : name, p.get());
    if (m instanceof BatchNorm2d) out.set(`${path2}.num_batches_tracked`, new HostTensor("int64", [], new BigInt64Array([0n])));
  }
  await saveTorchCheckpoint(path, out);
}
