/**
 * `pulid generate`: photos of a face + a prompt -> PNGs of that person. Every generation flag comes from the
 * options schema (src/pulid/options.ts); each PNG carries all parameters and its seed in a "parameters" text
 * chunk. Exit 0 ok, 1 failure (no face, unreadable photo, missing weights, ...), 2 bad usage (incl. an option
 * out of range).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseFlags, UsageError, type Command } from "../command.ts";
import { OPTION_FLAGS, optionHelp, optionsFromFlags, takeRepeated } from "../option-flags.ts";
import { Progress } from "../progress.ts";
import { PulidPipeline, type IdEmbedding } from "../../pulid/index.ts";

const HELP = `usage: pulid generate --id PHOTO [--id PHOTO ...] | --id-embedding FILE  --out DIR [options]

Generates images of the person in the photo(s) (or an ID embedding from 'pulid embed') following the prompt,
writes them to DIR as PNGs (each with its parameters and seed in a "parameters" text chunk) and prints their paths.

  --id PHOTO            a photo of the person (JPEG, PNG, WebP); repeat for more photos of the same person
  --id-embedding FILE   ID tokens saved by 'pulid embed' (instead of --id)
  --out DIR             output folder (created if needed)
  --models DIR          models folder (layout: README, src/pulid/layout.ts); default the shipped world models
  --adapter FILE        a PuLID adapter file to use instead of the folder's
  --json                print one JSON object {images: [{path, seed}], options, notes}
  --threads N           ONNX Runtime threads
  --low-memory          release each stage's networks once its output is computed (ID encoder, text encoders,
                        UNet, VAE in turn): full-size SDXL v1 peaks at 11.4 GiB instead of 20.5, same images
generation options:
${optionHelp()}`;

/** Loads a pipeline for a command (shared by generate and embed). */
export async function openPipeline(flags: Record<string, string | boolean>): Promise<PulidPipeline> {
  const threads = flags.threads === undefined ? undefined : Number(flags.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) throw new UsageError(`--threads must be a positive integer, got '${String(flags.threads)}'`);
  return PulidPipeline.fromPretrained(typeof flags.models === "string" ? flags.models : undefined, {
    ...(typeof flags.adapter === "string" ? { adapter: flags.adapter } : {}),
    ...(threads ? { threads } : {}),
    ...(flags["low-memory"] === true ? { lowMemory: true } : {}),
  });
}

export const generateCommand: Command = {
  name: "generate",
  summary: "photos of a face + a prompt -> PNGs of that person",
  async run(argv) {
    const { values: ids, rest } = takeRepeated(argv, "id");
    const { flags, positional } = parseFlags(rest, {
      strings: [...OPTION_FLAGS.strings, "id-embedding", "out", "models", "adapter", "threads"],
      booleans: [...OPTION_FLAGS.booleans, "json", "low-memory"],
    });
    if (flags.help) {
      console.log(HELP);
      return 0;
    }
    if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}' (photos go after --id)`);
    if (typeof flags.out !== "string") throw new UsageError("--out DIR is required");
    if (!ids.length && typeof flags["id-embedding"] !== "string") throw new UsageError("give --id PHOTO (one or more) or --id-embedding FILE");
    if (ids.length && flags["id-embedding"] !== undefined) throw new UsageError("give either --id photos or --id-embedding, not both");
    const options = optionsFromFlags(flags);
    const pipe = await openPipeline(flags);
    try {
      // Resolve first: a bad option fails before any work.
      const resolved = pipe.resolveOptions(options);
      let idEmbedding: IdEmbedding | undefined;
      if (typeof flags["id-embedding"] === "string") idEmbedding = await pipe.loadIdEmbedding(flags["id-embedding"]);
      const perImage = resolved.sampler === "dpmpp_sde" ? 2 * resolved.steps - 1 : resolved.steps;
      const bar = process.stderr.isTTY ? new Progress("generate", resolved.num * perImage) : null;
      const r = await pipe.generate({
        ...(idEmbedding ? { idEmbedding } : { id: ids }),
        options: { ...options, seed: resolved.seed },
        ...(bar ? { onProgress: (p) => bar.tick(1, `image ${p.image + 1}/${p.num}`) } : {}),
      });
      bar?.done();
      mkdirSync(flags.out, { recursive: true });
      const written: { path: string; seed: number }[] = [];
      for (const img of r.images) {
        const path = join(flags.out, `pulid_${img.seed}.png`);
        await pipe.platform.writeFile(path, await pipe.png(img));
        written.push({ path, seed: img.seed });
      }
      if (flags.json) console.log(JSON.stringify({ images: written, options: r.options, notes: r.notes }));
      else {
        for (const n of r.notes) console.error(`note: ${n}`);
        for (const w of written) console.log(w.path);
      }
      return 0;
    } finally {
      await pipe.dispose();
    }
  },
};
