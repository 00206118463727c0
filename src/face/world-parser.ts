/**
 * The world's face parser (`models/world/parser.safetensors`): facexlib's BiSeNet class at a small config, run
 * by `bisenetParser`. Its config and native crop size are in `parser.json` beside the weights.
 *
 * It was trained on the 512-style aligned crop scaled to that size, so the returned parser accepts BiSeNet input
 * of any square size (the pipeline's 512 crop): a larger input is box-averaged down to the native size, parsed
 * there, and the labels are spread back to the input's pixels (nearest), so the caller gets one label per pixel.
 */
import { existsSync, readFileSync } from "node:fs";
import { HostTensor } from "../engine/host-tensor.ts";
import type { SessionOptions } from "../engine/session.ts";
import type { BiSeNetConfig } from "../models/bisenet/index.ts";
import { bisenetParser } from "./bisenet-parser.ts";
import { FaceError } from "./errors.ts";
import type { FaceParser } from "./id-features.ts";

export interface WorldParserMeta {
  config: BiSeNetConfig;
  /** Native crop side. */
  size: number;
}

/** `parser.json` beside `weights` (same name, .json). */
export function worldParserMeta(weights: string): WorldParserMeta {
  const path = weights.replace(/\.safetensors$/, "") + ".json";
  if (!existsSync(path)) throw new FaceError("bad_model_file", weights, `no ${path} beside it (the parser's BiSeNet config and crop size)`);
  return JSON.parse(readFileSync(path, "utf8")) as WorldParserMeta;
}

/** Opens the world parser; the result parses [1, 3, S, S] BiSeNet input of any S >= its native size. */
export async function openWorldParser(weights: string, opts: SessionOptions = {}): Promise<FaceParser & { size: number }> {
  const meta = worldParserMeta(weights);
  const native = await bisenetParser(weights, { ...opts, config: meta.config, size: meta.size });
  const parse = async (x: HostTensor<"float32">) => {
    const S = x.shape[2]!;
    if (x.shape.length !== 4 || x.shape[0] !== 1 || x.shape[1] !== 3 || x.shape[3] !== S) {
      throw new RangeError(`world parser: input must be [1, 3, S, S], got [${x.shape.join(", ")}]`);
    }
    if (S === meta.size) return native(x);
    const labels = await native(boxResize(x, meta.size));
    // Nearest native pixel of each input row / column (the same table serves both axes: the crop is square).
    const near = new Int32Array(S);
    for (let i = 0; i < S; i++) near[i] = Math.min(meta.size - 1, Math.floor(((i + 0.5) * meta.size) / S));
    const out = new Uint8Array(S * S);
    for (let y = 0; y < S; y++) {
      const from = near[y]! * meta.size;
      for (let xx = 0; xx < S; xx++) out[y * S + xx] = labels[from + near[xx]!]!;
    }
    return out;
  };
  return Object.assign(parse, { size: meta.size });
}

/** Area-average resize of [1, C, S, S] to [1, C, n, n] (each output pixel averages the input it covers). */
function boxResize(x: HostTensor<"float32">, n: number): HostTensor<"float32"> {
  const [, C, S] = x.shape as [number, number, number];
  const out = HostTensor.f32([1, C, n, n]);
  const k = S / n;
  for (let c = 0; c < C; c++) {
    for (let oy = 0; oy < n; oy++) {
      const y0 = Math.floor(oy * k);
      const y1 = Math.max(y0 + 1, Math.floor((oy + 1) * k));
      for (let ox = 0; ox < n; ox++) {
        const x0 = Math.floor(ox * k);
        const x1 = Math.max(x0 + 1, Math.floor((ox + 1) * k));
        let s = 0;
        for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) s += x.data[(c * S + y) * S + xx]!;
        out.data[(c * n + oy) * n + ox] = s / ((y1 - y0) * (x1 - x0));
      }
    }
  }
  return out;
}
