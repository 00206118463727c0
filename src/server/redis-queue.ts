/**
 * The server side of the Redis queue: jobs go to BullMQ, `pulid worker` processes anywhere run them, and
 * progress, results and failures come back through Redis (BullMQ's queue events; result PNGs under keys the
 * server takes and deletes). The server keeps its own records in `--data` as with the in-process queue. A job
 * whose worker dies is taken over by another worker through BullMQ's stalled-job check, so it is not lost.
 */
import { Job, Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import type { ResolvedGenerateOptions } from "../pulid/index.ts";
import type { JobBook } from "./job-book.ts";
import { replayable, type JobInput, type JobProgress, type JobRecord } from "./job.ts";
import { QueueFullError } from "./http-error.ts";
import { DurationMean, newJobId, queuedRecord, retryAfterSeconds, type JobQueue, type QueueStats } from "./job-queue.ts";
import { cancelChannel, redisConnection, resultKey, toWire, type WireInput, type WireResult } from "./redis-wire.ts";

export interface RedisQueueOptions {
  url: string;
  limit: number;
  name?: string;
}

const now = () => new Date().toISOString();

/** Jobs on BullMQ over Redis. */
export class RedisQueue implements JobQueue {
  private readonly queue: Queue<WireInput, WireResult>;
  private readonly events: QueueEvents;
  private readonly redis: Redis;
  private readonly name: string;
  private readonly mean = new DurationMean();
  /** Event handlers still writing records; `close()` waits for them. */
  private readonly pending = new Set<Promise<unknown>>();

  private constructor(
    readonly book: JobBook,
    private readonly opts: RedisQueueOptions,
  ) {
    this.name = opts.name ?? "pulid";
    const connection = redisConnection(opts.url);
    this.queue = new Queue(this.name, { connection });
    this.events = new QueueEvents(this.name, { connection });
    this.redis = new Redis(opts.url, { maxRetriesPerRequest: null });
  }

  /**
   * Connects, listens to the queue's events, and settles what a previous server run left unfinished by asking
   * BullMQ what became of each job.
   */
  static async open(book: JobBook, open: readonly JobRecord[], opts: RedisQueueOptions): Promise<RedisQueue> {
    const q = new RedisQueue(book, opts);
    q.listen();
    await Promise.all([q.queue.waitUntilReady(), q.events.waitUntilReady()]);
    for (const r of open) await q.reconcile(r.id);
    return q;
  }

  async submit(input: JobInput, options: ResolvedGenerateOptions): Promise<JobRecord> {
    const waiting = await this.queue.getWaitingCount();
    if (waiting >= this.opts.limit) {
      const workers = Math.max(1, (await this.queue.getWorkers().catch(() => [])).length);
      throw new QueueFullError(this.opts.limit, retryAfterSeconds(this.mean.value, workers));
    }
    const record = queuedRecord(newJobId(), options);
    await this.book.add(record);
    // attempts 1: a job that throws (a bad photo) fails for good; a job whose worker died is moved back by the
    // stalled-job check, which does not count attempts.
    await this.queue.add("generate", toWire({ ...input, options: replayable(options) }), { jobId: record.id, attempts: 1, removeOnComplete: 1000, removeOnFail: 1000 });
    return record;
  }

  async cancel(id: string): Promise<JobRecord | undefined> {
    const r = this.book.get(id);
    if (!r) return undefined;
    const job = await Job.fromId(this.queue, id);
    if (job) {
      const state = await job.getState();
      // A waiting job is removed; a running one is named on the cancel channel, and its worker aborts it.
      if (state === "active") await this.redis.publish(cancelChannel(this.name), id);
      else if (state !== "completed" && state !== "failed") await job.remove().catch(() => this.redis.publish(cancelChannel(this.name), id));
    }
    return (await this.book.update(id, { state: "cancelled", error: "cancelled", finishedAt: now() })) ?? r;
  }

  async stats(): Promise<QueueStats> {
    const c = await this.queue.getJobCounts("waiting", "active");
    return { kind: "redis", waiting: c.waiting ?? 0, running: c.active ?? 0, concurrency: null, limit: this.opts.limit };
  }

  async close(): Promise<void> {
    await this.events.close();
    await Promise.all(this.pending);
    await this.queue.close();
    this.redis.disconnect();
  }

  /** Runs an event handler's work; a failure (a full disk) is logged, never an unhandled rejection. */
  private track(work: Promise<unknown>): void {
    const p = work.catch((e: unknown) => console.error(`pulid serve: recording a queue event failed: ${(e as Error).message}`)).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private listen(): void {
    this.events.on("active", ({ jobId }) => this.track(this.book.update(jobId, { state: "running", startedAt: now(), progress: null })));
    // The stalled-job check moved a dead worker's job back to the queue: it is waiting for another worker.
    this.events.on("waiting", ({ jobId }) => {
      if (this.book.get(jobId)?.state === "running") this.track(this.book.update(jobId, { state: "queued", progress: null }));
    });
    this.events.on("progress", ({ jobId, data }) => this.track(this.book.update(jobId, { progress: data as JobProgress })));
    this.events.on("completed", ({ jobId, returnvalue }) => this.track(this.collect(jobId, returnvalue as unknown as WireResult | string)));
    this.events.on("failed", ({ jobId, failedReason }) => this.track(this.fail(jobId, failedReason)));
  }

  private async fail(id: string, reason: string): Promise<void> {
    await this.book.update(id, reason === "cancelled" ? { state: "cancelled", error: "cancelled", finishedAt: now() } : { state: "failed", error: reason, finishedAt: now() });
  }

  /** Takes a completed job's images out of Redis into `--data`. */
  private async collect(id: string, value: WireResult | string): Promise<void> {
    const r = this.book.get(id);
    if (!r) return;
    try {
      const result = (typeof value === "string" ? JSON.parse(value) : value) as WireResult;
      const keys = result.seeds.map((_, n) => resultKey(this.name, id, n));
      const pngs = await Promise.all(keys.map((k) => this.redis.getBuffer(k)));
      if (pngs.some((p) => !p)) throw new Error("the worker's result images are gone from Redis");
      const started = r.startedAt ? Date.parse(r.startedAt) : Date.now();
      await this.book.finish(id, { images: pngs.map((p, n) => ({ png: new Uint8Array(p!), seed: result.seeds[n]! })), notes: result.notes });
      this.mean.add((Date.now() - started) / 1000);
      await this.redis.del(...keys);
    } catch (e) {
      await this.book.update(id, { state: "failed", error: `collecting the result failed: ${(e as Error).message}`, finishedAt: now() });
    }
  }

  /** After a restart: what became of a job this server had not seen finish. */
  private async reconcile(id: string): Promise<void> {
    const job = await Job.fromId<WireInput, WireResult>(this.queue, id);
    if (!job) {
      await this.book.update(id, { state: "failed", error: "the job is no longer in the Redis queue", finishedAt: now() });
      return;
    }
    const state = await job.getState();
    if (state === "completed") await this.collect(id, job.returnvalue);
    else if (state === "failed") await this.fail(id, job.failedReason);
    else await this.book.update(id, { state: state === "active" ? "running" : "queued" });
  }
}
