/**
 * server/: the PuLID studio (issue 16): the HTTP API and the page on Fastify, the in-process job queue, and the
 * same jobs on BullMQ over Redis for `pulid serve --queue redis://...` with `pulid worker` processes.
 */
export { buildStudio, DEFAULT_MAX_FILE_BYTES, type StudioOptions } from "./app.ts";
export { HttpError, QueueFullError, type FieldIssue } from "./http-error.ts";
export { JobBook } from "./job-book.ts";
export { LocalQueue, type LocalQueueOptions } from "./local-queue.ts";
export { RedisQueue, type RedisQueueOptions } from "./redis-queue.ts";
export { startRedisWorker, type RedisWorkerOptions, type RedisWorkerHandle } from "./redis-worker.ts";
export { runJob, JobCancelledError } from "./job-runner.ts";
export { optionsDocument, type OptionsDocument } from "./options-schema.ts";
export type { JobQueue, QueueStats } from "./job-queue.ts";
export type { JobRecord, JobState, JobProgress, JobImage, JobInput, JobOutput } from "./job.ts";
export { sniffImage, type ImageFormat } from "./image-sniff.ts";
