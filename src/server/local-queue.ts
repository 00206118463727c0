/**
 * The in-process queue: jobs run in this process on one loaded pipeline, `concurrency` at a time (1 on CPU: ONNX
 * Runtime already uses every core for one job), at most `limit` waiting. After a restart, jobs a previous run
 * left queued or running are reported as failed: their uploads were only in memory.
 */
import type { PulidPipeline, ResolvedGenerateOptions } from "../pulid/index.ts";
import type { JobBook } from "./job-book.ts";
import { replayable, type JobInput, type JobRecord } from "./job.ts";
import { QueueFullError } from "./http-error.ts";
import { DurationMean, jobErrorMessage, newJobId, queuedRecord, retryAfterSeconds, type JobQueue, type QueueStats } from "./job-queue.ts";
import { JobCancelledError, runJob } from "./job-runner.ts";

export interface LocalQueueOptions {
  concurrency: number;
  limit: number;
}

/** Jobs run in this process. */
export class LocalQueue implements JobQueue {
  private readonly waiting: { id: string; input: JobInput }[] = [];
  private readonly running = new Map<string, AbortController>();
  private readonly mean = new DurationMean();
  private closed = false;

  constructor(
    readonly book: JobBook,
    private readonly pipe: PulidPipeline,
    private readonly opts: LocalQueueOptions,
  ) {}

  /** Marks what a previous run left unfinished as failed (call once, after `book.load()`). */
  async recover(open: readonly JobRecord[]): Promise<void> {
    for (const r of open) {
      await this.book.update(r.id, { state: "failed", error: "the server restarted while this job was queued or running; submit it again", finishedAt: new Date().toISOString() });
    }
  }

  async submit(input: JobInput, options: ResolvedGenerateOptions): Promise<JobRecord> {
    if (this.waiting.length >= this.opts.limit) throw new QueueFullError(this.opts.limit, retryAfterSeconds(this.mean.value, this.opts.concurrency));
    const record = queuedRecord(newJobId(), options);
    await this.book.add(record);
    this.waiting.push({ id: record.id, input: { ...input, options: replayable(options) } });
    this.pump();
    return record;
  }

  async cancel(id: string): Promise<JobRecord | undefined> {
    const r = this.book.get(id);
    if (!r) return undefined;
    const i = this.waiting.findIndex((w) => w.id === id);
    if (i >= 0) this.waiting.splice(i, 1);
    this.running.get(id)?.abort();
    return (await this.book.update(id, { state: "cancelled", error: "cancelled", finishedAt: new Date().toISOString() })) ?? r;
  }

  async stats(): Promise<QueueStats> {
    return { kind: "local", waiting: this.waiting.length, running: this.running.size, concurrency: this.opts.concurrency, limit: this.opts.limit };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) await this.book.update(w.id, { state: "failed", error: "the server stopped before this job ran", finishedAt: new Date().toISOString() });
    for (const c of this.running.values()) c.abort();
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.opts.concurrency && this.waiting.length) {
      const job = this.waiting.shift()!;
      const ctrl = new AbortController();
      this.running.set(job.id, ctrl);
      void this.run(job.id, job.input, ctrl.signal);
    }
  }

  /**
   * Frees a job's slot as soon as its generation ends, before its files are written, so that a client who sees
   * the job done also sees it counted out of `running` (and the next job starts meanwhile).
   */
  private release(id: string): void {
    if (this.running.delete(id)) this.pump();
  }

  private async run(id: string, input: JobInput, signal: AbortSignal): Promise<void> {
    const t0 = Date.now();
    try {
      await this.book.update(id, { state: "running", startedAt: new Date().toISOString() });
      const out = await runJob(this.pipe, input, { signal, onProgress: (progress) => void this.book.update(id, { progress }) });
      this.release(id);
      await this.book.finish(id, out);
      this.mean.add((Date.now() - t0) / 1000);
    } catch (e) {
      this.release(id);
      // A cancelled job's record is already final; anything else fails the job with its message.
      if (!(e instanceof JobCancelledError)) await this.book.update(id, { state: "failed", error: jobErrorMessage(e), finishedAt: new Date().toISOString() }).catch(() => undefined);
    }
  }
}
