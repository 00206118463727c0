import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import sharp from "sharp";
import { loadImage, FaceError } from "../../src/face/index.ts";

const W = 40, H = 30;
/** A test pattern: red ramp along x, green ramp along y, blue constant. */
function pattern(w = W, h = H): Buffer {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = (y * w + x) * 3;
    px[o] = (x * 255) / (w - 1);
    px[o + 1] = (y * 255) / (h - 1);
    px[o + 2] = 77;
  }
  return px;
}
const raw = (px: Buffer, w = W, h = H, channels: 1 | 3 | 4 = 3) => sharp(px, { raw: { width: w, height: h, channels } });

async function rejects(p: Promise<unknown>, code: string, photo: string) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FaceError, `expected FaceError, got ${e}`);
    assert.equal(e.code, code);
    assert.equal(e.photo, photo);
    assert.ok(e.message.startsWith(photo), `message names the photo: ${e.message}`);
    return true;
  });
}

test("PNG loads pixel-exact; JPEG and WebP load with the right size", async () => {
  const px = pattern();
  const png = await loadImage(await raw(px).png().toBuffer());
  assert.deepEqual([png.width, png.height], [W, H]);
  assert.deepEqual(Buffer.from(png.data), px);
  for (const buf of [await raw(px).jpeg({ quality: 95 }).toBuffer(), await raw(px).webp({ quality: 95 }).toBuffer()]) {
    const img = await loadImage(buf);
    assert.deepEqual([img.width, img.height], [W, H]);
    let maxErr = 0;
    for (let i = 0; i < px.length; i++) maxErr = Math.max(maxErr, Math.abs(img.data[i]! - px[i]!));
    assert.ok(maxErr < 40, `lossy codec error ${maxErr}`);
  }
});

test("EXIF orientation 6 (rotate 90 clockwise) is applied", async () => {
  const px = pattern();
  const jpg = await raw(px).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
  const img = await loadImage(jpg);
  assert.deepEqual([img.width, img.height], [H, W]);
  // After a clockwise turn the source's left column (red 0) is the top row, source top (green 0) is the right.
  const at = (x: number, y: number, c: number) => img.data[(y * img.width + x) * 3 + c]!;
  assert.ok(at(H / 2, 0, 0) < 30, "top row has low red");
  assert.ok(at(H / 2, W - 1, 0) > 225, "bottom row has high red");
  assert.ok(at(H - 1, W / 2, 1) < 30, "right column has low green");
});

test("alpha is dropped (reference) or composited on white; 16-bit gray becomes 8-bit RGB", async () => {
  const rgba = Buffer.alloc(W * H * 4);
  for (let i = 0; i < W * H; i++) rgba.set([10, 20, 30, i % 2 ? 0 : 255], i * 4);
  const png = await raw(rgba, W, H, 4).png().toBuffer();
  const dropped = await loadImage(png);
  assert.deepEqual([...dropped.data.subarray(0, 6)], [10, 20, 30, 10, 20, 30]);
  const white = await loadImage(png, { alpha: "white" });
  assert.deepEqual([...white.data.subarray(0, 6)], [10, 20, 30, 255, 255, 255]);

  const g16 = Buffer.alloc(W * H * 2);
  for (let i = 0; i < W * H; i++) g16.writeUInt16LE(0xc0c0, i * 2);
  const png16 = await sharp(g16, { raw: { width: W, height: H, channels: 1 } }).toColourspace("grey16").png().toBuffer();
  assert.equal((await sharp(png16).metadata()).depth, "ushort");
  const img = await loadImage(png16);
  assert.equal(img.data.length, W * H * 3);
  assert.ok(img.data.every((v) => v === 0xc0), "0xC0C0 -> 0xC0 in all three channels");
});

test("long side is capped at 1024 with int() truncation of the scaled size", async () => {
  const w = 2050, h = 1000; // k = 1024/2050 -> (int(1000k), int(2050k)) = (499, 1024)
  const px = Buffer.alloc(w * h * 3, 128);
  const img = await loadImage(await raw(px, w, h).png().toBuffer());
  assert.deepEqual([img.width, img.height], [1024, 499]);
  assert.ok(img.data.every((v) => v === 128), "a flat image stays flat through Lanczos-4");
  const kept = await loadImage(await raw(px, w, h).png().toBuffer(), { maxSide: null });
  assert.deepEqual([kept.width, kept.height], [w, h]);
});

test("bad photos: unreadable, truncated, unsupported format, enormous dimensions", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-face-"));
  try {
    const px = pattern();
    const jpg = await raw(px).jpeg().toBuffer();
    const png = await raw(px).png().toBuffer();
    await rejects(loadImage(join(dir, "missing.jpg")), "unreadable", join(dir, "missing.jpg"));
    const junk = join(dir, "notes.jpg");
    writeFileSync(junk, "this is a text file, not a photo\n");
    await rejects(loadImage(junk), "unreadable", junk);
    await rejects(loadImage(jpg.subarray(0, jpg.length >> 1), { label: "half.jpg" }), "truncated", "half.jpg");
    await rejects(loadImage(png.subarray(0, png.length >> 1), { label: "half.png" }), "truncated", "half.png");
    await rejects(loadImage(await raw(px).gif().toBuffer(), { label: "anim.gif" }), "unsupported_format", "anim.gif");
    await rejects(loadImage(await raw(px).tiff().toBuffer(), { label: "scan.tiff" }), "unsupported_format", "scan.tiff");
    await rejects(loadImage(png, { label: "small-limit.png", maxPixels: W * H - 1 }), "too_large", "small-limit.png");
    // A PNG whose header claims 100000 x 100000 pixels and carries almost no data: refused from the header alone.
    const huge = join(dir, "huge.png");
    writeFileSync(huge, pngHeaderOnly(100_000, 100_000));
    await rejects(loadImage(huge), "too_large", huge);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A syntactically valid PNG start (signature, IHDR, tiny IDAT, IEND) with arbitrary dimensions. */
function pngHeaderOnly(w: number, h: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.alloc(16))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
