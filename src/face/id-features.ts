/**
 * One photo -> everything PuLID's ID encoder needs (pipeline.py `get_id_embedding`):
 *
 *   load (EXIF, RGB, long side <= 1024) -> SCRFD (largest face) -> ArcFace on the 112 norm_crop: the RAW
 *   512-d embedding (`face_info['embedding']`, what v1 and v1.1 feed the ID encoder)
 *   -> FFHQ 512 crop from the same SCRFD landmarks -> BiSeNet labels -> white background + gray face
 *   -> bicubic 336 + CLIP normalisation: the EVA-CLIP input [1, 3, 336, 336].
 *
 * Departure from the reference, documented: the reference finds the 512-crop landmarks with a second detector
 * (facexlib RetinaFace) and, when insightface finds no face but RetinaFace does, embeds the squashed 512 crop
 * instead. With one detector for both, "no face" is one outcome: FaceError `no_face`.
 *
 * BiSeNet and EVA-CLIP are run by the caller: BiSeNet enters as a `FaceParser` function (its module is another
 * folder's work), EVA-CLIP takes `evaInput`.
 */
import type { SessionOptions } from "../engine/session.ts";
import { loadImage, type LoadImageOptions } from "./load-image.ts";
import type { RgbImage } from "./rgb-image.ts";
import type { DetectFacesOptions } from "./detect-faces.ts";
import { photoIdFeatures, type FaceModels, type FaceParser, type PhotoIdFeatures } from "./photo-features.ts";
import { checkFaceModelFiles, faceModelPaths, type ModelFileSpec } from "./model-files.ts";
import { openScrfd, type ScrfdModel } from "./scrfd-model.ts";
import { bisenetParser } from "./bisenet-parser.ts";
import { openArcFace, type ArcFaceModel } from "./arcface-model.ts";

export { parserFromLogits, type FaceModels, type FaceParser } from "./photo-features.ts";

export interface IdFeaturesOptions {
  /** Name of the photo in errors when it is given as bytes. */
  readonly label?: string;
  readonly load?: Omit<LoadImageOptions, "label">;
  readonly detect?: Omit<DetectFacesOptions, "photo">;
}

/** Everything extracted from one photo: the decoded image plus the shared photo features. */
export interface IdFeatures extends PhotoIdFeatures {
  /** The loaded image (RGB, long side capped). */
  readonly image: RgbImage;
}

/**
 * The full ID-feature path for one photo.
 * @throws FaceError naming the photo: unreadable / truncated / unsupported_format / too_large (loading),
 *   no_face / face_too_small / several_faces (detection), bad_landmarks, model_run_failed (a network threw or
 *   returned the wrong size).
 * @example const f = await idFeatures("me.jpg", models); f.arcface.embedding; f.evaInput
 */
export async function idFeatures(photo: string | Uint8Array, models: FaceModels, opts: IdFeaturesOptions = {}): Promise<IdFeatures> {
  const name = typeof photo === "string" ? photo : (opts.label ?? "<buffer>");
  const image = await loadImage(photo, { ...opts.load, label: name });
  return { image, ...(await photoIdFeatures(image, name, models, { detect: opts.detect })) };
}

/** Opened face networks with a `dispose`. */
export interface OpenedFaceModels extends FaceModels {
  readonly detector: ScrfdModel;
  readonly recognizer: ArcFaceModel;
  dispose(): Promise<void>;
}

export interface OpenFaceModelsOptions extends SessionOptions {
  /**
   * Builds the parser from the BiSeNet weights path (`<models>/facexlib/parsing_bisenet.pth`). Default:
   * facexlib's BiSeNet run by the engine (`bisenetParser`).
   */
  readonly parser?: (bisenetPath: string) => Promise<FaceParser>;
  /**
   * Files to require up front, so one error lists everything missing. Default: all four (SCRFD, ArcFace,
   * BiSeNet, EVA-CLIP), since the ID features are useless without EVA-CLIP.
   */
  readonly require?: readonly ModelFileSpec["id"][];
}

/**
 * Opens SCRFD and ArcFace from `<modelsDir>/antelopev2/` and the parser from the BiSeNet file.
 * @throws FaceError `missing_model_files` listing each missing file, where it goes and where to get it;
 *   `bad_model_file` naming a file that is not the expected network.
 */
export async function openFaceModels(modelsDir: string, opts: OpenFaceModelsOptions): Promise<OpenedFaceModels> {
  const required = opts.require ?? ["scrfd", "arcface", "bisenet", "eva_clip"];
  checkFaceModelFiles(modelsDir, [...new Set<ModelFileSpec["id"]>(["scrfd", "arcface", "bisenet", ...required])]);
  const paths = faceModelPaths(modelsDir);
  const detector = await openScrfd(paths.scrfd, opts);
  try {
    const recognizer = await openArcFace(paths.arcface, opts);
    try {
      const parser = opts.parser ? await opts.parser(paths.bisenet) : await bisenetParser(paths.bisenet, opts);
      return { detector, recognizer, parser, dispose: async () => void (await Promise.all([detector.dispose(), recognizer.dispose()])) };
    } catch (e) {
      await recognizer.dispose();
      throw e;
    }
  } catch (e) {
    await detector.dispose();
    throw e;
  }
}
