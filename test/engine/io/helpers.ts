/** Shared helpers for the weight-file tests: fixture paths, temp folders, bitwise tensor comparison. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { HostTensor } from "../../../src/engine/host-tensor.ts";
import { PulidError } from "../../../src/engine/errors.ts";

export const TORCH_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "torch");

export function fixture(name: string): string {
  return join(TORCH_FIXTURES, name);
}

/** A fresh temp folder and a function that removes it. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "pulid-io-test-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Same dtype, shape and bytes (bitwise: NaN payloads and -0 included). */
export function assertSameTensor(got: HostTensor, want: HostTensor, label: string): void {
  assert.equal(got.dtype, want.dtype, `${label}: dtype`);
  assert.deepEqual([...got.shape], [...want.shape], `${label}: shape`);
  const bytes = (t: HostTensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  assert.deepEqual(bytes(got), bytes(want), `${label}: bytes`);
}

/** Asserts that `fn` throws a PulidError with this code (and, optionally, a message matching `re`). */
export function assertCode(fn: () => unknown, code: string, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PulidError, `expected a PulidError, got ${String(e)}`);
    assert.equal(e.code, code, `code (message: ${e.message})`);
    if (re) assert.match(e.message, re);
    return true;
  });
}

export async function assertRejectsCode(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof PulidError, `expected a PulidError, got ${String(e)}`);
    assert.equal(e.code, code, `code (message: ${e.message})`);
    if (re) assert.match(e.message, re);
    return true;
  });
}

/**
 * A stored (uncompressed) zip holding these entries, written here byte by byte for tests that need malformed
 * torch archives; independent of the reader under test.
 */
export function makeStoredZip(
  entries: ReadonlyArray<readonly [string, Uint8Array]>,
  crc: (b: Uint8Array) => number,
): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = new TextEncoder().encode(name);
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
    parts.push(new Uint8Array(local.buffer), n, data);
    central.push(new Uint8Array(cd.buffer), n);
    offset += 30 + n.byteLength + data.byteLength;
  }
  const cdSize = central.reduce((s, b) => s + b.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, cdSize, true);
  end.setUint32(16, offset, true);
  return Buffer.concat([...parts, ...central, new Uint8Array(end.buffer)]);
}
