/**
 * Where the head is and how it is turned: maps head coordinates to image pixels.
 *
 * Head coordinates: p to the image right, q down, in head units (the head's half-height is about 1), origin at
 * the head centre before posing. Facial features sit on a cylinder-like surface: a point's horizontal angle on
 * the head is asin(p / halfWidth), so turning the head (yaw) moves central features more than edge features and
 * foreshortens the far side; `depth` (in head units) pushes a point out of the surface (the nose tip).
 */
import type { Attributes } from "../attributes.ts";
import type { FaceParams } from "../identity.ts";
import type { Rng } from "../rng.ts";

/** Labels of the per-pixel mask. */
export const LABELS = ["background", "face", "hair", "accessories", "clothes"] as const;
export type MaskLabel = (typeof LABELS)[number];
export const BG = 0;
export const FACE = 1;
export const HAIR = 2;
export const ACC = 3;
export const CLOTHES = 4;

const DEG = Math.PI / 180;
const YAW: Record<Attributes["view"], number> = {
  front: 0,
  "three-quarter-left": -22 * DEG,
  "three-quarter-right": 22 * DEG,
  "side-left": -40 * DEG,
  "side-right": 40 * DEG,
};
const ROLL: Record<Attributes["tilt"], number> = {
  level: 0,
  "tilted-left": -14 * DEG,
  "tilted-right": 14 * DEG,
};
/** Head half-height as a fraction of the image size, and head centre height, per framing. */
const FRAMING: Record<Attributes["framing"], { unit: number; y: number }> = {
  "close-up": { unit: 0.3, y: 0.47 },
  portrait: { unit: 0.21, y: 0.41 },
  "half-body": { unit: 0.145, y: 0.34 },
  far: { unit: 0.09, y: 0.4 },
};

/** A posed head in an image. */
export class HeadFrame {
  /** Head centre in pixels. */
  readonly cx: number;
  readonly cy: number;
  /** Pixels per head unit. */
  readonly unit: number;
  /** Yaw in radians: positive turns the face towards the image's right. */
  readonly yaw: number;
  /** Roll in radians: positive tilts the head clockwise in the image. */
  readonly roll: number;
  readonly halfWidth: number;
  readonly halfHeight: number;
  /** Jaw taper of the head outline (0 round .. ~0.4 pointed). */
  readonly jaw: number;
  private readonly cr: number;
  private readonly sr: number;
  private readonly sy: number;

  constructor(
    cx: number,
    cy: number,
    unit: number,
    yaw: number,
    roll: number,
    halfWidth: number,
    halfHeight: number,
    jaw: number,
  ) {
    this.cx = cx;
    this.cy = cy;
    this.unit = unit;
    this.yaw = yaw;
    this.roll = roll;
    this.halfWidth = halfWidth;
    this.halfHeight = halfHeight;
    this.jaw = jaw;
    this.cr = Math.cos(roll);
    this.sr = Math.sin(roll);
    this.sy = Math.sin(yaw);
  }

  /** Places the head for an image of `size` pixels from the attributes and the pose jitter stream. */
  static fromAttributes(a: Attributes, size: number, face: FaceParams, rng: Rng): HeadFrame {
    const f = FRAMING[a.framing];
    const unit = f.unit * size * (a.age === "child" ? 0.92 : 1) * (1 + rng.uniform(-0.05, 0.05));
    const margin = Math.max(0.05, 0.5 - (unit * face.headHalfWidth * 1.5) / size);
    const shift = Math.min(0.24, margin);
    const px = a.position === "left" ? 0.5 - shift : a.position === "right" ? 0.5 + shift : 0.5;
    const cx = size * (px + rng.uniform(-0.02, 0.02));
    const cy = size * (f.y + rng.uniform(-0.02, 0.02));
    const yaw = YAW[a.view] + rng.uniform(-3, 3) * DEG;
    const roll = ROLL[a.tilt] + rng.uniform(-2, 2) * DEG;
    const jaw = face.jawTaper * (a.age === "child" ? 0.4 : 1);
    return new HeadFrame(cx, cy, unit, yaw, roll, face.headHalfWidth, face.headHalfHeight, jaw);
  }

  /** Image position of a point on the face surface (`depth` out of it). */
  face(p: number, q: number, depth = 0): [number, number] {
    // the head's half-width at this height (same outline as the head polygon), so turned features stay inside it
    const hw = this.widthAt(q);
    const t = Math.asin(Math.max(-1, Math.min(1, p / hw)));
    // 0.9: features keep a margin from the silhouette (hair and ears sit there), so landmarks stay on the face
    const pp = 0.9 * Math.sin(t + this.yaw) * hw + depth * this.sy;
    return this.place(pp + 0.1 * this.sy, q);
  }

  /** Half-width of the head outline at height q (ellipse, narrowed towards the chin by the jaw taper). */
  widthAt(q: number): number {
    const s = Math.max(-0.95, Math.min(0.95, q / this.halfHeight));
    const w = this.halfWidth * Math.sqrt(1 - s * s);
    return s > 0 ? w * (1 - this.jaw * s * s * s) : w;
  }

  /** Head outline as a flat polygon in head coordinates (n points). */
  outline(n = 44): number[] {
    const out: number[] = [];
    for (let k = 0; k < n; k++) {
      const t = (2 * Math.PI * k) / n;
      const s = Math.sin(t);
      const w = s > 0 ? 1 - this.jaw * s * s * s : 1;
      out.push(this.halfWidth * Math.cos(t) * w, this.halfHeight * s);
    }
    return out;
  }

  /** Cosine of a face point's angle to the camera after yaw (<= 0: turned away, hidden). */
  facing(p: number, q = 0): number {
    const t = Math.asin(Math.max(-1, Math.min(1, p / this.widthAt(q))));
    return Math.cos(t + this.yaw);
  }

  /** Image position of a point on the head outline or hair (moves rigidly, shifted a little by yaw). */
  flat(p: number, q: number): [number, number] {
    return this.place(p + 0.1 * this.sy, q);
  }

  /** Image position of a body point (translates with the head, does not roll). */
  body(p: number, q: number): [number, number] {
    return [this.cx + p * this.unit, this.cy + q * this.unit];
  }

  private place(p: number, q: number): [number, number] {
    return [
      this.cx + this.unit * (p * this.cr - q * this.sr),
      this.cy + this.unit * (p * this.sr + q * this.cr),
    ];
  }

  /** Maps a flat list of head-coordinate points through `face` (with one depth), `flat` or `body`. */
  map(pts: readonly number[], how: "face" | "flat" | "body", depth = 0): number[] {
    const out = new Array<number>(pts.length);
    for (let k = 0; k < pts.length; k += 2) {
      const [x, y] =
        how === "face"
          ? this.face(pts[k]!, pts[k + 1]!, depth)
          : how === "flat"
            ? this.flat(pts[k]!, pts[k + 1]!)
            : this.body(pts[k]!, pts[k + 1]!);
      out[k] = x;
      out[k + 1] = y;
    }
    return out;
  }
}
