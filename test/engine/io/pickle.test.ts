import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { unpickle, PickleDict, type PickleGlobals } from "../../../src/engine/io/pickle.ts";
import { assertCode, fixture } from "./helpers.ts";

const NONE: PickleGlobals = { resolve: () => undefined };

/** Bytes from a mix of strings (latin-1) and byte arrays. */
function bytes(...parts: Array<string | number[]>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "string") for (const c of p) out.push(c.charCodeAt(0));
    else out.push(...p);
  }
  return new Uint8Array(out);
}

/** Converts PickleDicts to plain objects (keys stringified) for deepEqual. */
function plain(v: unknown): unknown {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

const EXPECTED = {
  ints: [
    0,
    1,
    255,
    256,
    65535,
    65536,
    -1,
    -70000,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    2 ** 40,
    -(2n ** 63n),
    2n ** 70n,
    -(2n ** 70n),
  ],
  floats: [1.5, -0, 1e300, -2.5e-300],
  consts: [true, false, null],
  strs: ["", "ascii", "ünïcødé", "x".repeat(300)],
  tuples: [[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4]],
  nested: { a: { b: [] }, 7: "int key" },
  shared: [
    [1, 2],
    [1, 2],
  ],
};

test("protocol 2 pickle written by Python decodes to the same values", () => {
  const v = unpickle(readFileSync(fixture("pickle-p2.pkl")), NONE, "p2");
  assert.ok(v instanceof PickleDict);
  assert.deepEqual(plain(v), EXPECTED);
  const tuples = (v as PickleDict).get("tuples") as unknown[][];
  assert.ok(
    tuples.every((t) => Object.isFrozen(t)),
    "tuples are frozen arrays",
  );
  assert.equal(((v as PickleDict).get("nested") as PickleDict).get(7), "int key");
  // The memo makes a shared object the same JS object.
  const shared = (v as PickleDict).get("shared") as unknown[];
  assert.equal(shared[0], shared[1]);
});

test("protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, bytes, frozenset) decodes too", () => {
  const v = unpickle(readFileSync(fixture("pickle-p4.pkl")), NONE, "p4") as PickleDict;
  assert.deepEqual(plain(v), { ...EXPECTED, bytes: new Uint8Array([0, 1, 255]), set: [3] });
});

test("a forbidden global is refused by name, before anything could be called", () => {
  const gl = bytes("\x80\x02cos\nsystem\nX", [4, 0, 0, 0], "echo\x85R.");
  assertCode(() => unpickle(gl, NONE, "evil.pkl"), "forbidden_global", /'os\.system'/);
  const sg = bytes("\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c\x011\x85R.");
  assertCode(() => unpickle(sg, NONE, "evil.pkl"), "forbidden_global", /'builtins\.eval'/);
  // Python 3 bytes in protocol 2 go through _codecs.encode: also not on any list.
  assertCode(
    () => unpickle(bytes("\x80\x02c_codecs\nencode\n)R."), NONE, "x"),
    "forbidden_global",
    /_codecs\.encode/,
  );
});

test("allowed globals are plain functions called with the argument tuple", () => {
  const calls: unknown[] = [];
  const g: PickleGlobals = {
    resolve: (m, n) =>
      m === "mod" && n === "f" ? (args) => (calls.push(args), `f(${args.join(",")})`) : undefined,
  };
  // REDUCE: mod.f(1, 2)
  assert.equal(unpickle(bytes("\x80\x02cmod\nf\nK\x01K\x02\x86R."), g, "x"), "f(1,2)");
  // NEWOBJ: same shape
  assert.equal(unpickle(bytes("\x80\x02cmod\nf\nK\x03\x85\x81."), g, "x"), "f(3)");
  assert.equal(calls.length, 2);
});

test("persistent ids go to persistentLoad; without a handler they are refused", () => {
  const s = bytes("\x80\x02X", [3, 0, 0, 0], "keyQ.");
  assert.equal(
    unpickle(s, { resolve: () => undefined, persistentLoad: (pid) => `loaded ${String(pid)}` }, "x"),
    "loaded key",
  );
  assertCode(() => unpickle(s, NONE, "x"), "bad_pickle", /persistent/);
});

test("opcodes outside the safe subset -> unsupported_opcode naming the opcode and position", () => {
  assertCode(
    () => unpickle(bytes("\x80\x02(ios\nsystem\n."), NONE, "x"),
    "unsupported_opcode",
    /byte 3: opcode INST \(0x69\)/,
  );
  assertCode(
    () => unpickle(bytes("\x80\x02\x82\x01."), NONE, "x"),
    "unsupported_opcode",
    /byte 2: opcode EXT1/,
  );
  assertCode(() => unpickle(bytes("I12\n."), NONE, "x"), "unsupported_opcode", /INT/);
  assertCode(() => unpickle(bytes("\x80\x02\xff."), NONE, "x"), "unsupported_opcode", /unknown \(0xff\)/);
});

test("malformed streams -> bad_pickle", () => {
  const cases: Array<[Uint8Array, RegExp]> = [
    [bytes("\x80\x02}"), /without STOP/],
    [bytes("\x80\x02X", [100, 0, 0, 0], "ab"), /ends inside BINUNICODE/],
    [bytes("\x80\x02s."), /underflow/],
    [bytes("\x80\x02h\x05."), /memo key 5/],
    [bytes("\x80\x02]K\x01K\x02s."), /not a dict/],
    [bytes("\x80\x02)K\x01a."), /not a list/],
    [bytes("\x80\x02X", [1, 0, 0, 0], "f)R."), /not an allowed global/],
    [bytes("\x80\x02]}b."), /BUILD/],
    [bytes("\x80\x02X", [2, 0, 0, 0], [0xc3, 0x28], "."), /UTF-8/],
    [bytes("\x80\x09."), /protocol 9/],
    [bytes("\x80\x02(K\x01u."), /odd number/],
    [bytes(""), /without STOP/],
  ];
  for (const [b, re] of cases) assertCode(() => unpickle(b, NONE, "bad.pkl"), "bad_pickle", re);
});

test("BUILD on a dict keeps the state aside (OrderedDict._metadata)", () => {
  const v = unpickle(bytes("\x80\x02}}X", [1, 0, 0, 0], "kK\x01sb."), NONE, "x");
  assert.ok(v instanceof PickleDict);
  assert.equal(v.size, 0);
  assert.deepEqual(plain(v.state), { k: 1 });
});
