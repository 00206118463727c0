/**
 * A generator that needs no diffusion model: the world's renderer draws the prompt's attributes at the item's
 * seed, with the benchmark person when the ID weight is at least 0.5 and with a stranger (a train-split identity)
 * below, so with- and without-ID images share the scene exactly as a perfect PuLID would. Counts its calls.
 */
import { hashSeed } from "../../../src/world/rng.ts";
import { identityAt } from "../../../src/world/identity.ts";
import { renderFace } from "../../../src/world/render.ts";
import { withDefaults } from "../../../src/world/attributes.ts";
import { splitIdentity } from "../../../src/world/splits.ts";
import { EVAL_PROMPTS, FACE_SIM_PROMPT } from "../../../src/world/benchmarks.ts";
import { benchmarkByName, renderToRgb, type BenchName } from "../../../src/eval/bench/plan.ts";
import type { BenchGenerator, GenerateJob } from "../../../src/eval/bench/generator.ts";

export interface FakeGenerator extends BenchGenerator {
  calls: GenerateJob[];
}

export function fakeGenerator(bench: BenchName, opts: { failAfter?: number } = {}): FakeGenerator {
  const b = benchmarkByName(bench);
  const prompts = [FACE_SIM_PROMPT, ...EVAL_PROMPTS];
  const calls: GenerateJob[] = [];
  return {
    calls,
    async generate(job) {
      if (opts.failAfter !== undefined && calls.length >= opts.failAfter) throw new Error("fake generator: told to fail");
      calls.push(job);
      const prompt = prompts.find((p) => p.text === job.prompt)!;
      const person = Number(job.personKey.slice(1));
      const stranger = splitIdentity("train", hashSeed("stranger", job.seed, prompt.id) % 1000);
      const who = (job.options.idScale ?? 0.8) >= 0.5 ? b.identities[person]! : stranger;
      return renderToRgb(renderFace(identityAt(who), withDefaults(prompt.attributes), { size: 64, seed: job.seed }));
    },
    async dispose() {},
  };
}
