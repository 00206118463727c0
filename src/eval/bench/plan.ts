/**
 * What a benchmark run generates: for each identity, the 20 prompts (paper Table 7 in world form) and the Face
 * Sim prompt, each with the benchmark's seeds, the same for every method. `--quick` keeps a few identities, one
 * prompt per category and two seeds, so CI can run it. Reference photos are world renders (the identity's
 * `reference(i)` attributes), quantised to 8 bits as a photo file would be.
 */
import { dividBenchmark, unsplashBenchmark, FACE_SIM_PROMPT, PROMPT_CATEGORIES, type Benchmark, type BenchmarkPrompt } from "../../world/benchmarks.ts";
import { identityAt } from "../../world/identity.ts";
import { renderFace } from "../../world/render.ts";
import { withDefaults } from "../../world/attributes.ts";
import { splitIdentity, SPLITS } from "../../world/splits.ts";
import { type RgbImage, rgbFromUnitFloats } from "../../face/rgb-image.ts";
import { PulidError } from "../../engine/errors.ts";

export const BENCH_NAMES = ["divid120", "unsplash50"] as const;
export type BenchName = (typeof BENCH_NAMES)[number];

/** One generated image of the benchmark (per method). */
export interface BenchItem {
  /** Position of the identity in the benchmark. */
  person: number;
  /** World identity index (test split). */
  identity: number;
  prompt: BenchmarkPrompt;
  seed: number;
  /** True for the Face Sim prompt (the paper computes Face Sim on it alone). */
  faceSim: boolean;
}

export interface BenchPlan {
  bench: BenchName;
  benchmark: Benchmark;
  items: BenchItem[];
  /** Persons of the plan (positions in the benchmark). */
  persons: number[];
  /** Image side in pixels (the world's native size). */
  size: number;
}

export interface PlanOptions {
  quick?: boolean;
  /** Keep the first N identities (default all; quick: 4). */
  persons?: number;
  /** Keep N seeds (default all; quick: 2). */
  seeds?: number;
  /** Keep N prompts (default all 20; quick: one per category). */
  prompts?: number;
  size?: number;
}

export function benchmarkByName(name: string): Benchmark {
  if (name === "divid120") return dividBenchmark();
  if (name === "unsplash50") return unsplashBenchmark();
  throw new PulidError("bad_inputs", `unknown benchmark '${name}' (known: ${BENCH_NAMES.join(", ")})`);
}

/** The prompts kept by --quick: the first of each category. */
function quickPrompts(all: readonly BenchmarkPrompt[]): BenchmarkPrompt[] {
  return PROMPT_CATEGORIES.map((c) => all.find((p) => p.category === c)!).filter(Boolean);
}

export function benchPlan(bench: BenchName, o: PlanOptions = {}): BenchPlan {
  const benchmark = benchmarkByName(bench);
  const nPersons = Math.min(benchmark.identities.length, o.persons ?? (o.quick ? 4 : Infinity));
  const seeds = benchmark.seeds.slice(0, o.seeds ?? (o.quick ? 2 : benchmark.seeds.length));
  let prompts: BenchmarkPrompt[] = o.quick ? quickPrompts(benchmark.prompts) : [...benchmark.prompts];
  if (o.prompts !== undefined) prompts = prompts.slice(0, o.prompts);
  const persons = Array.from({ length: nPersons }, (_, i) => i);
  const items: BenchItem[] = [];
  for (const person of persons) {
    const identity = benchmark.identities[person]!;
    for (const seed of seeds) items.push({ person, identity, prompt: FACE_SIM_PROMPT, seed, faceSim: true });
    for (const prompt of prompts) for (const seed of seeds) items.push({ person, identity, prompt, seed, faceSim: false });
  }
  return { bench, benchmark, items, persons, size: o.size ?? 64 };
}

/** A float render in [0, 1] as an 8-bit image. */
export function renderToRgb(r: { width: number; height: number; rgb: Float32Array }): RgbImage {
  return rgbFromUnitFloats(r.width, r.height, r.rgb);
}

/** The ID photo of a benchmark person. */
export function referencePhoto(plan: BenchPlan, person: number): RgbImage {
  const { attributes, seed } = plan.benchmark.reference(person);
  return renderToRgb(renderFace(identityAt(plan.benchmark.identities[person]!), attributes, { size: plan.size, seed }));
}

/** A plain front photo of test-split identity k: the gallery of identity recovery (all 400 test identities). */
export function galleryPhoto(k: number, size = 64): RgbImage {
  return renderToRgb(renderFace(identityAt(splitIdentity("test", k)), withDefaults({ style: "photo" }), { size, seed: 5 }));
}

export const GALLERY_SIZE = SPLITS.test.count;

/** A file-name-safe key of one item (the cache's file name). */
export function itemKey(it: BenchItem): string {
  return `p${it.person}-${it.prompt.id}-s${it.seed}`;
}
