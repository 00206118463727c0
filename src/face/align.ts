/**
 * Face crops from 5 landmarks (left eye, right eye, nose, left mouth corner, right mouth corner; image
 * coordinates, pixel centres at integers).
 *
 * - `arcfaceCrop`: insightface `norm_crop` (estimate_norm + cv2.warpAffine, border 0): the 112x112 input of
 *   glintr100.
 * - `ffhqCrop`: facexlib `FaceRestoreHelper.align_warp_face` at face_size 512: the input of BiSeNet and, after
 *   parsing, of EVA-CLIP. Two documented departures from the reference:
 *   1. The landmarks are SCRFD's (the same ones ArcFace uses); the reference runs a second detector
 *      (RetinaFace ResNet-50, `detection_Resnet50_Final.pth`) to get them. Both are trained on the same 5-point
 *      convention; the crops differ by the two detectors' landmark disagreement (typically 1-3 px).
 *   2. The transform is the least-squares similarity (Umeyama); the reference uses
 *      `cv2.estimateAffinePartial2D(method=LMEDS)`, a robust fit of the same 4-DOF model that equals least
 *      squares for consistent points and may ignore one outlying landmark.
 *   The border colour is the reference's (135, 133, 132) BGR = (132, 133, 135) RGB.
 */
import type { RgbImage } from "./rgb-image.ts";
import type { Affine2x3, Points } from "./similarity.ts";
import { estimateNorm, estimateSimilarity, FFHQ_TEMPLATE_512 } from "./similarity.ts";
import { warpAffine } from "./warp-affine.ts";

/** facexlib's border colour for the 512 crop, as RGB. */
export const FFHQ_BORDER_RGB: readonly [number, number, number] = [132, 133, 135];

/** An aligned crop and the matrix that produced it (source pixel coords -> crop coords). */
export interface AlignedFace {
  readonly image: RgbImage;
  readonly M: Affine2x3;
}

/** insightface `norm_crop(img, landmark, image_size, 'arcface')`. */
export function arcfaceCrop(image: RgbImage, landmarks: Points, imageSize = 112, photo = ""): AlignedFace {
  const M = estimateNorm(landmarks, imageSize, photo);
  return { image: warpAffine(image, M, imageSize, imageSize, [0, 0, 0]), M };
}

/** The matrix of the 512 FFHQ alignment (template scaled by size/512). */
export function ffhqMatrix(landmarks: Points, size = 512, photo = ""): Affine2x3 {
  const k = size / 512;
  return estimateSimilarity(landmarks, FFHQ_TEMPLATE_512.map((v) => v * k), photo);
}

/** facexlib-style 512 crop (see the module comment for how it departs from the reference). */
export function ffhqCrop(image: RgbImage, landmarks: Points, size = 512, photo = ""): AlignedFace {
  const M = ffhqMatrix(landmarks, size, photo);
  return { image: warpAffine(image, M, size, size, FFHQ_BORDER_RGB), M };
}
