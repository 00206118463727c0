import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import sharp from "sharp";
import { faceCommand } from "../../src/cli/commands/face.ts";
import { UsageError } from "../../src/cli/command.ts";
import { FaceError, faceModelPaths, type RgbImage } from "../../src/face/index.ts";
import { writeFakeScrfd } from "./fake-onnx.ts";
import { testImage } from "./helpers.ts";

let dir = "", models = "", good = "", tiny = "";

async function writePng(path: string, img: RgbImage): Promise<void> {
  await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(path);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "pulid-cli-face-"));
  models = join(dir, "models");
  const scrfd = faceModelPaths(models).scrfd;
  mkdirSync(dirname(scrfd), { recursive: true });
  // Two faces in the 640 canvas; a 640x640 photo has det_scale 1, so these are photo pixels.
  writeFakeScrfd(scrfd, [
    { box: [100, 100, 180, 200], stride: 8, score: 0.8 },
    { box: [300, 200, 460, 400], stride: 16, score: 0.95 },
  ]);
  good = join(dir, "good.png");
  await writePng(good, testImage(640, 640));
  tiny = join(dir, "tiny.png"); // 8x8: the planted boxes shrink to ~1 px -> face_too_small
  await writePng(tiny, testImage(8, 8));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command in-process, capturing console output. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const log = console.log, error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    return { code: await faceCommand.run(argv), out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test("face detect --json: boxes and landmarks per photo, the failed photo named with its reason, exit 1", async () => {
  const missing = join(dir, "missing.jpg");
  const r = await run(["detect", good, missing, tiny, "--models", models, "--json"]);
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.out) as { photos: any[] };
  assert.deepEqual(doc.photos.map((p) => [p.photo, p.ok]), [[good, true], [missing, false], [tiny, false]]);
  const g = doc.photos[0];
  assert.equal(g.faces.length, 2);
  assert.deepEqual(g.faces[0].box, [300, 200, 460, 400]);
  assert.deepEqual(g.faces[1].box, [100, 100, 180, 200]);
  assert.equal(g.chosen, 0);
  assert.equal(g.faces[0].kps.length, 10);
  assert.equal(doc.photos[1].code, "unreadable");
  assert.ok(doc.photos[1].error.includes(missing));
  assert.equal(doc.photos[2].code, "face_too_small");
});

test("face detect text output marks the chosen face; --one-face fails a two-face photo", async () => {
  const r = await run(["detect", good, "--models", models]);
  assert.equal(r.code, 0);
  assert.match(r.out, /good\.png: 2 faces \(detection size 640\)/);
  assert.match(r.out, /\* box \[300, 200, 460, 400\] score 0\.95/);
  const one = await run(["detect", good, "--models", models, "--one-face"]);
  assert.equal(one.code, 1);
  assert.match(one.err, /good\.png: 2 faces found; the largest would be \[300, 200, 460, 400\].*\[several_faces\]/);
  assert.match(one.err, /1 of 1 photo failed: .*good\.png/);
});

test("face: help, usage errors, and missing models listing where the file goes", async () => {
  const h = await run(["detect", "--help"]);
  assert.equal(h.code, 0);
  assert.match(h.out, /pulid face detect PHOTO\.\.\. --models DIR/);
  assert.equal((await run([])).code, 2);
  await assert.rejects(run(["detect", good]), (e: unknown) => e instanceof UsageError && /--models/.test(e.message));
  await assert.rejects(run(["detect", "--models", models]), (e: unknown) => e instanceof UsageError && /PHOTO/.test(e.message));
  await assert.rejects(run(["frobnicate"]), UsageError);
  const empty = join(dir, "no-models");
  await assert.rejects(run(["detect", good, "--models", empty]), (e: unknown) =>
    e instanceof FaceError && e.code === "missing_model_files" && e.message.includes(faceModelPaths(empty).scrfd) && !e.message.includes("glintr100"));
});

test("pulid face detect through the real entry point: exit code 1 and the failing photo on stderr", async () => {
  const missing = join(dir, "gone.webp");
  const res = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/cli/main.ts", "face", "detect", good, missing, "--models", models], (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? -1) : 0, stdout, stderr }));
  });
  assert.equal(res.code, 1, res.stderr);
  assert.match(res.stdout, /good\.png: 2 faces/);
  assert.match(res.stderr, /gone\.webp: file not found \[unreadable\]/);
});
