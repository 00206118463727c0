import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { worldCommand } from "../../src/cli/commands/world.ts";
import { UsageError } from "../../src/cli/command.ts";

test("world export writes PNGs and JSONL with ground truth; sample writes a contact sheet", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-world-"));
  try {
    const log = console.log;
    console.log = () => {};
    try {
      assert.equal(
        await worldCommand.run(["export", "--split", "test", "--out", dir, "--count", "2", "--size", "32"]),
        0,
      );
      assert.equal(
        await worldCommand.run(["sample", "--out", dir, "--rows", "2", "--size", "32", "--scale", "1"]),
        0,
      );
    } finally {
      console.log = log;
    }
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, [
      "000000-mask.png",
      "000000-ref.png",
      "000000.png",
      "000001-mask.png",
      "000001-ref.png",
      "000001.png",
      "contact-sheet.png",
      "examples.jsonl",
    ]);
    const rows = readFileSync(join(dir, "examples.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(rows.length, 2);
    assert.equal(rows[0].split, "test");
    assert.equal(rows[0].landmarks.length, 10);
    assert.equal(typeof rows[0].caption, "string");
    const meta = await sharp(join(dir, "000000.png")).metadata();
    assert.deepEqual([meta.width, meta.height], [32, 32]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(
    worldCommand.run(["export", "--split", "nope", "--out", "/tmp/x"]),
    /split "nope" is unknown/,
  );
  await assert.rejects(worldCommand.run(["frobnicate"]), UsageError);
});
