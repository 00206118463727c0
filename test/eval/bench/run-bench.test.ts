/**
 * A whole `pulid eval` run at tiny size with the renderer as the generator (fake-generator.ts): the cache
 * resumes an interrupted run without redrawing anything, a finished run reruns from the cache alone, settings
 * that differ are refused, the ground-truth measures separate the ID from the stranger, and `--json` prints one
 * object with the shape as its last line. CLI usage errors are one line with exit code 2.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runBench, drawBenchShard, resolveMethods, type BenchRunOptions } from "../../../src/eval/bench/index.ts";
import { runEvalCommand } from "../../../src/cli/commands/eval.ts";
import { fakeGenerator } from "./fake-generator.ts";

const ROOT = resolve(import.meta.dirname, "..", "..", "..");
let dir = "";
let adapters = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "pulid-eval-"));
  adapters = join(dir, "adapters");
  mkdirSync(adapters);
  // The fake generator never reads them; resolveMethods only needs them to exist.
  for (const f of ["stage1.safetensors", "stage3.safetensors"]) writeFileSync(join(adapters, f), "");
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const PLAN = { persons: 2, prompts: 2, seeds: 2 };
// 2 persons x (Face Sim prompt + 2 prompts) x 2 seeds = 12 images per method; sweep: 1 person x 3 items x 2 new weights.
const PER_METHOD = 12;
const opts = (out: string, over: Partial<BenchRunOptions> = {}): BenchRunOptions => ({
  bench: "divid120",
  plan: PLAN,
  methods: resolveMethods(["base", "stage1", "stage3"], adapters),
  generator: fakeGenerator("divid120"),
  perception: join(ROOT, "models", "world"),
  out,
  models: "fake",
  sweep: { scales: [0, 0.3, 0.8, 1.2], persons: 1 },
  gallery: 40,
  ...over,
});
const TOTAL = 3 * PER_METHOD + 2 * 2 * 3;
const near = (a: number | null, b: number) => a !== null && Math.abs(a - b) < 1e-6;

test("an interrupted run resumes without redrawing; a finished one reruns from the cache alone", async () => {
  const out = join(dir, "resume");
  const stop = new AbortController();
  const first = fakeGenerator("divid120");
  await assert.rejects(
    runBench(opts(out, { generator: first, signal: stop.signal, onProgress: (done) => done === 10 && stop.abort() })),
    (e: Error & { code?: string }) => e.code === "aborted" && /run the same command again/.test(e.message),
  );
  assert.equal(first.calls.length, 10);
  const second = fakeGenerator("divid120");
  const r = await runBench(opts(out, { generator: second }));
  assert.equal(second.calls.length, TOTAL - 10, "only the missing images are drawn");
  assert.equal(r.generated, TOTAL - 10);
  assert.equal(r.reused, 10);
  const third = fakeGenerator("divid120", { failAfter: 0 });
  const again = await runBench(opts(out, { generator: third }));
  assert.equal(third.calls.length, 0);
  assert.deepEqual(again.methods, r.methods, "the same numbers from the cached images");
  for (const f of ["results.json", "report.html", "sweep.png"]) assert.ok(existsSync(join(out, f)), f);
  assert.deepEqual(readdirSync(join(out, "images")).sort(), ["base", "stage1", "stage3"]);

  // The base is drawn with a stranger, stage1/stage3 with the person: the measures must tell them apart.
  const { base, stage3 } = r.methods;
  assert.ok(base && stage3);
  assert.ok(stage3.face_sim! > base.face_sim! + 0.1, `Face Sim stage3 ${stage3.face_sim} vs base ${base.face_sim}`);
  assert.ok(near(base.clip_i, 1));
  assert.ok(stage3.clip_i! < 1);
  assert.equal(base.bg_disruption, 0);
  assert.ok(stage3.bg_disruption! >= 0 && stage3.bg_disruption! < 0.05, `same scene: small disruption, got ${stage3.bg_disruption}`);
  assert.equal(stage3.face_rate, 1);
  assert.ok(stage3.identity_recovery! > base.identity_recovery!);
  assert.deepEqual(stage3.paper, [0.733, 31.31, 0.812]);
  assert.equal(base.paper, null);
  // The sweep: every method at every weight; at 0 it is the base.
  assert.equal(r.sweep.length, 2 * 4);
  const s0 = r.sweep.find((p) => p.method === "stage3" && p.idScale === 0)!;
  assert.ok(near(s0.clipI, 1));
  const s12 = r.sweep.find((p) => p.method === "stage3" && p.idScale === 1.2)!;
  assert.ok(s12.faceSim! > s0.faceSim!);
});

test("a cache made with other settings is refused, naming the field", async () => {
  const out = join(dir, "mismatch");
  await runBench(opts(out, { methods: resolveMethods(["base"], adapters), sweep: null }));
  await assert.rejects(runBench(opts(out, { methods: resolveMethods(["base"], adapters), sweep: null, models: "other" })), /models = "fake", this run has "other"/);
  // A retrained adapter at the same path is another adapter.
  const own = join(dir, "own-adapters");
  mkdirSync(own);
  writeFileSync(join(own, "stage1.safetensors"), "first");
  const run = () => runBench(opts(join(dir, "retrained"), { methods: resolveMethods(["base", "stage1"], own), plan: { persons: 1, prompts: 1, seeds: 1 }, sweep: null }));
  await run();
  writeFileSync(join(own, "stage1.safetensors"), "second");
  await assert.rejects(run(), (e: Error & { code?: string }) => e.code === "cache_mismatch" && /adapter = /.test(e.message));
});

test("shards draw disjoint parts of a run that together make the whole; the measuring run then draws nothing", async () => {
  const out = join(dir, "shards");
  const key = (j: { adapterPath: string | undefined; personKey: string; prompt: string; seed: number; options: unknown }) => JSON.stringify([j.adapterPath, j.personKey, j.prompt, j.seed, j.options]);
  const gens = [0, 1, 2].map(() => fakeGenerator("divid120"));
  const drawn = await Promise.all(gens.map((g, index) => drawBenchShard(opts(out, { generator: g }), { index, count: 3 })));
  const keys = gens.flatMap((g) => g.calls.map(key));
  assert.equal(keys.length, TOTAL, "every image drawn once across the shards");
  assert.equal(new Set(keys).size, TOTAL, "no image drawn by two shards");
  for (const [k, g] of gens.entries()) {
    assert.ok(g.calls.length >= Math.floor(TOTAL / 3) && g.calls.length <= Math.ceil(TOTAL / 3), `shard ${k}: ${g.calls.length} images`);
    assert.equal(drawn[k]!.drawn, g.calls.length);
  }
  const measure = fakeGenerator("divid120", { failAfter: 0 });
  const r = await runBench(opts(out, { generator: measure }));
  assert.equal(measure.calls.length, 0);
  assert.equal(r.reused, TOTAL);
  const whole = await runBench(opts(join(dir, "unsharded")));
  assert.deepEqual(r.methods, whole.methods, "the same numbers as an unsharded run");
  await assert.rejects(drawBenchShard(opts(out), { index: 3, count: 3 }), /index must be in 1\.\.count/);
});

test("pulid eval --json: the last line is one object with the issue's keys per method", async () => {
  const out = join(dir, "json");
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  let code: number;
  try {
    code = await runEvalCommand(["--bench", "unsplash50", "--out", out, "--methods", "base,stage1,stage3", "--adapters", adapters, "--persons", "1", "--seeds", "1", "--quick", "--sweep", "0,1", "--gallery", "60", "--json"], {
      generator: () => fakeGenerator("unsplash50"),
    });
  } finally {
    console.log = log;
  }
  assert.equal(code, 0);
  const j = JSON.parse(lines.at(-1)!) as { bench: string; methods: Record<string, Record<string, unknown>> };
  assert.equal(j.bench, "unsplash50");
  assert.deepEqual(Object.keys(j.methods), ["base", "stage1", "stage3"]);
  for (const m of Object.values(j.methods)) {
    for (const k of ["face_sim", "clip_t", "clip_i", "face_rate", "bg_disruption", "layout_iou", "prompt_following", "face_sharpness", "identity_recovery", "face_area_spread"]) {
      assert.ok(k in m, `missing ${k}`);
      assert.ok(m[k] === null || typeof m[k] === "number", `${k} is ${typeof m[k]}`);
    }
  }
  assert.deepEqual(JSON.parse(readFileSync(join(out, "results.json"), "utf8")).methods, j.methods);
});

test("pulid eval: --help, and usage errors are one line with exit code 2", () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src", "cli", "main.ts"), "eval", ...args], { cwd: ROOT, encoding: "utf8" });
  const help = execFileSync(process.execPath, ["--import", "tsx", join(ROOT, "src", "cli", "main.ts"), "eval", "--help"], { cwd: ROOT, encoding: "utf8" });
  assert.match(help, /--adapters DIR/);
  assert.match(help, /stage1\.safetensors/);
  const badShard = cli(["--bench", "divid120", "--out", join(dir, "x"), "--shard", "3/2"]);
  assert.equal(badShard.status, 2);
  assert.equal(badShard.stderr.trim(), "pulid eval: --shard must be K/N with 1 <= K <= N <= 64, got '3/2'");
  const bad = cli(["--bench", "celeba", "--out", join(dir, "x")]);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim(), "pulid eval: --bench must be divid120 or unsplash50, got 'celeba'");
  const noAdapters = cli(["--bench", "divid120", "--out", join(dir, "x"), "--methods", "base,stage2"]);
  assert.equal(noAdapters.status, 1);
  assert.equal(noAdapters.stderr.trim(), "pulid eval: method stage2 needs --adapters DIR holding stage2.safetensors");
});
