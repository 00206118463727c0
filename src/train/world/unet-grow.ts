/**
 * Growing a trained world UNet by cross-attention at its highest resolution (`withTopAttention`) without changing
 * what it computes: each added Transformer2DModel keeps its fresh initialisation except `proj_out` (weight and
 * bias), which starts at zero, so the block adds nothing to its residual input and the grown UNet is the trained
 * one until a further run (base fine-tuning, then the student's distillation) teaches the new attention to draw.
 */
import type { HostTensor } from "../../engine/host-tensor.ts";
import { growWeights } from "../harness/grow-weights.ts";

/** The weights of a UNet with added attention blocks, from `trained` and `fresh` (the grown config's, initialised). */
export function growUNetWeights(trained: ReadonlyMap<string, HostTensor>, fresh: ReadonlyMap<string, HostTensor>): { weights: Map<string, HostTensor>; added: string[] } {
  return growWeights(trained, fresh, {
    block: /^((?:down|up)_blocks\.\d+\.attentions\.\d+)\./,
    zero: ["proj_out.weight", "proj_out.bias"],
    what: "an added attention block",
  });
}
