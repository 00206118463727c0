/**
 * The face layer's public surface: photos in, detections, aligned crops and network inputs out.
 * SCRFD and ArcFace run here from the antelopev2 ONNX files (`openScrfd`, `openArcFace`); BiSeNet enters as a
 * `FaceParser` function and EVA-CLIP takes `evaInput`. `idFeatures` is the whole path for one photo;
 * `differentiableCrop` is the training-time crop as engine ops.
 */
export { FaceError, type FaceErrorCode } from "./errors.ts";
export { type RgbImage, rgbImage, blankImage } from "./rgb-image.ts";
export { loadImage, SUPPORTED_FORMATS, DEFAULT_MAX_PIXELS, type LoadImageOptions } from "./load-image.ts";
export { resizeLanczos4, resizeLinear, capLongSide } from "./resize.ts";
export { toBlob, toBgrBytes, SCRFD_BLOB, ARCFACE_BLOB, type BlobOptions } from "./blob.ts";
export {
  estimateSimilarity, estimateNorm, transformPoints, invertAffine, ARCFACE_TEMPLATE_112, FFHQ_TEMPLATE_512,
  type Affine2x3, type Points,
} from "./similarity.ts";
export { warpAffine, warpAffineFloat } from "./warp-affine.ts";
export { warpMatrix, applyWarpMatrix, applyWarpMatrixTransposed, type WarpMatrix, type WarpMatrixOptions } from "./warp-matrix.ts";
export { arcfaceCrop, ffhqCrop, ffhqMatrix, FFHQ_BORDER_RGB, type AlignedFace } from "./align.ts";
export {
  letterbox, letterboxSize, groupScrfdOutputs, decodeScrfd, selectDetections, nmsScrfd, boxArea, detectAtSize,
  SCRFD_DEFAULTS, type Detection, type ScrfdConfig, type ScrfdRawOutputs, type ScrfdCandidates, type Letterbox,
} from "./scrfd.ts";
export { detectFaces, RETRY_SIZES, type DetectFacesOptions, type FaceDetectionResult } from "./detect-faces.ts";
export {
  evaInput, bisenetInput, parsingLabels, whiteBackgroundGray, toUnitPlanes, PARSING_BACKGROUND_LABELS,
  CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, EVA_IMAGE_SIZE,
} from "./eva-input.ts";
export { resizeBicubicTorch } from "./bicubic.ts";
export { FACE_MODEL_FILES, faceModelPaths, checkFaceModelFiles, type ModelFileSpec } from "./model-files.ts";
export { readOnnxGraphInfo, type OnnxGraphInfo, type OnnxValueInfo } from "./onnx-graph-info.ts";
export { openScrfd, scrfdStaticSize, SCRFD_OUTPUTS, type ScrfdModel } from "./scrfd-model.ts";
export {
  openArcFace, arcfaceBlobOptions, arcfaceInputSize, l2Normalize, type ArcFaceModel, type ArcFaceEmbedding,
} from "./arcface-model.ts";
export {
  differentiableCrop, arcfaceCropOp, ffhqCropOp, cropTaps, type CropTaps, type DifferentiableCropOptions,
} from "./differentiable-crop.ts";
export {
  idFeatures, openFaceModels, parserFromLogits, type FaceParser, type FaceModels, type IdFeatures, type IdFeaturesOptions,
  type OpenedFaceModels, type OpenFaceModelsOptions,
} from "./id-features.ts";
