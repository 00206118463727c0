/**
 * Many benchmark images in one set of UNet runs: B copies of the pipeline's own loop step in lockstep
 * (`sampleLatentsInLockstep`) and their CFG calls are gathered into one batch of 2B rows (B negative-prompt rows with the uncond ID
 * tokens, then B positive rows with the cond tokens: the v1 order of `UNetRunner.eps`, per image), through the
 * pipeline's own UNet program with ID attention. On the world's small nets one batched call costs far less than
 * B single ones, which is what brings a full benchmark into the issue's time budget. v1 only (the world's
 * version); the images equal `PulidPipeline.generate`'s up to float rounding (test/eval/bench).
 */
import { HostTensor } from "../../engine/host-tensor.ts";
import { PulidError } from "../../engine/errors.ts";
import type { PulidPipeline } from "../../pulid/pipeline.ts";
import type { IdEmbedding } from "../../pulid/id-embedding-file.ts";
import type { GenerateOptions } from "../../pulid/options.ts";
import type { TextConditioning } from "../../pulid/unet-runner.ts";
import { cfgBatchInput, guidedRow, sampleLatentsInLockstep } from "../../pulid/lockstep-sampling.ts";
import type { RgbImage } from "../../face/rgb-image.ts";

export interface BatchItem {
  id: IdEmbedding;
  options: GenerateOptions;
}

/**
 * Draws one image per item. Every item must resolve to the same steps, sampler, cfg, size, id_scale, num_zero
 * and ortho (prompt, seed and person may differ).
 * @throws PulidError `bad_inputs` when they do not, or for a v1.1 pipeline.
 */
export async function generateBatch(pipe: PulidPipeline, items: readonly BatchItem[], texts: Map<string, Promise<TextConditioning>>): Promise<RgbImage[]> {
  if (pipe.version !== "v1") throw new PulidError("bad_inputs", "batched benchmark generation is written for v1 pipelines");
  const opts = items.map((it) => pipe.resolveOptions({ ...it.options, num: 1 }));
  const o = opts[0]!;
  const shared = (r: typeof o) => JSON.stringify([r.steps, r.sampler, r.cfg, r.width, r.height, r.idScale, r.numZero, r.ortho]);
  if (opts.some((r) => shared(r) !== shared(o))) throw new PulidError("bad_inputs", "a batch mixes generation settings: group jobs by method and ID weight");
  const f = pipe.models.vae.downFactor;
  const latent = [pipe.models.unet.config.in_channels, o.height / f, o.width / f] as const;
  const n = latent[0] * latent[1] * latent[2];
  const B = items.length;
  const conds = await Promise.all(
    opts.map((r) => {
      const key = JSON.stringify([r.prompt, r.negativePrompt]);
      let t = texts.get(key);
      if (!t) texts.set(key, (t = pipe.textRunner.encode(r.prompt, r.negativePrompt)));
      return t;
    }),
  );
  const [, L, D] = conds[0]!.promptEmbeds.shape as [number, number, number];
  const P = conds[0]!.pooled.shape[1]!;
  const [, M, Dt] = items[0]!.id.tokens.cond.shape as [number, number, number];
  const program = pipe.unetRunner.program(2 * B, latent, [2 * B, L, D], P, M, Dt, o.numZero, o.ortho);
  // Inputs that do not change across steps: row i = image i's negative branch, row B + i its positive one.
  const ctx = new Float32Array(2 * B * L * D);
  const pooled = new Float32Array(2 * B * P);
  const ids = new Float32Array(2 * B * M * Dt);
  conds.forEach((c, i) => {
    ctx.set(c.promptEmbeds.data.subarray(0, L * D), i * L * D);
    ctx.set(c.promptEmbeds.data.subarray(L * D, 2 * L * D), (B + i) * L * D);
    pooled.set(c.pooled.data.subarray(0, P), i * P);
    pooled.set(c.pooled.data.subarray(P, 2 * P), (B + i) * P);
    ids.set(items[i]!.id.tokens.uncond.data, i * M * Dt);
    ids.set(items[i]!.id.tokens.cond.data, (B + i) * M * Dt);
  });
  const fixed = [
    new HostTensor("float32", [2 * B, L, D], ctx),
    new HostTensor("float32", [2 * B, P], pooled),
    HostTensor.f32([2 * B, 6], Array.from({ length: 2 * B }, () => [o.height, o.width, 0, 0, o.height, o.width]).flat()),
    new HostTensor("float32", [2 * B, M, Dt], ids),
    HostTensor.f32([], [o.idScale]),
  ] as const;
  const specs = opts.map((r) => ({ version: "v1" as const, sampler: r.sampler, steps: r.steps, schedulerConfig: pipe.models.schedulerConfig, seed: r.seed, size: n }));
  const latents = await sampleLatentsInLockstep(specs, async (calls) => {
    // The program takes one timestep for the whole batch: the loops share sampler and steps, so it is theirs.
    const t = calls[0]!.t;
    if (calls.some((c) => c.t !== t)) throw new PulidError("bad_inputs", "batched loops went out of step");
    const [out] = await program.run([new HostTensor("float32", [2 * B, ...latent], cfgBatchInput(calls, B, n)), HostTensor.f32([1], [t]), ...fixed]);
    return calls.map((c) => guidedRow(out!.data as Float32Array, B, c.index, n, o.cfg));
  });
  return pipe.vaeRunner.decodeMany(latents, latent);
}
