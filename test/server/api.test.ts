/**
 * The studio's JSON API on a loopback port with the tiny random-weight v1 folder: a job end to end (202, events,
 * PNG with its parameters, files under --data), every 4xx path (each a message naming its field, never a stack
 * trace), cancellation, and what a restart keeps.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OPTION_SPECS, readPngText, type PulidPipeline } from "../../src/pulid/index.ts";
import { blackPng, embeddingFile, getJob, openTinyPipeline, postGenerate, startLocalStudio, waitFinal, worldFacePng, writeStudioModels, type RunningStudio, type Upload } from "./studio-fixture.ts";

let models = "";
let pipe: PulidPipeline;
let studio: RunningStudio;
let data = "";
let face: Upload;
let embedding: Upload;
const fast = { steps: 1, seed: 3 };

before(async () => {
  models = await writeStudioModels();
  pipe = await openTinyPipeline(models);
  data = mkdtempSync(join(tmpdir(), "pulid-api-data-"));
  studio = await startLocalStudio(pipe, { data, maxFileBytes: 200 << 10, limit: 1 });
  const bytes = await worldFacePng(1);
  face = { field: "id", name: "world-face.png", bytes };
  embedding = { field: "id_embedding", name: "person.safetensors", bytes: await embeddingFile(pipe, bytes) };
});
after(async () => {
  await studio?.close();
  await pipe?.dispose();
  rmSync(join(models, ".."), { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

/** Every error body: a message, the field, no stack trace. */
function assertError(r: { status: number; body: Record<string, any> }, status: number, field: string | null, message: RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.field, field);
  assert.match(r.body.error, message);
  assert.doesNotMatch(JSON.stringify(r.body), /\s+at \S+ \(|node_modules|\.ts:\d+/, "no stack trace in an answer");
}

test("GET /v1/options: the options schema as JSON Schema with this model's defaults; /v1/health", async () => {
  const doc = (await (await fetch(`${studio.url}/v1/options`)).json()) as any;
  assert.equal(doc.version, "v1");
  assert.deepEqual(Object.keys(doc.schema.properties), Object.keys(OPTION_SPECS));
  assert.equal(doc.schema.additionalProperties, false);
  const p = doc.schema.properties;
  assert.deepEqual([p.steps.type, p.steps.minimum, p.steps.maximum, p.steps.default], ["integer", 1, 100, 4]);
  assert.deepEqual([p.width.multipleOf, p.width.default, p.cfg.default, p.idScale.maximum], [8, 64, 1.2, 5]);
  assert.deepEqual(p.mode.enum, ["fidelity", "extremely-style"]);
  assert.equal(p.seed.default, undefined, "the seed is random per job");
  assert.equal(p.idScale["x-flag"], "--id-scale");
  const health = (await (await fetch(`${studio.url}/v1/health`)).json()) as any;
  assert.deepEqual([health.ok, health.version, health.queue.kind, health.queue.limit], [true, "v1", "local", 1]);
});

test("a job end to end: 202, progress over server-sent events, a PNG with its parameters, files under --data", async () => {
  const r = await postGenerate(studio.url, [face], { ...fast, steps: 3, num: 2, mode: "extremely-style" });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal(r.headers.get("location"), `/v1/jobs/${r.body.id}`);
  const events = await (await fetch(`${studio.url}/v1/jobs/${r.body.id}/events`)).text();
  const records = events.split("\n\n").filter((e) => e.startsWith("event: job")).map((e) => JSON.parse(e.split("\ndata: ")[1]!));
  assert.equal(records.at(-1).state, "done", "the stream ends with the final record");
  const fractions = records.map((x) => x.progress?.fraction ?? 0);
  assert.ok(fractions.some((f) => f > 0 && f < 1), `progress between 0 and 1 was sent: ${fractions}`);
  assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b), "progress never goes back");
  const job = await getJob(studio.url, r.body.id);
  assert.deepEqual(job.images.map((i) => i.seed), [3, 4]);
  assert.deepEqual(job.notes, ["id[1] (world-face.png): 2 faces found, the largest was used"]);
  const res = await fetch(`${studio.url}${job.images[1]!.url}`);
  assert.equal(res.headers.get("content-type"), "image/png");
  const params = JSON.parse(readPngText(new Uint8Array(await res.arrayBuffer())).parameters!);
  assert.deepEqual([params.seed, params.steps, params.mode, params.numZero, params.ortho], [4, 3, "extremely-style", 16, "v1"]);
  assert.deepEqual(readdirSync(join(data, "images")).filter((f) => f.startsWith(job.id)).sort(), [`${job.id}-0.png`, `${job.id}-1.png`]);
  assert.ok(!readdirSync(join(data, "jobs")).some((f) => f.endsWith(".tmp")), "no temporary file left behind");
});

test("an ID embedding file instead of photos", async () => {
  const r = await postGenerate(studio.url, [embedding], fast);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal((await waitFinal(studio.url, r.body.id)).state, "done");
});

test("4xx: oversized upload (413), a text file named .png (415), no face (422), a wrong embedding (422)", async () => {
  const big = new Uint8Array(300 << 10);
  big.set(face.bytes.subarray(0, 8));
  assertError(await postGenerate(studio.url, [{ field: "id", name: "big.png", bytes: big }], fast), 413, "id", /id: the file is larger than the upload limit of 0\.2 MiB/);
  assertError(await postGenerate(studio.url, [{ field: "id", name: "notes.png", bytes: new TextEncoder().encode("just text") }], fast), 415, "id", /id\[1\] \(notes\.png\): not a PNG, JPEG or WebP image/);
  assertError(await postGenerate(studio.url, [face, { field: "id", name: "dark.png", bytes: await blackPng() }], fast), 422, "id", /id\[2\] \(dark\.png\): no face found/);
  const truncated = face.bytes.subarray(0, 200);
  assertError(await postGenerate(studio.url, [{ field: "id", name: "cut.png", bytes: truncated }], fast), 422, "id", /id\[1\] \(cut\.png\)/);
  const other = await embeddingFile(pipe, face.bytes, "sha256s:0000000000000000");
  assertError(await postGenerate(studio.url, [{ field: "id_embedding", name: "other.safetensors", bytes: other }], fast), 422, "id_embedding", /another adapter/);
  assertError(await postGenerate(studio.url, [{ field: "id_embedding", name: "x.safetensors", bytes: face.bytes }], fast), 422, "id_embedding", /x\.safetensors/);
});

test("4xx: each option out of range names the option and its range (400)", async () => {
  const bad: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(OPTION_SPECS)) {
    const js = s.schema.toJSONSchema() as { minimum?: number; maximum?: number };
    if (s.kind === "enum") bad[name] = "bogus";
    else if (s.kind === "boolean") bad[name] = "yes";
    else if (s.kind === "string") bad[name] = 42;
    else bad[name] = js.maximum! + (s.kind === "int" ? 1 : 0.5);
  }
  for (const [name, value] of Object.entries(bad)) {
    const spec = OPTION_SPECS[name as keyof typeof OPTION_SPECS];
    const r = await postGenerate(studio.url, [face], { [name]: value });
    assertError(r, 400, name, new RegExp(`^${name} \\(--${spec.flag}\\) must be ${spec.range.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}, got`));
  }
  assertError(await postGenerate(studio.url, [face], { steps: 0 }), 400, "steps", /from 1 to 100, got 0/);
  assertError(await postGenerate(studio.url, [face], { width: 100 }), 400, "width", /multiple of 8/);
  const two = await postGenerate(studio.url, [face], { cfg: 0, idScale: -1 });
  assertError(two, 400, "cfg", /2 bad options/);
  assert.deepEqual(two.body.issues.map((i: { field: string }) => i.field), ["cfg", "idScale"]);
  assertError(await postGenerate(studio.url, [face], { colour: "red" }), 400, "colour", /unknown option 'colour'/);
  assertError(await postGenerate(studio.url, [face], "{not json"), 400, "options", /options must be a JSON object/);
  assertError(await postGenerate(studio.url, [face], "[1]"), 400, "options", /JSON object/);
});

test("4xx: the form itself (no ID, both kinds, too many photos, an unknown field, not multipart)", async () => {
  assertError(await postGenerate(studio.url, [], fast), 400, "id", /give 1 to 4 ID photos/);
  assertError(await postGenerate(studio.url, [face, embedding], fast), 400, "id", /not both/);
  assertError(await postGenerate(studio.url, [face, face, face, face, face], fast), 400, "id", /at most 4 ID photos, got 5/);
  const form = new FormData();
  form.append("photo", new Blob([new Uint8Array(face.bytes)]), "a.png");
  const res = await fetch(`${studio.url}/v1/generate`, { method: "POST", body: form });
  assertError({ status: res.status, body: (await res.json()) as Record<string, any> }, 400, "photo", /unknown file field 'photo'/);
  const json = await fetch(`${studio.url}/v1/generate`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  assertError({ status: json.status, body: (await json.json()) as Record<string, any> }, 415, null, /multipart\/form-data/);
});

test("4xx: unknown job and image (404) for every route that takes an id", async () => {
  for (const [method, path] of [["GET", "/v1/jobs/j0123456789abcdef"], ["GET", "/v1/jobs/nope/events"], ["DELETE", "/v1/jobs/../../etc"], ["GET", "/v1/images/j0123456789abcdef-0"], ["GET", "/v1/images/..%2Fjobs"]] as const) {
    const res = await fetch(`${studio.url}${path}`, { method });
    assertError({ status: res.status, body: (await res.json()) as Record<string, any> }, 404, res.url.includes("/etc") ? null : "id", /unknown (job|image)|no route/);
  }
});

test("queue full: 429 with Retry-After; cancelling a queued and a running job", async () => {
  // limit 1: one job running, one waiting, the third is refused.
  const slow = { steps: 40, seed: 1 };
  const a = await postGenerate(studio.url, [embedding], slow);
  const b = await postGenerate(studio.url, [embedding], slow);
  const c = await postGenerate(studio.url, [embedding], slow);
  assert.deepEqual([a.status, b.status], [202, 202]);
  assertError(c, 429, null, /the queue is full \(1 jobs waiting\)/);
  assert.match(c.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
  const queued = (await (await fetch(`${studio.url}/v1/jobs/${b.body.id}`, { method: "DELETE" })).json()) as any;
  assert.equal(queued.state, "cancelled");
  // Wait until the first job has made progress, then cancel it mid-run.
  for (let r = await getJob(studio.url, a.body.id); !(r.progress && r.progress.step >= 1); r = await getJob(studio.url, a.body.id)) await new Promise((res) => setTimeout(res, 20));
  await fetch(`${studio.url}/v1/jobs/${a.body.id}`, { method: "DELETE" });
  const ended = await waitFinal(studio.url, a.body.id);
  assert.deepEqual([ended.state, ended.images], ["cancelled", []]);
  // The queue is free again: the cancelled job's slot was released.
  const d = await postGenerate(studio.url, [embedding], fast);
  assert.equal(d.status, 202);
  assert.equal((await waitFinal(studio.url, d.body.id)).state, "done");
});

test("restart: finished jobs are still served from --data; a job in flight is reported as failed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-restart-"));
  try {
    const first = await startLocalStudio(pipe, { data: dir });
    const done = await postGenerate(first.url, [embedding], fast);
    const finished = await waitFinal(first.url, done.body.id);
    const png = new Uint8Array(await (await fetch(`${first.url}${finished.images[0]!.url}`)).arrayBuffer());
    const inFlight = await postGenerate(first.url, [embedding], { steps: 60 });
    for (let r = await getJob(first.url, inFlight.body.id); r.state !== "running"; r = await getJob(first.url, inFlight.body.id)) await new Promise((res) => setTimeout(res, 20));
    await first.close();

    const second = await startLocalStudio(pipe, { data: dir });
    try {
      const again = await getJob(second.url, done.body.id);
      assert.deepEqual(again, finished);
      assert.deepEqual(new Uint8Array(await (await fetch(`${second.url}${finished.images[0]!.url}`)).arrayBuffer()), png);
      const lost = await getJob(second.url, inFlight.body.id);
      assert.equal(lost.state, "failed");
      assert.match(lost.error!, /the server restarted while this job was queued or running/);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
