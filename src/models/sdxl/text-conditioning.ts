/**
 * SDXL prompt conditioning as diffusers' `StableDiffusionXLPipeline.encode_prompt` (v0.25.0) builds it:
 * - prompt_embeds = concat(text_encoder.hidden_states[-2], text_encoder_2.hidden_states[-2]) on the channel axis
 *   ([B, 77, 768 + 1280] = [B, 77, 2048] for SDXL; penultimate layers, no final LayerNorm);
 * - pooled_prompt_embeds = text_encoder_2's projected EOS output (`text_embeds`, [B, 1280]);
 * - add_time_ids = [orig_h, orig_w, crop_top, crop_left, target_h, target_w] per sample.
 * Each encoder reads its own tokenizer's ids (CLIP-L pads with EOS, bigG with 0, so the ids differ).
 */
import type { Tensor } from "../../engine/tensor.ts";
import { input } from "../../engine/tensor.ts";
import { evaluate } from "../../engine/compile.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import * as ops from "../../engine/ops.ts";
import { PulidError } from "../../engine/errors.ts";
import type { ClipTextModel, ClipTextModelWithProjection } from "../clip/text-model.ts";
import type { ClipTokenizer } from "../clip/tokenizer.ts";

/** The two text towers (and their tokenizers) of an SDXL pipeline. */
export interface SdxlTextEncoders {
  tokenizer: ClipTokenizer;
  textEncoder: ClipTextModel | ClipTextModelWithProjection;
  tokenizer2: ClipTokenizer;
  textEncoder2: ClipTextModelWithProjection;
}

export interface SdxlPromptEmbeds {
  /** [B, L, D1 + D2] */
  promptEmbeds: Tensor;
  /** [B, projection_dim of text_encoder_2] */
  pooledPromptEmbeds: Tensor;
}

/** Traces the conditioning from token ids: `ids1` for text_encoder, `ids2` for text_encoder_2 (both [B, L] int64). */
export function sdxlPromptEmbeds(enc: Pick<SdxlTextEncoders, "textEncoder" | "textEncoder2">, ids1: Tensor, ids2: Tensor): SdxlPromptEmbeds {
  const a = enc.textEncoder.call(ids1);
  const b = enc.textEncoder2.call(ids2);
  return { promptEmbeds: ops.concat([a.penultimate, b.penultimate], -1), pooledPromptEmbeds: b.textEmbeds };
}

/**
 * Encodes prompts on the host: tokenizes with both tokenizers, runs both encoders once, returns
 * prompt_embeds [B, L, D1 + D2] and pooled [B, P] as float32 host tensors.
 */
export async function encodeSdxlPrompts(enc: SdxlTextEncoders, prompts: readonly string[]): Promise<{ promptEmbeds: HostTensor; pooledPromptEmbeds: HostTensor }> {
  if (prompts.length === 0) throw new PulidError("bad_prompt", "encodeSdxlPrompts: no prompts given");
  const t1 = enc.tokenizer.encode(prompts).inputIds;
  const t2 = enc.tokenizer2.encode(prompts).inputIds;
  const x1 = input("input_ids", t1.shape, "int64");
  const x2 = input("input_ids_2", t2.shape, "int64");
  const out = sdxlPromptEmbeds(enc, x1, x2);
  const [promptEmbeds, pooledPromptEmbeds] = await evaluate([out.promptEmbeds, out.pooledPromptEmbeds], [x1, x2], [t1, t2]);
  return { promptEmbeds: promptEmbeds!, pooledPromptEmbeds: pooledPromptEmbeds! };
}

/** Sizes of SDXL's micro-conditioning, in pixels ([height, width] and [top, left]). */
export interface SdxlSizeConditioning {
  originalSize: [number, number];
  cropsCoordsTopLeft?: [number, number];
  targetSize: [number, number];
}

/**
 * add_time_ids [batch, 6] float32 = [orig_h, orig_w, crop_top, crop_left, target_h, target_w] repeated per sample
 * (diffusers `_get_add_time_ids`; the pipeline default is original = target = (height, width), crop (0, 0)).
 */
export function sdxlAddTimeIds(c: SdxlSizeConditioning, batch = 1): HostTensor<"float32"> {
  const row = [...c.originalSize, ...(c.cropsCoordsTopLeft ?? [0, 0]), ...c.targetSize];
  if (row.some((v) => !Number.isFinite(v))) throw new PulidError("bad_size", `sdxlAddTimeIds: sizes must be finite numbers, got [${row.join(", ")}]`);
  const data = new Float32Array(batch * 6);
  for (let b = 0; b < batch; b++) data.set(row, b * 6);
  return new HostTensor("float32", [batch, 6], data);
}

/** Zero embeddings of the given shape: the negative conditioning when `force_zeros_for_empty_prompt` and no negative prompt. */
export function zeroEmbeds(like: HostTensor): HostTensor<"float32"> {
  return HostTensor.zeros("float32", like.shape);
}
