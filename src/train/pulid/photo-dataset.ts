/**
 * The training data of `pulid train --config sdxl`: a folder of photos, each with a caption in a text file of the
 * same name (`0001.jpg` + `0001.txt`), the convention of kohya-ss and of most SDXL fine-tuning folders. Each
 * photo shows the person whose face is its ID condition (the paper's pairing: the ID comes from the trained image).
 * Photos may be grouped one folder per person (`DIR/<person>/0001.jpg`): then `--other-image` can draw the ID
 * condition from another photo of the same person; a photo directly in DIR is a person of its own.
 *
 * Images are prepared as diffusers' SDXL training script does: the shorter side resized to the resolution, a
 * centre crop, and SDXL's micro-conditioning recorded (original size, crop top-left, target size).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import sharp from "sharp";
import { PulidError } from "../../engine/errors.ts";
import { Rng } from "../../engine/rng.ts";
import { hashSeed } from "../../world/rng.ts";
import { loadImage } from "../../face/load-image.ts";
import type { RgbImage } from "../../face/rgb-image.ts";

const IMAGE_EXTENSIONS = new Set([".jpg", ".jpeg", ".png", ".webp"]);

export interface TrainingPhoto {
  path: string;
  caption: string;
  /** The person: the subfolder's name, or the photo's own path for a photo directly in the folder. */
  person: string;
}

/** A photo ready for one training step. */
export interface PreparedPhoto {
  /** [3, res, res] in [-1, 1], channel-first. */
  pixels: Float32Array;
  /** The decoded photo at its own size (the ID features are taken from it, as inference takes them). */
  image: RgbImage;
  /** SDXL add_time_ids: original (h, w), crop top-left (y, x), target (h, w). */
  timeIds: [number, number, number, number, number, number];
}

/**
 * The photos of `dir` with their captions, sorted by name.
 * @throws PulidError `bad_dataset` when the folder is missing, holds no photo, or a photo has no caption file
 *   (every such photo is named, up to ten).
 */
export function listTrainingPhotos(dir: string): TrainingPhoto[] {
  const read = (d: string) => {
    try {
      if (!statSync(d).isDirectory()) throw new Error("not a folder");
      return readdirSync(d).sort();
    } catch (e) {
      throw new PulidError("bad_dataset", `--data ${d}: cannot read the photo folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  const isImage = (n: string) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase());
  const stem = (n: string) => n.slice(0, n.length - extname(n).length);
  const photos: TrainingPhoto[] = [];
  const missing: string[] = [];
  const collect = (folder: string, prefix: string, person: ((n: string) => string)) => {
    const names = read(folder);
    const have = new Set(names);
    for (const n of names.filter(isImage)) {
      if (!have.has(`${stem(n)}.txt`)) missing.push(prefix + n);
      else photos.push({ path: join(folder, n), caption: readFileSync(join(folder, `${stem(n)}.txt`), "utf8").trim(), person: person(n) });
    }
    return names;
  };
  const top = collect(dir, "", (n) => n);
  for (const n of top) if (!isImage(n) && statSync(join(dir, n)).isDirectory()) collect(join(dir, n), `${n}/`, () => n);
  if (missing.length) {
    throw new PulidError("bad_dataset", `--data ${dir}: ${missing.length} photo(s) without a caption file (<name>.txt): ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ", ..." : ""}`);
  }
  if (!photos.length) throw new PulidError("bad_dataset", `--data ${dir}: no photos (${[...IMAGE_EXTENSIONS].join(", ")}) in the folder or its person folders`);
  return photos;
}

/**
 * For `--other-image`: another photo of the same person for each photo, drawn with `rng`.
 * @throws PulidError `bad_dataset` naming the people with a single photo.
 */
export function otherPhotoOf(photos: readonly TrainingPhoto[], i: number, rng: Rng): number {
  const same = photos.map((p, j) => j).filter((j) => j !== i && photos[j]!.person === photos[i]!.person);
  if (!same.length) throw new PulidError("bad_dataset", `--other-image: ${photos[i]!.path} is the only photo of its person`);
  return same[rng.int(same.length)]!;
}

/** People with a single photo (they cannot train with `--other-image`). */
export function singlePhotoPeople(photos: readonly TrainingPhoto[]): string[] {
  const count = new Map<string, number>();
  for (const p of photos) count.set(p.person, (count.get(p.person) ?? 0) + 1);
  return [...count].filter(([, c]) => c < 2).map(([p]) => p);
}

/** Which photo the `k`-th example of a run is: every photo once per epoch, in an order shuffled per epoch. */
export function photoIndex(k: number, count: number, seed: number): number {
  const epoch = Math.floor(k / count);
  const order = new Rng(hashSeed("pulid-photos", seed, epoch)).shuffle(Array.from({ length: count }, (_, i) => i));
  return order[k % count]!;
}

/** Decodes a photo and prepares its `res` x `res` training crop. @throws FaceError naming the photo when unreadable. */
export async function preparePhoto(photo: TrainingPhoto, res: number): Promise<PreparedPhoto> {
  const image = await loadImage(photo.path);
  const { width: w, height: h } = image;
  const scale = res / Math.min(w, h);
  const rw = Math.max(res, Math.round(w * scale));
  const rh = Math.max(res, Math.round(h * scale));
  const top = Math.round((rh - res) / 2);
  const left = Math.round((rw - res) / 2);
  const raw = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width: w, height: h, channels: 3 } })
    .resize(rw, rh, { kernel: "lanczos3" })
    .extract({ left, top, width: res, height: res })
    .raw()
    .toBuffer();
  const plane = res * res;
  const pixels = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) pixels[c * plane + p] = raw[3 * p + c]! / 127.5 - 1;
  return { pixels, image, timeIds: [h, w, top, left, res, res] };
}
