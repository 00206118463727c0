/**
 * Where benchmark images come from. `pipelineGenerator` runs PuLID (`PulidPipeline`) with one pipeline per
 * adapter, opened when first needed and closed when another adapter is asked for, so one UNet is resident at a
 * time; ID tokens are encoded once per (adapter, person). Tests inject their own generator.
 */
import { PulidPipeline } from "../../pulid/pipeline.ts";
import type { GenerateOptions } from "../../pulid/options.ts";
import type { IdEmbedding } from "../../pulid/id-embedding-file.ts";
import type { RgbImage } from "../../face/rgb-image.ts";

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
  dispose(): Promise<void>;
}

export function pipelineGenerator(modelsDir: string | undefined): BenchGenerator {
  let open: { adapter: string | undefined; pipe: PulidPipeline; ids: Map<string, IdEmbedding> } | null = null;
  const pipeline = async (adapter: string | undefined) => {
    if (open && open.adapter === adapter) return open;
    await open?.pipe.dispose();
    open = null;
    const pipe = await PulidPipeline.fromPretrained(modelsDir, adapter === undefined ? {} : { adapter });
    open = { adapter, pipe, ids: new Map() };
    return open;
  };
  return {
    async generate(job) {
      const p = await pipeline(job.adapterPath);
      let id = p.ids.get(job.personKey);
      if (!id) {
        id = (await p.pipe.encodeId([job.reference])).embedding;
        p.ids.set(job.personKey, id);
      }
      // The world base was trained on captions only: the empty prompt is its unconditional branch (as the demo).
      const r = await p.pipe.generate({ idEmbedding: id, options: { negativePrompt: "", ...job.options, prompt: job.prompt, seed: job.seed, num: 1 } });
      return r.images[0]!.image;
    },
    async dispose() {
      await open?.pipe.dispose();
      open = null;
    },
  };
}
