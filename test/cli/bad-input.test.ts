/**
 * Every class of bad command-line input ends with one clear line and exit 2 (usage) or 1 (failure), never a
 * stack trace, and writes nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatBytes } from "../../src/cli/format-bytes.ts";

const bin = fileURLToPath(new URL("../../bin/pulid.mjs", import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });

/** Runs and checks: the exit code, a message on the last stderr line, and no stack trace anywhere. */
function refused(args: string[], code: number, message: RegExp): void {
  const r = run(...args);
  const what = `pulid ${args.join(" ")}`;
  assert.equal(r.status, code, `${what}: exit ${r.status}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:/, `${what} printed a stack trace:\n${r.stderr}`);
  const last = r.stderr.trim().split("\n").at(-1) ?? "";
  assert.match(last, message, what);
}

test("bad numbers are usage errors naming the flag", () => {
  refused(["demo", "--toy", "--seed", "x"], 2, /^pulid demo: --seed must be an integer in \[0, 2147483647\], got 'x'$/);
  refused(["demo", "--toy", "--seed", "1.5"], 2, /--seed must be an integer .*got '1\.5'/);
  refused(["demo", "--toy", "--steps", "0"], 2, /--steps must be an integer in \[1, /);
  refused(["models", "write-random", "--arch", "unet-sdxl", "--out", "x.safetensors", "--seed", "-3"], 2, /--seed must be an integer .*got '-3'/);
});

test("extra positional arguments are refused, not ignored", () => {
  refused(["demo", "300"], 2, /^pulid demo: unexpected argument '300'/);
  refused(["world", "sample", "--out", "x", "extra"], 2, /^pulid world: unexpected argument 'extra'/);
  refused(["models", "write-random", "--arch", "unet-sdxl", "--out", "x", "extra"], 2, /unexpected argument 'extra'/);
  refused(["parity", "a", "b"], 2, /^pulid parity: takes one DIR, got 2/);
});

test("an output path that is, or lies under, an existing file is refused before any work", () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-cli-out-"));
  try {
    const file = join(dir, "file");
    writeFileSync(file, "keep");
    refused(["world", "sample", "--out", file], 2, /^pulid world: --out .*file is an existing file, not a folder$/);
    refused(["world", "export", "--split", "val", "--count", "1", "--out", join(file, "sub")], 2, /^pulid world: --out .*sub: cannot create folder .* \(a part of the path is a file\)$/);
    refused(["models", "write-random", "--arch", "unet-sdxl", "--out", join(file, "u.safetensors")], 2, /^pulid models: --out .*u\.safetensors: .*file is an existing file, not a folder$/);
    refused(["models", "write-random", "--arch", "vae-sdxl", "--out", file], 2, /^pulid models: --out .*is an existing file, not a folder$/);
    refused(["models", "write-random", "--arch", "idencoder-v1", "--out", join(file, "a", "pulid.bin")], 2, /^pulid models: --out .*pulid\.bin: cannot create folder .* \(a part of the path is a file\)$/);
    refused(["models", "write-random", "--arch", "sdxl-folder", "--out", file], 2, /^pulid models: --out .*is an existing file, not a folder$/);
    // Nothing was written by the refused commands; an existing folder is a fine --out.
    assert.equal(run("models", "write-random", "--arch", "unet-sdxl", "--out", dir).status, 0);
    assert.deepEqual(readdirSync(dir).sort(), ["config.json", "diffusion_pytorch_model.safetensors", "file"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing input folder is one line, exit 1", () => {
  refused(["parity", join(tmpdir(), "pulid-no-such-folder")], 1, /^pulid parity: .*pulid-no-such-folder: no such folder or fixture file$/);
});

test("a demo that ends below its accuracy bar says so", () => {
  refused(["demo", "--toy", "--steps", "2"], 1, /^pulid demo: below the 90% accuracy bar after 2 steps \(bars \d+\.\d%/);
});

test("sizes are printed in a unit that shows them", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(900), "900 B");
  assert.equal(formatBytes(3 * 2 ** 20 + 2 ** 19), "3.5 MiB");
  assert.equal(formatBytes(1234 * 2 ** 30), "1.21 TiB");
  assert.equal(formatBytes(6.9 * 2 ** 30), "6.9 GiB");
});
