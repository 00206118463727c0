/**
 * Every job record the server knows, in memory and under `--data`: `jobs/JOB.json` (the record) and
 * `images/JOB-N.png` (PNGs with their parameters). Each file is written atomically (temporary file + rename), and
 * a job's images are written before the record that says `done`, so a reader never sees a done job without its
 * images. Listeners (the SSE route) hear every change.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../engine/atomic-write.ts";
import { FINAL_STATES, IMAGE_ID, JOB_ID, type JobOutput, type JobRecord } from "./job.ts";

type Listener = (r: JobRecord) => void;

/** The job records of one server, persisted under `dir`. */
export class JobBook {
  private readonly records = new Map<string, JobRecord>();
  private readonly listeners = new Map<string, Set<Listener>>();
  /** The last write of each record: writes of one record go one after another (two renames at once collide). */
  private readonly writes = new Map<string, Promise<void>>();
  private readonly jobsDir: string;
  private readonly imagesDir: string;

  constructor(readonly dir: string) {
    this.jobsDir = join(dir, "jobs");
    this.imagesDir = join(dir, "images");
    mkdirSync(this.jobsDir, { recursive: true });
    mkdirSync(this.imagesDir, { recursive: true });
  }

  /**
   * Reads the records a previous run left. Returns those that were not finished (queued or running) so the
   * queue can decide what they become (failed in-process; looked up again on Redis).
   */
  load(): JobRecord[] {
    const open: JobRecord[] = [];
    for (const f of readdirSync(this.jobsDir)) {
      const id = f.replace(/\.json$/, "");
      if (!JOB_ID.test(id) || !f.endsWith(".json")) continue;
      let r: JobRecord;
      try {
        r = JSON.parse(readFileSync(join(this.jobsDir, f), "utf8")) as JobRecord;
      } catch {
        continue; // a foreign or damaged file is not a job
      }
      this.records.set(id, r);
      if (!FINAL_STATES.includes(r.state)) open.push(r);
    }
    return open;
  }

  get(id: string): JobRecord | undefined {
    return JOB_ID.test(id) ? this.records.get(id) : undefined;
  }

  /** The newest `limit` records, newest first. */
  list(limit: number): JobRecord[] {
    return [...this.records.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
  }

  /** Adds a new record and stores it. */
  async add(r: JobRecord): Promise<void> {
    this.records.set(r.id, r);
    await this.save(r);
  }

  /**
   * Changes a record. A record in a final state never changes again (a late result of a cancelled job is
   * dropped). Progress alone is not written to disk: it is worthless after a restart.
   * @returns the record, or undefined when it is unknown or already final.
   */
  async update(id: string, patch: Partial<JobRecord>): Promise<JobRecord | undefined> {
    const r = this.records.get(id);
    if (!r || FINAL_STATES.includes(r.state)) return undefined;
    Object.assign(r, patch);
    const onlyProgress = Object.keys(patch).every((k) => k === "progress");
    if (!onlyProgress) await this.save(r);
    else this.emit(r);
    return r;
  }

  /** Writes a finished job's images, then marks it done (in that order: see the file comment). */
  async finish(id: string, out: JobOutput): Promise<JobRecord | undefined> {
    const r = this.records.get(id);
    if (!r || FINAL_STATES.includes(r.state)) return undefined;
    const images = [];
    for (const [n, img] of out.images.entries()) {
      const imageId = `${id}-${n}`;
      await writeFileAtomic(join(this.imagesDir, `${imageId}.png`), img.png);
      images.push({ id: imageId, url: `/v1/images/${imageId}`, seed: img.seed });
    }
    return this.update(id, { state: "done", images, notes: out.notes, finishedAt: new Date().toISOString(), progress: r.progress && { ...r.progress, fraction: 1 } });
  }

  /** The PNG of an image id (`JOB-N`) of a done job, or undefined. The path is built from the record, not the request. */
  async image(imageId: string): Promise<Uint8Array | undefined> {
    const m = IMAGE_ID.exec(imageId);
    const r = m && this.records.get(m[1]!);
    const img = r?.images.find((i) => i.id === imageId);
    if (!img) return undefined;
    return new Uint8Array(await readFile(join(this.imagesDir, `${img.id}.png`)));
  }

  /** Calls `fn` on every change of job `id` until the returned function is called. */
  subscribe(id: string, fn: Listener): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (!set.size) this.listeners.delete(id);
    };
  }

  private async save(r: JobRecord): Promise<void> {
    const write = (this.writes.get(r.id) ?? Promise.resolve())
      .catch(() => undefined)
      // Serialised when the write starts, so the file gets the newest state.
      .then(() => writeFileAtomic(join(this.jobsDir, `${r.id}.json`), new TextEncoder().encode(JSON.stringify(r, null, 1))));
    this.writes.set(r.id, write);
    try {
      await write;
    } finally {
      if (this.writes.get(r.id) === write) this.writes.delete(r.id);
    }
    this.emit(r);
  }

  private emit(r: JobRecord): void {
    for (const fn of this.listeners.get(r.id) ?? []) fn(r);
  }
}
