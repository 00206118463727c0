/**
 * Captions from attributes, in varied natural phrasing. A caption names only non-identity attributes: the
 * identity (hair, eyes, skin, face shape, marks) is never put into words, so a text-to-image model has to get it
 * from the ID condition. `makeCaption` reports which attributes it used, so the caption is exactly the
 * information it carries.
 */
import type { Accessory, AttributeKey, Attributes, ScalarAttributeKey } from "./attributes.ts";
import type { Rng } from "./rng.ts";

type Table<K extends ScalarAttributeKey> = Record<Attributes[K], readonly string[]>;

/** Phrases for each value of each attribute (the first is the canonical one). */
export const PHRASES: { [K in ScalarAttributeKey]: Table<K> } = {
  style: {
    photo: ["photo", "photograph", "realistic photo"],
    pencil: ["pencil sketch", "pencil drawing"],
    watercolor: ["watercolor painting", "watercolor illustration"],
    pixel: ["pixel art image", "retro pixel art picture"],
    comic: ["comic book drawing", "flat comic illustration"],
    noir: ["film noir picture", "black and white noir photo"],
    neon: ["neon cyberpunk picture", "neon artwork"],
    papercut: ["papercut artwork", "paper collage"],
  },
  age: {
    child: ["a young child", "a little kid", "a child"],
    young: ["a young adult", "a young person"],
    adult: ["an adult", "a middle-aged person", "a grown-up"],
    elderly: ["an old person", "an elderly person", "a senior"],
  },
  expression: {
    neutral: ["with a neutral expression", "calm and expressionless"],
    smiling: ["smiling", "with a smile"],
    laughing: ["laughing", "laughing out loud"],
    sad: ["sad", "looking sad"],
    angry: ["angry", "looking angry"],
    surprised: ["surprised", "looking surprised"],
  },
  view: {
    front: ["facing the camera", "front view"],
    "three-quarter-left": ["turned slightly to the left", "three-quarter view to the left"],
    "three-quarter-right": ["turned slightly to the right", "three-quarter view to the right"],
    "side-left": ["side view facing left", "turned far to the left"],
    "side-right": ["side view facing right", "turned far to the right"],
  },
  tilt: {
    level: ["head upright", "head held level"],
    "tilted-left": ["head tilted to the left", "head leaning left"],
    "tilted-right": ["head tilted to the right", "head leaning right"],
  },
  framing: {
    "close-up": ["close-up", "extreme close-up shot"],
    portrait: ["head and shoulders", "shoulders up"],
    "half-body": ["upper body", "half-body shot"],
    far: ["small in the frame", "seen from a distance"],
  },
  position: {
    center: ["centered", "in the middle of the frame"],
    left: ["on the left of the frame", "placed on the left"],
    right: ["on the right of the frame", "placed on the right"],
  },
  background: {
    white: ["on a white background", "against a plain white backdrop"],
    grey: ["on a grey background", "against a plain grey backdrop"],
    blue: ["on a blue background", "against a plain blue backdrop"],
    yellow: ["on a yellow background", "against a plain yellow backdrop"],
    "beach-sunset": ["on a beach at sunset", "with a purple sunset at the beach in the background"],
    city: ["in the city at night", "with a night city skyline behind"],
    forest: ["in a pine forest", "among tall pine trees"],
    room: ["in a room by a window", "indoors next to a window"],
    kitchen: ["in the kitchen", "cooking in a kitchen"],
    office: ["in an office", "coding in front of a computer"],
    garden: ["in a garden", "in a flower garden"],
    snow: ["in the snow", "on a snowy mountain"],
  },
  lightDirection: {
    front: ["lit from the front", "soft front light"],
    left: ["lit from the left", "light coming from the left"],
    right: ["lit from the right", "light coming from the right"],
    above: ["lit from above", "overhead light"],
  },
  lightColour: {
    white: ["white light", "neutral light"],
    warm: ["warm light", "golden light"],
    cool: ["cool light", "cold light"],
    purple: ["purple light", "violet light"],
  },
  clothing: {
    "t-shirt": ["t-shirt", "tee"],
    sweater: ["sweater", "jumper"],
    suit: ["suit and tie", "business suit"],
    hoodie: ["hoodie", "hooded top"],
    spacesuit: ["spacesuit", "astronaut spacesuit"],
  },
  clothingColour: {
    red: ["red"],
    blue: ["blue"],
    green: ["green"],
    purple: ["purple"],
    black: ["black"],
    white: ["white"],
    yellow: ["yellow"],
    orange: ["orange"],
  },
};

/** Phrases for each accessory (worn ones are listed after "wearing"). */
export const ACCESSORY_PHRASES: Record<Accessory, readonly string[]> = {
  glasses: ["glasses", "reading glasses"],
  sunglasses: ["sunglasses", "dark sunglasses"],
  "eye-mask": ["a sleep mask", "a satin sleep mask"],
  hat: ["a hat", "a felt hat"],
  "graduation-cap": ["a graduation cap", "a doctoral cap"],
  headphones: ["headphones", "big headphones"],
  mask: ["a surgical mask", "a medical mask"],
  earrings: ["earrings", "gold earrings"],
};

/**
 * Words that describe identity and so never appear in a caption (checked by the tests on every phrase and
 * benchmark prompt).
 */
export const IDENTITY_WORDS: readonly string[] = [
  "hair",
  "haired",
  "eyes",
  "eyed",
  "iris",
  "skin",
  "skinned",
  "complexion",
  "nose",
  "lips",
  "lip",
  "mouth",
  "freckles",
  "freckled",
  "mole",
  "scar",
  "beard",
  "bearded",
  "moustache",
  "mustache",
  "bald",
  "blonde",
  "blond",
  "brunette",
  "ginger",
  "redhead",
  "curly",
  "afro",
  "bun",
  "ponytail",
  "jaw",
  "chin",
  "ears",
  "brows",
  "eyebrows",
  "cheekbones",
  "fair",
  "pale",
  "tanned",
  "dark-skinned",
];

/** A caption and the attributes it was made from. */
export interface Caption {
  text: string;
  used: AttributeKey[];
}

export interface CaptionOptions {
  /** Mention every attribute (default false: each optional attribute is kept with probability 0.6). */
  complete?: boolean;
}

const OPTIONAL: readonly ScalarAttributeKey[] = [
  "tilt",
  "framing",
  "position",
  "lightDirection",
  "lightColour",
  "clothing",
];

/**
 * Makes a caption for `a`. Style, age, expression, view and background are always mentioned, accessories
 * whenever worn; the rest is kept at random (or all, with `complete`). The phrasing and order vary with `rng`.
 */
export function makeCaption(a: Attributes, rng: Rng, options: CaptionOptions = {}): Caption {
  const used: AttributeKey[] = ["style", "age", "expression", "view", "background"];
  for (const k of OPTIONAL) if (options.complete || rng.chance(0.6)) used.push(k);
  if (used.includes("clothing")) used.push("clothingColour");
  const say = <K extends ScalarAttributeKey>(k: K): string => rng.pick(PHRASES[k][a[k]] as readonly string[]);
  const style = say("style");
  const subject = say("age");
  const parts: string[] = [say("expression"), say("view")];
  if (used.includes("tilt")) parts.push(say("tilt"));
  if (a.accessories.length > 0 || used.includes("clothing")) {
    const worn = a.accessories.map((x) => rng.pick(ACCESSORY_PHRASES[x]));
    if (used.includes("clothing")) worn.push(`a ${say("clothingColour")} ${say("clothing")}`);
    parts.push(`wearing ${joinAnd(worn)}`);
    if (a.accessories.length > 0) used.push("accessories");
  }
  if (used.includes("framing")) parts.push(say("framing"));
  if (used.includes("position")) parts.push(say("position"));
  parts.push(say("background"));
  const light: string[] = [];
  if (used.includes("lightColour")) light.push(say("lightColour"));
  if (used.includes("lightDirection")) light.push(say("lightDirection"));
  if (light.length) parts.push(light.join(", "));
  // shuffle the middle so word order is not a fixed template
  for (let i = parts.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [parts[i], parts[j]] = [parts[j]!, parts[i]!];
  }
  let text: string;
  switch (rng.int(3)) {
    case 0:
      text = `${article(style)} of ${subject}, ${parts.join(", ")}`;
      break;
    case 1:
      text = `${subject}, ${parts.join(", ")}, ${style}`;
      break;
    default:
      text = `portrait, ${style}, ${subject}, ${parts.join(", ")}`;
  }
  return { text, used };
}

function article(phrase: string): string {
  return (/^[aeiou]/.test(phrase) ? "an " : "a ") + phrase;
}

function joinAnd(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** Every word that captions can contain (lower case), for building the vocabulary. */
export function captionWords(): string[] {
  const words = new Set<string>(["a", "an", "of", "portrait", "wearing", "and"]);
  const add = (s: string): void => {
    for (const w of s.toLowerCase().match(/[a-z0-9]+/g) ?? []) words.add(w);
  };
  for (const table of Object.values(PHRASES))
    for (const list of Object.values(table)) for (const p of list as string[]) add(p);
  for (const list of Object.values(ACCESSORY_PHRASES)) for (const p of list) add(p);
  return [...words].sort();
}
