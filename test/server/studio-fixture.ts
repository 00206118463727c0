/**
 * What the studio tests share: a tiny random-weight PuLID v1 folder in the published layout (test/pulid's
 * writer) whose stand-in detector finds the planted faces only in photos that are not dark (so "no face" can be
 * tested with a black photo), a rendered world face, a studio on a loopback port, and small HTTP helpers.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { input, constant } from "../../src/engine/tensor.ts";
import * as ops from "../../src/engine/ops.ts";
import type { HostTensor } from "../../src/engine/host-tensor.ts";
import { lowerToOnnx, encodeModel } from "../../src/engine/onnx/lower.ts";
import { PulidPipeline, encodeIdEmbedding } from "../../src/pulid/index.ts";
import { renderFace, identityAt, withDefaults } from "../../src/world/index.ts";
import { buildStudio, JobBook, LocalQueue, type JobQueue, type JobRecord } from "../../src/server/index.ts";
import { craftScrfdOutputs } from "../face/scrfd-fake.ts";
import { writeTinyPulidFolder, PLANTED } from "../pulid/tiny-folder.ts";

/**
 * A detector (640x640 input, 9 outputs) reporting `PLANTED` with scores gated by the photo's brightness:
 * sigmoid(20 * (mean(blob) + 0.5)). SCRFD's blob is (pixel - 127.5) / 128, so a black photo (-1) scores ~0.
 */
function writeBrightnessScrfd(path: string): void {
  const x = input("input.1", [1, 3, 640, 640]);
  const m = ops.mean(x);
  const gate = ops.sigmoid(ops.mul(ops.add(m, 0.5), 20));
  const outs = craftScrfdOutputs(640, PLANTED).map((t, i) => (i < 3 ? ops.mul(constant(t as HostTensor), gate) : ops.add(constant(t as HostTensor), ops.mul(m, 0))));
  writeFileSync(path, encodeModel(lowerToOnnx({ inputs: [x.node], outputs: outs.map((t) => t.node) }).model));
}

/** Writes the tiny v1 models folder into a new temporary folder; returns its path. */
export async function writeStudioModels(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), "pulid-studio-")), "models");
  await writeTinyPulidFolder(dir, "v1", 5);
  writeBrightnessScrfd(join(dir, "antelopev2", "scrfd_10g_bnkps.onnx"));
  return dir;
}

async function png(width: number, height: number, rgb: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toBuffer());
}

/** A world face (identity `i`, default attributes) as a 128x128 PNG. */
export async function worldFacePng(i = 0): Promise<Uint8Array> {
  const f = renderFace(identityAt(i), withDefaults({}), { size: 128, seed: i });
  return png(f.width, f.height, Uint8Array.from(f.rgb, (v) => Math.round(v * 255)));
}

/** A black 128x128 PNG: the stand-in detector finds no face in it. */
export async function blackPng(): Promise<Uint8Array> {
  return png(128, 128, new Uint8Array(128 * 128 * 3));
}

export interface RunningStudio {
  url: string;
  queue: JobQueue;
  close(): Promise<void>;
}

/** Starts a studio with an in-process queue on 127.0.0.1 and a free port. */
export async function startLocalStudio(pipe: PulidPipeline, o: { data?: string; concurrency?: number; limit?: number; maxFileBytes?: number } = {}): Promise<RunningStudio> {
  const book = new JobBook(o.data ?? mkdtempSync(join(tmpdir(), "pulid-studio-data-")));
  const queue = new LocalQueue(book, pipe, { concurrency: o.concurrency ?? 1, limit: o.limit ?? 32 });
  await queue.recover(book.load());
  return listen(pipe, queue, o.maxFileBytes);
}

/** Serves `queue` on 127.0.0.1 and a free port. */
export async function listen(pipe: PulidPipeline, queue: JobQueue, maxFileBytes = 1 << 20): Promise<RunningStudio> {
  const app = await buildStudio({ pipe, queue, maxFileBytes });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return { url, queue, close: () => app.close() };
}

/** One file of a form. */
export interface Upload {
  field: "id" | "id_embedding";
  name: string;
  bytes: Uint8Array;
}

/** POSTs a generate form; `options` undefined leaves the field out, a string is sent as it is. */
export async function postGenerate(url: string, files: readonly Upload[], options?: unknown): Promise<{ status: number; body: Record<string, any>; headers: Headers }> {
  const form = new FormData();
  for (const f of files) form.append(f.field, new Blob([new Uint8Array(f.bytes)]), f.name);
  if (options !== undefined) form.append("options", typeof options === "string" ? options : JSON.stringify(options));
  const res = await fetch(`${url}/v1/generate`, { method: "POST", body: form });
  return { status: res.status, body: (await res.json()) as Record<string, any>, headers: res.headers };
}

export async function getJob(url: string, id: string): Promise<JobRecord> {
  return (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as JobRecord;
}

/** Polls a job until it is final (bounded: fails the test after `timeoutMs`). */
export async function waitFinal(url: string, id: string, timeoutMs = 60_000): Promise<JobRecord> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await getJob(url, id);
    if (r.state === "done" || r.state === "failed" || r.state === "cancelled") return r;
    if (Date.now() > end) throw new Error(`job ${id} still ${r.state} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Loads the tiny pipeline with one ONNX Runtime thread (the tests share two cores). */
export function openTinyPipeline(dir: string): Promise<PulidPipeline> {
  return PulidPipeline.fromPretrained(dir, { threads: 1 });
}

/** An ID embedding file's bytes for `photo` (optionally claiming another adapter). */
export async function embeddingFile(pipe: PulidPipeline, photo: Uint8Array, adapter?: string): Promise<Uint8Array> {
  const { embedding } = await pipe.encodeId([photo]);
  const info = adapter ? { ...embedding, fingerprints: { ...embedding.fingerprints, adapter } } : embedding;
  return new Uint8Array(Buffer.concat(encodeIdEmbedding(embedding.tokens, info)));
}
