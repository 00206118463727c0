/**
 * What a job is, as the API shows it and as `--data` stores it. Shared by the in-process queue and the Redis
 * queue: both fill the same records.
 */
import type { GenerateOptions, ResolvedGenerateOptions } from "../pulid/index.ts";

/** A job's life: queued -> running -> done | failed | cancelled (queued -> cancelled too). */
export type JobState = "queued" | "running" | "done" | "failed" | "cancelled";

/** States after which nothing changes. */
export const FINAL_STATES: readonly JobState[] = ["done", "failed", "cancelled"];

/** Progress of a running job: the step of the image being sampled. */
export interface JobProgress {
  /** Image being sampled (0-based) and how many. */
  image: number;
  num: number;
  /** Model evaluations done for this image and needed per image. */
  step: number;
  steps: number;
  /** Fraction of the whole job done, 0..1. */
  fraction: number;
}

/** One finished image. */
export interface JobImage {
  /** `JOB-N`. */
  id: string;
  /** `/v1/images/JOB-N`. */
  url: string;
  seed: number;
}

/** A job as `GET /v1/jobs/:id` returns it and as `--data/jobs/JOB.json` stores it. */
export interface JobRecord {
  id: string;
  state: JobState;
  /** ISO times. */
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Every option decided at submission (defaults filled, the seed fixed). */
  options: ResolvedGenerateOptions;
  progress: JobProgress | null;
  images: JobImage[];
  /** Why it failed or was cancelled. */
  error: string | null;
  /** Things the user should know ("2 faces found, the largest was used"). */
  notes: string[];
}

/** What a job needs to run: photos or an ID embedding file, and the resolved options. */
export interface JobInput {
  photos: { name: string; bytes: Uint8Array }[];
  embedding: Uint8Array | null;
  options: GenerateOptions;
}

/** What a finished job hands back: PNGs with their parameters embedded. */
export interface JobOutput {
  images: { png: Uint8Array; seed: number }[];
  notes: string[];
}

/** Job ids: `j` + 16 hex digits (never an integer, which BullMQ refuses as a custom id). */
export const JOB_ID = /^j[0-9a-f]{16}$/;
/** Image ids: `JOB-N`. */
export const IMAGE_ID = /^(j[0-9a-f]{16})-(\d{1,2})$/;

/** Fraction of a job done from the pipeline's per-image progress. */
export function progressOf(p: { image: number; num: number; step: number; steps: number }): JobProgress {
  return { ...p, fraction: Math.min(1, (p.image + p.step / p.steps) / p.num) };
}

/** Resolved options as options a generate call takes again (v1.1 resolves `mode` to null, which no caller may pass). */
export function replayable(o: ResolvedGenerateOptions): GenerateOptions {
  const { mode, ...rest } = o;
  return mode ? { ...rest, mode } : rest;
}
