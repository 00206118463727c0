/**
 * Scaling out on Redis: a redis-server started by the test on a loopback port, the studio with `--queue redis://`
 * (a RedisQueue in this process) and two `pulid worker` processes sharing 20 jobs. One worker is killed (SIGKILL)
 * in the middle of a job; BullMQ's stalled-job check hands that job to the other worker, and every job
 * completes exactly once (counted from BullMQ's own completion events). Also: cancelling a running job reaches
 * its worker. Skipped (with the reason) where redis-server is missing; .ci/run installs it.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { QueueEvents } from "bullmq";
import type { PulidPipeline } from "../../src/pulid/index.ts";
import { JobBook, RedisQueue } from "../../src/server/index.ts";
import { embeddingFile, getJob, listen, openTinyPipeline, postGenerate, waitFinal, worldFacePng, writeStudioModels, type RunningStudio, type Upload } from "./studio-fixture.ts";

const REDIS = "/usr/bin/redis-server";
const ROOT = resolve(import.meta.dirname, "..", "..");
const QUEUE = "studio-test";
const skip = existsSync(REDIS) ? false : `${REDIS} is not installed (apt-get install redis-server; .ci/run does)`;

/** A child process with its stdout lines collected, and a way to wait for a line. */
interface Child {
  proc: ChildProcess;
  lines: string[];
  waitFor(re: RegExp, timeoutMs: number, from?: number): Promise<string>;
}

function start(cmd: string, args: string[]): Child {
  const proc = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let err = "";
  let buf = "";
  proc.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split("\n");
    buf = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return {
    proc,
    lines,
    async waitFor(re, timeoutMs, from = 0) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = lines.slice(from).find((l) => re.test(l));
        if (hit) return hit;
        if (proc.exitCode !== null || Date.now() > end) throw new Error(`no line ${re} from ${cmd} ${args[2] ?? ""} (exit ${proc.exitCode}); stdout:\n${lines.join("\n")}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

let models = "";
let data = "";
let url = "";
let pipe: PulidPipeline;
let redis: Child;
let studio: RunningStudio;
let embedding: Upload;
const workers: Child[] = [];

const startWorker = () =>
  start(process.execPath, ["--import", "tsx", "src/cli/main.ts", "worker", "--queue", url, "--queue-name", QUEUE, "--models", models, "--threads", "1", "--lock-ms", "4000"]);

before(async () => {
  if (skip) return;
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  data = mkdtempSync(join(tmpdir(), "pulid-redis-"));
  redis = start(REDIS, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", data]);
  await redis.waitFor(/Ready to accept connections/, 20_000);
  models = await writeStudioModels();
  pipe = await openTinyPipeline(models);
  const book = new JobBook(join(data, "studio"));
  studio = await listen(pipe, await RedisQueue.open(book, book.load(), { url, limit: 100, name: QUEUE }));
  embedding = { field: "id_embedding", name: "person.safetensors", bytes: await embeddingFile(pipe, await worldFacePng(4)) };
  workers.push(startWorker(), startWorker());
  await Promise.all(workers.map((w) => w.waitFor(/^pulid worker: ready/, 60_000)));
});
after(async () => {
  for (const w of workers) w.proc.kill("SIGTERM");
  await Promise.all(workers.map((w) => (w.proc.exitCode === null && w.proc.signalCode === null ? new Promise((r) => w.proc.once("exit", r)) : null)));
  await studio?.close();
  redis?.proc.kill("SIGTERM");
  await pipe?.dispose();
  if (models) rmSync(join(models, ".."), { recursive: true, force: true });
  if (data) rmSync(data, { recursive: true, force: true });
});

test("two workers share 20 jobs; one killed mid-job; every job completes exactly once", { skip, timeout: 240_000 }, async () => {
  const completions = new Map<string, number>();
  const events = new QueueEvents(QUEUE, { connection: { url, maxRetriesPerRequest: null } });
  events.on("completed", ({ jobId }) => completions.set(jobId, (completions.get(jobId) ?? 0) + 1));
  await events.waitUntilReady();
  try {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await postGenerate(studio.url, [embedding], { steps: 8, seed: 100 + i });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      ids.push(r.body.id);
    }
    // Kill worker A once it has finished two jobs and is in the middle of a third.
    const [a, b] = workers as [Child, Child];
    await a.waitFor(/^completed /, 120_000);
    const after2 = a.lines.map((l) => l.startsWith("completed ")).lastIndexOf(true) + 1;
    await a.waitFor(/^completed /, 120_000, after2);
    const mark = a.lines.length;
    const victim = (await a.waitFor(/^start /, 120_000, mark)).slice("start ".length);
    a.proc.kill("SIGKILL");
    await new Promise((r) => a.proc.once("exit", r));

    const finals = await Promise.all(ids.map((id) => waitFinal(studio.url, id, 180_000)));
    assert.deepEqual(finals.filter((f) => f.state !== "done").map((f) => [f.id, f.state, f.error]), []);
    assert.deepEqual(finals.map((f) => f.images.map((i) => i.seed)), ids.map((_, i) => [100 + i]));
    const done = (c: Child) => c.lines.filter((l) => l.startsWith("completed ")).map((l) => l.slice("completed ".length));
    assert.ok(done(a).length >= 2 && !done(a).includes(victim), `worker A completed ${done(a)}`);
    assert.ok(done(b).includes(victim), "the killed worker's job was completed by the other worker");
    assert.deepEqual([...done(a), ...done(b)].sort(), [...ids].sort(), "each job completed by exactly one worker, once");
    // BullMQ's own events: exactly one completion per job.
    for (let t = Date.now(); completions.size < 20 && Date.now() - t < 5000; ) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual([...completions.entries()].sort(), [...ids].sort().map((id) => [id, 1]));
    const png = await fetch(`${studio.url}${(await getJob(studio.url, victim)).images[0]!.url}`);
    assert.equal(png.headers.get("content-type"), "image/png");
  } finally {
    await events.close();
  }
});

test("cancelling a running job over Redis reaches its worker", { skip, timeout: 120_000 }, async () => {
  const b = workers[1]!;
  const r = await postGenerate(studio.url, [embedding], { steps: 100, num: 4 });
  for (let j = await getJob(studio.url, r.body.id); !(j.progress && j.progress.step >= 1); j = await getJob(studio.url, r.body.id)) await new Promise((res) => setTimeout(res, 25));
  const res = await fetch(`${studio.url}/v1/jobs/${r.body.id}`, { method: "DELETE" });
  assert.equal(((await res.json()) as { state: string }).state, "cancelled");
  await b.waitFor(new RegExp(`^failed ${r.body.id}: cancelled$`), 60_000);
  const j = await getJob(studio.url, r.body.id);
  assert.deepEqual([j.state, j.images], ["cancelled", []]);
});
