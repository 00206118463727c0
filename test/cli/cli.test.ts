import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../bin/pulid.mjs", import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });

test("pulid --help lists the commands and exits 0", () => {
  const r = run("--help");
  assert.equal(r.status, 0);
  assert.match(r.stdout, /usage: pulid <command>/);
  assert.match(r.stdout, /demo/);
  assert.match(r.stdout, /parity/);
});

test("an unknown command or option is a usage error (exit 2) naming it", () => {
  const a = run("frobnicate");
  assert.equal(a.status, 2);
  assert.match(a.stderr, /unknown command 'frobnicate'/);
  const b = run("demo", "--bogus");
  assert.equal(b.status, 2);
  assert.match(b.stderr, /unknown option '--bogus'/);
});

test("pulid demo --toy trains the toy models and reports accuracy", () => {
  const r = run("demo", "--toy", "--steps", "120");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /bars: held-out accuracy (9\d|100)\.\d%/);
  assert.match(r.stdout, /same-ends: held-out accuracy \d+\.\d%/);
});
