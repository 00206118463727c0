/**
 * Identity: a continuous vector in [0, 1]^IDENTITY_DIM that fixes everything about a face that a prompt must not
 * change (head shape, eyes, brows, nose, mouth, ears, skin tone, hair style and colour, marks, facial hair).
 *
 * The vector is the ground truth an ID encoder should recover. Dimensions are named in `IDENTITY_DIMS` so code and
 * tests can talk about them; `decodeIdentity` turns a vector into the drawing parameters the renderer uses.
 */
import { WorldError } from "./errors.ts";
import { Rng, hashSeed } from "./rng.ts";

/** The named identity dimensions, in vector order. Every value lives in [0, 1]. */
export const IDENTITY_DIMS = [
  "head_width",
  "head_length",
  "jaw_taper",
  "eye_size",
  "eye_spacing",
  "eye_height",
  "eye_colour",
  "brow_thickness",
  "brow_angle",
  "nose_length",
  "nose_width",
  "mouth_width",
  "lip_fullness",
  "ear_size",
  "skin_tone",
  "hair_style",
  "hair_colour",
  "hair_volume",
  "mark_kind",
  "mark_position",
  "facial_hair",
] as const;

/** One identity dimension's name. */
export type IdentityDim = (typeof IDENTITY_DIMS)[number];

/** Length of an identity vector (21). */
export const IDENTITY_DIM = IDENTITY_DIMS.length;

/** An identity vector: IDENTITY_DIM values in [0, 1]. */
export type Identity = Float32Array;

/** Hair styles an identity can have (chosen by the `hair_style` dimension). */
export const HAIR_STYLES = ["bald", "buzz", "short", "quiff", "bob", "long", "afro", "bun"] as const;
export type HairStyle = (typeof HAIR_STYLES)[number];

/** Skin marks an identity can have (chosen by the `mark_kind` dimension). */
export const MARK_KINDS = ["none", "mole", "freckles", "scar"] as const;
export type MarkKind = (typeof MARK_KINDS)[number];

/** Facial hair an identity can have (chosen by the `facial_hair` dimension). */
export const FACIAL_HAIR = ["none", "moustache", "beard"] as const;
export type FacialHair = (typeof FACIAL_HAIR)[number];

export type Rgb = readonly [number, number, number];

/** Drawing parameters decoded from an identity vector; lengths are in head units (head half-height = 1). */
export interface FaceParams {
  headHalfWidth: number;
  headHalfHeight: number;
  /** 0 = round jaw, ~0.4 = pointed chin. */
  jawTaper: number;
  eyeRadius: number;
  eyeSpacing: number;
  /** Vertical position of the eye line (negative = above head centre). */
  eyeY: number;
  irisColour: Rgb;
  browThickness: number;
  /** Brow slope in radians (positive = outer ends lower). */
  browAngle: number;
  noseLength: number;
  noseWidth: number;
  mouthHalfWidth: number;
  lipThickness: number;
  earSize: number;
  skin: Rgb;
  hairStyle: HairStyle;
  hair: Rgb;
  /** 0..1, how far hair extends beyond the head. */
  hairVolume: number;
  mark: MarkKind;
  /** 0..1, where on the face the mark sits. */
  markPosition: number;
  facialHair: FacialHair;
}

/** Checks an identity vector's length and range; throws WorldError("bad_identity") naming the bad entry. */
export function checkIdentity(id: ArrayLike<number>, name = "identity"): void {
  if (id.length !== IDENTITY_DIM) {
    throw new WorldError("bad_identity", `${name} has ${id.length} values, expected ${IDENTITY_DIM}`);
  }
  for (let i = 0; i < id.length; i++) {
    const v = id[i]!;
    if (!(v >= 0 && v <= 1)) {
      throw new WorldError(
        "bad_identity",
        `${name}[${i}] (${IDENTITY_DIMS[i]}) = ${v}, expected a value in [0, 1]`,
      );
    }
  }
}

/** Draws a fresh identity uniformly from the unit cube. */
export function sampleIdentity(rng: Rng): Identity {
  const v = new Float32Array(IDENTITY_DIM);
  for (let i = 0; i < IDENTITY_DIM; i++) v[i] = rng.next();
  return v;
}

/** The identity with index `index` in world `worldSeed` (the same pair always gives the same vector). */
export function identityAt(index: number, worldSeed = 0): Identity {
  if (!Number.isInteger(index) || index < 0) {
    throw new WorldError("bad_identity", `identity index must be a non-negative integer, got ${index}`);
  }
  return sampleIdentity(new Rng(hashSeed("identity", worldSeed, index)));
}

const SKIN_RAMP: readonly Rgb[] = [
  [0.98, 0.87, 0.78],
  [0.93, 0.76, 0.62],
  [0.8, 0.6, 0.45],
  [0.62, 0.42, 0.28],
  [0.42, 0.27, 0.17],
  [0.26, 0.16, 0.1],
];
const HAIR_RAMP: readonly Rgb[] = [
  [0.06, 0.05, 0.05],
  [0.22, 0.13, 0.07],
  [0.45, 0.28, 0.14],
  [0.62, 0.2, 0.08],
  [0.88, 0.46, 0.16],
  [0.93, 0.8, 0.45],
  [0.97, 0.95, 0.82],
];
const IRIS_RAMP: readonly Rgb[] = [
  [0.2, 0.1, 0.05],
  [0.42, 0.25, 0.1],
  [0.45, 0.45, 0.15],
  [0.2, 0.55, 0.3],
  [0.2, 0.45, 0.8],
  [0.55, 0.62, 0.68],
];

/** Piecewise-linear colour ramp lookup, t in [0, 1]. */
export function ramp(stops: readonly Rgb[], t: number): Rgb {
  const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

function bin<T>(items: readonly T[], t: number): T {
  return items[Math.min(items.length - 1, Math.floor(t * items.length))]!;
}

/** Decodes an identity vector into drawing parameters (validates it first). */
export function decodeIdentity(id: ArrayLike<number>): FaceParams {
  checkIdentity(id);
  const g = (d: IdentityDim): number => id[IDENTITY_DIMS.indexOf(d)]!;
  const markT = g("mark_kind");
  const fh = g("facial_hair");
  return {
    headHalfWidth: 0.66 + 0.2 * g("head_width"),
    headHalfHeight: 0.92 + 0.12 * g("head_length"),
    jawTaper: 0.02 + 0.4 * g("jaw_taper"),
    eyeRadius: 0.1 + 0.07 * g("eye_size"),
    eyeSpacing: 0.26 + 0.14 * g("eye_spacing"),
    eyeY: -0.2 + 0.16 * g("eye_height"),
    irisColour: ramp(IRIS_RAMP, g("eye_colour")),
    browThickness: 0.035 + 0.07 * g("brow_thickness"),
    browAngle: -0.35 + 0.7 * g("brow_angle"),
    noseLength: 0.2 + 0.2 * g("nose_length"),
    noseWidth: 0.08 + 0.1 * g("nose_width"),
    mouthHalfWidth: 0.16 + 0.14 * g("mouth_width"),
    lipThickness: 0.025 + 0.05 * g("lip_fullness"),
    earSize: 0.14 + 0.1 * g("ear_size"),
    skin: ramp(SKIN_RAMP, g("skin_tone")),
    hairStyle: bin(HAIR_STYLES, g("hair_style")),
    hair: ramp(HAIR_RAMP, g("hair_colour")),
    hairVolume: g("hair_volume"),
    mark: markT < 0.4 ? "none" : markT < 0.6 ? "mole" : markT < 0.8 ? "freckles" : "scar",
    markPosition: g("mark_position"),
    facialHair: fh < 0.6 ? "none" : fh < 0.8 ? "moustache" : "beard",
  };
}
