/**
 * The world's versions of the paper's evaluation sets (PuLID, arXiv:2404.16022, section 4.2 and Tables 7-8):
 *
 * - DivID-120-like: 120 held-out test identities, chosen to be as different from each other as possible
 *   (farthest-point sampling of identity vectors), with reference images of varied age, light and scenes.
 * - Unsplash-50-like: 50 other test identities; reference images are natural photos (scenes, adults).
 * - 20 evaluation prompts, one per prompt of the paper's Table 7, written in the world's language, grouped in
 *   the categories Common (the paper's Clothing, Accessory, Action), Attribute, View, Background, Style and
 *   Complex; each is generated with 4 seeds.
 * - The 15 "challenging" prompts of Table 8, mapped onto the world's styles (for contrastive alignment).
 *
 * Parts of a paper prompt that describe identity ("with red hair", "green-skinned") are dropped, because the
 * world never puts identity into words; art styles the world does not have map to the nearest one it has.
 */
import { withDefaults, type Attributes } from "./attributes.ts";
import { ACCESSORY_PHRASES, PHRASES } from "./captions.ts";
import { identityAt } from "./identity.ts";
import { Rng, hashSeed } from "./rng.ts";
import { SPLITS } from "./splits.ts";

export const PROMPT_CATEGORIES = ["Common", "Attribute", "View", "Background", "Style", "Complex"] as const;
export type PromptCategory = (typeof PROMPT_CATEGORIES)[number];

/** An evaluation prompt: its text in the world's language and the attributes it asks for. */
export interface BenchmarkPrompt {
  id: string;
  category: PromptCategory;
  /** The paper's prompt it stands for. */
  paperPrompt: string;
  text: string;
  /** What the prompt specifies; everything else is left to the model (DEFAULT_ATTRIBUTES for rendering). */
  attributes: Partial<Attributes>;
}

/** Writes a prompt from attributes with the canonical phrases ("portrait, <style>, <subject>, ..."). */
export function promptText(p: Partial<Attributes>): string {
  const first = <K extends keyof typeof PHRASES>(k: K, v: Attributes[K]): string =>
    (PHRASES[k] as Record<string, readonly string[]>)[v as string]![0]!;
  const parts = ["portrait", first("style", p.style ?? "photo"), p.age ? first("age", p.age) : "a person"];
  if (p.expression) parts.push(first("expression", p.expression));
  if (p.view) parts.push(first("view", p.view));
  if (p.tilt) parts.push(first("tilt", p.tilt));
  const worn = (p.accessories ?? []).map((x) => ACCESSORY_PHRASES[x][0]!);
  if (p.clothing)
    worn.push(`a ${first("clothingColour", p.clothingColour ?? "blue")} ${first("clothing", p.clothing)}`);
  if (worn.length) parts.push(`wearing ${worn.join(" and ")}`);
  if (p.framing) parts.push(first("framing", p.framing));
  if (p.position) parts.push(first("position", p.position));
  if (p.background) parts.push(first("background", p.background));
  if (p.lightColour) parts.push(first("lightColour", p.lightColour));
  if (p.lightDirection) parts.push(first("lightDirection", p.lightDirection));
  return parts.join(", ");
}

const P = (
  id: string,
  category: PromptCategory,
  paperPrompt: string,
  attributes: Partial<Attributes>,
): BenchmarkPrompt => ({
  id,
  category,
  paperPrompt,
  text: promptText(attributes),
  attributes,
});

/** The 20 evaluation prompts (paper Table 7, one to one, in the paper's order). */
export const EVAL_PROMPTS: readonly BenchmarkPrompt[] = [
  P("spacesuit", "Common", "portrait, a person wearing a spacesuit", {
    clothing: "spacesuit",
    clothingColour: "white",
  }),
  P("surgical-mask", "Common", "portrait, a person wearing a surgical mask", { accessories: ["mask"] }),
  P("eye-mask", "Common", "portrait, a person wearing an eye mask", { accessories: ["eye-mask"] }),
  P("headphones", "Common", "portrait, a person wearing headphones with red hair", {
    accessories: ["headphones"],
  }),
  P("doctoral-cap", "Common", "portrait, a person wearing a doctoral cap", {
    accessories: ["graduation-cap"],
  }),
  P("kitchen", "Common", "portrait, a person cooking in the kitchen", { background: "kitchen" }),
  P("computer", "Common", "portrait, a person coding in front of a computer", { background: "office" }),
  P("child-laughing", "Attribute", "portrait, a young child laughing at the camera", {
    age: "child",
    expression: "laughing",
    view: "front",
  }),
  P("angry-old", "Attribute", "portrait, an angry person,old", { age: "elderly", expression: "angry" }),
  P("side-view", "View", "portrait, color,side view", { view: "side-right" }),
  P("beach-sunset", "Background", "portrait, with a beautiful purple sunset at the beach in the background", {
    background: "beach-sunset",
  }),
  P("pencil", "Style", "portrait, pencil drawing", { style: "pencil" }),
  P("3d-animation", "Style", "portrait,3D Animation, Disney style,cute,popmart blindbox", {
    style: "papercut",
    expression: "smiling",
  }),
  P(
    "kawaii",
    "Style",
    "portrait, kawaii style, cute, adorable, brightly colored, cheerful, anime influence, highly detailed",
    { style: "comic", expression: "smiling" },
  ),
  P("latte-art", "Style", "portrait,latte art in a cup", { style: "watercolor", lightColour: "warm" }),
  P("papercraft-side", "Complex", "portrait, side view, in papercraft style", {
    style: "papercut",
    view: "side-left",
  }),
  P("gnome-glasses", "Complex", "portrait, a garden gnome, in papercraft sketch, wearing a glasses", {
    style: "pencil",
    accessories: ["glasses"],
    background: "garden",
  }),
  P("madhubani-mask", "Complex", "portrait, Madhubani, wearing a mask", {
    style: "neon",
    accessories: ["mask"],
  }),
  P("ukiyo-e-violin", "Complex", "portrait, Ukiyo-e Painting style, playing the violin", {
    style: "noir",
    view: "three-quarter-left",
    lightDirection: "left",
  }),
  P("purple-sweater", "Complex", "portrait of green-skinned shrek, wearing lacoste purple sweater", {
    style: "comic",
    clothing: "sweater",
    clothingColour: "purple",
    background: "forest",
  }),
];

/** The paper's single Face Sim. prompt ("portrait, color, cinematic, in garden, soft light, detailed face"). */
export const FACE_SIM_PROMPT: BenchmarkPrompt = P(
  "face-sim",
  "Common",
  "portrait, color, cinematic, in garden, soft light, detailed face",
  { style: "photo", background: "garden", lightDirection: "front", view: "front", framing: "close-up" },
);

/** Table 8's 15 challenging prompts mapped to the world's styles (in the paper's order). */
export const CHALLENGING_PROMPTS: readonly BenchmarkPrompt[] = [
  P("cinematic", "Style", "portrait, color, cinematic", { style: "photo", lightColour: "warm" }),
  P("anime", "Style", "portrait, anime artwork", { style: "comic" }),
  P("graphic-novel", "Style", "portrait, comic art, graphic novel art", {
    style: "comic",
    lightDirection: "left",
  }),
  P("matte-painting", "Style", "portrait, digital artwork, illustrative, painterly, matte painting", {
    style: "watercolor",
    lightDirection: "above",
  }),
  P(
    "celestial",
    "Style",
    "portrait, magnificent, celestial, ethereal, painterly, epic, majestic, magical, fantasy art, cover art, dreamy",
    { style: "watercolor", lightColour: "purple" },
  ),
  P(
    "line-art",
    "Style",
    "portrait, vibrant, professional, sleek, modern, minimalist, graphic, line art, vector graphics",
    { style: "pencil" },
  ),
  P(
    "cyberpunk",
    "Style",
    "portrait, cyberpunk, vaporwave, neon, vibes, vibrant, ... magenta highlights, dark purple shadows, high contrast, cinematic",
    { style: "neon" },
  ),
  P(
    "brushwork",
    "Style",
    "portrait, energetic brushwork, bold colors, abstract forms, expressive, emotional",
    { style: "watercolor", lightColour: "warm" },
  ),
  P(
    "film-noir",
    "Style",
    "portrait, film noir style, monochrome, high contrast, dramatic shadows, 1940s style, mysterious, cinematic",
    { style: "noir", lightDirection: "left" },
  ),
  P(
    "papercut",
    "Style",
    "portrait, papercut, mixed media, textured paper, overlapping, asymmetrical, abstract, vibrant",
    { style: "papercut" },
  ),
  P(
    "paper-mache",
    "Style",
    "portrait, paper mache representation, 3D, sculptural, textured, handmade, vibrant, fun",
    { style: "papercut", lightDirection: "right" },
  ),
  P(
    "vaporwave",
    "Style",
    "portrait, vaporwave style, retro aesthetic, cyberpunk, vibrant, neon colors, vintage 80s and 90s style, highly detailed",
    { style: "pixel", lightColour: "purple" },
  ),
  P(
    "watercolor",
    "Style",
    "portrait, watercolor painting, vibrant, beautiful, painterly, detailed, textural, artistic",
    { style: "watercolor" },
  ),
  P(
    "impressionist",
    "Style",
    "portrait, impressionist painting, loose brushwork, vibrant color, light and shadow play",
    { style: "watercolor", lightDirection: "left", lightColour: "warm" },
  ),
  P(
    "expressionist",
    "Style",
    "portrait, expressionist, raw, emotional, dynamic, distortion for emotional effect, vibrant, use of unusual colors, detailed",
    { style: "neon", lightColour: "cool" },
  ),
];

/** Seeds every (identity, prompt) pair is generated with (the paper averages 4 images). */
export const BENCHMARK_SEEDS: readonly number[] = [0, 1, 2, 3];

/** A benchmark: held-out identities, how their reference image looks, prompts and seeds. */
export interface Benchmark {
  name: "DivID-120" | "Unsplash-50";
  /** Identity indices (all in the test split). */
  identities: readonly number[];
  /** Attributes and seed of the ID reference image of identities[i]. */
  reference(i: number): { attributes: Attributes; seed: number };
  prompts: readonly BenchmarkPrompt[];
  seeds: readonly number[];
}

/** Greedy farthest-point sampling over identity vectors: `k` indices from `pool`, most spread out first. */
function farthestPoints(pool: readonly number[], k: number): number[] {
  const vecs = pool.map((i) => identityAt(i));
  const dist = new Float64Array(pool.length).fill(Infinity);
  const chosen: number[] = [];
  let next = 0;
  for (let c = 0; c < k; c++) {
    chosen.push(pool[next]!);
    const v = vecs[next]!;
    let best = -1;
    for (let j = 0; j < pool.length; j++) {
      let d = 0;
      const w = vecs[j]!;
      for (let t = 0; t < v.length; t++) d += (v[t]! - w[t]!) ** 2;
      if (d < dist[j]!) dist[j] = d;
      if (best < 0 || dist[j]! > dist[best]!) best = j;
    }
    next = best;
  }
  return chosen;
}

let cached: { divid: number[]; unsplash: number[] } | null = null;
function benchmarkIdentities(): { divid: number[]; unsplash: number[] } {
  if (!cached) {
    const test = SPLITS.test;
    const pool = Array.from({ length: test.count }, (_, k) => test.start + k);
    const divid = farthestPoints(pool, 120);
    const taken = new Set(divid);
    const rest = pool.filter((i) => !taken.has(i));
    cached = { divid, unsplash: farthestPoints(rest, 50) };
  }
  return cached;
}

const pick = <T>(r: Rng, xs: readonly T[]): T => r.pick(xs);

/** DivID-120-like: diverse held-out identities; references vary in age, light and scene, always photos. */
export function dividBenchmark(): Benchmark {
  const ids = benchmarkIdentities().divid;
  return {
    name: "DivID-120",
    identities: ids,
    reference(i) {
      const r = new Rng(hashSeed("divid-reference", i));
      return {
        attributes: withDefaults({
          age: pick(r, ["child", "young", "adult", "elderly"] as const),
          background: pick(r, ["white", "grey", "blue", "room", "garden", "city"] as const),
          lightColour: pick(r, ["white", "warm", "cool"] as const),
          framing: pick(r, ["close-up", "portrait"] as const),
        }),
        seed: hashSeed("divid-reference-seed", i),
      };
    },
    prompts: EVAL_PROMPTS,
    seeds: BENCHMARK_SEEDS,
  };
}

/** Unsplash-50-like: held-out identities in natural photos (adults, outdoor and indoor scenes). */
export function unsplashBenchmark(): Benchmark {
  const ids = benchmarkIdentities().unsplash;
  return {
    name: "Unsplash-50",
    identities: ids,
    reference(i) {
      const r = new Rng(hashSeed("unsplash-reference", i));
      return {
        attributes: withDefaults({
          age: pick(r, ["young", "adult"] as const),
          background: pick(r, ["beach-sunset", "city", "forest", "room", "garden", "snow"] as const),
          lightDirection: pick(r, ["front", "left", "right"] as const),
          lightColour: pick(r, ["white", "warm"] as const),
          view: pick(r, ["front", "three-quarter-left", "three-quarter-right"] as const),
          expression: pick(r, ["neutral", "smiling"] as const),
        }),
        seed: hashSeed("unsplash-reference-seed", i),
      };
    },
    prompts: EVAL_PROMPTS,
    seeds: BENCHMARK_SEEDS,
  };
}
