/**
 * A random PuLID v1 adapter for a world-layout folder (the shipped face-id and clip-id feed it), written in the
 * published layout as safetensors: what `pulid train` exports, with random weights.
 */
import { join, resolve } from "node:path";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { Rng } from "../../../src/engine/rng.ts";
import { saveSafetensors } from "../../../src/engine/io/safetensors.ts";
import { IDEncoder } from "../../../src/models/pulid/id-encoder.ts";
import { UNet2DConditionModel } from "../../../src/models/unet/unet2d-condition.ts";
import type { UNet2DConditionConfig } from "../../../src/models/unet/config.ts";
import { readOnnxWeights } from "../../../src/nn/onnx-weights.ts";

const WORLD = resolve(import.meta.dirname, "..", "..", "..", "models", "world");
/** clip-id's embed_dim and width (models/world/clip-id/visual/config.json). */
const CLIP_ID = { embed: 128, width: 64 };

export async function writeRandomWorldAdapter(path: string, unet: UNet2DConditionConfig, seed: number): Promise<void> {
  const faceDim = readOnnxWeights(join(WORLD, "face-id.onnx"), "net.").tensors.get("fc.weight")!.shape[0]!;
  const tokenDim = unet.cross_attention_dim as number;
  const enc = new IDEncoder({ width: faceDim + CLIP_ID.embed, context_dim: tokenDim, num_token: 5, vit_dim: CLIP_ID.width, num_vit_layers: 5 }).initialize(seed);
  const out = new Map<string, HostTensor>([...enc.stateDict()].map(([k, v]) => [`id_adapter.${k}`, v] as const));
  const rng = new Rng(seed + 1);
  new UNet2DConditionModel(unet).attentionLayers().forEach((a, k) => {
    if (!a.isCrossAttention) return;
    for (const n of ["id_to_k", "id_to_v"]) {
      const w = new Float32Array(a.innerDim * tokenDim);
      rng.fillUniform(w, -0.5, 0.5);
      out.set(`id_adapter_attn_layers.${k}.${n}.weight`, new HostTensor("float32", [a.innerDim, tokenDim], w));
    }
  });
  await saveSafetensors(path, out);
}
