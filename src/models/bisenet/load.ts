/**
 * Loading facexlib's `parsing_bisenet.pth` (a flat state dict, torch zip) or a safetensors file with the same keys.
 * `num_batches_tracked` buffers are dropped (unused in eval mode); everything else must match (StateDictError
 * naming the file lists every missing, unexpected or mis-shaped key).
 */
import { openWeights } from "../../engine/io/weights.ts";
import { WeightFileError } from "../../engine/errors.ts";
import { BiSeNet } from "./bisenet.ts";
import { BISENET_FACEXLIB, type BiSeNetConfig } from "./config.ts";

/** @throws WeightFileError (missing, truncated, unreadable file), StateDictError (wrong layout). */
export function loadBiSeNet(path: string, config: BiSeNetConfig = BISENET_FACEXLIB): BiSeNet {
  let r;
  try {
    r = openWeights(path);
  } catch (e) {
    if (e instanceof WeightFileError) e.message += " (expected facexlib's parsing_bisenet.pth: a torch state dict with cp.*, ffm.*, conv_out*.* keys)";
    throw e;
  }
  try {
    const tensors = r.readAll({ filter: (k) => !k.endsWith(".num_batches_tracked") });
    const model = new BiSeNet(config);
    model.loadStateDict(tensors, { source: path });
    return model;
  } finally {
    r.close();
  }
}
