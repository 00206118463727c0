/**
 * The job records under --data: many changes of one record at once all land (each file written atomically, one
 * write at a time per record), a done record comes after its images, a final record never changes, and what a
 * previous run left (including foreign or damaged files) is read back.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JobBook } from "../../src/server/index.ts";
import { queuedRecord } from "../../src/server/job-queue.ts";
import type { ResolvedGenerateOptions } from "../../src/pulid/index.ts";

const options = { seed: 1 } as ResolvedGenerateOptions;

test("concurrent changes of one record all land; done comes after the images; a final record is frozen; reload", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-book-"));
  try {
    const book = new JobBook(dir);
    const r = queuedRecord("j00000000000000aa", options);
    await book.add(r);
    const seen: string[] = [];
    book.subscribe(r.id, (x) => seen.push(x.state));
    await Promise.all(Array.from({ length: 30 }, (_, i) => book.update(r.id, { state: "running", notes: [`n${i}`] })));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "jobs", `${r.id}.json`), "utf8")).notes, ["n29"]);
    await book.finish(r.id, { images: [{ png: new Uint8Array([1, 2, 3]), seed: 1 }], notes: [] });
    assert.deepEqual(readdirSync(join(dir, "images")), [`${r.id}-0.png`]);
    assert.equal(await book.update(r.id, { state: "failed" }), undefined, "a done job stays done");
    assert.equal(seen.at(-1), "done");
    assert.deepEqual(readdirSync(join(dir, "jobs")), [`${r.id}.json`], "no temporary file left");

    const open = queuedRecord("j00000000000000bb", options);
    await book.add(open);
    writeFileSync(join(dir, "jobs", "j00000000000000cc.json"), "{damaged");
    writeFileSync(join(dir, "jobs", "notes.txt"), "foreign");
    const again = new JobBook(dir);
    assert.deepEqual(again.load().map((x) => x.id), [open.id]);
    assert.equal(again.get(r.id)?.state, "done");
    assert.deepEqual(await again.image(`${r.id}-0`), new Uint8Array([1, 2, 3]));
    assert.equal(await again.image(`${r.id}-1`), undefined);
    assert.equal(again.get("../jobs"), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
