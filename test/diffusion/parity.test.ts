import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { loadFixture } from "../../src/parity/fixture.ts";
import { formatComparison } from "../../src/parity/runner.ts";
import { schedulerParityKind } from "../../src/diffusion/parity.ts";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const fixturePath = join(repoRoot, "..", "shared", "parity", "schedulers.json");

test("schedulers parity: every sub-case of ../shared/parity/schedulers.json within its tolerance", async (t) => {
  if (!existsSync(fixturePath)) {
    t.skip(`fixture not found at ${fixturePath} (the shared parity folder is absent)`);
    return;
  }
  const fixture = loadFixture(fixturePath);
  try {
    assert.ok(schedulerParityKind.matches(fixture));
    const comparisons = await schedulerParityKind.run(fixture);
    const failed = comparisons.filter((c) => !c.pass).map((c) => formatComparison(fixture.name, c));
    assert.deepEqual(failed, []);
    // Every sub-case prefix was exercised (each has at least timesteps or sigmas plus the loop outputs).
    const prefixes = new Set(fixture.ioKeys().map((k) => k.split(".")[0]));
    const compared = new Set(comparisons.map((c) => c.label.split(".")[0]));
    assert.deepEqual([...compared].sort(), [...prefixes].sort());
    // Every expected output tensor in the file was compared (inputs excepted).
    const inputs = new Set<string>(fixture.meta.inputs ?? []);
    const outputs = fixture.ioKeys().filter((k) => !inputs.has(k));
    assert.deepEqual(comparisons.map((c) => c.label).sort(), outputs.sort());
  } finally {
    fixture.close();
  }
});
