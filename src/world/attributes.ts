/**
 * Non-identity attributes: everything a prompt may change. Each attribute is a string-literal union with a list of
 * every value (so tests and samplers can iterate them). Continuous jitter (exact yaw, scale, light strength) comes
 * from the render seed, not from here.
 */
import { WorldError } from "./errors.ts";
import type { Rng } from "./rng.ts";

export const STYLES = [
  "photo",
  "pencil",
  "watercolor",
  "pixel",
  "comic",
  "noir",
  "neon",
  "papercut",
] as const;
export const BACKGROUNDS = [
  "white",
  "grey",
  "blue",
  "yellow",
  "beach-sunset",
  "city",
  "forest",
  "room",
  "kitchen",
  "office",
  "garden",
  "snow",
] as const;
/** Where the key light comes from, as seen in the image. */
export const LIGHT_DIRECTIONS = ["front", "left", "right", "above"] as const;
export const LIGHT_COLOURS = ["white", "warm", "cool", "purple"] as const;
/** Head yaw as seen in the image: "left" = the face turns towards the image's left edge. */
export const VIEWS = [
  "front",
  "three-quarter-left",
  "three-quarter-right",
  "side-left",
  "side-right",
] as const;
/** Head roll as seen in the image. */
export const TILTS = ["level", "tilted-left", "tilted-right"] as const;
/** How large the head is in the frame. */
export const FRAMINGS = ["close-up", "portrait", "half-body", "far"] as const;
/** Where the head sits horizontally. */
export const POSITIONS = ["center", "left", "right"] as const;
export const EXPRESSIONS = ["neutral", "smiling", "laughing", "sad", "angry", "surprised"] as const;
export const ACCESSORIES = [
  "glasses",
  "sunglasses",
  "eye-mask",
  "hat",
  "graduation-cap",
  "headphones",
  "mask",
  "earrings",
] as const;
export const AGES = ["child", "young", "adult", "elderly"] as const;
export const CLOTHING = ["t-shirt", "sweater", "suit", "hoodie", "spacesuit"] as const;
export const CLOTHING_COLOURS = [
  "red",
  "blue",
  "green",
  "purple",
  "black",
  "white",
  "yellow",
  "orange",
] as const;

export type Style = (typeof STYLES)[number];
export type Background = (typeof BACKGROUNDS)[number];
export type LightDirection = (typeof LIGHT_DIRECTIONS)[number];
export type LightColour = (typeof LIGHT_COLOURS)[number];
export type View = (typeof VIEWS)[number];
export type Tilt = (typeof TILTS)[number];
export type Framing = (typeof FRAMINGS)[number];
export type Position = (typeof POSITIONS)[number];
export type Expression = (typeof EXPRESSIONS)[number];
export type Accessory = (typeof ACCESSORIES)[number];
export type Age = (typeof AGES)[number];
export type Clothing = (typeof CLOTHING)[number];
export type ClothingColour = (typeof CLOTHING_COLOURS)[number];

/** Everything about an image that is not identity. */
export interface Attributes {
  style: Style;
  background: Background;
  lightDirection: LightDirection;
  lightColour: LightColour;
  view: View;
  tilt: Tilt;
  framing: Framing;
  position: Position;
  expression: Expression;
  /** At most one from each of ACCESSORY_GROUPS; order does not matter. */
  accessories: readonly Accessory[];
  age: Age;
  clothing: Clothing;
  clothingColour: ClothingColour;
}

/** Names of the single-valued attributes (every key but `accessories`). */
export type ScalarAttributeKey = Exclude<keyof Attributes, "accessories">;
export type AttributeKey = keyof Attributes;

/** Every value of every single-valued attribute, for iteration. */
export const ATTRIBUTE_VALUES: { readonly [K in ScalarAttributeKey]: readonly Attributes[K][] } = {
  style: STYLES,
  background: BACKGROUNDS,
  lightDirection: LIGHT_DIRECTIONS,
  lightColour: LIGHT_COLOURS,
  view: VIEWS,
  tilt: TILTS,
  framing: FRAMINGS,
  position: POSITIONS,
  expression: EXPRESSIONS,
  age: AGES,
  clothing: CLOTHING,
  clothingColour: CLOTHING_COLOURS,
};

/** Accessories that occupy the same place; an image wears at most one of each group. */
export const ACCESSORY_GROUPS: readonly (readonly Accessory[])[] = [
  ["glasses", "sunglasses", "eye-mask"],
  ["hat", "graduation-cap", "headphones"],
  ["mask"],
  ["earrings"],
];

/** A plain, neutral default: a front-facing photo portrait on white. */
export const DEFAULT_ATTRIBUTES: Attributes = {
  style: "photo",
  background: "white",
  lightDirection: "front",
  lightColour: "white",
  view: "front",
  tilt: "level",
  framing: "portrait",
  position: "center",
  expression: "neutral",
  accessories: [],
  age: "adult",
  clothing: "t-shirt",
  clothingColour: "blue",
};

/** Fills missing keys from DEFAULT_ATTRIBUTES and validates the result. */
export function withDefaults(partial: Partial<Attributes>): Attributes {
  const a: Attributes = { ...DEFAULT_ATTRIBUTES, ...partial };
  checkAttributes(a);
  return a;
}

/** Throws WorldError("bad_attribute") naming the first unknown value or clashing accessories. */
export function checkAttributes(a: Attributes): void {
  for (const key of Object.keys(ATTRIBUTE_VALUES) as ScalarAttributeKey[]) {
    const allowed = ATTRIBUTE_VALUES[key] as readonly string[];
    if (!allowed.includes(a[key] as string)) {
      throw new WorldError(
        "bad_attribute",
        `${key} = ${JSON.stringify(a[key])}; expected one of ${allowed.join(", ")}`,
      );
    }
  }
  if (!Array.isArray(a.accessories)) throw new WorldError("bad_attribute", "accessories must be an array");
  for (const acc of a.accessories) {
    if (!(ACCESSORIES as readonly string[]).includes(acc)) {
      throw new WorldError(
        "bad_attribute",
        `accessory ${JSON.stringify(acc)}; expected one of ${ACCESSORIES.join(", ")}`,
      );
    }
  }
  for (const group of ACCESSORY_GROUPS) {
    const worn = a.accessories.filter((x) => group.includes(x));
    if (worn.length > 1) {
      throw new WorldError(
        "bad_attribute",
        `accessories ${worn.join(" and ")} occupy the same place; wear at most one`,
      );
    }
  }
}

/** Draws a random attribute set; `styleWeights` can bias towards photos (the default is 40% photo). */
export function sampleAttributes(rng: Rng, photoShare = 0.4): Attributes {
  const style: Style = rng.chance(photoShare) ? "photo" : rng.pick(STYLES.slice(1));
  const accessories: Accessory[] = [];
  for (const group of ACCESSORY_GROUPS) {
    if (rng.chance(0.18)) accessories.push(rng.pick(group));
  }
  return {
    style,
    background: rng.pick(BACKGROUNDS),
    lightDirection: rng.pick(LIGHT_DIRECTIONS),
    lightColour: rng.pick(LIGHT_COLOURS),
    view: rng.pick(VIEWS),
    tilt: rng.chance(0.6) ? "level" : rng.pick(TILTS),
    framing: rng.pick(FRAMINGS),
    position: rng.chance(0.5) ? "center" : rng.pick(POSITIONS),
    expression: rng.pick(EXPRESSIONS),
    accessories,
    age: rng.pick(AGES),
    clothing: rng.pick(CLOTHING),
    clothingColour: rng.pick(CLOTHING_COLOURS),
  };
}
