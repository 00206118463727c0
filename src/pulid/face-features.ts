/**
 * One decoded photo -> what the ID encoder needs (pipeline.py `get_id_embedding`, steps 2-6 of
 * pulid-reference.md 1.1): SCRFD (the largest face) -> the RAW ArcFace embedding of its 112 crop -> the FFHQ 512
 * crop from the same landmarks -> BiSeNet labels -> white background + gray face -> bicubic resize to the EVA
 * size + CLIP normalisation.
 *
 * The work is `face/photo-features.ts` (shared with the Node path `face/id-features.ts`); the platform decodes
 * the photo. Its documented departure holds here: one detector (SCRFD) for both crops.
 */
import type { RgbImage } from "../face/rgb-image.ts";
import { photoIdFeatures, type FaceModels } from "../face/photo-features.ts";
import type { FaceDetectionResult } from "../face/detect-faces.ts";
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

/**
 * Extracts the ID features of one decoded photo.
 * @param evaSize the EVA tower's image size (336 for EVA02-CLIP-L-14-336).
 * @throws FaceError naming the photo: no_face, face_too_small, bad_landmarks, model_run_failed.
 */
export async function photoFeatures(image: RgbImage, photo: string, models: FaceModels, evaSize: number): Promise<PhotoFeatures> {
  const f = await photoIdFeatures(image, photo, models, { evaSize });
  return { photo, arcface: f.arcface.embedding, evaInput: f.evaInput, faces: f.detection.faces.length, detection: f.detection };
}
