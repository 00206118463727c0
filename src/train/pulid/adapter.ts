/**
 * What PuLID trains, as one module whose parameter names ARE the published checkpoint keys: the v1 ID encoder
 * under `id_adapter.*` and the attn2 ID projections under `id_adapter_attn_layers.{k}.id_to_{k,v}.weight` (k over
 * all of the UNet's attention layers, attn1 slots empty). So the training checkpoint, the exported adapter and
 * `pulid_v1.bin` share one naming, and the exported file loads with the inference loaders
 * (`loadIdEncoderV1`, `loadIdAttentionLayers`) and `pulid generate --adapter`.
 */
import { Module } from "../../nn/module.ts";
import { IDEncoder, type IdEncoderConfig } from "../../models/pulid/id-encoder.ts";
import { IdAttentionLayers, type IdAttentionSettings } from "../../models/pulid/id-attention.ts";
import type { ProcessorSelector } from "../../models/unet/attention.ts";
import type { UNet2DConditionModel } from "../../models/unet/unet2d-condition.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { saveSafetensors } from "../../engine/io/safetensors.ts";
import { openWeights } from "../../engine/io/weights.ts";
import { PulidError } from "../../engine/errors.ts";

/** The trainable part of PuLID: ID encoder + id_to_k/id_to_v of every attn2. */
export class PulidAdapter extends Module {
  id_adapter: IDEncoder;
  id_adapter_attn_layers: Module[];
  /** Not a child (non-enumerable): its projections are the ones above, this only maps attn2 layers to them. */
  declare private readonly layers: IdAttentionLayers;

  /**
   * @param encoder sizes of the ID encoder (its token width must be the UNet's cross_attention_dim)
   * @param unet a UNet of the layout the adapter serves (only its attention layout is read)
   * @param from an adapter file to start from (published layout; "" = fresh initialisation)
   */
  constructor(encoder: IdEncoderConfig, unet: UNet2DConditionModel, readonly from = "") {
    super();
    this.id_adapter = new IDEncoder(encoder);
    const layers = new IdAttentionLayers(unet);
    this.id_adapter_attn_layers = layers.id_adapter_attn_layers;
    Object.defineProperty(this, "layers", { value: layers, enumerable: false });
    this.bindNames();
  }

  /** Fresh initialisation from `seed`, then (with `from`) the weights of an adapter file. */
  override initialize(seed = 0): this {
    super.initialize(seed);
    if (this.from) loadAdapterWeights(this, this.from);
    return this;
  }

  /** The processor selector that injects `settings.embedding` into every attn2 (inference's ID attention). */
  selector(settings: IdAttentionSettings): ProcessorSelector {
    return this.layers.selector(settings);
  }
}

/**
 * Loads an adapter file (pulid_v1.bin layout, torch zip or safetensors, any float dtype) into `adapter`, float32.
 * @throws StateDictError listing missing, unexpected and mis-shaped keys.
 */
export function loadAdapterWeights(adapter: PulidAdapter, path: string): void {
  const r = openWeights(path);
  try {
    const all = r.readAll({});
    const weights = new Map([...all].map(([k, v]) => [k, v.dtype === "float32" ? v : v.cast("float32")] as const));
    adapter.loadStateDict(weights, { source: path });
  } finally {
    r.close();
  }
}

/**
 * Writes the adapter in the published layout (safetensors, float32 unless `dtype` says otherwise): the file
 * `pulid generate --adapter` and the layout's `pulid_v1.safetensors` slot take. (With `emaDecay`, the harness
 * swaps the moving average into the parameters before it calls the export.)
 */
export async function saveAdapter(adapter: PulidAdapter, path: string, dtype: "float32" | "float16" = "float32"): Promise<void> {
  const out = new Map<string, HostTensor>();
  adapter.bindNames().namedParameters().forEach(([k, p]) => {
    const v = p.get();
    out.set(k, dtype === "float32" ? v : v.cast(dtype));
  });
  if (!out.has("id_adapter.body.0.weight")) throw new PulidError("bad_adapter", "adapter has no id_adapter.body.0.weight (not a v1 IDEncoder?)");
  await saveSafetensors(path, out);
}
