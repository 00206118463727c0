/**
 * `pulid generate`, `pulid embed`, `pulid inspect` on a tiny random-weight models folder: the happy paths, and
 * every bad input of issue 13 with its exit code (1 failure, 2 usage) and a message naming the input.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCommand } from "../../src/cli/commands/generate.ts";
import { embedCommand } from "../../src/cli/commands/embed.ts";
import { inspectCommand } from "../../src/cli/commands/inspect.ts";
import { UsageError, type Command } from "../../src/cli/command.ts";
import { PulidError } from "../../src/engine/errors.ts";
import { readPngText } from "../../src/pulid/index.ts";
import { writeFakeScrfd } from "../face/fake-onnx.ts";
import { writeTinyPulidFolder, writePhotos } from "../pulid/tiny-folder.ts";

let root = "", models = "", v11 = "", out = "";
let photos = { face: "", other: "" };
before(async () => {
  root = mkdtempSync(join(tmpdir(), "pulid-cli-"));
  models = join(root, "models");
  v11 = join(root, "models-v11");
  await writeTinyPulidFolder(models, "v1", 3);
  await writeTinyPulidFolder(v11, "v1.1", 4);
  photos = await writePhotos(root);
  out = join(root, "out");
});
after(() => rmSync(root, { recursive: true, force: true }));

/** Runs a command in-process as `main` does: UsageError -> 2, PulidError -> 1, capturing the output. */
async function run(cmd: Command, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const o: string[] = [], e: string[] = [];
  const log = console.log, error = console.error;
  console.log = (...a: unknown[]) => void o.push(a.join(" "));
  console.error = (...a: unknown[]) => void e.push(a.join(" "));
  try {
    return { code: await cmd.run(argv), out: o.join("\n"), err: e.join("\n") };
  } catch (x) {
    if (x instanceof UsageError) return { code: 2, out: o.join("\n"), err: x.message };
    if (x instanceof PulidError) return { code: 1, out: o.join("\n"), err: x.message };
    throw x;
  } finally {
    console.log = log;
    console.error = error;
  }
}

const gen = (...a: string[]) => run(generateCommand, ["--models", models, "--out", out, ...a]);

test("generate: PNGs with every parameter and the seed, paths printed; --json is one object; several faces noted", async () => {
  const r = await gen("--id", photos.face, "--prompt", "a cat", "--seed", "7", "--num", "2", "--mode", "extremely-style");
  assert.equal(r.code, 0, r.err);
  const paths = r.out.split("\n");
  assert.deepEqual(paths, [join(out, "pulid_7.png"), join(out, "pulid_8.png")]);
  const p = JSON.parse(readPngText(readFileSync(paths[1]!)).parameters!);
  assert.deepEqual([p.seed, p.prompt, p.mode, p.numZero, p.ortho, p.steps, p.width], [8, "a cat", "extremely-style", 16, "v1", 4, 64]);
  assert.match(r.err, /face\.png: 2 faces found, the largest was used/);
  const j = await gen("--id", photos.face, "--seed", "3", "--json", "--sampler", "euler", "--steps", "2");
  assert.equal(j.code, 0, j.err);
  const doc = JSON.parse(j.out);
  assert.deepEqual(doc.images, [{ path: join(out, "pulid_3.png"), seed: 3 }]);
  assert.equal(doc.options.sampler, "euler");
});

test("generate --low-memory writes the same PNGs as without it", async () => {
  const args = ["--models", models, "--id", photos.face, "--seed", "11", "--num", "2"];
  const a = await run(generateCommand, [...args, "--out", join(root, "out-plain")]);
  const b = await run(generateCommand, [...args, "--out", join(root, "out-low"), "--low-memory"]);
  assert.equal(b.code, 0, b.err);
  assert.deepEqual(b.out.split("\n").map((f) => readFileSync(f)), a.out.split("\n").map((f) => readFileSync(f)));
});

test("generate: a random seed is recorded when none is given", async () => {
  const r = await gen("--id", photos.face, "--json");
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  assert.ok(Number.isSafeInteger(doc.options.seed));
  assert.equal(JSON.parse(readPngText(readFileSync(doc.images[0].path)).parameters!).seed, doc.options.seed);
});

test("generate: usage errors exit 2 naming the option and its range", async () => {
  const cases: [string[], RegExp][] = [
    [["--id", photos.face, "--width", "100"], /width \(--width\) must be a multiple of 8 from 64 to 4096, got 100/],
    [["--id", photos.face, "--height", "8192"], /height \(--height\) must be a multiple of 8 from 64 to 4096, got 8192/],
    [["--id", photos.face, "--mode", "artsy"], /mode \(--mode\) must be one of fidelity, extremely-style, got "artsy"/],
    [["--id", photos.face, "--sampler", "heun"], /sampler \(--sampler\) must be one of euler, euler_ancestral, dpmpp_2m, dpmpp_sde, lcm, ddim, got "heun"/],
    [["--id", photos.face, "--id-scale", "6"], /idScale \(--id-scale\) must be a number from 0 to 5, got 6/],
    [["--id", photos.face, "--id-scale", "strong"], /idScale \(--id-scale\) must be a number from 0 to 5, got "strong"/],
    [["--prompt", "x"], /give --id PHOTO/],
    [["--id", photos.face, "--bogus", "1"], /unknown option '--bogus'/],
  ];
  for (const [argv, re] of cases) {
    const r = await gen(...argv);
    assert.equal(r.code, 2, argv.join(" "));
    assert.match(r.err, re);
  }
});

test("generate: unreadable, truncated and non-image photos exit 1 naming the file", async () => {
  const truncated = join(root, "cut.png");
  writeFileSync(truncated, readFileSync(photos.face).subarray(0, 400));
  const text = join(root, "notes.jpg");
  writeFileSync(text, "this is not a picture\n");
  const missing = join(root, "missing.jpg");
  for (const [f, re] of [[missing, /file not found/], [truncated, /truncated|cannot decode/], [text, /not an image|cannot decode|unsupported/]] as const) {
    const r = await gen("--id", f);
    assert.equal(r.code, 1, f);
    assert.ok(r.err.includes(f), r.err);
    assert.match(r.err, re);
  }
});

test("generate: no face in the photo exits 1 naming the photo", async () => {
  const noFace = join(root, "models-noface");
  cpSync(models, noFace, { recursive: true });
  writeFakeScrfd(join(noFace, "antelopev2", "scrfd_10g_bnkps.onnx"), []);
  const r = await run(generateCommand, ["--models", noFace, "--out", out, "--id", photos.face]);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`${photos.face.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: no face found`));
});

test("generate: missing weights exit 1 listing every missing file", async () => {
  const r = await run(generateCommand, ["--models", join(root, "empty"), "--out", out, "--id", photos.face]);
  assert.equal(r.code, 1);
  assert.match(r.err, /15 model file\(s\) missing/);
  for (const f of ["sdxl/unet/config.json", "pulid_v1.bin", "antelopev2/scrfd_10g_bnkps.onnx", "antelopev2/glintr100.onnx", "eva-clip/EVA02_CLIP_L_336_psz14_s6B.pt", "facexlib/parsing_bisenet.pth"]) {
    assert.ok(r.err.includes(f), f);
  }
});

test("embed, then generate from the embedding; an embedding from another encoder is refused", async () => {
  const file = join(root, "person.safetensors");
  const e = await run(embedCommand, ["--models", models, "--id", photos.face, "--id", photos.other, "--out", file, "--json"]);
  assert.equal(e.code, 0, e.err);
  const doc = JSON.parse(e.out);
  assert.deepEqual([doc.version, doc.tokens, doc.photos], ["v1", [1, 15, 72], [photos.face, photos.other]]);
  const g = await gen("--id-embedding", file, "--seed", "1", "--json");
  assert.equal(g.code, 0, g.err);
  const p = JSON.parse(readPngText(readFileSync(JSON.parse(g.out).images[0].path)).parameters!);
  assert.deepEqual(p.id_embedding_photos, [photos.face, photos.other]);
  const other = await run(generateCommand, ["--models", v11, "--out", out, "--id-embedding", file]);
  assert.equal(other.code, 1);
  assert.match(other.err, /person\.safetensors: ID embedding made by a PuLID v1 encoder; these models are PuLID v1\.1/);
  const i = await run(inspectCommand, [file]);
  assert.match(i.out, /PuLID ID embedding \(v1, adapter sha256s:/);
});

test("inspect: a PuLID adapter, an SDXL UNet; hostile and broken files end with one line naming the file and the fault, exit 1", async () => {
  const a = await run(inspectCommand, [join(models, "pulid_v1.bin")]);
  assert.equal(a.code, 0, a.err);
  assert.match(a.out, /PyTorch zip checkpoint, \d+ tensors, [\d,]+ parameters \(float32\)/);
  assert.match(a.out, /architecture: PuLID v1 adapter: IDEncoder \(MLP, 10 tokens\) \+ ID attention projections for 17 cross-attention layers/);
  const u = await run(inspectCommand, [join(models, "sdxl", "unet", "diffusion_pytorch_model.fp16.safetensors"), "--json"]);
  const doc = JSON.parse(u.out);
  assert.equal(doc.architecture, "diffusers UNet2DConditionModel with text_time conditioning (SDXL)");
  assert.ok(doc.entries.some((t: { name: string; dtype: string }) => t.name === "conv_in.weight" && t.dtype === "float16"));
  const fixtures = join(import.meta.dirname, "..", "fixtures", "torch");
  const truncated = join(root, "cut.safetensors");
  const full = readFileSync(join(models, "sdxl", "unet", "diffusion_pytorch_model.fp16.safetensors"));
  writeFileSync(truncated, full.subarray(0, full.length - 100));
  const random = join(root, "random.bin");
  writeFileSync(random, Buffer.from(Array.from({ length: 4096 }, (_, k) => (k * 2654435761) >>> 24)));
  const inconsistent = join(root, "inconsistent.safetensors");
  const header = Buffer.from(JSON.stringify({ w: { dtype: "F32", shape: [4], data_offsets: [0, 8] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(inconsistent, Buffer.concat([len, header, Buffer.alloc(16)]));
  const cases: [string, RegExp][] = [
    [join(fixtures, "malicious.pt"), /'os\.system', which is not on the allow-list.*\[forbidden_global\]$/],
    [truncated, /\[truncated\]$/],
    [inconsistent, /needs 16 bytes, data_offsets span 8 \[bad_header\]$/],
    [random, /\[unknown_format\]$/],
    [join(fixtures, "legacy.pt"), /\[legacy_torch_format\]$/],
    [join(root, "nope.safetensors"), /\[file_not_found\]$/],
  ];
  for (const [f, re] of cases) {
    const r = await run(inspectCommand, [f]);
    assert.equal(r.code, 1, f);
    assert.equal(r.err.split("\n").length, 1, `one line for ${f}: ${r.err}`);
    assert.ok(r.err.startsWith(`pulid inspect: ${f}`), r.err);
    assert.match(r.err, re);
  }
  assert.ok(!readdirSync(root).includes("pwned"), "nothing ran");
});

test("the real CLI: exit code 2 for an option out of range, 0 for --help", async () => {
  const bin = join(import.meta.dirname, "..", "..", "bin", "pulid.mjs");
  const code = (args: string[]) =>
    new Promise<{ code: number; err: string }>((res) => execFile(process.execPath, [bin, ...args], (e, _o, err) => res({ code: e ? (e.code as number) : 0, err })));
  const bad = await code(["generate", "--id", photos.face, "--out", out, "--id-scale", "9"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /pulid generate: idScale \(--id-scale\) must be a number from 0 to 5, got 9/);
  assert.equal((await code(["inspect", "--help"])).code, 0);
});
