/**
 * The Node implementation of `PulidPlatform` (src/pulid/platform.ts): the file system, sharp for photos and
 * PNGs, the model loaders of `models/` and `face/` (which read files), and crypto for seeds and fingerprints.
 * The portable core (`src/pulid/`) only sees the interface.
 */
import { existsSync, readFileSync, statSync, openSync, readSync, closeSync, realpathSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createHash, randomInt } from "node:crypto";
import sharp from "sharp";
import { writeFileAtomic } from "../engine/atomic-write.ts";
import { loadImage } from "../face/load-image.ts";
import { openScrfd, type ScrfdModel } from "../face/scrfd-model.ts";
import { openArcFace } from "../face/arcface-model.ts";
import { bisenetParser } from "../face/bisenet-parser.ts";
import { openWorldParser } from "../face/world-parser.ts";
import type { DetectFacesOptions } from "../face/detect-faces.ts";
import type { RgbImage } from "../face/rgb-image.ts";
import { loadSdxlFolder } from "../models/sdxl/folder.ts";
import { openPulidCheckpoint, loadIdEncoderV1, loadIdFormer, PulidCheckpointError } from "../models/pulid/checkpoint.ts";
import { loadIdAttentionLayers } from "../models/pulid/id-attention.ts";
import { loadEvaVisual } from "../models/eva/load.ts";
import type { EvaVisionTransformer } from "../models/eva/vision-transformer.ts";
import type { FaceModels } from "../face/photo-features.ts";
import type { SessionOptions } from "../engine/session.ts";
import { EVA02_CLIP_L_14_336, parseEvaConfig } from "../models/eva/config.ts";
import { BISENET_FACEXLIB, type BiSeNetConfig } from "../models/bisenet/config.ts";
import { readJsonFile } from "../models/common/component-folder.ts";
import { MissingModelFilesError } from "../pulid/errors.ts";
import { ADAPTER_FILES, FACE_PATHS, LIGHTNING_UNET, layoutKind, missingLayoutFiles } from "../pulid/layout.ts";
import type { LoadModelsOptions, ModelFingerprints, PulidModels, PulidPlatform } from "../pulid/platform.ts";

const isFile = (p: string) => existsSync(p) && statSync(p).isFile() && statSync(p).size > 0;
const exists = (p: string) => existsSync(p) && (statSync(p).isDirectory() || statSync(p).size > 0);

/**
 * A short fingerprint of a weights file: sha256 over its size, its first and its last MiB, as
 * "sha256s:" + 16 hex digits. Sampled, not a full hash (a 1.5 GB adapter would take seconds per load): it tells
 * two different checkpoints apart, which is what embedding files need.
 */
export function fingerprintFile(path: string): string {
  const size = statSync(path).size;
  const h = createHash("sha256").update(String(size));
  const fd = openSync(path, "r");
  try {
    const chunk = Math.min(size, 1 << 20);
    const buf = new Uint8Array(chunk);
    readSync(fd, buf, 0, chunk, 0);
    h.update(buf);
    readSync(fd, buf, 0, chunk, size - chunk);
    h.update(buf);
  } finally {
    closeSync(fd);
  }
  return `sha256s:${h.digest("hex").slice(0, 16)}`;
}

/** Whether the base is a Lightning model, from the names the reference app looks at (repo / file names). */
function isLightning(dir: string, unetFile: string | undefined, modelIndex: Record<string, unknown> | null): boolean {
  const names = [unetFile ?? "", String(modelIndex?._name_or_path ?? ""), realpathSync(join(dir, "sdxl"))];
  return names.some((n) => n.toLowerCase().includes("lightning"));
}

/** facexlib's BiSeNet widths, or the folder's `facexlib/bisenet_config.json` (a smaller parser in that layout). */
function bisenetConfigAt(root: string): BiSeNetConfig {
  const path = join(root, "facexlib", "bisenet_config.json");
  return existsSync(path) ? (readJsonFile(path, "expected BiSeNet widths {num_class, resnet_widths, context_channels, aux_mid_channels}") as unknown as BiSeNetConfig) : BISENET_FACEXLIB;
}

/** The face side of a models folder: the ID-feature nets of inference (and of PuLID training's data path). */
export interface FaceSide {
  eva: EvaVisionTransformer;
  face: FaceModels;
  evaPath: string;
  arcfacePath: string;
  /** The detector itself (landmarks of any image; `face.detector` is the same net with the layout's minimum size). */
  scrfd: ScrfdModel;
  dispose(): Promise<void>;
}

/** The EVA tower of `root` (its config from the folder, or EVA02-CLIP-L-14-336) and the file it came from. */
export function loadEvaAt(root: string): { eva: EvaVisionTransformer; evaPath: string } {
  const paths = FACE_PATHS[layoutKind(root, exists)];
  const evaConfigPath = join(root, paths.evaConfig);
  const evaConfig = existsSync(evaConfigPath) ? parseEvaConfig(readJsonFile(evaConfigPath, "expected an open_clip model config {embed_dim, vision_cfg}")) : EVA02_CLIP_L_14_336;
  const evaPath = join(root, paths.eva);
  return { eva: loadEvaVisual(evaPath, evaConfig), evaPath };
}

/** Opens the detector, recogniser, parser and EVA tower of `root` in its layout (published or world). */
export async function openFaceSide(root: string, session: SessionOptions = {}, loaded = loadEvaAt(root)): Promise<FaceSide> {
  const kind = layoutKind(root, exists);
  const paths = FACE_PATHS[kind];
  const { eva, evaPath } = loaded;

  const arcfacePath = join(root, paths.recognizer);
  const scrfd = await openScrfd(join(root, paths.detector), session);
  // World faces are small (a 64x64 image's face is ~20-40 px): the world detector has no minimum face size.
  const detector = kind === "world" ? { detect: (image: RgbImage, o?: DetectFacesOptions) => scrfd.detect(image, { ...o, minFaceSize: 0 }) } : scrfd;
  const recognizer = await openArcFace(arcfacePath, session);
  const parser = kind === "world" ? await openWorldParser(join(root, paths.parser), session) : await bisenetParser(join(root, paths.parser), { ...session, config: bisenetConfigAt(root) });
  return { eva, face: { detector, recognizer, parser }, evaPath, arcfacePath, scrfd, dispose: async () => void (await Promise.all([scrfd.dispose(), recognizer.dispose()])) };
}

async function loadModels(dir: string, opts: LoadModelsOptions): Promise<PulidModels> {
  const root = resolve(dir);
  const missing = missingLayoutFiles(root, exists, opts.adapter !== undefined ? { adapter: opts.adapter } : {});
  if (missing.length) throw new MissingModelFilesError(root, missing);
  const session = { ...(opts.executionProvider ? { executionProvider: opts.executionProvider } : {}), ...(opts.threads ? { threads: opts.threads } : {}) };

  const adapter = opts.adapter ?? ADAPTER_FILES.map((a) => join(root, a.path)).find(isFile)!;
  const lightningFile = join(root, LIGHTNING_UNET.path);
  const unetFile = isFile(lightningFile) ? lightningFile : undefined;
  const sdxl = loadSdxlFolder(join(root, "sdxl"), unetFile ? { unetFile } : {});

  const ckpt = openPulidCheckpoint(adapter);
  const version = ckpt.version;
  ckpt.close();
  if (version === "flux") throw new PulidCheckpointError("wrong_version", adapter, "this is a PuLID-FLUX adapter; the SDXL pipeline takes pulid_v1.bin or pulid_v1.1.safetensors");
  const idEncoder = version === "v1" ? loadIdEncoderV1(adapter).model : loadIdFormer(adapter).model;
  const idAttention = loadIdAttentionLayers(sdxl.unet, adapter);

  const side = await openFaceSide(root, session);
  const { eva, evaPath, arcfacePath } = side;
  const fingerprints: ModelFingerprints = { adapter: fingerprintFile(adapter), arcface: fingerprintFile(arcfacePath), eva: fingerprintFile(evaPath) };
  return {
    dir: root,
    version,
    lightning: isLightning(root, unetFile, sdxl.modelIndex),
    // The world base learnt its unconditional branch from dropped (empty) captions.
    ...(layoutKind(root, exists) === "world" ? { defaultNegativePrompt: "" } : {}),
    unet: sdxl.unet,
    textEncoder: sdxl.textEncoder,
    textEncoder2: sdxl.textEncoder2,
    tokenizer: sdxl.tokenizer,
    tokenizer2: sdxl.tokenizer2,
    vae: sdxl.vae,
    schedulerConfig: sdxl.schedulerConfig,
    eva,
    idEncoder,
    idAttention,
    face: side.face,
    fingerprints,
    dispose: side.dispose,
  };
}

async function encodePng(image: RgbImage): Promise<Uint8Array> {
  const out = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The Node platform. */
export const nodePlatform: PulidPlatform = {
  loadModels,
  readImage: (photo, label) => loadImage(photo, label !== undefined ? { label } : {}),
  encodePng,
  readFile: async (path) => new Uint8Array(await readFile(path)),
  writeFile: (path, bytes) => writeFileAtomic(path, bytes),
  randomSeed: () => randomInt(0, 2 ** 47),
  defaultModelsDir: () => resolve(import.meta.dirname, "..", "..", "models", "world"),
};

/** Reads a file synchronously (for the CLI's small JSON reads). */
export function readText(path: string): string {
  return readFileSync(path, "utf8");
}
