/**
 * Random-weight PuLID checkpoints in the published layouts, so the loaders can be checked without the real
 * downloads: v1 as `pulid_v1.bin` (torch zip, float32), v1.1 as `pulid_v1.1.safetensors` (float16), each with
 * `id_adapter.*` and `id_adapter_attn_layers.{k}.id_to_{k,v}.weight`.
 */
import { saveSafetensors } from "../../engine/io/safetensors.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { Rng } from "../../engine/rng.ts";
import type { DType } from "../../engine/dtype.ts";
import { saveTorchCheckpoint } from "../../engine/io/torch-save.ts";
import { IDEncoder, ID_ENCODER_V1_CONFIG, type IdEncoderConfig } from "./id-encoder.ts";
import { IDFormer, ID_FORMER_V1_1_CONFIG, type IdFormerConfig } from "./id-former.ts";

/**
 * Output width C_k of each SDXL `attn2` ID projection, keyed by its index k in `id_adapter_attn_layers`
 * (odd k; see pulid-reference.md 4.4): 4 x 640, 50 x 1280, 6 x 640, 10 x 1280 in diffusers processor order.
 */
export function sdxlIdAttnLayerDims(): Map<number, number> {
  const dims = [...Array<number>(4).fill(640), ...Array<number>(50).fill(1280), ...Array<number>(6).fill(640), ...Array<number>(10).fill(1280)];
  return new Map(dims.map((c, m) => [2 * m + 1, c]));
}

export interface RandomPulidOptions {
  /** Encoder sizes (default: the published ones). */
  encoder?: IdEncoderConfig | IdFormerConfig;
  /** k -> output width of id_to_k/id_to_v (default {@link sdxlIdAttnLayerDims}); their input width is the token width. */
  attnLayerDims?: ReadonlyMap<number, number>;
  seed?: number;
  /** Storage dtype (default float32 for v1, float16 for v1.1, as published). */
  dtype?: DType;
}

/** Writes a random PuLID checkpoint; v1 -> torch zip, v1.1 -> safetensors (the published formats). */
export async function writeRandomPulidCheckpoint(path: string, version: "v1" | "v1.1", opts: RandomPulidOptions = {}): Promise<void> {
  const seed = opts.seed ?? 0;
  const dtype = opts.dtype ?? (version === "v1" ? "float32" : "float16");
  const model =
    version === "v1"
      ? new IDEncoder((opts.encoder as IdEncoderConfig | undefined) ?? ID_ENCODER_V1_CONFIG)
      : new IDFormer((opts.encoder as IdFormerConfig | undefined) ?? ID_FORMER_V1_1_CONFIG);
  model.initialize(seed);
  const tokenDim = model instanceof IDEncoder ? model.config.context_dim : model.config.output_dim;
  const out = new Map<string, HostTensor>();
  for (const [k, v] of model.stateDict()) out.set(`id_adapter.${k}`, v.cast(dtype));
  const rng = new Rng(seed + 1);
  const bound = 1 / Math.sqrt(tokenDim);
  for (const [k, c] of opts.attnLayerDims ?? sdxlIdAttnLayerDims()) {
    for (const name of ["id_to_k", "id_to_v"]) {
      const w = new Float32Array(c * tokenDim);
      rng.fillUniform(w, -bound, bound);
      out.set(`id_adapter_attn_layers.${k}.${name}.weight`, new HostTensor("float32", [c, tokenDim], w).cast(dtype));
    }
  }
  if (version === "v1") await saveTorchCheckpoint(path, out);
  else await saveSafetensors(path, out);
}
