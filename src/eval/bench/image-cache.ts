/**
 * The resumable image store of a benchmark run: one PNG per (method, ID weight, item) under `<out>/images/`,
 * written atomically, so a run stopped at any point resumes with what is on disk and never redraws an image.
 * A `key.json` beside them records what the images were made with; a run with other settings refuses the
 * folder instead of mixing images.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import sharp from "sharp";
import { writeFileAtomic, writeFileAtomicSync } from "../../engine/atomic-write.ts";
import { PulidError } from "../../engine/errors.ts";
import { rgbImage, type RgbImage } from "../../face/rgb-image.ts";

export class ImageCache {
  /** Images drawn by this process (the rest came from disk). */
  generated = 0;
  reused = 0;

  constructor(readonly dir: string) {}

  /**
   * Checks (or writes) the folder's key: what the images depend on (models folder, adapters, plan size).
   * @throws PulidError `cache_mismatch` naming the field that differs.
   */
  checkKey(key: Record<string, unknown>): void {
    const path = join(this.dir, "key.json");
    if (existsSync(path)) {
      const old = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
      for (const k of new Set([...Object.keys(old), ...Object.keys(key)])) {
        if (JSON.stringify(old[k]) !== JSON.stringify(key[k])) {
          throw new PulidError("cache_mismatch", `${this.dir} holds images made with ${k} = ${JSON.stringify(old[k])}, this run has ${JSON.stringify(key[k])}: use another --out or delete ${this.dir}`);
        }
      }
      return;
    }
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomicSync(path, JSON.stringify(key, null, 1));
  }

  path(name: string): string {
    return join(this.dir, `${name}.png`);
  }

  has(name: string): boolean {
    return existsSync(this.path(name));
  }

  /** A stored image (counted as reused). */
  async read(name: string): Promise<RgbImage> {
    this.reused++;
    return this.load(name);
  }

  /** A stored image, not counted (reading back what this run already accounted for). */
  async load(name: string): Promise<RgbImage> {
    const { data, info } = await sharp(this.path(name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return rgbImage(info.width, info.height, new Uint8Array(data.buffer, data.byteOffset, data.length));
  }

  /** Stores a newly drawn image (atomically: a stopped run never leaves half a PNG). */
  async put(name: string, img: RgbImage): Promise<void> {
    const p = this.path(name);
    mkdirSync(dirname(p), { recursive: true });
    await writeFileAtomic(p, await encodePng(img));
    this.generated++;
  }

  /** The image `name`: read from disk when there, else made by `make` and stored. */
  async get(name: string, make: () => Promise<RgbImage>): Promise<RgbImage> {
    if (this.has(name)) return this.read(name);
    const img = await make();
    await this.put(name, img);
    return img;
  }
}

export async function encodePng(img: RgbImage): Promise<Uint8Array> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
}

/**
 * A stored PNG re-encoded as a JPEG (quality 85) for the report's grids: about a fifth of the bytes at 64 px, so
 * a report with a hundred images stays small enough to commit.
 */
export async function reportThumbnail(png: Uint8Array): Promise<Uint8Array> {
  return sharp(png).jpeg({ quality: 85 }).toBuffer();
}
