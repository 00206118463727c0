/**
 * `pulid serve` and `pulid worker` on the command line: usage errors name the flag (main prints them in one
 * line, exit 2), a missing models folder lists the files (exit 1), and `pulid serve` in a child process prints its address,
 * serves the page and the API, keeps finished jobs under --data, and stops cleanly on SIGTERM.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { UsageError, type Command } from "../../src/cli/command.ts";
import { serveCommand } from "../../src/cli/commands/serve.ts";
import { workerCommand } from "../../src/cli/commands/worker.ts";
import { PulidError } from "../../src/engine/errors.ts";
import { blackPng, postGenerate, waitFinal, worldFacePng, writeStudioModels } from "./studio-fixture.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");
const temp: string[] = [];
after(() => temp.forEach((d) => rmSync(d, { recursive: true, force: true })));

test("usage errors name the flag (exit 2); missing models list the files (exit 1)", async () => {
  const cases: [Command, string[], typeof UsageError | typeof PulidError, RegExp][] = [
    [workerCommand, [], UsageError, /^--queue redis:\/\/HOST:PORT is required$/],
    [workerCommand, ["--queue", "http://x"], UsageError, /--queue must be a redis:\/\/ URL, got 'http:\/\/x'/],
    [workerCommand, ["--queue", "redis://h:1", "--lock-ms", "5"], UsageError, /--lock-ms must be an integer in \[1000, 3600000\], got '5'/],
    [serveCommand, ["--port", "70000"], UsageError, /--port must be an integer in \[0, 65535\], got '70000'/],
    [serveCommand, ["--queue", "redis://h:1", "--concurrency", "2"], UsageError, /--concurrency is the in-process queue's/],
    [serveCommand, ["stray"], UsageError, /unexpected argument 'stray'/],
    [serveCommand, ["--port", "0", "--models", "/nonexistent-models", "--data", join(tmpdir(), "pulid-unused")], PulidError, /\/nonexistent-models: \d+ model file\(s\) missing/],
  ];
  for (const [cmd, args, type, re] of cases) await assert.rejects(cmd.run(args), (e: unknown) => e instanceof type && re.test((e as Error).message), `${cmd.name} ${args.join(" ")}`);
});

test("pulid serve prints its address, serves the page and the API, and stops on SIGTERM", { timeout: 120_000 }, async () => {
  const models = await writeStudioModels();
  const data = mkdtempSync(join(tmpdir(), "pulid-serve-data-"));
  temp.push(join(models, ".."), data);
  const proc = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", "--port", "0", "--models", models, "--data", data, "--threads", "1"], { cwd: ROOT });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once("exit", r));
  try {
    const end = Date.now() + 60_000;
    while (!/pulid studio: (http:\/\/127\.0\.0\.1:\d+)\//.test(out)) {
      assert.ok(Date.now() < end && proc.exitCode === null, `no address printed: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = /pulid studio: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)![1]!;
    const page = await fetch(`${url}/`);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await page.text(), /<title>PuLID studio<\/title>/);
    const noFace = await postGenerate(url, [{ field: "id", name: "dark.png", bytes: await blackPng() }], {});
    assert.equal(noFace.status, 422);
    const r = await postGenerate(url, [{ field: "id", name: "face.png", bytes: await worldFacePng(5) }], { steps: 1, seed: 2 });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal((await waitFinal(url, r.body.id)).state, "done");
    assert.deepEqual(readdirSync(join(data, "images")), [`${r.body.id}-0.png`]);
  } finally {
    proc.kill("SIGTERM");
  }
  assert.equal(await exited, 0, out);
});
