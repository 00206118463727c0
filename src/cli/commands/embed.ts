/**
 * `pulid embed`: photos of one person -> their ID tokens (cond and uncond) in a safetensors file with what made
 * them (PuLID version, model fingerprints), so a face is encoded once; `pulid generate --id-embedding` reads it
 * and refuses one made by another encoder.
 */
import { parseFlags, UsageError, type Command } from "../command.ts";
import { takeRepeated } from "../option-flags.ts";
import { openPipeline } from "./generate.ts";

const HELP = `usage: pulid embed --id PHOTO [--id PHOTO ...] --out FILE.safetensors [--id-mix] [--models DIR] [--adapter FILE] [--json]

Encodes the person in the photo(s) into PuLID ID tokens and writes them (atomically) with their origin.
  --id-mix   v1: keep all 10 tokens of every extra photo (default: its first 5, as the reference app)
  --json     print one JSON object {path, version, tokens, photos, fingerprints, notes}`;

export const embedCommand: Command = {
  name: "embed",
  summary: "photos of one person -> an ID embedding file (encode a face once)",
  async run(argv) {
    const { values: ids, rest } = takeRepeated(argv, "id");
    const { flags, positional } = parseFlags(rest, { strings: ["out", "models", "adapter", "threads"], booleans: ["id-mix", "json"] });
    if (flags.help) {
      console.log(HELP);
      return 0;
    }
    if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}' (photos go after --id)`);
    if (!ids.length) throw new UsageError("give at least one --id PHOTO");
    if (typeof flags.out !== "string") throw new UsageError("--out FILE.safetensors is required");
    const pipe = await openPipeline(flags);
    try {
      const { embedding, notes } = await pipe.encodeId(ids, { idMix: flags["id-mix"] === true });
      await pipe.saveIdEmbedding(flags.out, embedding);
      if (flags.json) {
        console.log(JSON.stringify({ path: flags.out, version: embedding.version, tokens: embedding.tokens.cond.shape, photos: embedding.photos, fingerprints: embedding.fingerprints, notes }));
      } else {
        for (const n of notes) console.error(`note: ${n}`);
        console.log(`${flags.out}: PuLID ${embedding.version} ID tokens [${embedding.tokens.cond.shape.join(", ")}] from ${embedding.photos.length} photo(s)`);
      }
      return 0;
    } finally {
      await pipe.dispose();
    }
  },
};
