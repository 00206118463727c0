/**
 * What the HTTP routes need from a queue. Two implementations: `LocalQueue` (in this process) and `RedisQueue`
 * (BullMQ; workers in other processes or machines). Both keep their records in the same `JobBook`.
 */
import type { JobBook } from "./job-book.ts";
import type { JobInput, JobRecord } from "./job.ts";
import type { ResolvedGenerateOptions } from "../pulid/index.ts";

/** Counts for `/v1/health`. */
export interface QueueStats {
  kind: "local" | "redis";
  waiting: number;
  running: number;
  /** Jobs run at once (local) or per worker (redis: null, workers decide). */
  concurrency: number | null;
  limit: number;
}

export interface JobQueue {
  readonly book: JobBook;
  /**
   * Queues a validated job; its record is `queued` when this resolves.
   * @throws QueueFullError (429) past the queue limit.
   */
  submit(input: JobInput, options: ResolvedGenerateOptions): Promise<JobRecord>;
  /** Cancels a queued or running job (a finished one is returned as it is). Undefined for an unknown id. */
  cancel(id: string): Promise<JobRecord | undefined>;
  stats(): Promise<QueueStats>;
  /** Stops taking jobs and releases connections (running local jobs are cancelled). */
  close(): Promise<void>;
}

/** A new job id: `j` + 16 random hex digits. */
export function newJobId(): string {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return "j" + Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
}

/** A fresh `queued` record. */
export function queuedRecord(id: string, options: ResolvedGenerateOptions): JobRecord {
  return { id, state: "queued", createdAt: new Date().toISOString(), startedAt: null, finishedAt: null, options, progress: null, images: [], error: null, notes: [] };
}

/**
 * Seconds until a queue slot is likely free: one job's mean duration over the jobs run at once (at least 1 s).
 * `meanJobS` is null before any job has finished.
 */
export function retryAfterSeconds(meanJobS: number | null, concurrency: number): number {
  return Math.max(1, Math.ceil((meanJobS ?? 10) / Math.max(1, concurrency)));
}

/** A running mean of job durations (seconds). */
export class DurationMean {
  private n = 0;
  private sum = 0;
  add(seconds: number): void {
    // The last 50 jobs weigh equally; older ones fade.
    if (this.n === 50) {
      this.sum -= this.sum / 50;
      this.n--;
    }
    this.sum += seconds;
    this.n++;
  }
  get value(): number | null {
    return this.n ? this.sum / this.n : null;
  }
}

/** An error's message for a job record (one line, no stack). */
export function jobErrorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
