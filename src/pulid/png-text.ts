/**
 * PNG text chunks (PNG spec 11.3.4.3, tEXt): `keyword\0text` in Latin-1, inserted before IEND. The generation
 * parameters go in as JSON under the keyword "parameters" (the keyword A1111-style tools read), so an image
 * says how it was made. Pure byte work: the platform's encoder makes the PNG, this adds the chunks.
 */
import { crc32Portable } from "../engine/io/crc32.ts";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** CRC-32 (ISO 3309, the PNG chunk checksum) of `bytes`. */
export const crc32 = crc32Portable;

function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[i] = c < 256 ? c : 0x3f; // "?" for characters outside Latin-1 (JSON escapes them first: see below)
  }
  return out;
}

/** Escapes non-Latin-1 characters as \uXXXX so JSON text survives tEXt's Latin-1. */
export function jsonLatin1(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0100-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Returns a copy of `png` with one tEXt chunk per entry of `text`, before IEND. Throws RangeError for non-PNG bytes. */
export function addPngText(png: Uint8Array, text: Readonly<Record<string, string>>): Uint8Array {
  if (png.length < 12 || SIGNATURE.some((b, i) => png[i] !== b)) throw new RangeError("addPngText: not a PNG");
  const iend = png.length - 12; // IEND is the last chunk: length 0, type, CRC
  if (String.fromCharCode(...png.subarray(iend + 4, iend + 8)) !== "IEND") throw new RangeError("addPngText: PNG does not end with IEND");
  const chunks: Uint8Array[] = [];
  for (const [k, v] of Object.entries(text)) {
    if (!/^[\x20-\x7e]{1,79}$/.test(k)) throw new RangeError(`addPngText: keyword '${k}' must be 1-79 printable Latin-1 characters`);
    const data = new Uint8Array([...latin1(k), 0, ...latin1(v)]);
    const chunk = new Uint8Array(12 + data.length);
    const dv = new DataView(chunk.buffer);
    dv.setUint32(0, data.length);
    chunk.set([0x74, 0x45, 0x58, 0x74], 4); // "tEXt"
    chunk.set(data, 8);
    dv.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
    chunks.push(chunk);
  }
  const total = png.length + chunks.reduce((s, c) => s + c.length, 0);
  const out = new Uint8Array(total);
  out.set(png.subarray(0, iend));
  let at = iend;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  out.set(png.subarray(iend), at);
  return out;
}

/** Reads every tEXt chunk of a PNG (keyword -> text). Throws RangeError for non-PNG bytes. */
export function readPngText(png: Uint8Array): Record<string, string> {
  if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) throw new RangeError("readPngText: not a PNG");
  const out: Record<string, string> = {};
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let at = 8; at + 12 <= png.length; ) {
    const len = dv.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === "tEXt") {
      const data = png.subarray(at + 8, at + 8 + len);
      const z = data.indexOf(0);
      out[String.fromCharCode(...data.subarray(0, z))] = Array.from(data.subarray(z + 1), (b) => String.fromCharCode(b)).join("");
    }
    at += 12 + len;
  }
  return out;
}
