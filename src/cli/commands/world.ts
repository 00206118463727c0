/**
 * `pulid world`: look at the synthetic world.
 *
 *   pulid world sample --out DIR [--rows N] [--size S] [--scale K]   contact sheet PNG (identities x attributes)
 *   pulid world export --split NAME --out DIR [--count N] [--size S] [--seed N]
 *                                                                    PNGs (image, reference, mask) + examples.jsonl
 */
import { join } from "node:path";
import sharp from "sharp";
import { writeFileAtomic } from "../../engine/atomic-write.ts";
import { parseFlags, UsageError, type Command } from "../command.ts";
import { prepareOutDir } from "../out-path.ts";
import { contactSheet, SHEET_COLUMNS } from "../../world/contact-sheet.ts";
import { worldExample } from "../../world/dataset.ts";
import { encodePng } from "../../world/png.ts";
import { checkSplit } from "../../world/splits.ts";
import { LABELS } from "../../world/render.ts";
import { worldTrain, worldEval, worldShip } from "./world-models.ts";

const HELP = `usage:
  pulid world sample --out DIR [--rows N] [--size S] [--scale K]
      write DIR/contact-sheet.png: N identities (default 8) x ${SHEET_COLUMNS.length} attribute sets, S px tiles (default 64),
      enlarged K times with nearest-neighbour (default 2)
  pulid world export --split train|val|test --out DIR [--count N] [--size S] [--seed N]
      write N examples (default 16): DIR/NNNNNN.png, NNNNNN-ref.png, NNNNNN-mask.png and DIR/examples.jsonl`;

function int(
  flags: Record<string, string | boolean>,
  name: string,
  dflt: number,
  min: number,
  max: number,
): number {
  const v = flags[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return n;
}

async function sample(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, { strings: ["out", "rows", "size", "scale"] });
  if (flags.help) return (console.log(HELP), 0);
  if (typeof flags.out !== "string") throw new UsageError("sample needs --out DIR");
  const rows = int(flags, "rows", 8, 1, 64);
  const size = int(flags, "size", 64, 32, 512);
  const scale = int(flags, "scale", 2, 1, 8);
  prepareOutDir(flags.out);
  const sheet = contactSheet(rows, size);
  let png = await encodePng(sheet.rgb, sheet.width, sheet.height);
  if (scale > 1) {
    const buf = await sharp(png)
      .resize(sheet.width * scale, sheet.height * scale, { kernel: "nearest" })
      .png()
      .toBuffer();
    png = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  const path = join(flags.out, "contact-sheet.png");
  await writeFileAtomic(path, png);
  console.log(
    `wrote ${path} (${rows} identities x ${SHEET_COLUMNS.length} columns: ${SHEET_COLUMNS.map((c) => c.label).join(" | ")})`,
  );
  return 0;
}

/** Mask ids to a visible palette (background black, face tan, hair brown, accessories blue, clothes green). */
const MASK_RGB = [
  [0, 0, 0],
  [0.9, 0.75, 0.6],
  [0.45, 0.25, 0.1],
  [0.2, 0.4, 0.95],
  [0.2, 0.7, 0.3],
] as const;

async function exportSplit(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, { strings: ["split", "out", "count", "size", "seed"] });
  if (flags.help) return (console.log(HELP), 0);
  if (typeof flags.split !== "string") throw new UsageError("export needs --split train|val|test");
  if (typeof flags.out !== "string") throw new UsageError("export needs --out DIR");
  const split = checkSplit(flags.split);
  const count = int(flags, "count", 16, 1, 1_000_000);
  const size = int(flags, "size", 64, 32, 512);
  const seed = int(flags, "seed", 0, 0, 2 ** 31 - 1);
  prepareOutDir(flags.out);
  const lines: string[] = [];
  for (let k = 0; k < count; k++) {
    const e = worldExample(k, { split, size, seed });
    const name = String(k).padStart(6, "0");
    const maskRgb = new Float32Array(size * size * 3);
    e.image.mask.forEach((m, p) => maskRgb.set(MASK_RGB[m]!, 3 * p));
    await writeFileAtomic(join(flags.out, `${name}.png`), await encodePng(e.image.rgb, size, size));
    await writeFileAtomic(join(flags.out, `${name}-ref.png`), await encodePng(e.reference.rgb, size, size));
    await writeFileAtomic(join(flags.out, `${name}-mask.png`), await encodePng(maskRgb, size, size));
    lines.push(
      JSON.stringify({
        image: `${name}.png`,
        reference: `${name}-ref.png`,
        mask: `${name}-mask.png`,
        mask_labels: LABELS,
        split,
        identity_index: e.identityIndex,
        identity: Array.from(e.identity, (v) => +v.toFixed(6)),
        attributes: e.image.attributes,
        reference_attributes: e.reference.attributes,
        seed: e.image.seed,
        caption: e.caption.text,
        caption_attributes: e.caption.used,
        tokens: Array.from(e.tokens),
        face_box: e.image.faceBox.map((v) => +v.toFixed(2)),
        landmarks: Array.from(e.image.landmarks, (v) => +v.toFixed(2)),
      }),
    );
  }
  await writeFileAtomic(join(flags.out, "examples.jsonl"), new TextEncoder().encode(lines.join("\n") + "\n"));
  console.log(`wrote ${count} ${split} examples to ${flags.out}`);
  return 0;
}

export const worldCommand: Command = {
  name: "world",
  summary: "the synthetic world: contact sheet (sample) or a split as PNG + JSONL (export)",
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === "sample") return sample(rest);
    if (sub === "export") return exportSplit(rest);
    if (sub === "train") return worldTrain(rest);
    if (sub === "eval") return worldEval(rest);
    if (sub === "ship") return worldShip(rest);
    if (sub === undefined || sub === "--help" || sub === "-h") {
      console.log(HELP);
      return sub ? 0 : 2;
    }
    throw new UsageError(`unknown sub-command '${sub}'\n${HELP}`);
  },
};
