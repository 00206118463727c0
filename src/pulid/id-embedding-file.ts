/**
 * A person's ID tokens as a file (`pulid embed`), so a face is encoded once: a safetensors file with `cond` and
 * `uncond` [1, M, D] float32 and metadata saying what made them:
 *
 *   format "pulid-id-embedding" (format_version 1), pulid_version v1 | v1.1, adapter / arcface / eva
 *   fingerprints (see `PulidModels.fingerprints`), photos (JSON list), id_mix.
 *
 * Tokens only fit the adapter whose encoder made them (its id_to_k/id_to_v were trained with that encoder), so
 * loading refuses a file from another version or another adapter file; the face-model fingerprints are
 * recorded but not enforced (a different ArcFace file with the same adapter still gives tokens of the right
 * kind).
 */
import { HostTensor } from "../engine/host-tensor.ts";
import { encodeSafetensors } from "../engine/io/safetensors.ts";
import { PipelineError } from "./errors.ts";
import type { IdTokens } from "./id-encoding.ts";
import type { ModelFingerprints } from "./platform.ts";

export const EMBEDDING_FORMAT = "pulid-id-embedding";

/** What an embedding file says about its origin. */
export interface IdEmbeddingInfo {
  version: "v1" | "v1.1";
  fingerprints: ModelFingerprints;
  photos: string[];
  idMix: boolean;
}

/** A loaded embedding file. */
export interface IdEmbedding extends IdEmbeddingInfo {
  tokens: IdTokens;
}

/** Serialises tokens + origin to safetensors bytes (chunks, for an atomic write). */
export function encodeIdEmbedding(tokens: IdTokens, info: IdEmbeddingInfo): Uint8Array[] {
  return encodeSafetensors(new Map([["cond", tokens.cond], ["uncond", tokens.uncond]]), {
    format: EMBEDDING_FORMAT,
    format_version: "1",
    pulid_version: info.version,
    adapter: info.fingerprints.adapter,
    arcface: info.fingerprints.arcface,
    eva: info.fingerprints.eva,
    photos: JSON.stringify(info.photos),
    id_mix: String(info.idMix),
  });
}

/**
 * Parses an embedding file's bytes. `name` names it in errors.
 * @throws PipelineError `bad_embedding` for anything that is not a complete embedding file.
 */
export function decodeIdEmbedding(bytes: Uint8Array, name: string): IdEmbedding {
  const bad = (why: string) => new PipelineError("bad_embedding", `${name}: not a PuLID ID embedding file (${why}); make one with 'pulid embed --id PHOTO --out FILE.safetensors'`);
  if (bytes.length < 8) throw bad("shorter than a safetensors header");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(dv.getBigUint64(0, true));
  if (headerLen > bytes.length - 8) throw bad("truncated header");
  let header: Record<string, any>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch {
    throw bad("header is not JSON");
  }
  const meta = (header.__metadata__ ?? {}) as Record<string, string>;
  if (meta.format !== EMBEDDING_FORMAT) throw bad(`metadata format is ${JSON.stringify(meta.format)}`);
  if (meta.pulid_version !== "v1" && meta.pulid_version !== "v1.1") throw bad(`unknown pulid_version ${JSON.stringify(meta.pulid_version)}`);
  const base = 8 + headerLen;
  const read = (key: string): HostTensor<"float32"> => {
    const e = header[key];
    if (!e || e.dtype !== "F32" || !Array.isArray(e.shape) || e.shape.length !== 3) throw bad(`tensor '${key}' missing or not float32 [1, M, D]`);
    const [a, b] = e.data_offsets as [number, number];
    if (base + b > bytes.length) throw bad(`tensor '${key}' is cut off (truncated file)`);
    const copy = bytes.slice(base + a, base + b);
    return new HostTensor("float32", e.shape, new Float32Array(copy.buffer, 0, (b - a) / 4));
  };
  const cond = read("cond");
  const uncond = read("uncond");
  let photos: string[] = [];
  try {
    photos = JSON.parse(meta.photos ?? "[]");
  } catch {
    /* leave empty */
  }
  return {
    version: meta.pulid_version,
    fingerprints: { adapter: meta.adapter ?? "", arcface: meta.arcface ?? "", eva: meta.eva ?? "" },
    photos,
    idMix: meta.id_mix === "true",
    tokens: { cond, uncond },
  };
}

/**
 * Refuses an embedding made by another encoder than the pipeline's.
 * @throws PipelineError `embedding_mismatch` naming the file, what made it and what this pipeline is.
 */
export function checkEmbeddingFits(e: IdEmbedding, name: string, version: "v1" | "v1.1", adapter: string, tokenDim: number): void {
  if (e.version !== version) {
    throw new PipelineError("embedding_mismatch", `${name}: ID embedding made by a PuLID ${e.version} encoder; these models are PuLID ${version}. Re-run 'pulid embed' with these models`);
  }
  if (e.fingerprints.adapter !== adapter) {
    throw new PipelineError("embedding_mismatch", `${name}: ID embedding made with another adapter file (fingerprint ${e.fingerprints.adapter || "none"}, this pipeline's is ${adapter}); its tokens do not fit these id_to_k/id_to_v. Re-run 'pulid embed' with these models`);
  }
  if (e.tokens.cond.shape[2] !== tokenDim || e.tokens.uncond.shape.join(",") !== e.tokens.cond.shape.join(",")) {
    throw new PipelineError("embedding_mismatch", `${name}: tokens are [${e.tokens.cond.shape.join(", ")}], this pipeline's ID attention takes width ${tokenDim}`);
  }
}
