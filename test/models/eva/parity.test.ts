/** The EVA02-CLIP vision parity kind against the shared fixtures, when they are present. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadFixture } from "../../../src/parity/fixture.ts";
import { eva02ClipVisionKind } from "../../../src/models/eva/parity.ts";

const DIR = join(import.meta.dirname, "../../../../shared/parity");

for (const kind of [eva02ClipVisionKind]) {
  const path = join(DIR, `${kind.name}.json`);
  test(`parity: ${kind.name}`, { skip: existsSync(path) ? false : `no fixture at ${path}` }, async () => {
    const f = loadFixture(path);
    try {
      assert.ok(kind.matches(f));
      const res = await kind.run(f);
      assert.ok(res.length > 0);
      for (const c of res) assert.ok(c.pass, `${c.label}: max_abs_err ${c.maxAbsError} ${c.note ?? ""}`);
    } finally {
      f.close();
    }
  });
}
