/**
 * A safe subset of Python's pickle virtual machine, enough for the `data.pkl` that `torch.save` writes
 * (protocol 2; protocol 3-5 data opcodes are accepted too). It never executes code: every GLOBAL goes through
 * the caller's {@link PickleGlobals} resolver, which returns a plain TypeScript function for whitelisted
 * names and refuses everything else, and persistent ids go to the caller's `persistentLoad`.
 *
 * Values: None -> null, bool -> boolean, int -> number (bigint beyond 2^53), float -> number, str -> string,
 * bytes -> Uint8Array, list -> array, tuple -> frozen array, dict -> {@link PickleDict} (a Map), set -> array;
 * whatever the resolvers build (tensors, storages) is passed through as is.
 *
 * Error codes ({@link WeightFileError}): `forbidden_global` (a GLOBAL the resolver refused; the message names
 * `module.name`), `unsupported_opcode` (names the opcode and its position), `bad_pickle` (malformed stream).
 */
import { WeightFileError } from "../errors.ts";

/** A dict read from a pickle. `state` holds what BUILD attached (e.g. a state dict's `_metadata`). */
export class PickleDict extends Map<unknown, unknown> {
  state: unknown = undefined;
}

/** A callable the resolver allows: REDUCE / NEWOBJ call it with the argument tuple. */
export type PickleCallable = (args: readonly unknown[]) => unknown;

/** Hooks a caller gives the VM: how to resolve globals and persistent ids. */
export interface PickleGlobals {
  /** Returns the callable for `module.name`, or undefined to refuse it (the VM throws `forbidden_global`). */
  resolve(module: string, name: string): PickleCallable | undefined;
  /** Resolves a BINPERSID id (torch: storages). Undefined hook -> the opcode is refused. */
  persistentLoad?(pid: unknown): unknown;
}

const MARK = Symbol("mark");

/** Opcode names, for error messages. */
// prettier-ignore
const OPNAMES: Record<number, string> = {
  0x80: "PROTO", 0x95: "FRAME", 0x2e: "STOP", 0x28: "MARK", 0x7d: "EMPTY_DICT", 0x5d: "EMPTY_LIST",
  0x29: "EMPTY_TUPLE", 0x8f: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET", 0x58: "BINUNICODE",
  0x8c: "SHORT_BINUNICODE", 0x8d: "BINUNICODE8", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING", 0x42: "BINBYTES",
  0x43: "SHORT_BINBYTES", 0x8e: "BINBYTES8", 0x96: "BYTEARRAY8", 0x4a: "BININT", 0x4b: "BININT1", 0x4d: "BININT2",
  0x8a: "LONG1", 0x8b: "LONG4", 0x47: "BINFLOAT", 0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x4e: "NONE",
  0x73: "SETITEM", 0x75: "SETITEMS", 0x61: "APPEND", 0x65: "APPENDS", 0x85: "TUPLE1", 0x86: "TUPLE2",
  0x87: "TUPLE3", 0x74: "TUPLE", 0x71: "BINPUT", 0x72: "LONG_BINPUT", 0x94: "MEMOIZE", 0x68: "BINGET",
  0x6a: "LONG_BINGET", 0x63: "GLOBAL", 0x93: "STACK_GLOBAL", 0x52: "REDUCE", 0x62: "BUILD", 0x81: "NEWOBJ",
  0x92: "NEWOBJ_EX", 0x51: "BINPERSID", 0x50: "PERSID", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP",
  0x69: "INST", 0x6f: "OBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x49: "INT", 0x4c: "LONG", 0x46: "FLOAT",
  0x53: "STRING", 0x56: "UNICODE", 0x70: "PUT", 0x67: "GET", 0x64: "DICT", 0x6c: "LIST", 0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
};

/**
 * Runs a pickle stream and returns the object it builds.
 * @param source names the input in error messages (e.g. `ckpt.pt:archive/data.pkl`).
 * @throws WeightFileError `forbidden_global`, `unsupported_opcode`, `bad_pickle`.
 */
export function unpickle(input: Uint8Array, globals: PickleGlobals, source: string): unknown {
  // A plain Uint8Array view: a Buffer's slice() would alias instead of copy.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opAt = 0;

  const fail = (message: string): never => {
    throw new WeightFileError("bad_pickle", source, `pickle byte ${opAt}: ${message}`);
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.length)
      fail(`stream ends inside ${OPNAMES[bytes[opAt]!] ?? "opcode"} (needs ${n} more bytes)`);
    const at = pos;
    pos += n;
    return at;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail("stack underflow");
    const v = stack.pop();
    if (v === MARK) fail("unexpected MARK");
    return v;
  };
  const top = (): unknown => {
    const v = stack[stack.length - 1];
    if (stack.length === 0 || v === MARK) fail("stack underflow");
    return v;
  };
  const popMark = (): unknown[] => {
    const k = stack.lastIndexOf(MARK);
    if (k < 0) fail("no MARK on the stack");
    const items = stack.splice(k);
    items.shift();
    return items;
  };
  const readLine = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail("unterminated text argument");
    const s = new TextDecoder("latin1").decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const text = (n: number): string => {
    const at = need(n);
    try {
      return decoder.decode(bytes.subarray(at, at + n));
    } catch {
      return fail("string is not valid UTF-8");
    }
  };
  const u64len = (): number => {
    const big = view.getBigUint64(need(8), true);
    if (big > BigInt(bytes.length)) fail(`length ${big} exceeds the stream`);
    return Number(big);
  };
  const callGlobal = (module: string, name: string): PickleCallable => {
    const fn = globals.resolve(module, name);
    if (!fn) {
      throw new WeightFileError(
        "forbidden_global",
        source,
        `pickle names the global '${module}.${name}', which is not on the allow-list; refusing to load (pickle can run arbitrary code)`,
      );
    }
    return fn;
  };
  const asCallable = (f: unknown, op: string): PickleCallable => {
    if (typeof f !== "function") fail(`${op} on a value that is not an allowed global`);
    return f as PickleCallable;
  };
  const asArgs = (a: unknown, op: string): readonly unknown[] => {
    if (!Array.isArray(a)) fail(`${op} arguments are not a tuple`);
    return a as unknown[];
  };
  const dictSet = (d: unknown, k: unknown, v: unknown): void => {
    if (!(d instanceof Map)) fail("SETITEM(S) on a value that is not a dict");
    (d as Map<unknown, unknown>).set(k, v);
  };
  const listAdd = (l: unknown, items: unknown[]): void => {
    if (!Array.isArray(l) || Object.isFrozen(l)) fail("APPEND(S) on a value that is not a list");
    (l as unknown[]).push(...items);
  };

  for (;;) {
    if (pos >= bytes.length) fail("stream ends without STOP (truncated?)");
    opAt = pos;
    const op = bytes[pos++]!;
    switch (op) {
      case 0x80: // PROTO
        if (bytes[need(1)]! > 5) fail(`unknown pickle protocol ${bytes[pos - 1]}`);
        break;
      case 0x95: // FRAME: framing is only a read-ahead hint
        need(8);
        break;
      case 0x2e: // STOP: like Python, the result is the top of the stack
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PickleDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(Object.freeze([]));
        break;
      case 0x8f: // EMPTY_SET
        stack.push([]);
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        listAdd(top(), items);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(Object.freeze(popMark()));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(view.getUint32(need(4), true)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(bytes[need(1)]!));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64len()));
        break;
      case 0x54: // BINSTRING (python 2 str: bytes, read as latin-1 like torch's encoding='latin1')
      case 0x55: {
        // SHORT_BINSTRING
        const n = op === 0x54 ? view.getInt32(need(4), true) : bytes[need(1)]!;
        const at = need(n);
        stack.push(new TextDecoder("latin1").decode(bytes.subarray(at, at + n)));
        break;
      }
      case 0x42: // BINBYTES
      case 0x43: // SHORT_BINBYTES
      case 0x8e: // BINBYTES8
      case 0x96: {
        // BYTEARRAY8
        const n = op === 0x42 ? view.getUint32(need(4), true) : op === 0x43 ? bytes[need(1)]! : u64len();
        const at = need(n);
        stack.push(bytes.slice(at, at + n));
        break;
      }
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(bytes[need(1)]!);
        break;
      case 0x4d: // BININT2
        stack.push(view.getUint16(need(2), true));
        break;
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4
        const n = op === 0x8a ? bytes[need(1)]! : view.getInt32(need(4), true);
        const at = need(n);
        stack.push(decodeLong(bytes.subarray(at, at + n)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        dictSet(top(), k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) fail("SETITEMS with an odd number of items");
        const d = top();
        for (let i = 0; i < items.length; i += 2) dictSet(d, items[i], items[i + 1]);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        listAdd(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        listAdd(top(), items);
        break;
      }
      case 0x85: // TUPLE1
        stack.push(Object.freeze([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(Object.freeze(popMark()));
        break;
      case 0x71: // BINPUT
        memo.set(bytes[need(1)]!, top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(view.getUint32(need(4), true), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? bytes[need(1)]! : view.getUint32(need(4), true);
        if (!memo.has(k)) fail(`memo key ${k} is not set`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = readLine();
        const name = readLine();
        stack.push(callGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") fail("STACK_GLOBAL needs two strings");
        stack.push(callGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = asArgs(pop(), "REDUCE");
        const f = asCallable(pop(), "REDUCE");
        stack.push(f(args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args); our allowed classes build themselves from args
        const args = asArgs(pop(), "NEWOBJ");
        const cls = asCallable(pop(), "NEWOBJ");
        stack.push(cls(args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = asArgs(pop(), "NEWOBJ_EX");
        const cls = asCallable(pop(), "NEWOBJ_EX");
        if (!(kwargs instanceof Map) || kwargs.size > 0)
          fail("NEWOBJ_EX with keyword arguments is not supported");
        stack.push(cls(args));
        break;
      }
      case 0x62: {
        // BUILD: only a dict may receive state (OrderedDict state dicts carry `_metadata`)
        const state = pop();
        const obj = top();
        if (!(obj instanceof PickleDict)) fail("BUILD on a value other than a dict is not supported");
        (obj as PickleDict).state = state;
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!globals.persistentLoad) fail("BINPERSID without a persistent-id handler");
        stack.push(globals.persistentLoad!(pid));
        break;
      }
      case 0x30: // POP
        if (stack.length === 0) fail("stack underflow");
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        throw new WeightFileError(
          "unsupported_opcode",
          source,
          `pickle byte ${opAt}: opcode ${OPNAMES[op] ?? "unknown"} (0x${op.toString(16).padStart(2, "0")}) is not supported by the safe loader`,
        );
    }
  }
}

/** Little-endian two's complement integer (LONG1/LONG4) -> number, or bigint when it exceeds 2^53. */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
