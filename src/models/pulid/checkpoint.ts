/**
 * Loading the published PuLID checkpoints: `pulid_v1.bin` (torch zip, float32) and `pulid_v1.1.safetensors`
 * (16-bit), plus the FLUX files (`pulid_flux_v0.9.*.safetensors`) for their IDFormer part.
 *
 * The files are flat state dicts. As the reference `PuLIDPipeline.load_pretrain` does, keys are split at the
 * first "." into a module name and the rest: `id_adapter.*` is the ID encoder (IDEncoder in v1, IDFormer in v1.1),
 * `id_adapter_attn_layers.{k}.id_to_{k,v}.weight` are the UNet ID attention projections (loaded by
 * `id-attention.ts` through {@link readPulidGroup}); the FLUX files have `pulid_encoder.*` and `pulid_ca.*`.
 *
 * The version is detected from the keys (`id_adapter.body.0.weight` -> v1, `id_adapter.latents` -> v1.1,
 * `pulid_encoder.latents` -> flux), never from the file name. Module sizes are read from the tensor shapes,
 * so tiny test checkpoints in the same layout load through the same functions.
 */
import { openSync, readSync, fstatSync, closeSync } from "node:fs";
import { openWeights, type WeightsReader } from "../../engine/io/weights.ts";
import { PulidError, WeightFileError } from "../../engine/errors.ts";
import type { HostTensor } from "../../engine/host-tensor.ts";
import { IDEncoder, type IdEncoderConfig } from "./id-encoder.ts";
import { IDFormer, ID_FORMER_V1_1_CONFIG, type IdFormerConfig } from "./id-former.ts";

export type PulidVersion = "v1" | "v1.1" | "flux";

/** What each version's file holds (used in error messages). */
export const PULID_LAYOUTS: Record<PulidVersion, string> = {
  v1: "pulid_v1.bin: a torch zip (or safetensors) state dict with id_adapter.body.{0,1,3,4,6}.*, id_adapter.mapping_{0..4}.*, id_adapter.mapping_patch_{0..4}.* (IDEncoder) and id_adapter_attn_layers.{k}.id_to_{k,v}.weight",
  "v1.1": "pulid_v1.1.safetensors: id_adapter.latents, id_adapter.proj_out, id_adapter.layers.{0..9}.*, id_adapter.mapping_{0..4}.*, id_adapter.id_embedding_mapping.* (IDFormer) and id_adapter_attn_layers.{k}.id_to_{k,v}.weight",
  flux: "pulid_flux_v0.9.*.safetensors: pulid_encoder.* (IDFormer keys) and pulid_ca.{0..19}.*",
};

/** A PuLID checkpoint that is missing, unreadable, truncated or of the wrong version. `file` names it. */
export class PulidCheckpointError extends PulidError {
  constructor(code: string, readonly file: string, message: string, options?: { cause?: unknown }) {
    super(code, `${file}: ${message}`, options);
  }
}

/** An open PuLID checkpoint: its version, module groups, and lazy access to each group's tensors. */
export interface PulidCheckpointFile {
  readonly path: string;
  readonly version: PulidVersion;
  /** Key prefix of the ID encoder: `id_adapter` (v1, v1.1) or `pulid_encoder` (flux). */
  readonly encoderGroup: string;
  /** First dotted components present, with their key counts. */
  readonly groups: ReadonlyMap<string, number>;
  /** The tensor shape of a full key. */
  shape(key: string): readonly number[];
  /** Reads one group's tensors with the group name and its "." removed. */
  readGroup(name: string): Map<string, HostTensor>;
  close(): void;
}

/** Detects the version from the key set; null when none of the known layouts matches. */
export function detectPulidVersion(keys: Iterable<string>): PulidVersion | null {
  const set = new Set(keys);
  if (set.has("id_adapter.body.0.weight")) return "v1";
  if (set.has("id_adapter.latents")) return "v1.1";
  if (set.has("pulid_encoder.latents")) return "flux";
  return null;
}

const WRONG_HINT: Record<PulidVersion, string> = {
  v1: "it is a PuLID v1 checkpoint (MLP IDEncoder, 10 ID tokens); load it with loadIdEncoderV1",
  "v1.1": "it is a PuLID v1.1 checkpoint (IDFormer, 32 ID tokens); load it with loadIdFormer",
  flux: "it is a PuLID-FLUX checkpoint (IDFormer under pulid_encoder.*); load it with loadIdFormer",
};

/**
 * Opens a PuLID checkpoint and detects its version.
 * @throws PulidCheckpointError `file_not_found`, `truncated`, `unreadable` (other format problems),
 *   `not_pulid_checkpoint` (no known key layout).
 */
export function openPulidCheckpoint(path: string): PulidCheckpointFile {
  let r: WeightsReader;
  try {
    r = openWeights(path);
  } catch (e) {
    throw wrapFileError(path, e);
  }
  const keys = r.keys();
  const version = detectPulidVersion(keys);
  if (!version) {
    r.close();
    throw new PulidCheckpointError(
      "not_pulid_checkpoint",
      path,
      `not a PuLID checkpoint: none of id_adapter.body.0.weight (v1), id_adapter.latents (v1.1), pulid_encoder.latents (flux) is present (found ${keys.length} keys, e.g. ${keys.slice(0, 3).join(", ") || "none"}). Expected one of:\n  ${Object.values(PULID_LAYOUTS).join("\n  ")}`,
    );
  }
  const groups = new Map<string, number>();
  for (const k of keys) {
    const g = k.split(".", 1)[0]!;
    groups.set(g, (groups.get(g) ?? 0) + 1);
  }
  return {
    path,
    version,
    encoderGroup: version === "flux" ? "pulid_encoder" : "id_adapter",
    groups,
    shape: (key) => r.info(key).shape,
    readGroup(name) {
      try {
        return r.readAll({ prefix: `${name}.`, stripPrefix: true });
      } catch (e) {
        throw wrapFileError(path, e);
      }
    },
    close: () => r.close(),
  };
}

/** A safetensors file cut inside its header reads as a header longer than the file: that is truncation too. */
function headerCutShort(path: string): boolean {
  try {
    const fd = openSync(path, "r");
    try {
      const len = new Uint8Array(8);
      if (readSync(fd, len, 0, 8, 0) < 8) return false;
      const headerLen = Number(new DataView(len.buffer).getBigUint64(0, true));
      return headerLen < 100_000_000 && 8 + headerLen > fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

function wrapFileError(path: string, e: unknown): unknown {
  if (!(e instanceof WeightFileError)) return e;
  const truncated = e.code === "truncated" || (e.code === "bad_header" && headerCutShort(path));
  const code = e.code === "file_not_found" ? e.code : truncated ? "truncated" : "unreadable";
  const what = code === "file_not_found" ? "PuLID checkpoint not found" : code === "truncated" ? "PuLID checkpoint is truncated (incomplete download?)" : "cannot read PuLID checkpoint";
  return new PulidCheckpointError(code, path, `${what}: ${e.message}\nExpected one of:\n  ${Object.values(PULID_LAYOUTS).join("\n  ")}`, { cause: e });
}

/** Reads one module group (e.g. `id_adapter_attn_layers`) of a PuLID checkpoint, keys without the group name. */
export function readPulidGroup(path: string, group: string): { version: PulidVersion; tensors: Map<string, HostTensor> } {
  const f = openPulidCheckpoint(path);
  try {
    if (!f.groups.has(group)) {
      throw new PulidCheckpointError("missing_group", path, `no '${group}.*' keys in this ${f.version} checkpoint (groups: ${[...f.groups.keys()].join(", ")})`);
    }
    return { version: f.version, tensors: f.readGroup(group) };
  } finally {
    f.close();
  }
}

function dimsOf(f: PulidCheckpointFile, key: string, rank: number): number[] {
  const full = `${f.encoderGroup}.${key}`;
  let s: readonly number[];
  try {
    s = f.shape(full);
  } catch {
    throw new PulidCheckpointError("bad_layout", f.path, `missing ${full}; expected ${PULID_LAYOUTS[f.version]}`);
  }
  if (s.length !== rank) throw new PulidCheckpointError("bad_layout", f.path, `${full} has shape [${s.join(", ")}], expected rank ${rank}`);
  return [...s];
}

/** Reads the IDEncoder sizes from a v1 file's tensor shapes. */
export function inferIdEncoderConfig(f: PulidCheckpointFile): IdEncoderConfig {
  const [, width] = dimsOf(f, "body.0.weight", 2) as [number, number];
  const [contextDim] = dimsOf(f, "mapping_0.6.weight", 2) as [number];
  const [, vitDim] = dimsOf(f, "mapping_0.0.weight", 2) as [number, number];
  const [tokensTimesDim] = dimsOf(f, "body.6.weight", 2) as [number];
  if (tokensTimesDim % contextDim !== 0) throw new PulidCheckpointError("bad_layout", f.path, `body.6 output ${tokensTimesDim} is not a multiple of the token width ${contextDim}`);
  let layers = 0;
  while (safeHas(f, `${f.encoderGroup}.mapping_${layers}.0.weight`)) layers++;
  return { width, context_dim: contextDim, num_token: tokensTimesDim / contextDim, vit_dim: vitDim, num_vit_layers: layers };
}

function safeHas(f: PulidCheckpointFile, key: string): boolean {
  try {
    f.shape(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads the IDFormer sizes from a v1.1/flux file's tensor shapes. `dim_head` cannot be seen in the shapes
 * (only heads * dim_head is); it defaults to the published 64 unless given.
 */
export function inferIdFormerConfig(f: PulidCheckpointFile, dimHead = ID_FORMER_V1_1_CONFIG.dim_head): IdFormerConfig {
  const [, numQueries, dim] = dimsOf(f, "latents", 3) as [number, number, number];
  const [, outputDim] = dimsOf(f, "proj_out", 2) as [number, number];
  const [inner] = dimsOf(f, "layers.0.0.to_q.weight", 2) as [number];
  const [ffInner] = dimsOf(f, "layers.0.1.1.weight", 2) as [number];
  const [vitDim, idCondDim] = dimsOf(f, "id_embedding_mapping.0.weight", 2) as [number, number];
  const [idOut] = dimsOf(f, "id_embedding_mapping.6.weight", 2) as [number];
  let depth = 0;
  while (safeHas(f, `${f.encoderGroup}.layers.${depth}.0.to_q.weight`)) depth++;
  if (inner % dimHead !== 0) throw new PulidCheckpointError("bad_layout", f.path, `attention width ${inner} is not a multiple of dim_head ${dimHead}`);
  return {
    dim, depth, dim_head: dimHead, heads: inner / dimHead, num_id_token: idOut / dim, num_queries: numQueries,
    output_dim: outputDim, ff_mult: ffInner / dim, vit_dim: vitDim, id_cond_dim: idCondDim,
  };
}

/** A loaded ID encoder and the rest of its checkpoint's identity. */
export interface LoadedIdEncoder<M> {
  model: M;
  version: PulidVersion;
  path: string;
}

/**
 * Loads the v1 `IDEncoder` from `pulid_v1.bin` (or a file in the same layout). Sizes come from `config` when
 * given (then every shape must match), else from the file's shapes.
 * @throws PulidCheckpointError `wrong_version` for a v1.1/flux file, plus those of {@link openPulidCheckpoint};
 *   StateDictError (naming the file) for missing, unexpected or mis-shaped keys.
 */
export function loadIdEncoderV1(path: string, config?: IdEncoderConfig): LoadedIdEncoder<IDEncoder> {
  const f = openPulidCheckpoint(path);
  try {
    if (f.version !== "v1") {
      throw new PulidCheckpointError("wrong_version", path, `expected a PuLID v1 checkpoint (${PULID_LAYOUTS.v1}), but ${WRONG_HINT[f.version]}`);
    }
    const model = new IDEncoder(config ?? inferIdEncoderConfig(f));
    model.loadStateDict(f.readGroup("id_adapter"), { source: `${path} (id_adapter.*)` });
    return { model, version: f.version, path };
  } finally {
    f.close();
  }
}

/**
 * Loads the `IDFormer` from `pulid_v1.1.safetensors` (`id_adapter.*`) or a PuLID-FLUX file (`pulid_encoder.*`).
 * Sizes come from `config` when given, else from the shapes (with `dim_head` 64).
 * @throws PulidCheckpointError `wrong_version` for a v1 file, plus those of {@link openPulidCheckpoint};
 *   StateDictError (naming the file) for missing, unexpected or mis-shaped keys.
 */
export function loadIdFormer(path: string, config?: IdFormerConfig): LoadedIdEncoder<IDFormer> {
  const f = openPulidCheckpoint(path);
  try {
    if (f.version === "v1") {
      throw new PulidCheckpointError("wrong_version", path, `expected a PuLID v1.1 or FLUX checkpoint (${PULID_LAYOUTS["v1.1"]}), but ${WRONG_HINT.v1}`);
    }
    const model = new IDFormer(config ?? inferIdFormerConfig(f));
    model.loadStateDict(f.readGroup(f.encoderGroup), { source: `${path} (${f.encoderGroup}.*)` });
    return { model, version: f.version, path };
  } finally {
    f.close();
  }
}
