/**
 * An independent computation of what PuLID's reference inference does, for the end-to-end tests: built from the
 * model modules and the formulas of pulid-reference.md (sections 1.4, 1.5, 3.2, 4.2), sharing no code with
 * src/pulid/. ID tokens: face/ `idFeatures` + EVA + L2 norm + concat on the host + the encoder; CFG: the UNet
 * traced here with the ID selector; samplers: DPM-Solver++(2M) (VP, trailing) and k-diffusion DPM++ 2M (Karras)
 * written out from the formulas in float64.
 */
import { join } from "node:path";
import { input } from "../../src/engine/tensor.ts";
import { compile, evaluate, type Program } from "../../src/engine/compile.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { idFeatures, openFaceModels, evaInput, type OpenedFaceModels } from "../../src/face/index.ts";
import { bisenetParser } from "../../src/face/bisenet-parser.ts";
import { loadSdxlFolder, type SdxlFolder } from "../../src/models/sdxl/folder.ts";
import { sdxlPromptEmbeds } from "../../src/models/sdxl/text-conditioning.ts";
import { loadIdEncoderV1, loadIdFormer } from "../../src/models/pulid/checkpoint.ts";
import { loadIdAttentionLayers, type IdAttentionLayers, type IdAttentionMode } from "../../src/models/pulid/id-attention.ts";
import { loadEvaVisual, EVA02_TINY, type EvaVisionTransformer } from "../../src/models/eva/index.ts";
import { BISENET_TINY } from "../../src/models/bisenet/index.ts";
import type { IDEncoder } from "../../src/models/pulid/id-encoder.ts";
import type { IDFormer } from "../../src/models/pulid/id-former.ts";

export interface Reference {
  sdxl: SdxlFolder;
  encoder: IDEncoder | IDFormer;
  idAttn: IdAttentionLayers;
  eva: EvaVisionTransformer;
  face: OpenedFaceModels;
  dispose(): Promise<void>;
}

export async function loadReference(dir: string, version: "v1" | "v1.1"): Promise<Reference> {
  const adapter = join(dir, version === "v1" ? "pulid_v1.bin" : "pulid_v1.1.safetensors");
  const sdxl = loadSdxlFolder(join(dir, "sdxl"));
  const encoder = version === "v1" ? loadIdEncoderV1(adapter).model : loadIdFormer(adapter).model;
  const idAttn = loadIdAttentionLayers(sdxl.unet, adapter);
  const eva = loadEvaVisual(join(dir, "eva-clip", "EVA02_CLIP_L_336_psz14_s6B.pt"), EVA02_TINY);
  const face = await openFaceModels(dir, { parser: (p) => bisenetParser(p, { config: BISENET_TINY }) });
  return { sdxl, encoder, idAttn, eva, face, dispose: () => face.dispose() };
}

/** id_cond (ArcFace raw || normalised EVA CLS) and the 5 EVA hidden states of one photo, computed here. */
export async function referenceIdInputs(ref: Reference, photo: string): Promise<{ idCond: Float32Array; hidden: HostTensor[] }> {
  const f = await idFeatures(photo, ref.face);
  const x = input("image", [1, 3, 28, 28]);
  const out = ref.eva.call(x);
  const [cls, ...hidden] = await evaluate([out.embedding, ...out.hidden], [x], [evaInput(f.aligned.image, f.labels, 28)]);
  const c = Array.from(cls!.toFloat64());
  const norm = Math.sqrt(c.reduce((s, v) => s + v * v, 0));
  return { idCond: Float32Array.from([...f.arcface.embedding, ...c.map((v) => v / norm)]), hidden: hidden as HostTensor[] };
}

/** The encoder on given id_cond [B, (n,) W] and hidden states. */
export async function runEncoder(ref: Reference, idCond: HostTensor, hidden: readonly HostTensor[]): Promise<HostTensor> {
  const a = input("id_cond", idCond.shape);
  const hs = hidden.map((h, i) => input(`h${i}`, h.shape));
  const [out] = await evaluate([ref.encoder.call(a, hs)], [a, ...hs], [idCond, ...hidden]);
  return out!;
}

/** Text embeddings [negative, positive]. */
export async function referenceText(ref: Reference, prompt: string, negative: string): Promise<{ emb: HostTensor; pooled: HostTensor }> {
  const i1 = ref.sdxl.tokenizer.encode([negative, prompt]).inputIds;
  const i2 = ref.sdxl.tokenizer2.encode([negative, prompt]).inputIds;
  const a = input("a", i1.shape, "int64");
  const b = input("b", i2.shape, "int64");
  const o = sdxlPromptEmbeds(ref.sdxl, a, b);
  const [emb, pooled] = await evaluate([o.promptEmbeds, o.pooledPromptEmbeds], [a, b], [i1, i2]);
  return { emb: emb!, pooled: pooled! };
}

/** A UNet + ID attention program for a batch, with the settings baked in as constants. */
export function referenceUnet(ref: Reference, batch: number, latent: number[], L: number, P: number, M: number, mode: IdAttentionMode, numZero: number, scale: number): Program {
  const D = ref.sdxl.unet.config.cross_attention_dim as number;
  const x = input("x", [batch, ...latent]);
  const t = input("t", [1]);
  const ctx = input("ctx", [batch, L, D]);
  const pooled = input("pooled", [batch, P]);
  const ids = input("ids", [batch, M, D]);
  const timeIds = input("time_ids", [batch, 6]);
  const select = ref.idAttn.selector({ embedding: ids, scale, mode, numZero });
  const out = ref.sdxl.unet.call(x, t, ctx, { added: { textEmbeds: pooled, timeIds }, select });
  return compile({ inputs: [x, t, ctx, pooled, ids, timeIds], outputs: [out] });
}

/** Rows [from, to) of a [B, ...] tensor. */
export function rows(t: HostTensor, from: number, to: number): HostTensor<"float32"> {
  const per = t.size / t.shape[0]!;
  return new HostTensor("float32", [to - from, ...t.shape.slice(1)], Float32Array.from(t.toFloat64().subarray(from * per, to * per)));
}

export function stack(ts: readonly HostTensor[]): HostTensor<"float32"> {
  const data = new Float32Array(ts.reduce((s, t) => s + t.size, 0));
  let at = 0;
  for (const t of ts) {
    data.set(t.toFloat64(), at);
    at += t.size;
  }
  return new HostTensor("float32", [ts.reduce((s, t) => s + t.shape[0]!, 0), ...ts[0]!.shape.slice(1)], data);
}

/** SDXL's training sigma table: scaled_linear betas, alphā in float32, sigma = sqrt((1 - alphā) / alphā). */
export function sdxlTable(float64Betas: boolean): { alphasCumprod: number[]; sigmas: number[] } {
  const f = float64Betas ? (v: number) => v : Math.fround;
  const a = Math.sqrt(0.00085), b = Math.sqrt(0.012);
  const ac: number[] = [];
  let p = 1;
  for (let i = 0; i < 1000; i++) {
    const beta = f(f(a + (i / 999) * (b - a)) ** 2);
    p = f(p * f(1 - beta));
    ac.push(Math.fround(p));
  }
  return { alphasCumprod: ac, sigmas: ac.map((v) => Math.fround(Math.sqrt(Math.fround((1 - v) / v)))) };
}
