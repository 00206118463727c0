/**
 * Finding THE face of a photo with SCRFD, with a typed error for each way a photo can fail.
 *
 * As PuLID (insightface FaceAnalysis with det_size 640, then the largest box by area); optionally retries
 * smaller square detection sizes (a face that fills the photo can be too big for the 640 anchors).
 */
import type { HostTensor } from "../engine/host-tensor.ts";
import { FaceError } from "./errors.ts";
import type { RgbImage } from "./rgb-image.ts";
import { boxArea, detectAtSize, SCRFD_DEFAULTS, type Detection, type ScrfdConfig } from "./scrfd.ts";

export interface DetectFacesOptions {
  /** Name of the photo in error messages (its path or a label). */
  readonly photo?: string;
  /** Square detection sizes to try in order until one finds a face. Multiples of 32. Default [640] (the reference). */
  readonly sizes?: readonly number[];
  /** SCRFD thresholds and head layout. Default insightface's (0.5, NMS 0.4). */
  readonly config?: Partial<ScrfdConfig>;
  /**
   * Minimum short side of the chosen face's box, in image pixels. Smaller faces throw `face_too_small`: they
   * become a blur at 112x112. Default 32; 0 disables the check.
   */
  readonly minFaceSize?: number;
  /** When several faces are found: use the largest (default, the reference) or throw `several_faces`. */
  readonly onMultiple?: "largest" | "error";
}

/** `retrySizes` preset: 640 down to 320 in steps of 64 (then 320). */
export const RETRY_SIZES: readonly number[] = [640, 576, 512, 448, 384, 320];

/** The chosen face and everything that was found with it. */
export interface FaceDetectionResult {
  /** The largest face (by box area). */
  readonly face: Detection;
  /** All faces found at `size`, best score first. */
  readonly faces: readonly Detection[];
  /** The detection size that found them. */
  readonly size: number;
}

const fmtBox = (d: Detection) => `[${d.box.map((v) => v.toFixed(0)).join(", ")}] (score ${d.score.toFixed(2)})`;

/**
 * Detects faces and chooses one.
 * @param runNet runs `scrfd_10g_bnkps` on a [1, 3, S, S] float32 blob and returns its 9 outputs in model order.
 * @throws FaceError `no_face`, `face_too_small`, `several_faces` (only with onMultiple 'error'), naming the photo.
 */
export async function detectFaces(
  image: RgbImage,
  runNet: (blob: HostTensor) => Promise<HostTensor[]>,
  opts: DetectFacesOptions = {},
): Promise<FaceDetectionResult> {
  const photo = opts.photo ?? "<image>";
  const sizes = opts.sizes ?? [640];
  const cfg: ScrfdConfig = { ...SCRFD_DEFAULTS, ...opts.config };
  const minFace = opts.minFaceSize ?? 32;
  for (const size of sizes) {
    if (!Number.isInteger(size) || size <= 0 || size % 32 !== 0) {
      throw new RangeError(`detectFaces: detection size ${size} must be a positive multiple of 32`);
    }
    const faces = await detectAtSize(image, runNet, size, size, cfg);
    if (faces.length === 0) continue;
    // PuLID: sorted(faces, key=area)[-1]; Array.sort is stable, so the last of equal areas wins as in Python.
    const face = [...faces].sort((a, b) => boxArea(a) - boxArea(b))[faces.length - 1]!;
    if (faces.length > 1 && opts.onMultiple === "error") {
      throw new FaceError(
        "several_faces",
        photo,
        `${faces.length} faces found; the largest would be ${fmtBox(face)}. Crop the photo to one person or allow the largest face`,
      );
    }
    const short = Math.min(face.box[2] - face.box[0], face.box[3] - face.box[1]);
    if (short < minFace) {
      throw new FaceError(
        "face_too_small",
        photo,
        `the face ${fmtBox(face)} is ${short.toFixed(0)} px across, below the minimum of ${minFace} px in a ${image.width}x${image.height} image; use a closer photo`,
      );
    }
    return { face, faces, size };
  }
  throw new FaceError(
    "no_face",
    photo,
    `no face found (score >= ${cfg.detThresh}) at detection size${sizes.length > 1 ? "s" : ""} ${sizes.join(", ")}`,
  );
}
