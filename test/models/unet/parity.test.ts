/** The UNet and PuLID ID-attention parity cases against the shared fixtures, when they are present. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadFixture } from "../../../src/parity/fixture.ts";
import { pulidUNetIdAttnParityKind, unetParityKind } from "../../../src/models/unet/parity.ts";
import { PARITY_KINDS } from "../../../src/parity/kinds.ts";

const DIR = join(import.meta.dirname, "../../../../shared/parity");

for (const [file, kind] of [
  ["unet_sdxl_tiny", unetParityKind],
  ["pulid_unet_idattn", pulidUNetIdAttnParityKind],
] as const) {
  const path = join(DIR, `${file}.json`);
  test(`parity: ${file}`, { skip: existsSync(path) ? false : `no fixture at ${path}` }, async () => {
    const f = loadFixture(path);
    try {
      assert.ok(kind.matches(f));
      assert.equal(PARITY_KINDS.find((k) => k.matches(f)), kind, "the runner picks this kind for the fixture");
      const res = await kind.run(f);
      assert.equal(res.length, file === "unet_sdxl_tiny" ? 1 : (f.meta.runs as unknown[]).length);
      for (const c of res) assert.ok(c.pass, `${c.label}: max_abs_err ${c.maxAbsError} ${c.note ?? ""}`);
    } finally {
      f.close();
    }
  });
}
