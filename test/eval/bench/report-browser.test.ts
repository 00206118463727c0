/**
 * report.html in a real browser (Debian's chromium driven by playwright-core, headless, no sandbox, as the
 * studio's browser test): a small report written by `writeReport` from real PNGs and a real sweep plot opens
 * from a file with every image decoded, the expected headings and tables, and the plot's marks present.
 * Skipped (with the reason) where /usr/bin/chromium is missing; .ci/run installs it.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { writeReport, type GridRow } from "../../../src/eval/bench/report.ts";
import { renderSweepSvg, type SweepPoint } from "../../../src/eval/bench/sweep-plot.ts";
import { encodePng, reportThumbnail } from "../../../src/eval/bench/image-cache.ts";
import { renderToRgb } from "../../../src/eval/bench/plan.ts";
import type { BenchResults, MethodResult } from "../../../src/eval/bench/run-bench.ts";
import { renderFace } from "../../../src/world/render.ts";
import { identityAt } from "../../../src/world/identity.ts";
import { withDefaults } from "../../../src/world/attributes.ts";

const CHROMIUM = "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does)`;

let dir = "";
let browser: Browser;

const method = (faceSim: number, paper: MethodResult["paper"]): MethodResult => ({
  label: "a method",
  adapter: null,
  options: { idScale: 0.8 },
  paper,
  face_sim: faceSim,
  clip_t: 27.5,
  clip_i: 0.8,
  face_rate: 1,
  face_sim_failures: 0,
  bg_disruption: 0.02,
  bg_feature_distance: 0.01,
  layout_iou: 0.9,
  face_area: 0.1,
  face_area_spread: 0.01,
  prompt_following: 0.7,
  prompt_following_by_category: { Common: 0.8, Style: null },
  face_sharpness: 500,
  face_sharpness_ratio: 0.9,
  identity_recovery: 0.5,
  images: 12,
});

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), "pulid-report-"));
  const png = async (id: number, style: "photo" | "pencil") => encodePng(renderToRgb(renderFace(identityAt(id), withDefaults({ style }), { size: 64, seed: 1 })));
  const grid: GridRow[] = [];
  for (const person of [0, 1]) {
    grid.push({ person, prompt: "portrait, pencil drawing", category: "Style", seed: 0, reference: await png(person, "photo"), cells: [{ method: "base", image: await png(9, "pencil") }, { method: "stage3", image: await reportThumbnail(await png(person, "pencil")) }] });
  }
  const sweep: SweepPoint[] = [0, 0.5, 1].map((s) => ({ method: "stage3", idScale: s, faceSim: 0.1 + 0.5 * s, clipI: 1 - 0.2 * s }));
  const results: BenchResults = {
    bench: "divid120",
    benchmark: "DivID-120",
    plan: { persons: 2, prompts: 1, seeds: 1, images_per_method: 4 },
    methods: { base: method(0.05, null), stage3: method(0.6, [0.733, 31.31, 0.812]) },
    sweep,
    generated: 8,
    reused: 0,
    seconds: 3,
  };
  writeFileSync(join(dir, "report.html"), writeReport(results, { grid, sweepSvg: await renderSweepSvg(sweep, "sweep") }));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
});
after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the report renders: headings, tables, every image decoded, the sweep plot drawn", { skip }, async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const failed: string[] = [];
  page.on("requestfailed", (r) => failed.push(r.url().slice(0, 80)));
  await page.goto(pathToFileURL(join(dir, "report.html")).href);
  await page.waitForLoadState("load");
  const headings = await page.$$eval("h1, h2", (hs) => hs.map((h) => h.textContent ?? ""));
  assert.deepEqual(headings, ["pulid eval: DivID-120", "Paper metrics", "Ground-truth measures", "Prompt following per category", "ID-weight sweep", "Images"]);
  const captions = await page.$$eval("caption", (cs) => cs.map((c) => c.textContent ?? ""));
  assert.ok(captions.some((c) => c.startsWith("Table 2 of the paper")), captions.join(" | "));
  // Our number beside the paper's in the stage3 row.
  const stage3 = await page.$$eval("table tbody tr", (rows) => rows.map((r) => r.textContent ?? "").find((t) => t.startsWith("stage3:")) ?? "");
  assert.match(stage3, /0\.600.*0\.733/);
  const imgs = await page.$$eval("img", (is) => is.map((i) => ({ ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth, alt: i.alt })));
  assert.equal(imgs.length, 6);
  for (const i of imgs) assert.ok(i.ok, `broken image: ${i.alt}`);
  assert.ok(imgs.every((i) => i.w === 64));
  const marks = await page.$$eval("#sweep-plot svg path, #sweep-plot svg text", (e) => e.length);
  assert.ok(marks > 5, `the plot has ${marks} marks`);
  const box = await page.$eval("#sweep-plot svg", (s) => s.getBoundingClientRect().width);
  assert.ok(box > 200, `plot width ${box}`);
  assert.deepEqual(failed, []);
  await page.close();
});
