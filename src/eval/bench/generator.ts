/**
 * Where benchmark images come from. `pipelineGenerator` runs PuLID (`PulidPipeline`) with one pipeline per
 * adapter, opened when first needed and closed when another adapter is asked for, so one UNet is resident at a
 * time; ID tokens are encoded once per (adapter, person). Tests inject their own generator.
 */
import { PulidPipeline } from "../../pulid/pipeline.ts";
import type { GenerateOptions } from "../../pulid/options.ts";
import type { IdEmbedding } from "../../pulid/id-embedding-file.ts";
import type { RgbImage } from "../../face/rgb-image.ts";
import type { TextConditioning } from "../../pulid/unet-runner.ts";
import { PulidError } from "../../engine/errors.ts";
import { generateBatch } from "./batched-sampling.ts";

/** One image to draw. */
export interface GenerateJob {
  /** Adapter file (undefined: the models folder's). */
  adapterPath: string | undefined;
  /** Key of the ID photo (tokens are cached by it). */
  personKey: string;
  reference: RgbImage;
  prompt: string;
  seed: number;
  options: GenerateOptions;
}

export interface BenchGenerator {
  generate(job: GenerateJob): Promise<RgbImage>;
  /**
   * Optional: several images at once, for jobs that share the adapter and the options (all but prompt, seed and
   * person); the same images as `generate` one by one, up to float rounding.
   */
  generateMany?(jobs: readonly GenerateJob[]): Promise<RgbImage[]>;
  dispose(): Promise<void>;
}

export function pipelineGenerator(modelsDir: string | undefined): BenchGenerator {
  let open: { adapter: string | undefined; pipe: PulidPipeline; ids: Map<string, IdEmbedding>; texts: Map<string, Promise<TextConditioning>> } | null = null;
  const pipeline = async (adapter: string | undefined) => {
    if (open && open.adapter === adapter) return open;
    await open?.pipe.dispose();
    open = null;
    const pipe = await PulidPipeline.fromPretrained(modelsDir, adapter === undefined ? {} : { adapter });
    open = { adapter, pipe, ids: new Map(), texts: new Map() };
    return open;
  };
  const idOf = async (p: NonNullable<typeof open>, job: GenerateJob) => {
    let id = p.ids.get(job.personKey);
    if (!id) {
      id = (await p.pipe.encodeId([job.reference])).embedding;
      p.ids.set(job.personKey, id);
    }
    return id;
  };
  // The world base was trained on captions only: the empty prompt is its unconditional branch (as the demo).
  const optionsOf = (job: GenerateJob): GenerateOptions => ({ negativePrompt: "", ...job.options, prompt: job.prompt, seed: job.seed, num: 1 });
  return {
    async generate(job) {
      const p = await pipeline(job.adapterPath);
      const r = await p.pipe.generate({ idEmbedding: await idOf(p, job), options: optionsOf(job) });
      return r.images[0]!.image;
    },
    async generateMany(jobs) {
      const p = await pipeline(jobs[0]!.adapterPath);
      if (jobs.some((j) => j.adapterPath !== jobs[0]!.adapterPath)) throw new PulidError("bad_inputs", "generateMany: one adapter per batch");
      if (p.pipe.version !== "v1") {
        const out: RgbImage[] = [];
        for (const j of jobs) out.push((await p.pipe.generate({ idEmbedding: await idOf(p, j), options: optionsOf(j) })).images[0]!.image);
        return out;
      }
      const items = [];
      for (const j of jobs) items.push({ id: await idOf(p, j), options: optionsOf(j) });
      return generateBatch(p.pipe, items, p.texts);
    },
    async dispose() {
      await open?.pipe.dispose();
      open = null;
    },
  };
}
