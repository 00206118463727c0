/**
 * The parity runner cannot pass by accident: a listed output a kind does not produce fails, an empty folder or a
 * selection that matches nothing is an error, and the command line reports bad input in one line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { saveSafetensors } from "../../src/engine/io/safetensors.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { runParity } from "../../src/parity/runner.ts";
import { compareTensors } from "../../src/parity/compare.ts";
import type { ParityKind } from "../../src/parity/kind.ts";

/** A kind that doubles `x` and compares it as `y` only, whatever else the fixture lists. */
const doubler: ParityKind = {
  name: "doubler",
  matches: (f) => f.meta["case"] === "double",
  async run(f) {
    const x = f.io("x");
    const y = HostTensor.f32([...x.shape], Array.from(x.toFloat64(), (v) => 2 * v));
    return [compareTensors("y", y, f.io("y"), f.tolerance.atol, f.tolerance.rtol)];
  },
};

async function writeCase(dir: string, outputs: string[]): Promise<void> {
  writeFileSync(join(dir, "double.json"), JSON.stringify({ case: "double", inputs: ["x"], outputs, tolerance: { atol: 1e-6, rtol: 0 } }));
  const io = new Map([
    ["x", HostTensor.f32([2], [1, 2])],
    ["y", HostTensor.f32([2], [2, 4])],
    ["z", HostTensor.f32([2], [0, 0])],
  ]);
  await saveSafetensors(join(dir, "double.io.safetensors"), io);
}

test("an output the fixture lists and the kind does not produce is a failure", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-parity-missing-"));
  try {
    await writeCase(dir, ["y"]);
    assert.equal((await runParity(dir, [doubler])).passed, 1);
    await writeCase(dir, ["y", "z"]);
    const lines: string[] = [];
    const r = await runParity(dir, [doubler], (l) => lines.push(l));
    assert.equal(r.failed, 1);
    assert.ok(lines.some((l) => /^FAIL {2}double\/z .*missing output/.test(l)), lines.join("\n"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a folder with no case, or a filter matching none, is an error; so is a missing folder", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-parity-empty-"));
  try {
    await assert.rejects(runParity(dir, [doubler]), /no parity case ran in .*: it holds no fixture/);
    await writeCase(dir, ["y"]);
    await assert.rejects(runParity(dir, [doubler], undefined, (n) => n === "dubble"), /none of its 1 cases was selected/);
    await assert.rejects(runParity(join(dir, "nope"), [doubler]), /nope: no such folder or fixture file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const cli = fileURLToPath(new URL("../../src/cli/parity.ts", import.meta.url));
const parity = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8" });

test("parity on the command line: bad input ends with one line and a non-zero exit, never a stack trace", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-parity-cli-"));
  try {
    const cases: [string[], number, RegExp][] = [
      [[join(dir, "missing")], 1, /missing: no such folder or fixture file/],
      [[dir], 1, /no parity case ran .*holds no fixture/],
      [[dir, "--only", "x"], 2, /--only: no case named 'x' in .*\(cases there: none\)/],
      [[dir, "other"], 2, /takes one DIR, got 2/],
      [[dir, "--bogus"], 2, /unknown option '--bogus'/],
    ];
    for (const [args, code, message] of cases) {
      const r = parity(...args);
      assert.equal(r.status, code, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, `one line for ${args.join(" ")}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
