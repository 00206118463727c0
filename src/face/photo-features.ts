/**
 * One decoded photo -> everything PuLID's ID encoder needs (pipeline.py `get_id_embedding`, steps 2-6 of
 * pulid-reference.md 1.1), with no file or codec work, so the portable pipeline and the Node path share it:
 *
 *   SCRFD (largest face) -> ArcFace on the 112 norm_crop: the RAW embedding (`face_info['embedding']`)
 *   -> FFHQ-aligned crop from the same landmarks (512, or the parser's size) -> parser labels
 *   -> white background + gray face -> bicubic resize to the EVA size + CLIP normalisation.
 *
 * Departure from the reference, documented: the reference finds the 512-crop landmarks with a second detector
 * (facexlib RetinaFace) and, when insightface finds no face but RetinaFace does, embeds the squashed 512 crop
 * instead. With one detector for both, "no face" is one outcome: FaceError `no_face`.
 */
import type { HostTensor } from "../engine/host-tensor.ts";
import { FaceError } from "./errors.ts";
import type { RgbImage } from "./rgb-image.ts";
import type { DetectFacesOptions, FaceDetectionResult } from "./detect-faces.ts";
import { ffhqCrop, type AlignedFace } from "./align.ts";
import { bisenetInput, evaInput, parsingLabels, EVA_IMAGE_SIZE } from "./eva-input.ts";
import type { ScrfdModel } from "./scrfd-model.ts";
import type { ArcFaceEmbedding, ArcFaceModel } from "./arcface-model.ts";

/**
 * Face parsing: takes BiSeNet's input (the aligned crop, /255, ImageNet mean/std: [1, 3, S, S] float32 NCHW)
 * and returns the class of every pixel (row-major, S * S values, CelebAMask-HQ ids 0..18).
 */
export type FaceParser = (input: HostTensor<"float32">) => Promise<ArrayLike<number>>;

/** A parser from a network returning the main head's logits [1, 19, H, W] (argmax, first maximum wins). */
export function parserFromLogits(run: (input: HostTensor<"float32">) => Promise<HostTensor>): FaceParser {
  return async (x) => parsingLabels(await run(x));
}

/** The networks the pipeline runs. Only `detect`/`embed` are used, so fakes are easy to pass in tests. */
export interface FaceModels {
  readonly detector: Pick<ScrfdModel, "detect">;
  readonly recognizer: Pick<ArcFaceModel, "embed">;
  readonly parser: FaceParser;
}

export interface PhotoFeatureOptions {
  readonly detect?: Omit<DetectFacesOptions, "photo">;
  /** Side of the FFHQ-aligned crop the parser sees (default 512, facexlib's). */
  readonly cropSize?: number;
  /** EVA tower's image size (default 336, EVA02-CLIP-L-14-336's). */
  readonly evaSize?: number;
}

/** Everything extracted from one decoded photo. */
export interface PhotoIdFeatures {
  readonly photo: string;
  readonly detection: FaceDetectionResult;
  /** ArcFace of the chosen face; `arcface.embedding` is PuLID's `id_ante_embedding`. */
  readonly arcface: ArcFaceEmbedding;
  /** The FFHQ-aligned crop and its matrix. */
  readonly aligned: AlignedFace;
  /** Parser class per crop pixel. */
  readonly labels: ArrayLike<number>;
  /** EVA-CLIP input [1, 3, evaSize, evaSize]. */
  readonly evaInput: HostTensor<"float32">;
}

/** Runs a network stage; anything but a FaceError becomes `model_run_failed` naming the photo and the stage. */
async function stage<T>(photo: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof FaceError) throw e;
    throw new FaceError("model_run_failed", photo, `${what} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

/**
 * The ID features of one decoded photo.
 * @throws FaceError naming the photo: no_face / face_too_small / several_faces (detection), bad_landmarks,
 *   model_run_failed (a network threw or returned the wrong size).
 */
export async function photoIdFeatures(image: RgbImage, photo: string, models: FaceModels, opts: PhotoFeatureOptions = {}): Promise<PhotoIdFeatures> {
  const cropSize = opts.cropSize ?? 512;
  const detection = await stage(photo, "face detection", () => models.detector.detect(image, { ...opts.detect, photo }));
  const kps = detection.face.kps;
  const arcface = await stage(photo, "ArcFace embedding", () => models.recognizer.embed(image, kps, photo));
  const aligned = ffhqCrop(image, kps, cropSize, photo);
  const labels = await stage(photo, "face parsing", async () => {
    const l = await models.parser(bisenetInput(aligned.image));
    if (l.length !== cropSize * cropSize) throw new Error(`the parser returned ${l.length} labels for a ${cropSize}x${cropSize} crop`);
    return l;
  });
  return { photo, detection, arcface, aligned, labels, evaInput: evaInput(aligned.image, labels, opts.evaSize ?? EVA_IMAGE_SIZE) };
}
