/**
 * The world demo (`pulid demo`): one held-out person of the synthetic world, drawn by PuLID on the shipped world
 * models for a few prompts, each without the ID (id_scale 0: exactly the base model) and with it, from the same
 * seed, on one contact sheet. It shows in a minute what the method does: the with-ID image should be the
 * reference person while the without-ID image is somebody else in the same scene.
 */
import { PulidPipeline } from "../pulid/pipeline.ts";
import type { GenerateOptions } from "../pulid/options.ts";
import { rgbImage, type RgbImage, rgbFromUnitFloats } from "../face/rgb-image.ts";
import { withDefaults, type Attributes } from "../world/attributes.ts";
import { promptText } from "../world/benchmarks.ts";
import { identityAt } from "../world/identity.ts";
import { renderFace } from "../world/render.ts";
import { splitIdentity } from "../world/splits.ts";

/** The demo's prompts: the scene, the style and the pose change; the person should not. */
export const DEMO_PROMPTS: readonly Partial<Attributes>[] = [
  { style: "photo", expression: "smiling", background: "beach-sunset" },
  { style: "photo", view: "three-quarter-left", accessories: ["hat"], background: "city" },
  { style: "watercolor", background: "garden" },
  { style: "comic", expression: "surprised", background: "kitchen" },
];

/** The held-out (test split) identity the demo draws by default. */
export const DEMO_PERSON = 3;

export interface WorldDemoOptions {
  /** Models folder (default: the shipped world, `models/world/`). */
  models?: string;
  /** Adapter file instead of the models folder's (e.g. a `pulid train` export). */
  adapter?: string;
  /** Which held-out (test split) identity to draw (default {@link DEMO_PERSON}). */
  person?: number;
  seed?: number;
  /** The prompts, as world attributes (default {@link DEMO_PROMPTS}). */
  prompts?: readonly Partial<Attributes>[];
  /** Extra generation options for the with-ID images (mode, id_scale, steps...). */
  options?: GenerateOptions;
  onImage?(done: number, total: number): void;
}

/** One prompt's pair. */
export interface DemoRow {
  prompt: string;
  withoutId: RgbImage;
  withId: RgbImage;
}

export interface WorldDemoResult {
  reference: RgbImage;
  rows: DemoRow[];
  seed: number;
  /** Notes of the pipeline (e.g. several faces in the reference). */
  notes: string[];
}

/** The reference photo: a plain front-facing portrait of a test-split identity (never seen in training). */
export function demoReference(person = DEMO_PERSON): RgbImage {
  const r = renderFace(identityAt(splitIdentity("test", person)), withDefaults({ style: "photo" }), { size: 64, seed: 11 });
  return rgbFromUnitFloats(r.width, r.height, r.rgb);
}

/** Runs the demo: 2 images per prompt (without and with the ID), all from one seed. */
export async function runWorldDemo(o: WorldDemoOptions = {}): Promise<WorldDemoResult> {
  const seed = o.seed ?? 7;
  const reference = demoReference(o.person);
  const pipe = await PulidPipeline.fromPretrained(o.models, o.adapter ? { adapter: o.adapter } : {});
  try {
    const { embedding, notes } = await pipe.encodeId([reference]);
    const rows: DemoRow[] = [];
    let done = 0;
    const prompts = o.prompts ?? DEMO_PROMPTS;
    const total = 2 * prompts.length;
    for (const attrs of prompts) {
      const prompt = promptText(attrs);
      // The world base was trained with captions only; an empty negative prompt is its unconditional branch.
      const common = { negativePrompt: "", ...o.options, prompt, seed, num: 1 };
      const without = await pipe.generate({ idEmbedding: embedding, options: { ...common, idScale: 0 } });
      o.onImage?.(++done, total);
      const withId = await pipe.generate({ idEmbedding: embedding, options: common });
      o.onImage?.(++done, total);
      rows.push({ prompt, withoutId: without.images[0]!.image, withId: withId.images[0]!.image });
    }
    return { reference, rows, seed, notes };
  } finally {
    await pipe.dispose();
  }
}

/**
 * The contact sheet: the reference at the top left, then one row per prompt: without ID | with ID. Every
 * image is scaled up `zoom` times (nearest neighbour: world images are 64 px) with a white gutter.
 */
export function demoSheet(r: WorldDemoResult, zoom = 3): RgbImage {
  const side = r.reference.width * zoom;
  const gap = 6;
  const cols = 3;
  const width = cols * (side + gap) + gap;
  const height = r.rows.length * (side + gap) + gap;
  const data = new Uint8Array(width * height * 3).fill(255);
  const put = (img: RgbImage, col: number, row: number) => {
    const x0 = gap + col * (side + gap);
    const y0 = gap + row * (side + gap);
    for (let y = 0; y < side; y++) {
      const sy = Math.min(img.height - 1, Math.floor(y / zoom));
      for (let x = 0; x < side; x++) {
        const sx = Math.min(img.width - 1, Math.floor(x / zoom));
        const s = (sy * img.width + sx) * 3;
        data.set(img.data.subarray(s, s + 3), ((y0 + y) * width + x0 + x) * 3);
      }
    }
  };
  put(r.reference, 0, 0);
  r.rows.forEach((row, i) => {
    put(row.withoutId, 1, i);
    put(row.withId, 2, i);
  });
  return rgbImage(width, height, data);
}
