/**
 * One decoded photo -> what the ID encoder needs (pipeline.py `get_id_embedding`, steps 2-6 of
 * pulid-reference.md 1.1): SCRFD (the largest face) -> the RAW ArcFace embedding of its 112 crop -> the FFHQ 512
 * crop from the same landmarks -> BiSeNet labels -> white background + gray face -> bicubic resize to the EVA
 * size + CLIP normalisation.
 *
 * This is `face/id-features.ts` without the photo decoding (which needs sharp): the platform decodes. The
 * departure documented there holds here too: one detector (SCRFD) for both crops, where the reference aligns
 * the 512 crop with facexlib's RetinaFace (centre face) and falls back to embedding the 512 crop when
 * insightface finds nothing. Here "no face" is one outcome: FaceError `no_face`.
 */
import { FaceError } from "../face/errors.ts";
import type { RgbImage } from "../face/rgb-image.ts";
import type { FaceModels } from "../face/id-features.ts";
import type { FaceDetectionResult } from "../face/detect-faces.ts";
import { ffhqCrop } from "../face/align.ts";
import { bisenetInput, evaInput } from "../face/eva-input.ts";
import type { HostTensor } from "../engine/host-tensor.ts";

/** What one photo contributes to the ID tokens. */
export interface PhotoFeatures {
  /** Name of the photo (path or label). */
  readonly photo: string;
  /** ArcFace's raw embedding of the chosen face. */
  readonly arcface: Float32Array;
  /** EVA-CLIP input [1, 3, S, S]. */
  readonly evaInput: HostTensor<"float32">;
  /** Faces found; the largest was used (`faces > 1` is reported to the caller). */
  readonly faces: number;
  readonly detection: FaceDetectionResult;
}

async function stage<T>(photo: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof FaceError) throw e;
    throw new FaceError("model_run_failed", photo, `${what} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

/**
 * Extracts the ID features of one decoded photo.
 * @param evaSize the EVA tower's image size (336 for EVA02-CLIP-L-14-336).
 * @throws FaceError naming the photo: no_face, face_too_small, bad_landmarks, model_run_failed.
 */
export async function photoFeatures(image: RgbImage, photo: string, models: FaceModels, evaSize: number): Promise<PhotoFeatures> {
  const detection = await stage(photo, "face detection", () => models.detector.detect(image, { photo }));
  const kps = detection.face.kps;
  const arc = await stage(photo, "ArcFace embedding", () => models.recognizer.embed(image, kps, photo));
  const aligned = ffhqCrop(image, kps, 512, photo);
  const labels = await stage(photo, "face parsing", async () => {
    const l = await models.parser(bisenetInput(aligned.image));
    if (l.length !== 512 * 512) throw new Error(`the parser returned ${l.length} labels for a 512x512 crop`);
    return l;
  });
  return { photo, arcface: arc.embedding, evaInput: evaInput(aligned.image, labels, evaSize), faces: detection.faces.length, detection };
}
