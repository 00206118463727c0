/**
 * PuLID's ID injection into the UNet's cross-attention (ToTheBeginning/PuLID 1aa2fc7,
 * pulid/attention_processor.py `IDAttnProcessor2_0`, pulid/pipeline.py `hack_unet_attn_layers`).
 *
 * Every `attn2` gets two bias-free projections of the ID tokens, `id_to_k` and `id_to_v` (cross_attention_dim ->
 * hidden); the ID attention output is added to the text attention output before `to_out`:
 *   normal:   h = A_txt + s * A_id
 *   ortho:    h = A_txt + s * (A_id - proj)                  proj = (sum_n A_txt*A_id / sum_n A_txt^2) * A_txt
 *   ortho_v2: h = A_txt + s * (A_id + (w - 1) * proj)       w = mass of softmax(q k_id^T) (no 1/sqrt(d), mean over
 *                                                             heads) on the first 5 ID tokens
 * with `numZero` all-zero tokens appended to the ID tokens first (the reference's NUM_ZERO).
 *
 * Checkpoint keys are `id_adapter_attn_layers.{k}.id_to_k.weight`: k indexes ALL attention layers in diffusers'
 * `attn_processors` order (down blocks, up blocks, mid block last; attn1 before attn2), so only odd k carry
 * weights. The reference sets NUM_ZERO/ORTHO as module globals; here they are a per-call settings object.
 */
import { Module, StateDictError, type StateDictIssue, type WeightSource } from "../../nn/module.ts";
import { Linear } from "../unet/linear.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { PulidError, WeightFileError } from "../../engine/errors.ts";
import type { HostTensor } from "../../engine/host-tensor.ts";
import { SafetensorsFile } from "../../engine/io/safetensors.ts";
import { detectWeightFormat, openWeights } from "../../engine/io/weights.ts";
import { Attention, Identity, textAttention, type AttentionProcessor, type ProcessorSelector } from "../unet/attention.ts";
import type { UNet2DConditionModel } from "../unet/unet2d-condition.ts";

/** How the ID attention is combined with the text attention. */
export type IdAttentionMode = "normal" | "ortho" | "ortho_v2";

/** Per-call ID injection settings (the reference's id_embedding, id_scale, NUM_ZERO, ORTHO, ORTHO_v2). */
export interface IdAttentionSettings {
  /** ID tokens [B, M, cross_attention_dim], batch aligned with the UNet batch (uncond first under CFG). */
  embedding: Tensor;
  /** id_scale: a number or a scalar tensor (e.g. a graph input, to reuse one graph for several scales). */
  scale: number | Tensor;
  mode: IdAttentionMode;
  /** Zero tokens appended to the ID tokens (dilute the ID attention). Default 0. */
  numZero?: number;
}

/** id_to_k / id_to_v of one cross-attention layer (Linear without bias, [hidden, cross_attention_dim]). */
export class IdAttnProjections extends Module {
  id_to_k: Linear;
  id_to_v: Linear;
  constructor(readonly hiddenSize: number, readonly crossAttentionDim: number) {
    super();
    this.id_to_k = new Linear(crossAttentionDim, hiddenSize, false);
    this.id_to_v = new Linear(crossAttentionDim, hiddenSize, false);
  }
}

/** Key prefix of the ID projections in PuLID files. */
export const ID_PREFIX = "id_adapter_attn_layers.";

/** Tokens of the reference's ortho_v2 weight: the first 5 ID tokens (ArcFace+CLIP "global" tokens). */
const ORTHO_V2_TOKENS = 5;

/**
 * The ID projections of every cross-attention layer of one UNet. Parameter names are the checkpoint's
 * (`id_adapter_attn_layers.{k}.id_to_k.weight`); attn1 slots are empty modules so indices line up.
 */
export class IdAttentionLayers extends Module {
  id_adapter_attn_layers: Module[];
  /** Attention module path -> index k. */
  private readonly index: ReadonlyMap<string, number>;

  /** Builds the projections for `unet`'s layout (parameters are lazy until loaded or initialised). */
  constructor(unet: UNet2DConditionModel) {
    super();
    const layers = unet.attentionLayers();
    this.id_adapter_attn_layers = layers.map((a) => (a.isCrossAttention ? new IdAttnProjections(a.innerDim, a.contextDim) : new Identity()));
    this.index = new Map(layers.map((a, k) => [a.path, k]));
    this.bindNames();
  }

  /** The checkpoint index k of an attention layer of the UNet this was built for (undefined if unknown). */
  indexOf(attn: Attention): number | undefined {
    return this.index.get(attn.path);
  }

  /**
   * A processor selector for one UNet call: every attn2 runs the ID attention with `settings`, attn1 the plain
   * processor. Pass it as `unet.call(..., { select })`.
   * @throws PulidError (`bad_id_settings`) for a bad mode, numZero or embedding width.
   */
  selector(settings: IdAttentionSettings): ProcessorSelector {
    const numZero = settings.numZero ?? 0;
    if (!["normal", "ortho", "ortho_v2"].includes(settings.mode)) {
      throw new PulidError("bad_id_settings", `ID attention mode '${settings.mode}' is not one of normal, ortho, ortho_v2`);
    }
    if (!Number.isInteger(numZero) || numZero < 0) throw new PulidError("bad_id_settings", `numZero must be a non-negative integer, got ${numZero}`);
    if (settings.embedding.rank !== 3) {
      throw new PulidError("bad_id_settings", `ID embedding must be [B, tokens, dim], got rank ${settings.embedding.rank}`);
    }
    // Zero tokens are appended once per call; id_to_k/id_to_v have no bias so they give zero keys and values.
    let tokens = settings.embedding;
    if (numZero > 0) tokens = ops.padAxis(tokens, 1, 0, numZero);
    return (attn) => {
      if (!attn.isCrossAttention) return undefined;
      const k = this.index.get(attn.path);
      const proj = k === undefined ? undefined : this.id_adapter_attn_layers[k];
      if (!(proj instanceof IdAttnProjections)) {
        throw new PulidError("bad_id_settings", `no ID projections for attention layer '${attn.path}' (built for another UNet?)`);
      }
      if (tokens.dim(2) !== proj.crossAttentionDim) {
        throw new PulidError("bad_id_settings", `ID embedding width ${tokens.dim(2)} does not match ${attn.path}'s id_to_k input ${proj.crossAttentionDim}`);
      }
      return idProcessor(proj, tokens, settings.scale, settings.mode);
    };
  }
}

function orthoProjection(txt: Tensor, id: Tensor): Tensor {
  // Sums over the token axis (dim -2), per batch item and channel, as the reference does.
  const num = ops.sum(ops.mul(txt, id), -2, true);
  const den = ops.sum(ops.mul(txt, txt), -2, true);
  return ops.mul(ops.div(num, den), txt);
}

/** IDAttnProcessor2_0 with the settings of one call. `tokens` already carries the zero padding. */
export function idProcessor(proj: IdAttnProjections, tokens: Tensor, scale: number | Tensor, mode: IdAttentionMode): AttentionProcessor {
  return (attn, hidden, context) => {
    const b = hidden.dim(0);
    const { q, out: txt } = textAttention(attn, hidden, context);
    const idK = attn.splitHeads(proj.id_to_k.call(tokens), b); // [B, heads, M+Z, d]
    const idV = attn.splitHeads(proj.id_to_v.call(tokens), b);
    const id = attn.mergeHeads(attn.sdpa(q, idK, idV)); // [B, N, inner]
    let delta: Tensor;
    if (mode === "normal") {
      delta = id;
    } else if (mode === "ortho") {
      delta = ops.sub(id, orthoProjection(txt, id));
    } else {
      // Raw logits (no 1/sqrt(d)), softmax over ID tokens, mean over heads: [B, N, M+Z]; mass on the first 5.
      const probs = ops.mean(ops.softmax(ops.matmul(q, ops.swapAxes(idK, -1, -2)), -1), 1);
      const w = ops.sum(ops.slice(probs, -1, 0, ORTHO_V2_TOKENS), -1, true); // [B, N, 1]
      delta = ops.add(id, ops.mul(ops.sub(w, 1), orthoProjection(txt, id)));
    }
    return attn.project(ops.add(txt, ops.mul(delta, scale)));
  };
}

/** What a PuLID SDXL weights file must contain for the ID attention; quoted in load errors. */
export const ID_ATTENTION_LAYOUT =
  "a PuLID SDXL weights file (pulid_v1.bin or pulid_v1.1.safetensors layout) with 'id_adapter_attn_layers.{k}.id_to_k.weight' " +
  "and '.id_to_v.weight' [hidden, cross_attention_dim] for every odd k (the UNet's attn2 layers)";

/** The ID attention part of a PuLID file is missing, truncated or does not fit the UNet. */
export class IdAttentionLoadError extends WeightFileError {}

/**
 * Builds the ID projections for `unet` and loads them from a PuLID weights file (safetensors: kept in the file
 * as external data, 16-bit cast in the graph; torch zip `.bin`: read into memory). Other keys of the file
 * (`id_adapter.*`, the ID encoder) are left to the encoder's loader.
 * @throws IdAttentionLoadError naming the file and listing every missing, mis-shaped or foreign key.
 */
export function loadIdAttentionLayers(unet: UNet2DConditionModel, path: string, opts: { external?: boolean } = {}): IdAttentionLayers {
  const layers = new IdAttentionLayers(unet);
  let source: WeightSource;
  let close = () => {};
  try {
    if (detectWeightFormat(path) === "safetensors") {
      const f = SafetensorsFile.open(path);
      source = f;
      close = () => f.close();
    } else {
      const r = openWeights(path);
      try {
        source = r.readAll({ prefix: ID_PREFIX });
      } finally {
        r.close();
      }
    }
  } catch (e) {
    if (e instanceof PulidError) throw new IdAttentionLoadError(e.code, path, `${e.message}. Expected ${ID_ATTENTION_LAYOUT}`, { cause: e });
    throw e;
  }
  try {
    const keys = source instanceof SafetensorsFile ? source.keys() : [...source.keys()];
    if (!keys.some((k) => k.startsWith(ID_PREFIX))) {
      const hint = keys.includes("conv_in.weight") ? " (this is a UNet checkpoint)" : keys.some((k) => k.startsWith("pulid_ca.")) ? " (this is a PuLID-FLUX file)" : "";
      throw new IdAttentionLoadError("wrong_file", path, `has no id_adapter_attn_layers.* keys${hint}. Expected ${ID_ATTENTION_LAYOUT}`);
    }
    const r = layers.loadStateDict(source, { strict: false, external: opts.external ?? true, source: path });
    const foreign = r.unexpected.filter((k) => k.startsWith(ID_PREFIX));
    if (r.missing.length || r.mismatched.length || foreign.length) {
      const issues: StateDictIssue[] = [];
      const shapeOf = (k: string) => (source instanceof SafetensorsFile ? source.entry(k).shape : (source as ReadonlyMap<string, HostTensor>).get(k)!.shape);
      const params = new Map(layers.namedParameters());
      for (const k of r.missing) issues.push({ code: "missing", key: k, expected: params.get(k)!.shape });
      for (const k of r.mismatched) issues.push({ code: "shape_mismatch", key: k, expected: params.get(k)!.shape, got: shapeOf(k) });
      for (const k of foreign) issues.push({ code: "unexpected", key: k, got: shapeOf(k) });
      const cause = new StateDictError(issues, path);
      throw new IdAttentionLoadError("state_dict", path, `ID attention weights do not fit this UNet (a PuLID file for another base model?). Expected ${ID_ATTENTION_LAYOUT}.\n${cause.message}`, { cause });
    }
  } finally {
    close();
  }
  return layers;
}
