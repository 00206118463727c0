/**
 * One benchmark run, end to end: draw every image the plan needs for every method (through the resumable
 * cache: an interrupted run redraws nothing), measure them with the perception models, score each method
 * against the base at the same prompts and seeds, run the ID-weight sweep, and write `results.json`,
 * `report.html` (self-contained) and `sweep.png` into the output folder.
 */
import { existsSync, readFileSync, mkdirSync } from "node:fs";
import { fingerprintFile } from "../../node/pulid-platform.ts";
import { join } from "node:path";
import { writeFileAtomic, writeFileAtomicSync } from "../../engine/atomic-write.ts";
import { PulidError } from "../../engine/errors.ts";
import type { RgbImage } from "../../face/rgb-image.ts";
import { SPLITS } from "../../world/splits.ts";
import type { GenerateOptions } from "../../pulid/options.ts";
import { benchPlan, galleryPhoto, itemKey, referencePhoto, GALLERY_SIZE, type BenchItem, type BenchName, type BenchPlan, type PlanOptions } from "./plan.ts";
import type { ResolvedMethod } from "./methods.ts";
import type { BenchGenerator } from "./generator.ts";
import { ImageCache, encodePng, reportThumbnail } from "./image-cache.ts";
import { Perception } from "./perception.ts";
import { methodScores, type Measured } from "./scores.ts";
import type { MethodResult, BenchResults } from "./results.ts";
import { backgroundMask, keepMasked } from "./background.ts";
import { unitCosine } from "./clip-scores.ts";
import { paperNumbers } from "./paper-numbers.ts";
import { renderSweepSvg, svgToPng, type SweepPoint } from "./sweep-plot.ts";
import { writeReport, type GridRow } from "./report.ts";

/** ID weights of the sweep (0 is the base's images). */
export const SWEEP_SCALES: readonly number[] = [0, 0.25, 0.5, 0.8, 1, 1.5];

export interface BenchRunOptions {
  bench: BenchName;
  plan?: PlanOptions;
  methods: readonly ResolvedMethod[];
  generator: BenchGenerator;
  /** World perception models folder (detector, face-metric, clip-metric, judge). */
  perception: string;
  out: string;
  /** What the images depend on besides methods and plan (the models folder), checked on resume. */
  models: string;
  /** ID weights of the sweep, and how many persons it uses (first seed, every prompt); null: no sweep. */
  sweep?: { scales: readonly number[]; persons: number } | null;
  /** Images per generateMany call, when the generator has it (default 16). */
  batch?: number;
  /** Gallery of identity recovery: the first N test identities (default all 400). */
  gallery?: number;
  /** Progress of each phase: drawing images (note: the image), then measuring them. */
  onProgress?(done: number, total: number, note: string, phase: "draw" | "measure"): void;
  signal?: AbortSignal;
}

export type { MethodResult, BenchResults } from "./results.ts";

interface Job {
  cache: ImageCache;
  name: string;
  method: ResolvedMethod;
  item: BenchItem;
  options: GenerateOptions;
}

const scaleTag = (s: number) => `w${s.toFixed(2)}`;

/** What a run draws: the plan, the methods, one image cache per method and every job (main items, then the sweep's). */
interface Prepared {
  plan: BenchPlan;
  baseMethod: ResolvedMethod;
  others: ResolvedMethod[];
  caches: Map<string, ImageCache>;
  jobs: Job[];
  sweepItems: BenchItem[];
  refs: Map<number, RgbImage>;
}

function prepare(o: BenchRunOptions): Prepared {
  const plan = benchPlan(o.bench, o.plan ?? {});
  const base = o.methods.find((m) => m.spec.name === "base");
  const others = o.methods.filter((m) => m.spec.name !== "base");
  // The base's images do not depend on the adapter (id_scale 0): draw them with the first method's, so one pipeline serves both.
  const baseMethod: ResolvedMethod = base ? { ...base, adapterPath: others[0]?.adapterPath } : { spec: { name: "base", adapter: null, options: { idScale: 0 }, label: "T2I w/o ID (id_scale 0)" }, adapterPath: others[0]?.adapterPath };
  const imagesDir = join(o.out, "images");
  const caches = new Map<string, ImageCache>();
  const cacheFor = (m: ResolvedMethod) => {
    let c = caches.get(m.spec.name);
    if (!c) {
      c = new ImageCache(join(imagesDir, m.spec.name));
      // The adapter's fingerprint too: a retrained adapter at the same path must not reuse the old images.
      const adapter = m.spec.name === "base" ? null : m.adapterPath === undefined ? "models folder" : `${m.adapterPath} ${existsSync(m.adapterPath) ? fingerprintFile(m.adapterPath) : "missing"}`;
      c.checkKey({ models: o.models, size: plan.size, adapter, options: m.spec.options });
      caches.set(m.spec.name, c);
    }
    return c;
  };
  const jobs: Job[] = [];
  const add = (m: ResolvedMethod, item: BenchItem, options: GenerateOptions, tag = "") =>
    jobs.push({ cache: cacheFor(m), name: `${tag}${itemKey(item)}`, method: m, item, options });
  for (const it of plan.items) add(baseMethod, it, { idScale: 0 });
  for (const m of others) for (const it of plan.items) add(m, it, m.spec.options);
  const sweepItems = o.sweep ? plan.items.filter((it) => it.person < o.sweep!.persons && it.seed === plan.items[0]!.seed) : [];
  const sweepScales = o.sweep ? o.sweep.scales.filter((s) => s > 0) : [];
  for (const m of others) {
    for (const s of sweepScales) {
      if (s === m.spec.options.idScale) continue;
      for (const it of sweepItems) add(m, it, { ...m.spec.options, idScale: s }, `${scaleTag(s)}/`);
    }
  }
  const refs = new Map(plan.persons.map((p) => [p, referencePhoto(plan, p)]));
  return { plan, baseMethod, others, caches, jobs, sweepItems, refs };
}

/** Draws every job whose image is not on disk yet (nothing is kept in memory: a full run is ~10^5 images), then closes the generator. */
async function drawJobs(o: BenchRunOptions, jobs: readonly Job[], refs: Map<number, RgbImage>): Promise<void> {
  let done = 0;
  const request = (j: Job) => ({ adapterPath: j.method.adapterPath, personKey: `p${j.item.person}`, reference: refs.get(j.item.person)!, prompt: j.item.prompt.text, seed: j.item.seed, options: j.options });
  const settings = (j: Job) => JSON.stringify([j.method.spec.name, j.method.adapterPath, j.options]);
  const batchSize = o.generator.generateMany ? (o.batch ?? 16) : 1;
  let batch: Job[] = [];
  // Each drawn batch is stored before the next starts, so a stop loses at most the batch being drawn.
  const drawBatch = async () => {
    if (!batch.length) return;
    const b = batch;
    batch = [];
    if (o.signal?.aborted) throw new PulidError("aborted", `stopped after ${done} of ${jobs.length} images; run the same command again to resume`);
    const imgs = o.generator.generateMany && b.length > 1 ? await o.generator.generateMany(b.map(request)) : [await o.generator.generate(request(b[0]!))];
    for (const [k, j] of b.entries()) {
      await j.cache.put(j.name, imgs[k]!);
      o.onProgress?.(++done, jobs.length, `${j.method.spec.name} ${j.name}`, "draw");
    }
  };
  for (const j of jobs) {
    if (j.cache.has(j.name)) {
      j.cache.reused++;
      o.onProgress?.(++done, jobs.length, `${j.method.spec.name} ${j.name} (on disk)`, "draw");
      continue;
    }
    if (batch.length && (settings(batch[0]!) !== settings(j) || batch.length >= batchSize)) await drawBatch();
    batch.push(j);
  }
  await drawBatch();
  await o.generator.dispose();
}

/** Which part of a run one process draws: job k belongs to shard k mod count. */
export interface BenchShard {
  /** 0-based. */
  index: number;
  count: number;
}

/**
 * Draws one shard of a run's images into the same cache and measures nothing, so several processes can draw a
 * run at once (on small nets, two single-threaded processes draw ~1.4x faster than one two-threaded process on
 * this 2-core machine); `runBench` afterwards finds every image on disk and only measures.
 */
export async function drawBenchShard(o: BenchRunOptions, shard: BenchShard): Promise<{ drawn: number; reused: number; jobs: number }> {
  if (!Number.isInteger(shard.count) || shard.count < 1 || !Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new PulidError("bad_inputs", `shard ${shard.index + 1}/${shard.count}: the index must be in 1..count`);
  }
  const p = prepare(o);
  const mine = p.jobs.filter((_, k) => k % shard.count === shard.index);
  await drawJobs(o, mine, p.refs);
  const { generated, reused } = cacheCounts(p.caches);
  return { drawn: generated, reused, jobs: mine.length };
}

/** Images drawn by this process and images found on disk, over every method's cache. */
function cacheCounts(caches: Map<string, ImageCache>): { generated: number; reused: number } {
  let generated = 0;
  let reused = 0;
  for (const c of caches.values()) {
    generated += c.generated;
    reused += c.reused;
  }
  return { generated, reused };
}

export async function runBench(o: BenchRunOptions): Promise<BenchResults> {
  const t0 = performance.now();
  const { plan, baseMethod, others, caches, jobs, sweepItems, refs } = prepare(o);
  const base = o.methods.find((m) => m.spec.name === "base");

  // 1. Draw every image that is not on disk yet.
  await drawJobs(o, jobs, refs);

  // 2. Measure, one method at a time against the base (only the base's images stay in memory).
  const eyes = await Perception.open(o.perception);
  try {
    const references = new Map<number, Float32Array | null>();
    for (const [p, img] of refs) references.set(p, await eyes.faces.embed(img));
    const nGallery = Math.min(GALLERY_SIZE, o.gallery ?? GALLERY_SIZE);
    const gallery: Float32Array[] = [];
    for (let k = 0; k < nGallery; k++) gallery.push((await eyes.faces.embed(galleryPhoto(k, plan.size))) ?? new Float32Array(1));
    const galleryIndex = new Map<number, number>();
    for (const p of plan.persons) {
      const k = plan.benchmark.identities[p]! - SPLITS.test.start;
      if (k < nGallery) galleryIndex.set(p, k);
    }
    const texts = new Map<string, Float32Array>();
    for (const it of plan.items) if (!texts.has(it.prompt.text)) texts.set(it.prompt.text, await eyes.clip.text(it.prompt.text));

    let measuredCount = 0;
    const measured = async (method: string, items: readonly BenchItem[], tag = ""): Promise<Measured[]> => {
      const cache = caches.get(method)!;
      const imgs: RgbImage[] = [];
      for (const item of items) imgs.push(await cache.load(`${tag}${itemKey(item)}`));
      const start = measuredCount;
      const seen = await eyes.see(imgs, (k) => o.onProgress?.(start + k, jobs.length, method, "measure"));
      measuredCount += imgs.length;
      return items.map((item, i) => ({ item, image: imgs[i]!, seen: seen[i]! }));
    };
    const bgFeature = async (w: readonly Measured[], b: readonly Measured[]) => {
      const pairs = w.map((x, i) => [x, b[i]!] as const).filter(([, y]) => y.seen.box);
      const masked = pairs.flatMap(([x, y]) => {
        const m = backgroundMask(y.image.width, y.image.height, y.seen.box!);
        return [keepMasked(x.image, m), keepMasked(y.image, m)];
      });
      const e = await eyes.clip.images(masked);
      let k = 0;
      return w.map((_, i) => (b[i]!.seen.box ? 1 - unitCosine(e[2 * k]!, e[2 * k++ + 1]!) : null));
    };
    const without = await measured("base", plan.items);
    const scoreOf = async (m: ResolvedMethod, withId: Measured[]): Promise<MethodResult> => ({
      label: m.spec.label,
      adapter: m.spec.name === "base" ? null : (m.adapterPath ?? null),
      options: m.spec.options,
      paper: paperNumbers(m.spec.name, o.bench),
      ...methodScores({ withId, withoutId: without, references, texts, gallery, galleryIndex, bgFeature: await bgFeature(withId, without) }),
    });
    const methods: Record<string, MethodResult> = {};
    if (base) methods.base = await scoreOf(baseMethod, without);
    // The sweep: Face Sim and CLIP-I at each ID weight, on the sweep's items (weight 0: the base's images).
    const sweep: SweepPoint[] = [];
    const inSweep = new Set(sweepItems);
    const sweepBase = without.filter((x) => inSweep.has(x.item));
    for (const m of others) {
      const main = await measured(m.spec.name, plan.items);
      methods[m.spec.name] = await scoreOf(m, main);
      for (const s of o.sweep ? o.sweep.scales : []) {
        const w = s === 0 ? sweepBase : s === m.spec.options.idScale ? main.filter((x) => inSweep.has(x.item)) : await measured(m.spec.name, sweepItems, `${scaleTag(s)}/`);
        const sc = methodScores({ withId: w, withoutId: sweepBase, references, texts, gallery: [], galleryIndex: new Map(), bgFeature: [], faceSimOnEveryItem: true });
        sweep.push({ method: m.spec.name, idScale: s, faceSim: sc.face_sim, clipI: sc.clip_i });
      }
    }

    const { generated, reused } = cacheCounts(caches);
    const results: BenchResults = {
      bench: o.bench,
      benchmark: plan.benchmark.name,
      plan: { persons: plan.persons.length, prompts: new Set(plan.items.filter((i) => !i.faceSim).map((i) => i.prompt.id)).size, seeds: new Set(plan.items.map((i) => i.seed)).size, images_per_method: plan.items.length },
      methods,
      sweep,
      generated,
      reused,
      seconds: (performance.now() - t0) / 1000,
    };
    mkdirSync(o.out, { recursive: true });
    writeFileAtomicSync(join(o.out, "results.json"), JSON.stringify(results, null, 1));
    const svg = sweep.length ? await renderSweepSvg(sweep, `${plan.benchmark.name}: ID-weight sweep`) : null;
    if (svg) await writeFileAtomic(join(o.out, "sweep.png"), await svgToPng(svg));
    await writeFileAtomic(join(o.out, "report.html"), new TextEncoder().encode(writeReport(results, { grid: await gridRows(plan, o.methods.length ? [baseMethod, ...others] : [], caches, refs), sweepSvg: svg })));
    return results;
  } finally {
    await eyes.dispose();
  }
}

/** The report's pictures: the first two persons, first seed, Face Sim prompt + one prompt per category. */
async function gridRows(plan: BenchPlan, methods: readonly ResolvedMethod[], caches: Map<string, ImageCache>, refs: Map<number, RgbImage>): Promise<GridRow[]> {
  const seed = plan.items[0]!.seed;
  const seenPrompts = new Set<string>();
  const rows: GridRow[] = [];
  for (const it of plan.items) {
    if (it.person > 1 || it.seed !== seed) continue;
    const k = `${it.person}/${it.prompt.category}/${it.faceSim}`;
    if (seenPrompts.has(k)) continue;
    seenPrompts.add(k);
    rows.push({
      person: it.person,
      prompt: it.prompt.text,
      category: it.faceSim ? "Face Sim" : it.prompt.category,
      seed: it.seed,
      reference: await reportThumbnail(await encodePng(refs.get(it.person)!)),
      cells: await Promise.all(methods.map(async (m) => ({ method: m.spec.name, image: await reportThumbnail(readFileSync(caches.get(m.spec.name)!.path(itemKey(it)))) }))),
    });
  }
  return rows;
}
