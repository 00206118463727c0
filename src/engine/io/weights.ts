/**
 * One entry point for weight files: {@link openWeights} / {@link loadWeights} pick the reader from the file's
 * first bytes, never from its extension (`.bin` is used for both formats in the wild).
 *
 * - `PK\x03\x04` (or an empty zip's `PK\x05\x06`): PyTorch zip checkpoint -> {@link TorchCheckpoint}.
 * - 8-byte little-endian length followed by `{`: safetensors -> {@link SafetensorsFile}.
 * - `\x80` (a pickle PROTO opcode) or a tar header: legacy torch serialization -> `legacy_torch_format`.
 * - anything else -> `unknown_format`; an empty or missing file -> `truncated` / `file_not_found`.
 *
 * @example
 *   const visual = await loadWeights("EVA02_CLIP_L_336_psz14_s6B.pt", { prefix: "visual.", stripPrefix: true });
 */
import { openSync, readSync, closeSync } from "node:fs";
import type { DType } from "../dtype.ts";
import type { HostTensor } from "../host-tensor.ts";
import { WeightFileError } from "../errors.ts";
import { SafetensorsFile } from "./safetensors.ts";
import { TorchCheckpoint } from "./torch-checkpoint.ts";

export type WeightFormat = "safetensors" | "torch-zip";

/** Dtype and shape of one stored tensor. */
export interface WeightInfo {
  /** null for a torch type the engine has no dtype for (reading it throws `unsupported_dtype`). */
  readonly dtype: DType | null;
  readonly shape: readonly number[];
}

/** Which tensors to read. `prefix` and `filter` combine (a key must pass both). */
export interface WeightSelection {
  /** Keep only keys starting with this string. */
  readonly prefix?: string;
  /** Remove `prefix` from the returned keys (default false). */
  readonly stripPrefix?: boolean;
  /** Keep only keys for which this returns true (called with the full key). */
  readonly filter?: (key: string) => boolean;
}

/** A weight file opened by {@link openWeights}, whatever its format. Call `close()` when done. */
export interface WeightsReader {
  readonly format: WeightFormat;
  readonly path: string;
  keys(): string[];
  has(name: string): boolean;
  info(name: string): WeightInfo;
  read(name: string): HostTensor;
  /** Reads the selected tensors; storages of unselected tensors are never read. */
  readAll(selection?: WeightSelection): Map<string, HostTensor>;
  close(): void;
}

const LEGACY_HINT =
  "legacy (pre-1.6, non-zip) PyTorch serialization is unsupported: convert it to safetensors, e.g. " +
  "python -c \"import torch, safetensors.torch as st; st.save_file(torch.load('IN'), 'OUT.safetensors')\" " +
  "(or re-save it with torch.save, which writes the zip format)";

/**
 * Detects a weight file's format from its first bytes.
 * @throws WeightFileError `file_not_found`, `truncated` (empty file), `legacy_torch_format`, `unknown_format`.
 */
export function detectWeightFormat(path: string): WeightFormat {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new WeightFileError("file_not_found", path, `cannot open weight file (${(e as Error).message})`, {
      cause: e,
    });
  }
  const head = new Uint8Array(512);
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (n === 0) throw new WeightFileError("truncated", path, "file is empty");
  if (
    n >= 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))
  ) {
    return "torch-zip";
  }
  // safetensors before the pickle magic: a header length whose low byte is 0x80 (e.g. 37,248) starts with 0x80 too.
  if (n >= 9 && head[8] === 0x7b && head[6] === 0 && head[7] === 0) return "safetensors";
  if (head[0] === 0x80) throw new WeightFileError("legacy_torch_format", path, LEGACY_HINT);
  // torch < 0.4 wrote a tar archive ("ustar" magic at byte 257).
  if (n >= 262 && new TextDecoder("latin1").decode(head.subarray(257, 262)) === "ustar") {
    throw new WeightFileError("legacy_torch_format", path, LEGACY_HINT);
  }
  throw new WeightFileError(
    "unknown_format",
    path,
    `not a safetensors file or PyTorch zip checkpoint (first bytes ${[...head.subarray(0, Math.min(n, 8))].map((b) => b.toString(16).padStart(2, "0")).join(" ")})`,
  );
}

function select(keys: readonly string[], s: WeightSelection | undefined): Array<[string, string]> {
  const prefix = s?.prefix ?? "";
  return keys
    .filter((k) => k.startsWith(prefix) && (!s?.filter || s.filter(k)))
    .map((k) => [k, s?.stripPrefix ? k.slice(prefix.length) : k]);
}

class SafetensorsReader implements WeightsReader {
  readonly format = "safetensors" as const;
  constructor(private readonly f: SafetensorsFile) {}
  get path(): string {
    return this.f.path;
  }
  keys(): string[] {
    return this.f.keys();
  }
  has(name: string): boolean {
    return this.f.has(name);
  }
  info(name: string): WeightInfo {
    const e = this.f.entry(name);
    return { dtype: e.dtype, shape: e.shape };
  }
  read(name: string): HostTensor {
    return this.f.read(name);
  }
  readAll(selection?: WeightSelection): Map<string, HostTensor> {
    return new Map(select(this.f.keys(), selection).map(([k, out]) => [out, this.f.read(k)]));
  }
  close(): void {
    this.f.close();
  }
}

class TorchReader implements WeightsReader {
  readonly format = "torch-zip" as const;
  constructor(private readonly c: TorchCheckpoint) {}
  get path(): string {
    return this.c.path;
  }
  keys(): string[] {
    return this.c.keys();
  }
  has(name: string): boolean {
    return this.c.has(name);
  }
  info(name: string): WeightInfo {
    const i = this.c.info(name);
    return { dtype: i.dtype, shape: i.shape };
  }
  read(name: string): HostTensor {
    return this.c.read(name);
  }
  readAll(selection?: WeightSelection): Map<string, HostTensor> {
    const pairs = select(this.c.keys(), selection);
    const got = this.c.readAll(pairs.map(([k]) => k));
    return new Map(pairs.map(([k, out]) => [out, got.get(k)!]));
  }
  close(): void {
    this.c.close();
  }
}

/**
 * Opens a safetensors file or a PyTorch zip checkpoint (chosen by content). Torch keys are flattened as
 * described in `torch-checkpoint.ts` (nested dicts -> dotted keys).
 * @throws WeightFileError see {@link detectWeightFormat}, `safetensors.ts`, `torch-checkpoint.ts`.
 */
export function openWeights(path: string): WeightsReader {
  const format = detectWeightFormat(path);
  return format === "safetensors"
    ? new SafetensorsReader(SafetensorsFile.open(path))
    : new TorchReader(TorchCheckpoint.open(path));
}

/**
 * Reads the selected tensors of a weight file into host memory.
 * @example
 *   const w = await loadWeights("pulid_v1.bin"); // Map { "id_adapter.body.0.weight" => HostTensor, ... }
 */
export async function loadWeights(
  path: string,
  selection?: WeightSelection,
): Promise<Map<string, HostTensor>> {
  const r = openWeights(path);
  try {
    return r.readAll(selection);
  } finally {
    r.close();
  }
}
