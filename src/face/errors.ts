/**
 * Errors of the face layer: every bad photo ends in a `FaceError` whose `code` a caller can branch on and whose
 * message names the photo (its path or a label the caller gave).
 */
import { PulidError } from "../engine/errors.ts";

/** Why a photo (or the face models) could not be used. */
export type FaceErrorCode =
  /** The file is missing, not an image, or its decoder failed. */
  | "unreadable"
  /** The file ends early (a cut-off download or copy). */
  | "truncated"
  /** A real image, but not JPEG, PNG or WebP. */
  | "unsupported_format"
  /** Width x height above the limit; refused before decoding. */
  | "too_large"
  /** The detector found no face above its threshold at any detection size tried. */
  | "no_face"
  /** The chosen face is smaller than the minimum face size. */
  | "face_too_small"
  /** More than one face and the caller asked for exactly one (`onMultiple: 'error'`). */
  | "several_faces"
  /** Landmarks or a transform are degenerate (all points equal, NaN, ...). */
  | "bad_landmarks"
  /** Model files needed for face processing are not where they should be. */
  | "missing_model_files"
  /** A model file exists but is not the network expected (unreadable ONNX, wrong inputs or outputs). */
  | "bad_model_file"
  /** A face network (or a caller-supplied one such as the parser) failed on this photo; the cause is attached. */
  | "model_run_failed";

/** A failure tied to one photo. `photo` is the path or label the caller passed. */
export class FaceError extends PulidError {
  declare readonly code: FaceErrorCode;
  readonly photo: string;
  constructor(code: FaceErrorCode, photo: string, message: string, options?: { cause?: unknown }) {
    super(code, photo ? `${photo}: ${message}` : message, options);
    this.photo = photo;
  }
}
