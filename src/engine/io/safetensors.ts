/**
 * safetensors files: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {...}}`, then the raw little-endian bytes.
 * Offsets are relative to the end of the header. Tensors are read one at a time by file position, so a
 * multi-GB checkpoint is never loaded whole; `dataOffset` lets ONNX external data point straight into the file.
 *
 * Error codes ({@link WeightFileError}): `file_not_found`; `truncated` (file shorter than its header or than a
 * tensor's data_offsets); `bad_header` (header length out of range, bad JSON, not an object, an entry without a
 * valid shape/data_offsets, or whose byte span does not match dtype x shape, bad `__metadata__`);
 * `unknown_dtype`; `overlap` (two tensors share bytes); `missing_tensor`; `closed`.
 */
import { openSync, readSync, closeSync, fstatSync } from "node:fs";
import { type DType, BYTES_PER_ELEMENT, arrayFromBytes } from "../dtype.ts";
import { HostTensor, numel, shapeStr } from "../host-tensor.ts";
import { WeightFileError } from "../errors.ts";
import { writeFileAtomic } from "../atomic-write.ts";

const ST_TO_DTYPE: Record<string, DType> = {
  F32: "float32",
  F64: "float64",
  F16: "float16",
  BF16: "bfloat16",
  I64: "int64",
  I32: "int32",
  I8: "int8",
  U8: "uint8",
  BOOL: "bool",
};
const DTYPE_TO_ST: Record<DType, string> = Object.fromEntries(
  Object.entries(ST_TO_DTYPE).map(([k, v]) => [v, k]),
) as Record<DType, string>;

/** Where one tensor lives inside a safetensors file. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Absolute byte offset of the tensor's data in the file. */
  readonly dataOffset: number;
  readonly byteLength: number;
}

const MAX_HEADER = 100 * 1024 * 1024;
/** fs.readSync refuses lengths of 2 GiB and more: big tensors are read in 1 GiB steps. */
const MAX_READ = 1 << 30;

/** An open safetensors file. Call {@link SafetensorsFile.close} when done. */
export class SafetensorsFile {
  readonly path: string;
  readonly metadata: Readonly<Record<string, string>>;
  private readonly entries: Map<string, SafetensorsEntry>;
  private fd: number | null;

  private constructor(
    path: string,
    fd: number,
    entries: Map<string, SafetensorsEntry>,
    metadata: Record<string, string>,
  ) {
    this.path = path;
    this.fd = fd;
    this.entries = entries;
    this.metadata = metadata;
  }

  /** Opens and validates the header: bad JSON, offsets out of range, overlaps and unknown dtypes are refused. */
  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw new WeightFileError(
        "file_not_found",
        path,
        `cannot open safetensors file (${(e as Error).message})`,
        { cause: e },
      );
    }
    try {
      const { entries, metadata } = parseHeader(path, fd);
      return new SafetensorsFile(path, fd, entries, metadata);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  entry(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (!e) throw new WeightFileError("missing_tensor", this.path, `no tensor named '${name}'`);
    return e;
  }

  /** Reads one tensor into host memory. */
  read(name: string): HostTensor {
    const e = this.entry(name);
    if (this.fd === null) throw new WeightFileError("closed", this.path, "file is closed");
    const bytes = new Uint8Array(e.byteLength);
    let done = 0;
    while (done < e.byteLength) {
      const n = readSync(this.fd, bytes, done, Math.min(e.byteLength - done, MAX_READ), e.dataOffset + done);
      if (n === 0)
        throw new WeightFileError("truncated", this.path, `unexpected end of file reading '${name}'`);
      done += n;
    }
    return new HostTensor(e.dtype, e.shape, arrayFromBytes(e.dtype, bytes));
  }

  /** Reads every tensor (for small files). */
  readAll(): Map<string, HostTensor> {
    return new Map(this.keys().map((k) => [k, this.read(k)]));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function readExactly(path: string, fd: number, length: number, position: number): Uint8Array {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, Math.min(length - done, MAX_READ), position + done);
    if (n === 0)
      throw new WeightFileError(
        "truncated",
        path,
        `file ends at byte ${position + done}, expected ${position + length}`,
      );
    done += n;
  }
  return buf;
}

function parseHeader(
  path: string,
  fd: number,
): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string> } {
  const fileSize = fstatSync(fd).size;
  if (fileSize < 8)
    throw new WeightFileError(
      "truncated",
      path,
      `file is ${fileSize} bytes, too short for a safetensors header`,
    );
  const lenBytes = readExactly(path, fd, 8, 0);
  const headerLen = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > fileSize) {
    throw new WeightFileError(
      "bad_header",
      path,
      `header length ${headerLen} does not fit in a ${fileSize}-byte file`,
    );
  }
  const text = new TextDecoder().decode(readExactly(path, fd, headerLen, 8));
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new WeightFileError("bad_header", path, `header is not valid JSON (${(e as Error).message})`, {
      cause: e,
    });
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new WeightFileError("bad_header", path, "header JSON is not an object");
  }
  const dataStart = 8 + headerLen;
  const dataSize = fileSize - dataStart;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null) continue;
      if (
        typeof raw !== "object" ||
        Array.isArray(raw) ||
        !Object.values(raw).every((v) => typeof v === "string")
      ) {
        throw new WeightFileError("bad_header", path, "__metadata__ must be an object of strings");
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new WeightFileError("bad_header", path, `header entry '${name}' is not an object`);
    }
    const r = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = Object.hasOwn(ST_TO_DTYPE, String(r.dtype)) ? ST_TO_DTYPE[String(r.dtype)] : undefined;
    if (!dtype) {
      throw new WeightFileError(
        "unknown_dtype",
        path,
        `tensor '${name}' has unknown dtype '${String(r.dtype)}' (known: ${Object.keys(ST_TO_DTYPE).join(", ")})`,
      );
    }
    const shape = r.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new WeightFileError(
        "bad_header",
        path,
        `tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`,
      );
    }
    const off = r.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((d) => Number.isInteger(d) && d >= 0) ||
      off[0] > off[1]
    ) {
      throw new WeightFileError(
        "bad_header",
        path,
        `tensor '${name}' has invalid data_offsets ${JSON.stringify(off)}`,
      );
    }
    const [begin, end] = off as [number, number];
    const expected = numel(shape) * BYTES_PER_ELEMENT[dtype];
    if (end - begin !== expected) {
      throw new WeightFileError(
        "bad_header",
        path,
        `tensor '${name}' ${dtype}${shapeStr(shape)} needs ${expected} bytes, data_offsets span ${end - begin}`,
      );
    }
    if (end > dataSize) {
      throw new WeightFileError(
        "truncated",
        path,
        `tensor '${name}' ends at data byte ${end} but the file has only ${dataSize} data bytes (truncated?)`,
      );
    }
    entries.set(name, { name, dtype, shape, dataOffset: dataStart + begin, byteLength: expected });
  }
  // Sweep in offset order, comparing each tensor with the one reaching furthest so far (not just the previous
  // one, which may be empty or short). Empty tensors occupy no bytes and overlap nothing.
  const sorted = [...entries.values()]
    .filter((e) => e.byteLength > 0)
    .sort((a, b) => a.dataOffset - b.dataOffset);
  let reach: SafetensorsEntry | undefined;
  for (const cur of sorted) {
    if (reach && reach.dataOffset + reach.byteLength > cur.dataOffset) {
      throw new WeightFileError(
        "overlap",
        path,
        `tensors '${reach.name}' and '${cur.name}' overlap (bytes ${reach.dataOffset - dataStart}..${reach.dataOffset - dataStart + reach.byteLength} and ${cur.dataOffset - dataStart}..${cur.dataOffset - dataStart + cur.byteLength})`,
      );
    }
    if (!reach || cur.dataOffset + cur.byteLength > reach.dataOffset + reach.byteLength) reach = cur;
  }
  return { entries, metadata };
}

/** Reads every tensor of a small safetensors file. */
export function loadSafetensors(path: string): Map<string, HostTensor> {
  const f = SafetensorsFile.open(path);
  try {
    return f.readAll();
  } finally {
    f.close();
  }
}

/** Serialises tensors to safetensors bytes (header padded to 8 bytes; tensors in the given order). */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, HostTensor> | Record<string, HostTensor>,
  metadata?: Record<string, string>,
): Uint8Array[] {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const bodies: Uint8Array[] = [];
  for (const [name, t] of list) {
    if (name === "__metadata__") throw new RangeError("a tensor may not be named '__metadata__'");
    if (!Object.hasOwn(DTYPE_TO_ST, t.dtype))
      throw new RangeError(`tensor '${name}': safetensors has no dtype for '${t.dtype}'`);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = {
      dtype: DTYPE_TO_ST[t.dtype as DType],
      shape: t.shape,
      data_offsets: [offset, offset + bytes.byteLength],
    };
    offset += bytes.byteLength;
    bodies.push(bytes);
  }
  // Pad with spaces to a multiple of 8 bytes (bytes, not UTF-16 units: names may be non-ASCII) so data is aligned.
  const raw = new TextEncoder().encode(JSON.stringify(header));
  const jsonBytes = new Uint8Array(raw.byteLength + ((8 - (raw.byteLength % 8)) % 8)).fill(0x20);
  jsonBytes.set(raw);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(jsonBytes.byteLength), true);
  return [len, jsonBytes, ...bodies];
}

/** Writes tensors to a safetensors file atomically (temp file + rename). */
export async function saveSafetensors(
  path: string,
  tensors: ReadonlyMap<string, HostTensor> | Record<string, HostTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
