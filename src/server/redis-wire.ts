/**
 * What the server and the workers agree on when they share a BullMQ queue: the queue's name, the key of a job's
 * result images, the cancel channel, and how a job's bytes travel as JSON (base64).
 */
import type { GenerateOptions } from "../pulid/index.ts";
import type { JobInput } from "./job.ts";

/** BullMQ queue name (one Redis can hold several studios under different names). */
export const DEFAULT_QUEUE_NAME = "pulid";

/** Redis key of image `n` of a finished job, written by the worker and taken (then deleted) by the server. */
export const resultKey = (queue: string, jobId: string, n: number) => `pulid:${queue}:result:${jobId}:${n}`;

/** Result images live this long if no server collects them (seconds). */
export const RESULT_TTL_S = 24 * 3600;

/** Pub/sub channel on which the server names a running job to cancel. */
export const cancelChannel = (queue: string) => `pulid:${queue}:cancel`;

/** A job's data in BullMQ (JSON: bytes as base64). */
export interface WireInput {
  photos: { name: string; b64: string }[];
  embedding: string | null;
  options: GenerateOptions;
}

/** A worker's return value (the images themselves are under `resultKey`). */
export interface WireResult {
  seeds: number[];
  notes: string[];
}

const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
const bytes = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

export function toWire(i: JobInput): WireInput {
  return { photos: i.photos.map((p) => ({ name: p.name, b64: b64(p.bytes) })), embedding: i.embedding ? b64(i.embedding) : null, options: i.options };
}

export function fromWire(w: WireInput): JobInput {
  return { photos: w.photos.map((p) => ({ name: p.name, bytes: bytes(p.b64) })), embedding: w.embedding ? bytes(w.embedding) : null, options: w.options };
}

/** Redis connection settings from a `redis://` URL (BullMQ needs maxRetriesPerRequest null for its blocking calls). */
export function redisConnection(url: string): { url: string; maxRetriesPerRequest: null } {
  if (!/^rediss?:\/\//.test(url)) throw new Error(`--queue must be a redis:// URL, got '${url}'`);
  return { url, maxRetriesPerRequest: null };
}
