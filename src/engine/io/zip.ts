/**
 * A minimal read-only zip reader for PyTorch checkpoints: it parses the central directory (zip64 included,
 * since multi-GB checkpoints exist) and reads one entry at a time by file position, so a big archive is
 * never loaded whole. Stored (method 0) and deflated (method 8) entries are supported; encryption,
 * multi-disk archives and other compression methods are refused.
 *
 * Format reference: PKWARE APPNOTE.TXT sections 4.3.7 (local header), 4.3.12 (central header),
 * 4.3.14-16 (zip64 end of central directory), 4.5.3 (zip64 extra field).
 *
 * Error codes (all {@link WeightFileError}): `file_not_found`, `truncated` (the end of the archive is
 * missing or an entry runs past the end of the file), `bad_zip` (inconsistent structure), `unsupported_zip`
 * (encrypted, multi-disk, unknown compression), `crc_mismatch` (entry bytes do not match their CRC-32),
 * `missing_entry`, `closed`.
 */
import { openSync, readSync, closeSync, fstatSync } from "node:fs";
import { inflateRawSync, crc32 as zlibCrc32 } from "node:zlib";
import { crc32Portable } from "./crc32.ts";
import { WeightFileError } from "../errors.ts";

/** One file inside a zip archive, as its central-directory record describes it. */
export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly compressedSize: number;
  /** Size of the entry's bytes once decompressed. */
  readonly size: number;
  readonly crc32: number;
  /** Absolute file position of the entry's local header. */
  readonly localHeaderOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
/** fs.readSync refuses lengths of 2 GiB and more: big entries are read in 1 GiB steps. */
const MAX_READ = 1 << 30;

/** An open zip archive. Call {@link ZipReader.close} when done. */
export class ZipReader {
  readonly path: string;
  readonly fileSize: number;
  private readonly byName: Map<string, ZipEntry>;
  private readonly list: readonly ZipEntry[];
  private fd: number | null;

  private constructor(path: string, fd: number, fileSize: number, entries: ZipEntry[]) {
    this.path = path;
    this.fd = fd;
    this.fileSize = fileSize;
    this.list = entries;
    this.byName = new Map(entries.map((e) => [e.name, e]));
  }

  /**
   * Opens an archive and reads its central directory.
   * @throws WeightFileError `file_not_found`, `truncated`, `bad_zip`, `unsupported_zip`.
   */
  static open(path: string): ZipReader {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw new WeightFileError("file_not_found", path, `cannot open zip file (${(e as Error).message})`, {
        cause: e,
      });
    }
    try {
      const size = fstatSync(fd).size;
      return new ZipReader(path, fd, size, readCentralDirectory(path, fd, size));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Every entry, in central-directory order. */
  entries(): readonly ZipEntry[] {
    return this.list;
  }

  /** The entry with this exact name, or undefined. */
  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  private need(nameOrEntry: string | ZipEntry): ZipEntry {
    if (typeof nameOrEntry !== "string") return nameOrEntry;
    const e = this.byName.get(nameOrEntry);
    if (!e) throw new WeightFileError("missing_entry", this.path, `zip has no entry '${nameOrEntry}'`);
    return e;
  }

  private fdOrThrow(): number {
    if (this.fd === null) throw new WeightFileError("closed", this.path, "zip file is closed");
    return this.fd;
  }

  /**
   * Absolute file position where the entry's (possibly compressed) bytes start; read from its local header,
   * whose name and extra-field lengths may differ from the central record.
   */
  dataOffset(nameOrEntry: string | ZipEntry): number {
    const e = this.need(nameOrEntry);
    const fd = this.fdOrThrow();
    const h = readExact(this.path, fd, 30, e.localHeaderOffset, `local header of '${e.name}'`);
    const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
    if (v.getUint32(0, true) !== SIG_LOCAL) {
      throw new WeightFileError(
        "bad_zip",
        this.path,
        `entry '${e.name}': no local header at byte ${e.localHeaderOffset}`,
      );
    }
    const start = e.localHeaderOffset + 30 + v.getUint16(26, true) + v.getUint16(28, true);
    if (start + e.compressedSize > this.fileSize) {
      throw new WeightFileError(
        "truncated",
        this.path,
        `entry '${e.name}' needs bytes up to ${start + e.compressedSize} but the file has ${this.fileSize} (truncated?)`,
      );
    }
    return start;
  }

  /**
   * Reads a whole entry, inflating it if deflated, and checks its size and (unless `verifyCrc` is false) its CRC-32.
   * @throws WeightFileError `missing_entry`, `truncated`, `bad_zip`, `unsupported_zip`, `crc_mismatch`.
   */
  read(nameOrEntry: string | ZipEntry, options: { verifyCrc?: boolean } = {}): Uint8Array {
    const e = this.need(nameOrEntry);
    const fd = this.fdOrThrow();
    const start = this.dataOffset(e);
    const raw = readExact(this.path, fd, e.compressedSize, start, `entry '${e.name}'`);
    let data: Uint8Array;
    if (e.method === 0) {
      data = raw;
    } else if (e.method === 8) {
      try {
        // Cap the output at the recorded size so a lying directory cannot make us inflate a zip bomb.
        const b = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
        data = new Uint8Array(b.buffer, b.byteOffset, b.byteLength); // a plain Uint8Array, whatever the method
      } catch (err) {
        throw new WeightFileError(
          "bad_zip",
          this.path,
          `entry '${e.name}' does not inflate (${(err as Error).message})`,
          { cause: err },
        );
      }
    } else {
      throw new WeightFileError(
        "unsupported_zip",
        this.path,
        `entry '${e.name}' uses compression method ${e.method}; only stored (0) and deflate (8) are supported`,
      );
    }
    if (data.byteLength !== e.size) {
      throw new WeightFileError(
        "bad_zip",
        this.path,
        `entry '${e.name}' holds ${data.byteLength} bytes, the directory says ${e.size}`,
      );
    }
    if (options.verifyCrc !== false) {
      const got = crc32(data);
      if (got !== e.crc32) {
        throw new WeightFileError(
          "crc_mismatch",
          this.path,
          `entry '${e.name}' is corrupt: CRC-32 ${hex(got)} != recorded ${hex(e.crc32)}`,
        );
      }
    }
    return data;
  }

  /**
   * Reads `length` bytes starting `start` bytes into a stored entry without reading the rest (no CRC check:
   * the CRC covers the whole entry). Deflated entries are inflated whole and sliced.
   */
  readRange(nameOrEntry: string | ZipEntry, start: number, length: number): Uint8Array {
    const e = this.need(nameOrEntry);
    if (start < 0 || length < 0 || start + length > e.size) {
      throw new WeightFileError(
        "bad_zip",
        this.path,
        `range [${start}, ${start + length}) is outside entry '${e.name}' (${e.size} bytes)`,
      );
    }
    if (e.method !== 0) return this.read(e, { verifyCrc: false }).subarray(start, start + length);
    return readExact(this.path, this.fdOrThrow(), length, this.dataOffset(e) + start, `entry '${e.name}'`);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

/** CRC-32 (the zip polynomial); uses zlib's native one where this Node has it. */
export function crc32(data: Uint8Array): number {
  return typeof zlibCrc32 === "function" ? zlibCrc32(data) >>> 0 : crc32Portable(data);
}

function readExact(path: string, fd: number, length: number, position: number, what: string): Uint8Array {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, Math.min(length - done, MAX_READ), position + done);
    if (n === 0) {
      throw new WeightFileError(
        "truncated",
        path,
        `file ends at byte ${position + done} while reading ${what} (needs ${position + length})`,
      );
    }
    done += n;
  }
  return buf;
}

function u64(v: DataView, at: number, path: string, what: string): number {
  const big = v.getBigUint64(at, true);
  if (big > BigInt(Number.MAX_SAFE_INTEGER))
    throw new WeightFileError("bad_zip", path, `${what} ${big} is implausibly large`);
  return Number(big);
}

function readCentralDirectory(path: string, fd: number, fileSize: number): ZipEntry[] {
  // The end-of-central-directory record is 22 bytes plus a comment of up to 65535 bytes, at the very end.
  const tailLen = Math.min(fileSize, 22 + U16_MAX);
  const tailStart = fileSize - tailLen;
  const tail = readExact(path, fd, tailLen, tailStart, "end of archive");
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === SIG_EOCD && i + 22 + tv.getUint16(i + 20, true) === tailLen) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    const head = fileSize >= 4 ? readExact(path, fd, 4, 0, "zip signature") : new Uint8Array(0);
    const looksZip = head.length === 4 && new DataView(head.buffer).getUint32(0, true) === SIG_LOCAL;
    throw looksZip
      ? new WeightFileError(
          "truncated",
          path,
          `zip has no end-of-central-directory record (file truncated? ${fileSize} bytes)`,
        )
      : new WeightFileError("bad_zip", path, "not a zip archive (no end-of-central-directory record)");
  }
  if (tv.getUint16(eocd + 4, true) !== 0 || tv.getUint16(eocd + 6, true) !== 0) {
    throw new WeightFileError("unsupported_zip", path, "multi-disk zip archives are not supported");
  }
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);

  // zip64: a locator sits right before the classic record and points at the zip64 record.
  const locAt = eocd - 20;
  if (locAt >= 0 && tv.getUint32(locAt, true) === SIG_ZIP64_LOCATOR) {
    const z64Offset = u64(tv, locAt + 8, path, "zip64 record offset");
    const rec = readExact(path, fd, 56, z64Offset, "zip64 end-of-central-directory record");
    const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    if (rv.getUint32(0, true) !== SIG_ZIP64_EOCD) {
      throw new WeightFileError(
        "bad_zip",
        path,
        `no zip64 end-of-central-directory record at byte ${z64Offset}`,
      );
    }
    count = u64(rv, 32, path, "zip64 entry count");
    cdSize = u64(rv, 40, path, "zip64 central directory size");
    cdOffset = u64(rv, 48, path, "zip64 central directory offset");
  } else if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
    throw new WeightFileError("bad_zip", path, "zip64 sizes are flagged but the zip64 locator is missing");
  }
  if (cdOffset + cdSize > fileSize) {
    throw new WeightFileError(
      "truncated",
      path,
      `central directory [${cdOffset}, ${cdOffset + cdSize}) lies past the end of the ${fileSize}-byte file`,
    );
  }

  const cd = readExact(path, fd, cdSize, cdOffset, "central directory");
  const v = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const decoder = new TextDecoder();
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || v.getUint32(p, true) !== SIG_CENTRAL) {
      throw new WeightFileError(
        "bad_zip",
        path,
        `central directory record ${i} of ${count} is missing or damaged (at byte ${cdOffset + p})`,
      );
    }
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    let compressedSize = v.getUint32(p + 20, true);
    let size = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    const disk = v.getUint16(p + 34, true);
    let localHeaderOffset = v.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdSize)
      throw new WeightFileError("bad_zip", path, `central directory record ${i} runs past the directory`);
    const name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLen));
    if (flags & 1) throw new WeightFileError("unsupported_zip", path, `entry '${name}' is encrypted`);

    // zip64 extra field (id 1) holds, in this order, only those fields whose classic value is saturated.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = v.getUint16(x, true);
      const len = v.getUint16(x + 2, true);
      if (x + 4 + len > xEnd)
        throw new WeightFileError("bad_zip", path, `entry '${name}' has a damaged extra field`);
      if (id === 1) {
        let q = x + 4;
        const take = (what: string): number => {
          if (q + 8 > x + 4 + len)
            throw new WeightFileError(
              "bad_zip",
              path,
              `entry '${name}': zip64 extra field lacks the ${what}`,
            );
          const val = u64(v, q, path, `entry '${name}' ${what}`);
          q += 8;
          return val;
        };
        if (size === U32_MAX) size = take("size");
        if (compressedSize === U32_MAX) compressedSize = take("compressed size");
        if (localHeaderOffset === U32_MAX) localHeaderOffset = take("header offset");
      }
      x += 4 + len;
    }
    if (disk !== 0 && disk !== U16_MAX)
      throw new WeightFileError("unsupported_zip", path, `entry '${name}' is on disk ${disk}`);
    if (localHeaderOffset + 30 > fileSize) {
      throw new WeightFileError(
        "truncated",
        path,
        `entry '${name}' starts at byte ${localHeaderOffset}, past the end of the ${fileSize}-byte file`,
      );
    }
    entries.push({ name, method, compressedSize, size, crc32: crc, localHeaderOffset });
    p = end;
  }
  return entries;
}
