/**
 * Runs one job on a loaded pipeline: the same code for the in-process queue and for a Redis worker. Progress is
 * reported per model evaluation; an aborted signal stops the job at the next step.
 */
import { checkEmbeddingFits, decodeIdEmbedding, type PulidPipeline } from "../pulid/index.ts";
import { progressOf, type JobInput, type JobOutput, type JobProgress } from "./job.ts";

/** Thrown out of a job whose signal was aborted (the job is then `cancelled`, not `failed`). */
export class JobCancelledError extends Error {
  constructor() {
    super("cancelled");
    this.name = "JobCancelledError";
  }
}

/**
 * Generates a job's images as PNGs with their parameters embedded.
 * @throws JobCancelledError when `signal` is aborted; the pipeline's errors (a photo without a face, ...).
 */
export async function runJob(pipe: PulidPipeline, input: JobInput, opts: { signal?: AbortSignal; onProgress?: (p: JobProgress) => void } = {}): Promise<JobOutput> {
  const { signal, onProgress } = opts;
  if (signal?.aborted) throw new JobCancelledError();
  const idEmbedding = input.embedding ? decodeIdEmbedding(input.embedding, "id_embedding") : undefined;
  if (idEmbedding) checkEmbeddingFits(idEmbedding, "id_embedding", pipe.version, pipe.models.fingerprints.adapter, pipe.tokenDim);
  const r = await pipe.generate({
    ...(idEmbedding ? { idEmbedding } : { id: input.photos.map((p) => p.bytes) }),
    options: input.options,
    // Throwing from the progress callback is how a running generation stops: it unwinds the sampling loop
    // between two model evaluations, so no session is left half-run.
    onProgress: (p) => {
      if (signal?.aborted) throw new JobCancelledError();
      onProgress?.(progressOf(p));
    },
  });
  if (signal?.aborted) throw new JobCancelledError();
  const images = [];
  for (const img of r.images) images.push({ png: await pipe.png(img), seed: img.seed });
  // The pipeline names bytes "photo N"; say which uploaded file that was.
  const notes = r.notes.map((n) => n.replace(/^photo (\d+)/, (m, i: string) => input.photos[Number(i) - 1]?.name ?? m));
  return { images, notes };
}
