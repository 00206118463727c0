/**
 * Writes a flat state dict as a PyTorch zip checkpoint (the `torch.save` format since 1.6), so that random-weight
 * files in the published `.bin` / `.pt` / `.pth` layouts can be produced without Python.
 *
 * Layout written: an uncompressed zip holding `archive/data.pkl` (pickle protocol 2: an `OrderedDict` of
 * `torch._utils._rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())`),
 * `archive/data/<i>` (one storage per tensor, little-endian) and `archive/byteorder`. Only the globals the
 * engine's safe reader allows are used. Files over 4 GiB (zip64) are refused.
 */
import { crc32 } from "./zip.ts";
import { writeFileAtomic } from "../atomic-write.ts";
import type { HostTensor } from "../host-tensor.ts";
import type { DType } from "../dtype.ts";
import { PulidError } from "../errors.ts";

const STORAGE: Partial<Record<DType, string>> = {
  float32: "FloatStorage",
  float64: "DoubleStorage",
  float16: "HalfStorage",
  bfloat16: "BFloat16Storage",
  int64: "LongStorage",
  int32: "IntStorage",
  int8: "CharStorage",
  uint8: "ByteStorage",
  bool: "BoolStorage",
};

/** Minimal pickle protocol-2 writer for what a state dict needs. */
class PickleWriter {
  private readonly parts: number[] = [];
  private readonly enc = new TextEncoder();
  byte(...b: number[]): void {
    this.parts.push(...b);
  }
  u32(v: number): void {
    this.byte(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  str(s: string): void {
    const b = this.enc.encode(s);
    this.byte(0x58); // BINUNICODE
    this.u32(b.length);
    for (const x of b) this.byte(x);
  }
  int(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new RangeError(`pickle int out of range: ${v}`);
    this.byte(0x4a); // BININT (signed 32-bit)
    this.u32(v);
  }
  global(mod: string, name: string): void {
    this.byte(0x63, ...this.enc.encode(`${mod}\n${name}\n`)); // GLOBAL
  }
  tuple(items: readonly number[]): void {
    if (items.length === 0) return this.byte(0x29); // EMPTY_TUPLE
    this.byte(0x28); // MARK
    for (const v of items) this.int(v);
    this.byte(0x74); // TUPLE
  }
  emptyOrderedDict(): void {
    this.global("collections", "OrderedDict");
    this.byte(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Encodes the pickle of a flat state dict whose i-th tensor lives in storage `i`. */
function encodeStateDictPickle(entries: readonly (readonly [string, HostTensor])[]): Uint8Array {
  const p = new PickleWriter();
  p.byte(0x80, 2); // PROTO 2
  p.emptyOrderedDict();
  p.byte(0x28); // MARK for SETITEMS
  entries.forEach(([key, t], i) => {
    const storage = STORAGE[t.dtype];
    if (!storage) throw new PulidError("unsupported_dtype", `tensor '${key}': torch has no storage type for ${t.dtype}`);
    p.str(key);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.byte(0x28); // MARK (args)
    p.byte(0x28); // MARK (persistent id tuple)
    p.str("storage");
    p.global("torch", storage);
    p.str(String(i));
    p.str("cpu");
    p.int(t.data.length);
    p.byte(0x74, 0x51); // TUPLE, BINPERSID
    p.int(0); // storage offset
    p.tuple(t.shape);
    p.tuple(contiguousStrides(t.shape));
    p.byte(0x89); // NEWFALSE (requires_grad)
    p.emptyOrderedDict(); // backward hooks
    p.byte(0x74, 0x52); // TUPLE, REDUCE
  });
  p.byte(0x75, 0x2e); // SETITEMS, STOP
  return p.bytes();
}

/**
 * Zip chunks (stored, no compression) for the given entries; data is referenced, not copied. `crc` is a
 * parameter so tests can forge archives with wrong checksums.
 */
export function storedZip(
  entries: readonly (readonly [string, Uint8Array])[],
  crc: (b: Uint8Array) => number = crc32,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const enc = new TextEncoder();
  for (const [name, data] of entries) {
    const n = enc.encode(name);
    const c = crc(data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint32(14, c, true);
    local.setUint32(18, data.byteLength, true);
    local.setUint32(22, data.byteLength, true);
    local.setUint16(26, n.byteLength, true);
    const cd = new DataView(new ArrayBuffer(46));
    cd.setUint32(0, 0x02014b50, true);
    cd.setUint16(4, 20, true);
    cd.setUint16(6, 20, true);
    cd.setUint32(16, c, true);
    cd.setUint32(20, data.byteLength, true);
    cd.setUint32(24, data.byteLength, true);
    cd.setUint16(28, n.byteLength, true);
    cd.setUint32(42, offset, true);
    out.push(new Uint8Array(local.buffer), n, data);
    central.push(new Uint8Array(cd.buffer), n);
    offset += 30 + n.byteLength + data.byteLength;
    if (offset > 0xfffffffe) throw new PulidError("too_large", "torch zip writer: archive over 4 GiB (zip64) is not supported");
  }
  const cdSize = central.reduce((s, b) => s + b.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, cdSize, true);
  end.setUint32(16, offset, true);
  return [...out, ...central, new Uint8Array(end.buffer)];
}

/** Encodes a flat state dict as torch zip checkpoint chunks (little-endian storages). */
export function encodeTorchCheckpoint(tensors: ReadonlyMap<string, HostTensor>): Uint8Array[] {
  const entries = [...tensors.entries()];
  const files: [string, Uint8Array][] = [["archive/data.pkl", encodeStateDictPickle(entries)]];
  files.push(["archive/byteorder", new TextEncoder().encode("little")]);
  entries.forEach(([, t], i) => files.push([`archive/data/${i}`, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));
  files.push(["archive/version", new TextEncoder().encode("3\n")]);
  return storedZip(files);
}

/** Writes a flat state dict as a PyTorch zip checkpoint, atomically. */
export async function saveTorchCheckpoint(path: string, tensors: ReadonlyMap<string, HostTensor>): Promise<void> {
  await writeFileAtomic(path, encodeTorchCheckpoint(tensors));
}
