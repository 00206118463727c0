/**
 * The studio's HTTP API on Fastify (issue 16). Routes:
 *
 *   POST   /v1/generate         multipart: `id` photos (1-4) or one `id_embedding`, `options` JSON -> 202 {id}
 *   GET    /v1/jobs             the newest jobs
 *   GET    /v1/jobs/:id         state, progress, images, seeds, error
 *   GET    /v1/jobs/:id/events  server-sent events of the same record
 *   DELETE /v1/jobs/:id         cancel
 *   GET    /v1/images/:id       a PNG with its parameters embedded
 *   POST   /v1/faces            multipart `id`: the faces found (the page's preview), or why none
 *   GET    /v1/options          the options as JSON Schema with this model's defaults
 *   GET    /v1/health
 *   GET    /, /app.js, ...      the page (web/)
 *
 * Bad input is a 4xx `{error, field, issues}` naming the field; anything unexpected is a 500 without details.
 */
import Fastify, { type FastifyInstance } from "fastify";
import multipart from "@fastify/multipart";
import type { PulidPipeline } from "../pulid/index.ts";
import { HttpError } from "./http-error.ts";
import type { JobQueue } from "./job-queue.ts";
import { readForm } from "./multipart-form.ts";
import { checkPhoto, fileLabel, GENERATE_FIELDS, MAX_PHOTOS, readSubmission } from "./submission.ts";
import { optionsDocument } from "./options-schema.ts";
import { streamJobEvents } from "./job-events.ts";
import { loadWebFiles } from "./web-files.ts";

export interface StudioOptions {
  pipe: PulidPipeline;
  queue: JobQueue;
  /** Largest upload per file, bytes. */
  maxFileBytes: number;
  /** Folder of the page (default: this repository's web/). */
  webDir?: string;
  /** Fastify's logger (pino) settings; false for none. */
  logger?: boolean | { level: string };
}

/** Default upload limit per file: 10 MiB (a phone photo is 2-5 MB). */
export const DEFAULT_MAX_FILE_BYTES = 10 << 20;

const unknownJob = (id: string) => new HttpError(404, "id", `unknown job '${id}'`);

/** Builds the studio app (not listening yet). */
export async function buildStudio(o: StudioOptions): Promise<FastifyInstance> {
  const { pipe, queue } = o;
  const book = queue.book;
  // forceCloseConnections: open event streams must not hold up a shutdown.
  const app = Fastify({ logger: o.logger ?? false, forceCloseConnections: true });
  await app.register(multipart, { limits: { fileSize: o.maxFileBytes, files: MAX_PHOTOS + 1, fields: 4, parts: MAX_PHOTOS + 5, fieldSize: 1 << 20 } });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof HttpError) {
      if (err.retryAfterS !== undefined) void reply.header("retry-after", String(err.retryAfterS));
      return reply.code(err.status).send(err.body());
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) return reply.code(status).send({ error: (err as Error).message, field: null, issues: [] });
    req.log.error(err);
    return reply.code(500).send({ error: "internal error (the server log has the details)", field: null, issues: [] });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split("?")[0]}`, field: null, issues: [] }));

  const web = loadWebFiles(o.webDir);
  for (const [url, f] of web) app.get(url, (_req, reply) => reply.type(f.type).send(f.body));

  app.get("/v1/health", async () => ({ ok: true, version: pipe.version, models: pipe.models.dir, queue: await queue.stats() }));
  app.get("/v1/options", async () => optionsDocument(pipe, o.maxFileBytes));

  app.post("/v1/generate", async (req, reply) => {
    const form = await readForm(req, GENERATE_FIELDS, o.maxFileBytes);
    const { input, options } = await readSubmission(form, pipe);
    const record = await queue.submit(input, options);
    return reply.code(202).header("location", `/v1/jobs/${record.id}`).send({ id: record.id, state: record.state, seed: record.options.seed });
  });

  app.post("/v1/faces", async (req) => {
    const form = await readForm(req, { files: ["id"], fields: [] }, o.maxFileBytes);
    const f = form.files[0];
    if (!f || form.files.length > 1) throw new HttpError(400, "id", "send one photo as the file field 'id'");
    const { image, detection } = await checkPhoto(pipe, f, fileLabel(f, 0));
    const faces = detection.faces.map((d) => ({ box: [...d.box], kps: [...d.kps], score: d.score }));
    return { width: image.width, height: image.height, faces, chosen: detection.faces.indexOf(detection.face) };
  });

  app.get("/v1/jobs", async () => ({ jobs: book.list(50) }));

  app.get<{ Params: { id: string } }>("/v1/jobs/:id", async (req) => {
    const r = book.get(req.params.id);
    if (!r) throw unknownJob(req.params.id);
    return r;
  });

  app.get<{ Params: { id: string } }>("/v1/jobs/:id/events", (req, reply) => {
    const r = book.get(req.params.id);
    if (!r) throw unknownJob(req.params.id);
    streamJobEvents(book, r, req, reply);
  });

  app.delete<{ Params: { id: string } }>("/v1/jobs/:id", async (req) => {
    const r = await queue.cancel(req.params.id);
    if (!r) throw unknownJob(req.params.id);
    return r;
  });

  app.get<{ Params: { id: string } }>("/v1/images/:id", async (req, reply) => {
    const png = await book.image(req.params.id);
    if (!png) throw new HttpError(404, "id", `unknown image '${req.params.id}'`);
    return reply.type("image/png").header("cache-control", "public, max-age=31536000, immutable").send(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  });

  app.addHook("onClose", async () => queue.close());
  return app;
}
