/**
 * PyTorch zip checkpoints (`torch.save` since 1.6: `.pt`, `.pth`, `.bin`) read without Python and without
 * executing pickle code.
 *
 * Layout: a zip holding `<root>/data.pkl` (the pickled object, protocol 2), `<root>/data/<key>` (one raw
 * storage per key), optionally `<root>/byteorder` ("little" | "big") and `<root>/version`. The pickle names
 * storages through persistent ids `('storage', torch.FloatStorage, key, location, numel)` and tensors through
 * `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`.
 *
 * Only these globals are allowed: `collections.OrderedDict`, `torch._utils._rebuild_tensor`,
 * `torch._utils._rebuild_tensor_v2`, `torch._utils._rebuild_parameter`,
 * `torch._utils._rebuild_parameter_with_state`, `torch.Size` and the `torch.*Storage` types. Anything else
 * (a pickled `nn.Module`, numpy scalars, `os.system`) is refused with `forbidden_global` naming it.
 *
 * Key flattening: the unpickled object is walked and every tensor gets a dotted key: dict keys and list/tuple
 * indices joined by "." (`{'state_dict': {'a.weight': t}}` -> `state_dict.a.weight`, `{'l': [t]}` -> `l.0`).
 * Non-tensor leaves (numbers, strings, None) are skipped; they stay readable through {@link TorchCheckpoint.root}.
 * A tensor saved on its own gets the key "". Two paths flattening to the same key -> `duplicate_key`.
 * Tensors are read lazily, one storage at a time, so reading a subset of keys never touches the other storages.
 *
 * Error codes ({@link WeightFileError}): those of `zip.ts` and `pickle.ts`, plus `not_torch_checkpoint`
 * (zip without `data.pkl`), `bad_tensor` (malformed rebuild arguments, view outside its storage),
 * `bad_storage` (storage entry missing or too short), `unsupported_dtype`, `duplicate_key`, `missing_tensor`.
 */
import { type DType, BYTES_PER_ELEMENT, arrayFromBytes, allocArray } from "../dtype.ts";
import { HostTensor, numel, shapeStr } from "../host-tensor.ts";
import { WeightFileError } from "../errors.ts";
import { ZipReader } from "./zip.ts";
import { PickleDict, type PickleCallable, unpickle } from "./pickle.ts";

/** torch storage type name -> our dtype; null = a torch type we know but cannot represent. */
const STORAGE_DTYPES: Record<string, DType | null> = {
  FloatStorage: "float32",
  DoubleStorage: "float64",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  LongStorage: "int64",
  IntStorage: "int32",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
  ShortStorage: null,
  ComplexFloatStorage: null,
  ComplexDoubleStorage: null,
  QInt8Storage: null,
  QUInt8Storage: null,
  QInt32Storage: null,
  QUInt4x2Storage: null,
  QUInt2x4Storage: null,
  Float8_e4m3fnStorage: null,
  Float8_e5m2Storage: null,
  UntypedStorage: null,
};

/** A storage blob named by the pickle (read lazily from `<root>/data/<key>`). */
export interface TorchStorageRef {
  readonly kind: "storage";
  readonly key: string;
  /** torch's type name, e.g. `FloatStorage`. */
  readonly torchType: string;
  readonly dtype: DType | null;
  /** Element count the pickle declares. */
  readonly numel: number;
}

/** A tensor as the pickle describes it: a strided view into a storage. */
export interface TorchTensorRef {
  readonly kind: "tensor";
  readonly storage: TorchStorageRef;
  readonly storageOffset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
}

/** What {@link TorchCheckpoint.info} reports about one tensor without reading it. */
export interface TorchTensorInfo {
  /** null when torch's type has no engine dtype (reading it throws `unsupported_dtype`). */
  readonly dtype: DType | null;
  readonly torchType: string;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly storageKey: string;
  readonly storageOffset: number;
}

export interface TorchOpenOptions {
  /** Check each storage's CRC-32 when it is read (default true). */
  readonly verifyCrc?: boolean;
}

function isTensorRef(v: unknown): v is TorchTensorRef {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "tensor" && "storage" in v;
}
function isStorageRef(v: unknown): v is TorchStorageRef {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "storage";
}

/** An open torch zip checkpoint. Call {@link TorchCheckpoint.close} when done. */
export class TorchCheckpoint {
  readonly path: string;
  /** The unpickled object, tensors as {@link TorchTensorRef} leaves and dicts as `PickleDict` maps. */
  readonly root: unknown;
  /** Byte order of the storages, from `<root>/byteorder` (little when absent). */
  readonly byteOrder: "little" | "big";
  private readonly zip: ZipReader;
  private readonly prefix: string;
  private readonly tensors: Map<string, TorchTensorRef>;
  private readonly verifyCrc: boolean;

  private constructor(
    path: string,
    zip: ZipReader,
    prefix: string,
    root: unknown,
    byteOrder: "little" | "big",
    verifyCrc: boolean,
  ) {
    this.path = path;
    this.zip = zip;
    this.prefix = prefix;
    this.root = root;
    this.byteOrder = byteOrder;
    this.verifyCrc = verifyCrc;
    this.tensors = flattenTensors(path, root);
  }

  /**
   * Opens a checkpoint and runs its pickle (no storage is read yet).
   * @throws WeightFileError (see the module doc for codes).
   */
  static open(path: string, options: TorchOpenOptions = {}): TorchCheckpoint {
    const zip = ZipReader.open(path);
    try {
      const pkl = zip.entries().find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
      if (!pkl) {
        throw new WeightFileError(
          "not_torch_checkpoint",
          path,
          "zip has no '<root>/data.pkl'; not a PyTorch checkpoint",
        );
      }
      const prefix = pkl.name.slice(0, -"data.pkl".length);
      const verifyCrc = options.verifyCrc !== false;
      let byteOrder: "little" | "big" = "little";
      const bo = zip.entry(`${prefix}byteorder`);
      if (bo) {
        const s = new TextDecoder().decode(zip.read(bo, { verifyCrc })).trim();
        if (s !== "little" && s !== "big")
          throw new WeightFileError("bad_zip", path, `byteorder entry says '${s}'`);
        byteOrder = s;
      }
      const root = unpickle(
        zip.read(pkl, { verifyCrc }),
        torchGlobals(`${path}:${pkl.name}`),
        `${path}:${pkl.name}`,
      );
      return new TorchCheckpoint(path, zip, prefix, root, byteOrder, verifyCrc);
    } catch (e) {
      zip.close();
      throw e;
    }
  }

  /** Flattened tensor keys, in pickle order. */
  keys(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  private ref(name: string): TorchTensorRef {
    const t = this.tensors.get(name);
    if (!t) throw new WeightFileError("missing_tensor", this.path, `no tensor named '${name}'`);
    return t;
  }

  /** Dtype, shape and storage placement of a tensor, without reading it. */
  info(name: string): TorchTensorInfo {
    const t = this.ref(name);
    return {
      dtype: t.storage.dtype,
      torchType: t.storage.torchType,
      shape: t.shape,
      stride: t.stride,
      storageKey: t.storage.key,
      storageOffset: t.storageOffset,
    };
  }

  /** Reads one tensor into a dense row-major host tensor (strided views are copied out). */
  read(name: string): HostTensor {
    return this.readMany([name]).get(name)!;
  }

  /**
   * Reads the named tensors (all when omitted). Each storage is read once, even when several tensors share it,
   * and storages no requested tensor uses are never read.
   */
  readAll(names?: Iterable<string>): Map<string, HostTensor> {
    return this.readMany([...(names ?? this.tensors.keys())]);
  }

  private readMany(names: readonly string[]): Map<string, HostTensor> {
    const refs = names.map((n) => [n, this.ref(n)] as const);
    const uses = new Map<string, number>();
    for (const [, r] of refs) uses.set(r.storage.key, (uses.get(r.storage.key) ?? 0) + 1);
    const cache = new Map<string, Uint8Array>();
    const out = new Map<string, HostTensor>();
    for (const [name, r] of refs) {
      const key = r.storage.key;
      let bytes = cache.get(key);
      const shared = uses.get(key)! > 1 || cache.has(key);
      if (!bytes) {
        bytes = this.readStorage(r.storage);
        if (shared) cache.set(key, bytes);
      }
      const left = uses.get(key)! - 1;
      uses.set(key, left);
      if (left === 0) cache.delete(key);
      out.set(name, this.viewToTensor(name, r, bytes, !shared));
    }
    return out;
  }

  private readStorage(s: TorchStorageRef): Uint8Array {
    const entryName = `${this.prefix}data/${s.key}`;
    const e = this.zip.entry(entryName);
    if (!e)
      throw new WeightFileError(
        "bad_storage",
        this.path,
        `storage '${s.key}' has no zip entry '${entryName}'`,
      );
    const need = s.dtype ? s.numel * BYTES_PER_ELEMENT[s.dtype] : 0;
    if (e.size < need) {
      throw new WeightFileError(
        "bad_storage",
        this.path,
        `storage '${s.key}' (${s.numel} x ${s.torchType}) needs ${need} bytes, its entry holds ${e.size}`,
      );
    }
    return this.zip.read(e, { verifyCrc: this.verifyCrc });
  }

  /** `exclusive`: no other tensor of this read uses the storage bytes, so they may become the tensor's data. */
  private viewToTensor(name: string, r: TorchTensorRef, storage: Uint8Array, exclusive: boolean): HostTensor {
    const dtype = r.storage.dtype;
    if (!dtype) {
      throw new WeightFileError(
        "unsupported_dtype",
        this.path,
        `tensor '${name}' has torch type ${r.storage.torchType}, which has no engine dtype`,
      );
    }
    const es = BYTES_PER_ELEMENT[dtype];
    const n = numel(r.shape);
    if (n === 0) return new HostTensor(dtype, r.shape, allocArray(dtype, 0));
    // The usual case, a contiguous tensor owning its whole storage: use the bytes as they are (no second copy
    // of a multi-GB tensor). Anything else is gathered into a fresh buffer.
    const whole = r.storageOffset === 0 && n * es === storage.byteLength && isContiguous(r.shape, r.stride);
    if (whole && exclusive && this.byteOrder === "little")
      return new HostTensor(dtype, r.shape, arrayFromBytes(dtype, storage));
    const out = new Uint8Array(n * es);
    copyStrided(storage, out, es, r.storageOffset, r.shape, r.stride);
    if (this.byteOrder === "big" && es > 1) swapBytes(out, es);
    return new HostTensor(dtype, r.shape, arrayFromBytes(dtype, out));
  }

  close(): void {
    this.zip.close();
  }
}

/** True when strides are row-major for this shape (size-1 axes may have any stride). */
function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

/** Gathers a strided view (element offset, shape, strides in elements) into dense row-major bytes. */
function copyStrided(
  src: Uint8Array,
  dst: Uint8Array,
  es: number,
  offset: number,
  shape: readonly number[],
  stride: readonly number[],
): void {
  const nd = shape.length;
  const lastContig = nd === 0 || stride[nd - 1] === 1;
  // Rows along the last axis are contiguous in the common case: copy them with one `set` each.
  const rowLen = nd === 0 ? 1 : lastContig ? shape[nd - 1]! : 1;
  const outer = nd === 0 ? 0 : lastContig ? nd - 1 : nd;
  const idx = new Array<number>(outer).fill(0);
  const rows = numel(shape) / rowLen;
  let src0 = offset;
  let d = 0;
  for (let r = 0; r < rows; r++) {
    dst.set(src.subarray(src0 * es, (src0 + rowLen) * es), d);
    d += rowLen * es;
    for (let a = outer - 1; a >= 0; a--) {
      idx[a]!++;
      src0 += stride[a]!;
      if (idx[a]! < shape[a]!) break;
      src0 -= stride[a]! * shape[a]!;
      idx[a] = 0;
    }
  }
}

function swapBytes(b: Uint8Array, es: number): void {
  for (let i = 0; i < b.length; i += es) b.subarray(i, i + es).reverse();
}

/** The allow-list: only these globals may appear in a checkpoint's pickle. */
function torchGlobals(source: string): {
  resolve(m: string, n: string): PickleCallable | undefined;
  persistentLoad(pid: unknown): unknown;
} {
  const bad = (msg: string): never => {
    throw new WeightFileError("bad_tensor", source, msg);
  };
  const int = (v: unknown, what: string): number => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
      bad(`${what} is not a non-negative integer: ${String(v)}`);
    return v as number;
  };
  const ints = (v: unknown, what: string): number[] => {
    if (!Array.isArray(v)) bad(`${what} is not a tuple`);
    return (v as unknown[]).map((x, i) => int(x, `${what}[${i}]`));
  };
  const rebuild = (args: readonly unknown[], fn: string): TorchTensorRef => {
    if (args.length < 4) bad(`${fn} got ${args.length} arguments, expected at least 4`);
    const [storage, off, size, strd] = args;
    if (!isStorageRef(storage)) bad(`${fn}: first argument is not a storage`);
    const s = storage as TorchStorageRef;
    const storageOffset = int(off, `${fn} storage offset`);
    const shape = ints(size, `${fn} size`);
    const stride = ints(strd, `${fn} stride`);
    if (stride.length !== shape.length)
      bad(`${fn}: size ${shapeStr(shape)} and stride ${shapeStr(stride)} differ in rank`);
    if (numel(shape) > 0) {
      let last = storageOffset;
      for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * stride[i]!;
      if (last >= s.numel) {
        bad(
          `view (offset ${storageOffset}, size ${shapeStr(shape)}, stride ${shapeStr(stride)}) reaches element ${last} of storage '${s.key}' which has ${s.numel}`,
        );
      }
    }
    return Object.freeze({
      kind: "tensor" as const,
      storage: s,
      storageOffset,
      shape: Object.freeze(shape),
      stride: Object.freeze(stride),
    });
  };
  const parameter = (args: readonly unknown[]): unknown => {
    if (!isTensorRef(args[0])) bad("_rebuild_parameter: first argument is not a tensor");
    return args[0]; // requires_grad and hooks do not matter for weights
  };
  const storageType = (name: string): PickleCallable =>
    Object.assign((): never => bad(`storage type torch.${name} called directly`), { torchStorage: name });

  return {
    resolve(module, name) {
      if (module === "collections" && name === "OrderedDict") {
        return (args) => {
          const d = new PickleDict();
          const items = args[0];
          if (Array.isArray(items))
            for (const kv of items) if (Array.isArray(kv) && kv.length === 2) d.set(kv[0], kv[1]);
          return d;
        };
      }
      if (module === "torch._utils") {
        if (name === "_rebuild_tensor_v2" || name === "_rebuild_tensor") return (args) => rebuild(args, name);
        if (name === "_rebuild_parameter" || name === "_rebuild_parameter_with_state") return parameter;
      }
      if (module === "torch") {
        if (name === "Size") return (args) => Object.freeze(ints(args[0], "torch.Size"));
        if (name in STORAGE_DTYPES) return storageType(name);
      }
      return undefined;
    },
    persistentLoad(pid) {
      // ('storage', storage_type, key, location, numel)
      if (!Array.isArray(pid) || pid.length < 5 || pid[0] !== "storage")
        bad(`unknown persistent id ${JSON.stringify(pid)}`);
      const p = pid as unknown[];
      const torchType = (p[1] as { torchStorage?: unknown } | null)?.torchStorage;
      if (typeof p[1] !== "function" || typeof torchType !== "string")
        bad("persistent id names no storage type");
      const key = p[2];
      if (typeof key !== "string" || !/^[A-Za-z0-9_.-]+$/.test(key))
        bad(`storage key ${JSON.stringify(key)} is not a plain name`);
      return Object.freeze({
        kind: "storage" as const,
        key: key as string,
        torchType: torchType as string,
        dtype: STORAGE_DTYPES[torchType as string] ?? null,
        numel: int(p[4], "storage numel"),
      });
    },
  };
}

/** Walks the unpickled object and gives every tensor a dotted key (see the module doc). */
function flattenTensors(path: string, root: unknown): Map<string, TorchTensorRef> {
  const out = new Map<string, TorchTensorRef>();
  const onPath = new Set<object>();
  const visit = (v: unknown, key: string): void => {
    if (isTensorRef(v)) {
      if (out.has(key))
        throw new WeightFileError("duplicate_key", path, `two tensors flatten to the key '${key}'`);
      out.set(key, v);
      return;
    }
    if (typeof v !== "object" || v === null || onPath.has(v)) return;
    const join = (k: string): string => (key === "" ? k : `${key}.${k}`);
    onPath.add(v);
    if (v instanceof Map) {
      for (const [k, x] of v) if (typeof k === "string" || typeof k === "number") visit(x, join(String(k)));
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, join(String(i))));
    }
    onPath.delete(v);
  };
  visit(root, "");
  return out;
}
