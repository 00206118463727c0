/**
 * Growing a trained world VAE by one resnet per level (`layers_per_block` + 1) without changing what it computes:
 * the added ResnetBlock2D of each encoder and decoder level gets a zero `conv2` (weight and bias), so its output is
 * its input (the blocks it is added to have equal input and output widths, hence no shortcut conv). Every other
 * weight is the trained one. A decoder-only run from the grown weights (`decoderOnly` in the VAE recipe) then keeps
 * the encoder's function exactly, and with it the latent space the base UNet was trained on, while the decoder
 * gains a layer at each level.
 *
 * Why depth and not width: widening a level of AutoencoderKL changes which resnets need a shortcut conv (a block
 * whose input and output widths become equal loses it), so only a uniform widening of every level preserves the
 * function, and that doubles the 16x16 level's weights beyond the shipped folder's 40 MB budget.
 */
import type { HostTensor } from "../../engine/host-tensor.ts";
import { growWeights } from "../harness/grow-weights.ts";

/**
 * The weights of a VAE with one more resnet per level, from `trained` (the smaller config's weights) and `fresh`
 * (a freshly initialised model of the larger config; its keys and shapes define the result). Throws when a trained
 * key is missing or mis-shaped in the larger config, or when a new key is not part of an added resnet.
 */
export function growVaeWeights(trained: ReadonlyMap<string, HostTensor>, fresh: ReadonlyMap<string, HostTensor>): { weights: Map<string, HostTensor>; added: string[] } {
  return growWeights(trained, fresh, {
    block: /^((?:encoder\.down_blocks|decoder\.up_blocks)\.\d+\.resnets\.\d+)\./,
    zero: ["conv2.weight", "conv2.bias"],
    refuse: (block, k) => (k.startsWith(`${block}.conv_shortcut.`) ? "an added resnet must keep its width (no shortcut conv)" : undefined),
    what: "an added resnet",
  });
}
