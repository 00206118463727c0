/**
 * What insightface reads from an ONNX file besides running it: the declared input/output shapes (SCRFD's
 * static input size, ArcFace's crop size) and the names of the first graph nodes (ArcFace's input mean/std
 * detection). The session API we use exposes only names, so this reads the protobuf directly.
 *
 * The reader walks the wire format through a file handle and SKIPS every length-delimited field it does not
 * need (weights included), so a 250 MB model costs a few kilobytes of reads.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { FaceError } from "./errors.ts";

/** One declared tensor: a dimension is a number (fixed), a string (symbolic, e.g. '?') or null (unknown). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly dims: readonly (number | string | null)[];
}

export interface OnnxGraphInfo {
  /** Graph inputs that are not initializers (what a session feeds), in order. */
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  /** name and op type of the first `maxNodes` nodes, in graph order. */
  readonly firstNodes: readonly { readonly name: string; readonly opType: string }[];
}

/** Random-access reads of a file with a small window cache. */
class FileBytes {
  private window = new Uint8Array(0);
  private windowStart = 0;
  constructor(private readonly fd: number, readonly size: number) {}
  byte(pos: number): number {
    if (pos < this.windowStart || pos >= this.windowStart + this.window.length) this.load(pos, 1);
    return this.window[pos - this.windowStart]!;
  }
  bytes(pos: number, len: number): Uint8Array {
    if (pos < this.windowStart || pos + len > this.windowStart + this.window.length) this.load(pos, len);
    return this.window.subarray(pos - this.windowStart, pos - this.windowStart + len);
  }
  private load(pos: number, len: number): void {
    const n = Math.min(Math.max(len, 1 << 16), this.size - pos);
    if (pos < 0 || n < len) throw new RangeError("read past the end of the file");
    const buf = new Uint8Array(n);
    readSync(this.fd, buf, 0, n, pos);
    this.window = buf;
    this.windowStart = pos;
  }
}

interface Field {
  readonly field: number;
  readonly wire: number;
  /** Varint value (wire 0). */
  readonly value: number;
  /** Payload start and length (wire 2). */
  readonly start: number;
  readonly len: number;
}

/** Iterates the fields of the message occupying [start, end). */
function* fields(f: FileBytes, start: number, end: number): Generator<Field> {
  let p = start;
  const varint = (): number => {
    let v = 0, mul = 1, b: number;
    do {
      if (p >= end) throw new RangeError("truncated varint");
      b = f.byte(p++);
      v += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    return v;
  };
  while (p < end) {
    const tag = varint();
    const field = Math.floor(tag / 8), wire = tag & 7;
    if (wire === 0) {
      yield { field, wire, value: varint(), start: 0, len: 0 };
    } else if (wire === 2) {
      const len = varint();
      if (p + len > end) throw new RangeError(`field ${field} runs past its message`);
      yield { field, wire, value: 0, start: p, len };
      p += len;
    } else if (wire === 1) {
      p += 8;
    } else if (wire === 5) {
      p += 4;
    } else {
      throw new RangeError(`unsupported wire type ${wire}`);
    }
  }
}

const text = (f: FileBytes, x: Field) => new TextDecoder().decode(f.bytes(x.start, x.len));

function valueInfo(f: FileBytes, start: number, end: number): OnnxValueInfo {
  let name = "";
  const dims: (number | string | null)[] = [];
  for (const x of fields(f, start, end)) {
    if (x.field === 1 && x.wire === 2) name = text(f, x);
    if (x.field !== 2 || x.wire !== 2) continue; // TypeProto
    for (const t of fields(f, x.start, x.start + x.len)) {
      if (t.field !== 1 || t.wire !== 2) continue; // tensor_type
      for (const s of fields(f, t.start, t.start + t.len)) {
        if (s.field !== 2 || s.wire !== 2) continue; // shape
        for (const d of fields(f, s.start, s.start + s.len)) {
          if (d.field !== 1 || d.wire !== 2) continue; // dim
          let dim: number | string | null = null;
          for (const v of fields(f, d.start, d.start + d.len)) {
            if (v.field === 1 && v.wire === 0) dim = v.value < 2 ** 53 ? v.value : null; // negative int64 (-1): unknown
            if (v.field === 2 && v.wire === 2) dim = text(f, v);
          }
          dims.push(dim);
        }
      }
    }
  }
  return { name, dims };
}

/**
 * Reads inputs, outputs and the first node names of an ONNX model file.
 * @throws FaceError `bad_model_file` (naming the file) when it is not a readable ONNX model.
 */
export function readOnnxGraphInfo(path: string, maxNodes = 8): OnnxGraphInfo {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new FaceError("bad_model_file", path, `cannot open the model file (${(e as Error).message})`, { cause: e });
  }
  try {
    const f = new FileBytes(fd, fstatSync(fd).size);
    let graph: Field | undefined;
    for (const x of fields(f, 0, f.size)) if (x.field === 7 && x.wire === 2) graph = x;
    if (!graph) throw new RangeError("no graph in the model");
    const inputs: OnnxValueInfo[] = [];
    const outputs: OnnxValueInfo[] = [];
    const initializers = new Set<string>();
    const firstNodes: { name: string; opType: string }[] = [];
    for (const x of fields(f, graph.start, graph.start + graph.len)) {
      if (x.wire !== 2) continue;
      const end = x.start + x.len;
      if (x.field === 1 && firstNodes.length < maxNodes) {
        let name = "", opType = "";
        for (const n of fields(f, x.start, end)) {
          if (n.field === 3 && n.wire === 2) name = text(f, n);
          if (n.field === 4 && n.wire === 2) opType = text(f, n);
        }
        firstNodes.push({ name, opType });
      } else if (x.field === 5) {
        for (const t of fields(f, x.start, end)) if (t.field === 8 && t.wire === 2) initializers.add(text(f, t));
      } else if (x.field === 11) {
        inputs.push(valueInfo(f, x.start, end));
      } else if (x.field === 12) {
        outputs.push(valueInfo(f, x.start, end));
      }
    }
    // IR < 4 models also list their initializers as graph inputs; a session does not feed those.
    return { inputs: inputs.filter((i) => !initializers.has(i.name)), outputs, firstNodes };
  } catch (e) {
    if (e instanceof FaceError) throw e;
    throw new FaceError("bad_model_file", path, `not a valid ONNX model (${(e as Error).message})`, { cause: e });
  } finally {
    closeSync(fd);
  }
}
