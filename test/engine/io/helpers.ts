/** Shared helpers for the weight-file tests: fixture paths, temp folders, bitwise tensor comparison. */
import { storedZip } from "../../../src/engine/io/torch-save.ts";
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

/** A stored (uncompressed) zip holding these entries, with a chosen CRC function (to forge bad archives). */
export function makeStoredZip(
  entries: ReadonlyArray<readonly [string, Uint8Array]>,
  crc: (b: Uint8Array) => number,
): Uint8Array {
  return Buffer.concat(storedZip(entries, crc));
}
