/**
 * The in-process queue under load on loopback: two jobs with different modes running at once each get exactly
 * their own mode's images (compared with the same jobs run alone), and a bounded run of submissions against a
 * limit of 50 with concurrency 1 completes every accepted job once and answers the rest with 429.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { PulidPipeline } from "../../src/pulid/index.ts";
import type { JobRecord } from "../../src/server/index.ts";
import { embeddingFile, openTinyPipeline, postGenerate, startLocalStudio, waitFinal, worldFacePng, writeStudioModels, type Upload } from "./studio-fixture.ts";

let models = "";
let pipe: PulidPipeline;
let face: Upload;
let embedding: Upload;

before(async () => {
  models = await writeStudioModels();
  pipe = await openTinyPipeline(models);
  const bytes = await worldFacePng(2);
  face = { field: "id", name: "face.png", bytes };
  embedding = { field: "id_embedding", name: "person.safetensors", bytes: await embeddingFile(pipe, bytes) };
});
after(async () => {
  await pipe?.dispose();
  rmSync(join(models, ".."), { recursive: true, force: true });
});

async function pngsOf(url: string, r: JobRecord): Promise<string[]> {
  return Promise.all(r.images.map(async (i) => Buffer.from(await (await fetch(`${url}${i.url}`)).arrayBuffer()).toString("base64")));
}

test("two jobs with different modes running at once each get their own mode's result", async () => {
  const studio = await startLocalStudio(pipe, { concurrency: 2 });
  try {
    const opts = (mode: string) => ({ mode, idScale: 2, seed: 11, steps: 6, prompt: "a portrait" });
    const alone: string[][] = [];
    for (const mode of ["fidelity", "extremely-style"]) {
      const r = await postGenerate(studio.url, [face], opts(mode));
      alone.push(await pngsOf(studio.url, await waitFinal(studio.url, r.body.id)));
    }
    assert.notDeepEqual(alone[0], alone[1], "the two modes must differ, else mixing could not be seen");
    const [a, b] = await Promise.all(["fidelity", "extremely-style"].map((m) => postGenerate(studio.url, [face], opts(m))));
    const [ra, rb] = await Promise.all([waitFinal(studio.url, a!.body.id), waitFinal(studio.url, b!.body.id)]);
    assert.deepEqual([ra.state, rb.state], ["done", "done"]);
    // Both ran at the same time: each started before the other finished.
    assert.ok(ra.startedAt! < rb.finishedAt! && rb.startedAt! < ra.finishedAt!, `no overlap: ${JSON.stringify([ra.startedAt, ra.finishedAt, rb.startedAt, rb.finishedAt])}`);
    assert.deepEqual(await pngsOf(studio.url, ra), alone[0]);
    assert.deepEqual(await pngsOf(studio.url, rb), alone[1]);
  } finally {
    await studio.close();
  }
});

test("load: submissions until the queue is full (limit 50, concurrency 1): every accepted job completes once, the rest get 429", { timeout: 180_000 }, async () => {
  const studio = await startLocalStudio(pipe, { concurrency: 1, limit: 50 });
  try {
    // Batches of 10 at once until one is refused: bounded by MAX_POSTS, so the test stops by itself even if the
    // limit were never enforced. Posting outpaces one job at a time, so the queue fills whatever the machine's speed.
    const MAX_POSTS = 300;
    const answers: Awaited<ReturnType<typeof postGenerate>>[] = [];
    while (answers.length < MAX_POSTS && !answers.some((a) => a.status === 429)) {
      const n = answers.length;
      answers.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => postGenerate(studio.url, [embedding], { steps: 1, seed: n + i })))));
    }
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 429);
    assert.equal(accepted.length + refused.length, answers.length, `other answers: ${answers.filter((a) => a.status !== 202 && a.status !== 429).map((a) => a.status)}`);
    assert.ok(refused.length >= 1, `the queue limit was never reached in ${MAX_POSTS} submissions`);
    assert.ok(accepted.length >= 51, `only ${accepted.length} accepted: 50 waiting and one running fit`);
    for (const r of refused) {
      assert.match(r.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
      assert.match(r.body.error, /the queue is full \(50 jobs waiting\)/);
    }
    const ids = accepted.map((a) => a.body.id as string);
    assert.equal(new Set(ids).size, ids.length);
    const finals = await Promise.all(ids.map((id) => waitFinal(studio.url, id, 150_000)));
    assert.deepEqual(finals.filter((f) => f.state !== "done").map((f) => [f.id, f.state, f.error]), []);
    // Each job exactly once: one image each, with the seed it was submitted with.
    assert.deepEqual(finals.map((f) => f.images.length), ids.map(() => 1));
    assert.deepEqual(finals.map((f) => f.images[0]!.seed), accepted.map((a) => a.body.seed));
    const files = readdirSync(join(studio.queue.book.dir, "images"));
    assert.equal(files.length, ids.length);
    const health = (await (await fetch(`${studio.url}/v1/health`)).json()) as { queue: { waiting: number; running: number } };
    assert.deepEqual([health.queue.waiting, health.queue.running], [0, 0]);
  } finally {
    await studio.close();
  }
});
