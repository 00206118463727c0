/**
 * The page in a real browser (Debian's chromium, driven by playwright-core, headless): a world face uploaded
 * shows its face box, a generation's progress bar moves and the gallery fills, a screenshot is saved to
 * out/test/studio-browser.png, and an out-of-range value shows the server's message next to its control.
 * Skipped (with the reason) where /usr/bin/chromium is missing; .ci/run installs it.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import type { PulidPipeline } from "../../src/pulid/index.ts";
import { blackPng, openTinyPipeline, startLocalStudio, worldFacePng, writeStudioModels, type RunningStudio } from "./studio-fixture.ts";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = resolve(import.meta.dirname, "..", "..", "out", "test", "studio-browser.png");
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does)`;

let models = "";
let files = "";
let pipe: PulidPipeline;
let studio: RunningStudio;
let browser: Browser;
let page: Page;

before(async () => {
  if (skip) return;
  models = await writeStudioModels();
  pipe = await openTinyPipeline(models);
  studio = await startLocalStudio(pipe);
  files = mkdtempSync(join(tmpdir(), "pulid-browser-"));
  writeFileSync(join(files, "world-face.png"), await worldFacePng(3));
  writeFileSync(join(files, "dark.png"), await blackPng());
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(studio.url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
});
after(async () => {
  await browser?.close();
  await studio?.close();
  await pipe?.dispose();
  if (models) rmSync(join(models, ".."), { recursive: true, force: true });
  if (files) rmSync(files, { recursive: true, force: true });
});

test("the controls come from /v1/options with the model's defaults", { skip }, async () => {
  assert.equal(await page.inputValue("#opt-steps"), "4");
  assert.equal(await page.inputValue("#opt-cfg"), "1.2");
  assert.equal(await page.inputValue("#opt-width"), "64");
  assert.equal(await page.getAttribute("#opt-width", "step"), "8");
  assert.equal(await page.inputValue("#opt-mode"), "fidelity");
  assert.equal(await page.inputValue("#opt-seed"), "");
  assert.ok(await page.isVisible("#opt-idMix"));
});

test("a photo without a face says so under its preview", { skip }, async () => {
  await page.setInputFiles("#id-input", join(files, "dark.png"));
  await page.waitForSelector(".preview.no-face", { timeout: 30_000 });
  assert.match(await page.textContent(".preview .preview-note") ?? "", /no face found/);
});

test("upload a world face, generate: the progress bar moves, the gallery fills, a screenshot is saved", { skip, timeout: 120_000 }, async () => {
  await page.setInputFiles("#id-input", join(files, "world-face.png"));
  await page.waitForSelector(".preview.has-face", { timeout: 30_000 });
  assert.match(await page.textContent(".preview .preview-note") ?? "", /2 faces found, the largest \(green\) is used/);
  await page.fill("#opt-steps", "10");
  await page.fill("#opt-num", "2");
  await page.fill("#opt-seed", "7");
  // Record every value the progress bar takes (set through its attribute by the page).
  await page.evaluate(() => {
    const w = window as unknown as { seen: number[] };
    w.seen = [];
    new MutationObserver((ms) => {
      for (const m of ms) if (m.target instanceof HTMLProgressElement) w.seen.push(Number(m.target.getAttribute("value")));
    }).observe(document.getElementById("jobs")!, { subtree: true, attributes: true, attributeFilter: ["value"] });
  });
  await page.click("#generate");
  await page.waitForSelector("#gallery figure:nth-child(2) img", { timeout: 90_000 });
  await page.waitForFunction(() => [...document.querySelectorAll("#gallery img")].every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0));
  const seen = await page.evaluate(() => (window as unknown as { seen: number[] }).seen);
  assert.ok(seen.some((v) => v > 0 && v < 1), `the bar only showed ${JSON.stringify(seen)}`);
  assert.equal(seen.at(-1), 1);
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b), "the bar never goes back");
  const captions = await page.$$eval("#gallery figcaption", (els) => els.map((e) => e.textContent));
  assert.deepEqual(captions.sort(), ["seed 7 · PNG", "seed 8 · PNG"]);
  assert.match(await page.textContent("#jobs li .job-state") ?? "", /^done: 2 images/);
  assert.equal(await page.getAttribute("#gallery figure a", "download"), "pulid_7.png", "a job's images in order");
  mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.ok(existsSync(SCREENSHOT));
});

test("an out-of-range value shows the server's message next to its control", { skip }, async () => {
  await page.fill("#opt-idScale", "7");
  await page.click("#generate");
  await page.waitForFunction(() => document.getElementById("err-idScale")!.textContent !== "");
  assert.equal(await page.textContent("#err-idScale"), "idScale (--id-scale) must be a number from 0 to 5, got 7");
  assert.equal(await page.textContent("#err-form"), "");
  const besideItsControl = await page.evaluate(() => document.getElementById("err-idScale")!.parentElement!.contains(document.getElementById("opt-idScale")));
  assert.ok(besideItsControl);
  assert.equal(await page.getAttribute("#opt-idScale", "aria-invalid"), "true");
});
