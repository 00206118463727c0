/**
 * `pulid worker`: takes generate jobs from the BullMQ queue and runs them on a loaded pipeline. Progress goes
 * to BullMQ (the server relays it), result PNGs to Redis keys the server collects. A job this worker holds is
 * locked; if the worker dies the lock lapses after `lockMs` and another worker's stalled-job check takes the job
 * over, so a killed worker loses no job (BullMQ's guarantee; nothing home-made).
 */
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import type { PulidPipeline } from "../pulid/index.ts";
import { JobCancelledError, runJob } from "./job-runner.ts";
import { cancelChannel, fromWire, redisConnection, resultKey, RESULT_TTL_S, type WireInput, type WireResult } from "./redis-wire.ts";

export interface RedisWorkerOptions {
  url: string;
  name?: string;
  concurrency?: number;
  /** How long a job stays locked without this worker renewing it (ms). BullMQ's default is 30 s. */
  lockMs?: number;
  /** Told when a job starts and ends (the CLI prints it). */
  log?: (line: string) => void;
}

/** A running worker; `close()` finishes the current jobs' bookkeeping and disconnects. */
export interface RedisWorkerHandle {
  readonly worker: Worker<WireInput, WireResult>;
  close(): Promise<void>;
}

/** Starts a worker on `pipe`. */
export async function startRedisWorker(pipe: PulidPipeline, o: RedisWorkerOptions): Promise<RedisWorkerHandle> {
  const name = o.name ?? "pulid";
  const redis = new Redis(o.url, { maxRetriesPerRequest: null });
  const log = o.log ?? (() => undefined);
  const lockDuration = o.lockMs ?? 30_000;

  const processJob = async (job: Job<WireInput, WireResult>, _token?: string, signal?: AbortSignal): Promise<WireResult> => {
    log(`start ${job.id}`);
    try {
      const out = await runJob(pipe, fromWire(job.data), {
        ...(signal ? { signal } : {}),
        onProgress: (p) => void job.updateProgress(p as unknown as object).catch(() => undefined),
      });
      for (const [n, img] of out.images.entries()) await redis.set(resultKey(name, job.id!, n), Buffer.from(img.png), "EX", RESULT_TTL_S);
      return { seeds: out.images.map((i) => i.seed), notes: out.notes };
    } catch (e) {
      // A cancelled job and a bad input are not retried; the message travels as the job's failedReason.
      if (e instanceof JobCancelledError) throw new UnrecoverableError("cancelled");
      throw new UnrecoverableError(e instanceof Error ? e.message : String(e));
    }
  };

  const worker = new Worker<WireInput, WireResult>(name, processJob, {
    connection: redisConnection(o.url),
    concurrency: o.concurrency ?? 1,
    lockDuration,
    stalledInterval: lockDuration,
    maxStalledCount: 2,
  });
  worker.on("completed", (job) => log(`completed ${job.id}`));
  worker.on("failed", (job, err) => log(`failed ${job?.id ?? "?"}: ${err.message}`));
  worker.on("error", (err) => log(`error: ${err.message}`));

  const sub = redis.duplicate();
  await sub.subscribe(cancelChannel(name));
  sub.on("message", (_channel, jobId: string) => {
    if (worker.cancelJob(jobId, "cancelled")) log(`cancel ${jobId}`);
  });
  await worker.waitUntilReady();

  return {
    worker,
    async close() {
      await worker.close();
      sub.disconnect();
      redis.disconnect();
    },
  };
}
