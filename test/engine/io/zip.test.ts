import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ZipReader, crc32 } from "../../../src/engine/io/zip.ts";
import { PulidError } from "../../../src/engine/errors.ts";
import { assertCode, fixture, tempDir } from "./helpers.ts";

const tmp = tempDir();
after(tmp.cleanup);

/** entry name without its root folder -> bytes, read with our reader. */
function contents(path: string): Map<string, Uint8Array> {
  const z = ZipReader.open(path);
  try {
    return new Map(z.entries().map((e) => [e.name.slice(e.name.indexOf("/") + 1), z.read(e)]));
  } finally {
    z.close();
  }
}

test("crc32 matches the standard check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test("reads a torch.save archive (stored entries, zip64 end record) by entry", () => {
  const z = ZipReader.open(fixture("basic.pt"));
  try {
    const names = z.entries().map((e) => e.name);
    assert.ok(names.includes("basic/data.pkl"));
    assert.ok(names.includes("basic/version"));
    assert.equal(new TextDecoder().decode(z.read("basic/version")).trim(), "3");
    // An entry's bytes sit verbatim at dataOffset (what ONNX external data would point at).
    const e = z.entry("basic/data/0")!;
    assert.equal(e.method, 0);
    const file = readFileSync(fixture("basic.pt"));
    const at = z.dataOffset(e);
    assert.deepEqual(z.read(e), new Uint8Array(file.subarray(at, at + e.size)));
    assert.deepEqual(z.readRange(e, 4, 8), new Uint8Array(file.subarray(at + 4, at + 12)));
    assertCode(() => z.readRange(e, 20, 8), "bad_zip", /outside entry/);
    assertCode(() => z.read("basic/nope"), "missing_entry");
  } finally {
    z.close();
  }
});

test("zip64 extra fields and deflated entries give the same bytes as the stored archive", () => {
  const stored = contents(fixture("basic.pt"));
  for (const f of ["zip64.pt", "deflate.pt"]) {
    const got = contents(fixture(f));
    assert.deepEqual([...got.keys()].sort(), [...stored.keys()].sort(), f);
    for (const [k, v] of stored) assert.deepEqual(got.get(k), v, `${f}: ${k}`);
  }
  const z = ZipReader.open(fixture("deflate.pt"));
  assert.ok(z.entries().some((e) => e.method === 8 && e.compressedSize < e.size));
  z.close();
});

test("every truncation of an archive gives truncated or bad_zip, never another error", () => {
  const bytes = readFileSync(fixture("basic.pt"));
  const path = join(tmp.dir, "cut.pt");
  const seen = new Set<string>();
  for (let len = 0; len < bytes.length; len += 37) {
    writeFileSync(path, bytes.subarray(0, len));
    try {
      const z = ZipReader.open(path);
      for (const e of z.entries()) z.read(e);
      z.close();
      assert.fail(`a ${len}-byte prefix opened`);
    } catch (e) {
      assert.ok(e instanceof PulidError, String(e));
      assert.ok(["truncated", "bad_zip"].includes(e.code), `${len} bytes: ${e.code} ${e.message}`);
      seen.add(e.code);
    }
  }
  assert.ok(seen.has("truncated"));
});

test("a file that is not a zip -> bad_zip; a damaged central directory -> bad_zip", () => {
  const notZip = join(tmp.dir, "not.zip");
  writeFileSync(notZip, new TextEncoder().encode("hello, this is not a zip archive at all"));
  assertCode(() => ZipReader.open(notZip), "bad_zip", /not a zip/);

  const bytes = new Uint8Array(readFileSync(fixture("deflate.pt")));
  const z = ZipReader.open(fixture("deflate.pt"));
  z.close();
  // Break the first central-directory signature ("PK\x01\x02").
  const cd = Buffer.from(bytes).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  bytes[cd + 2] = 0x09;
  const broken = join(tmp.dir, "broken-cd.pt");
  writeFileSync(broken, bytes);
  assertCode(() => ZipReader.open(broken), "bad_zip", /central directory record 0/);
});

test("a flipped byte in an entry -> crc_mismatch (unless CRC checks are off)", () => {
  const src = fixture("basic.pt");
  const z = ZipReader.open(src);
  const at = z.dataOffset("basic/data/0");
  z.close();
  const bytes = new Uint8Array(readFileSync(src));
  bytes[at + 1]! ^= 0x40;
  const path = join(tmp.dir, "flipped.pt");
  writeFileSync(path, bytes);
  const bad = ZipReader.open(path);
  try {
    assertCode(() => bad.read("basic/data/0"), "crc_mismatch", /basic\/data\/0/);
    assert.equal(bad.read("basic/data/0", { verifyCrc: false }).byteLength, 24);
    assert.ok(bad.read("basic/data/1")); // other entries are unaffected
  } finally {
    bad.close();
  }
});

test("a corrupt deflate stream -> bad_zip", () => {
  const src = fixture("deflate.pt");
  const z = ZipReader.open(src);
  const e = z.entry("deflate/data.pkl")!;
  const at = z.dataOffset(e);
  z.close();
  const bytes = new Uint8Array(readFileSync(src));
  bytes.fill(0xff, at, at + 8);
  const path = join(tmp.dir, "bad-deflate.pt");
  writeFileSync(path, bytes);
  const bad = ZipReader.open(path);
  try {
    assert.throws(
      () => bad.read("deflate/data.pkl"),
      (err: unknown) => err instanceof PulidError && ["bad_zip", "crc_mismatch"].includes(err.code),
    );
  } finally {
    bad.close();
  }
});

test("a deflated entry larger than its recorded size -> bad_zip (inflation is capped)", () => {
  const bytes = new Uint8Array(readFileSync(fixture("deflate.pt")));
  const name = Buffer.from("deflate/data.pkl");
  const buf = Buffer.from(bytes.buffer);
  // The central record is the second occurrence of the name; its size field sits 46 - 24 = 22 bytes before it.
  const first = buf.indexOf(name);
  const rec = buf.indexOf(name, first + 1) - 46;
  assert.equal(buf.readUInt32LE(rec), 0x02014b50);
  buf.writeUInt32LE(100, rec + 24);
  const path = join(tmp.dir, "lying-size.pt");
  writeFileSync(path, buf);
  const z = ZipReader.open(path);
  try {
    assertCode(() => z.read("deflate/data.pkl"), "bad_zip");
  } finally {
    z.close();
  }
});

test("a missing file -> file_not_found; reading after close -> closed", () => {
  assertCode(() => ZipReader.open(join(tmp.dir, "missing.pt")), "file_not_found");
  const z = ZipReader.open(fixture("basic.pt"));
  z.close();
  assertCode(() => z.read("basic/version"), "closed");
});
