/**
 * The face parser the pipeline uses by default: facexlib's BiSeNet (`parsing_bisenet.pth`) compiled once for the
 * 512 crop, its main head's logits turned into labels.
 */
import { loadBiSeNet, BISENET_FACEXLIB, type BiSeNetConfig } from "../models/bisenet/index.ts";
import { input } from "../engine/tensor.ts";
import { compile } from "../engine/compile.ts";
import type { SessionOptions } from "../engine/session.ts";
import { parserFromLogits, type FaceParser } from "./photo-features.ts";

/** Builds a parser for [1, 3, size, size] inputs from a BiSeNet checkpoint (errors name the file). */
export async function bisenetParser(
  path: string,
  opts: SessionOptions & { config?: BiSeNetConfig; size?: number } = {},
): Promise<FaceParser> {
  const net = loadBiSeNet(path, opts.config ?? BISENET_FACEXLIB);
  const size = opts.size ?? 512;
  const x = input("image", [1, 3, size, size]);
  const program = compile({ ...opts, inputs: [x], outputs: [net.call(x).out], name: "bisenet" });
  await program.ready();
  return parserFromLogits(async (t) => (await program.run([t]))[0]!);
}
