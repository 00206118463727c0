/**
 * A `POST /v1/generate` form -> a validated job: the options through the one schema (src/pulid/options.ts),
 * the photos checked by content and for a face before the job is queued (a photo without a face is the
 * submitter's 422 now, not a failed job later), or an ID embedding checked against the loaded encoder.
 */
import { FaceError } from "../face/errors.ts";
import { checkEmbeddingFits, decodeIdEmbedding, OptionsError, PipelineError, type PulidPipeline, type ResolvedGenerateOptions } from "../pulid/index.ts";
import { HttpError } from "./http-error.ts";
import { sniffImage } from "./image-sniff.ts";
import type { Form, FormFile } from "./multipart-form.ts";
import { replayable, type JobInput } from "./job.ts";

/** The most ID photos one job takes (the reference app has four slots). */
export const MAX_PHOTOS = 4;

/** Multipart fields of `POST /v1/generate`. */
export const GENERATE_FIELDS = { files: ["id", "id_embedding"], fields: ["options"] } as const;

/** Label of an uploaded file in messages: `id[2] (face.png)`. */
export const fileLabel = (f: FormFile, i: number) => `${f.field}[${i + 1}]${f.filename ? ` (${f.filename})` : ""}`;

/** The options field as JSON, validated and resolved (defaults of the loaded models, the seed fixed). */
export function parseOptionsField(text: string | undefined, pipe: PulidPipeline): ResolvedGenerateOptions {
  let raw: unknown = {};
  if (text !== undefined && text.trim() !== "") {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, "options", `options must be a JSON object: ${(e as Error).message}`);
    }
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new HttpError(400, "options", "options must be a JSON object of generation options");
  try {
    return pipe.resolveOptions(raw);
  } catch (e) {
    if (e instanceof OptionsError) {
      const issues = e.issues.map((i) => ({ field: i.option || "options", message: i.message }));
      throw new HttpError(400, issues[0]?.field ?? "options", e.message, issues);
    }
    throw e;
  }
}

/**
 * Decodes a photo and finds its face (the cheap detector only).
 * @throws HttpError 415 (not an image by content), 422 (undecodable, no face, face too small).
 */
export async function checkPhoto(pipe: PulidPipeline, f: FormFile, label: string) {
  if (!sniffImage(f.bytes)) throw new HttpError(415, f.field, `${label}: not a PNG, JPEG or WebP image (judged by its content, not its name)`);
  try {
    const image = await pipe.platform.readImage(f.bytes, label);
    const detection = await pipe.models.face.detector.detect(image, { photo: label });
    return { image, detection };
  } catch (e) {
    if (e instanceof FaceError && e.code !== "model_run_failed" && e.code !== "bad_model_file" && e.code !== "missing_model_files") throw new HttpError(422, f.field, e.message);
    throw e;
  }
}

/**
 * Validates a generate form into a job.
 * @throws HttpError naming the field: 400 (options, counts), 415 (not an image), 422 (no face, wrong embedding).
 */
export async function readSubmission(form: Form, pipe: PulidPipeline): Promise<{ input: JobInput; options: ResolvedGenerateOptions }> {
  const options = parseOptionsField(form.fields.get("options"), pipe);
  const photos = form.files.filter((f) => f.field === "id");
  const embeddings = form.files.filter((f) => f.field === "id_embedding");
  if (photos.length > MAX_PHOTOS) throw new HttpError(400, "id", `at most ${MAX_PHOTOS} ID photos, got ${photos.length}`);
  if (embeddings.length > 1) throw new HttpError(400, "id_embedding", `one id_embedding file, got ${embeddings.length}`);
  if (photos.length && embeddings.length) throw new HttpError(400, "id", "give either ID photos (id) or an id_embedding file, not both");
  if (!photos.length && !embeddings.length) throw new HttpError(400, "id", `give 1 to ${MAX_PHOTOS} ID photos (id) or one id_embedding file`);
  if (embeddings.length) {
    const f = embeddings[0]!;
    try {
      const e = decodeIdEmbedding(f.bytes, fileLabel(f, 0));
      checkEmbeddingFits(e, fileLabel(f, 0), pipe.version, pipe.models.fingerprints.adapter, pipe.tokenDim);
    } catch (e) {
      if (e instanceof PipelineError) throw new HttpError(422, "id_embedding", e.message);
      throw e;
    }
    return { input: { photos: [], embedding: f.bytes, options: replayable(options) }, options };
  }
  for (const [i, f] of photos.entries()) await checkPhoto(pipe, f, fileLabel(f, i));
  return { input: { photos: photos.map((f, i) => ({ name: fileLabel(f, i), bytes: f.bytes })), embedding: null, options: replayable(options) }, options };
}
