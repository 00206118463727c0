import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runParity } from "../../src/parity/runner.ts";
import { PARITY_KINDS } from "../../src/parity/kinds.ts";

const dir = fileURLToPath(new URL("../../../shared/parity", import.meta.url));

test("every case in ../shared/parity passes through the parity runner", { skip: existsSync(dir) ? false : `no fixtures at ${dir}` }, async () => {
  const lines: string[] = [];
  const report = await runParity(dir, PARITY_KINDS, (l) => lines.push(l));
  const failures = lines.filter((l) => l.startsWith("FAIL"));
  assert.equal(report.failed, 0, failures.join("\n"));
  assert.ok(report.passed >= 11, `only ${report.passed} cases ran`);
});
