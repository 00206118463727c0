/**
 * The ONE declaration of every generation option: name, type, range, default and help. The TypeScript API
 * (`PulidPipeline.generate`), the command line (`pulid generate` flags are derived from {@link OPTION_SPECS})
 * and the coming HTTP API validate through {@link parseGenerateOptions}; nothing else checks ranges.
 *
 * Defaults that depend on the PuLID version or the base model (steps, cfg, size, sampler, num_zero, ortho) are
 * resolved per call by {@link resolveGenerateOptions}, from the reference apps (pulid-reference.md sections 1, 6):
 *
 * | option   | v1 (app.py)                          | v1.1 (app_v1_1.py)                              |
 * |----------|--------------------------------------|-------------------------------------------------|
 * | steps    | 4                                    | 5 (Lightning base) / 25 (other)                 |
 * | cfg      | 1.2                                  | 2 (Lightning base) / 7 (other)                  |
 * | size HxW | 1024 x 768                           | 1152 x 896                                      |
 * | sampler  | dpmpp_2m (diffusers DPM++ 2M trailing) | dpmpp_sde (Lightning base) / dpmpp_2m, Karras  |
 * | mode     | fidelity = num_zero 8 + ortho v2; extremely-style = num_zero 16 + ortho v1 | num_zero 20, ortho v2 |
 *
 * Departures, on purpose: ranges are the union of the two apps' sliders (cfg 1-10, steps 1-100); width and
 * height must be multiples of 8 for both versions (the v1 pipeline checks it, v1.1 silently floors); a base
 * model whose native size is not 1024 (the synthetic-world models) defaults to its native square size;
 * `num` defaults to 1 image (the v1 app's slider says 4).
 */
import { z } from "zod";
import { SAMPLER_NAMES, type SamplerName } from "../diffusion/samplers.ts";
import { OptionsError, type OptionIssue } from "./errors.ts";

/** The reference apps' default prompt. */
export const DEFAULT_PROMPT = "portrait,color,cinematic,in garden,soft light,detailed face";

/** The reference apps' default negative prompt (verbatim, including "quality,artifacts"). */
export const DEFAULT_NEGATIVE_PROMPT =
  "flaws in the eyes, flaws in the face, flaws, lowres, non-HDRi, low quality, worst quality,artifacts noise, text, watermark, glitch, deformed, mutated, ugly, disfigured, hands, low resolution, partially rendered objects,  deformed or partially rendered eyes, deformed, deformed eyeballs, cross-eyed,blurry";

/** v1's two presets (app.py "mode"). */
export const ID_MODES = ["fidelity", "extremely-style"] as const;
export type IdMode = (typeof ID_MODES)[number];

/** How the ID attention is orthogonalised against the text attention (v1.1's hidden "ortho" dropdown). */
export const ORTHO_CHOICES = ["off", "v1", "v2"] as const;
export type Ortho = (typeof ORTHO_CHOICES)[number];

/** Largest seed: seeds are exact integers in JavaScript numbers. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

/** How an option is typed on the command line. */
type OptionKind = "string" | "int" | "number" | "enum" | "boolean";

/** One option: its schema and everything the CLI, the HTTP API and the docs show about it. */
export interface OptionSpec {
  readonly kind: OptionKind;
  /** The command-line flag without dashes (`id-scale`). */
  readonly flag: string;
  readonly help: string;
  /** The range or choices in words, quoted in errors (`0 to 5`). */
  readonly range: string;
  /** The default in words (`0.8`, `by version: 4 (v1), ...`). */
  readonly defaultText: string;
  /** The value schema (optional: leaving an option out means its default). */
  readonly schema: z.ZodType;
  /** Choices of an enum option. */
  readonly choices?: readonly string[];
}

const int = (min: number, max: number) => z.int().min(min).max(max);
// multipleOf (not refine) so that the JSON Schema of the HTTP API carries the rule too.
const size = () => z.int().min(64).max(4096).multipleOf(8);

/** Every generation option, keyed by its API name. */
export const OPTION_SPECS = {
  prompt: { kind: "string", flag: "prompt", help: "what to draw", range: "a string", defaultText: JSON.stringify(DEFAULT_PROMPT), schema: z.string() },
  negativePrompt: { kind: "string", flag: "negative", help: "what not to draw (the CFG negative branch)", range: "a string", defaultText: "the reference apps' negative prompt; empty on the world models", schema: z.string() },
  steps: { kind: "int", flag: "steps", help: "sampling steps", range: "an integer from 1 to 100", defaultText: "4 (v1); 5 on a Lightning base, else 25 (v1.1)", schema: int(1, 100) },
  cfg: { kind: "number", flag: "cfg", help: "classifier-free guidance scale", range: "a number from 1 to 10", defaultText: "1.2 (v1); 2 on a Lightning base, else 7 (v1.1)", schema: z.number().min(1).max(10) },
  seed: { kind: "int", flag: "seed", help: "seed of the first image (image i uses seed + i); random when left out", range: `an integer from 0 to ${MAX_SEED}`, defaultText: "random", schema: int(0, MAX_SEED) },
  num: { kind: "int", flag: "num", help: "number of images", range: "an integer from 1 to 16", defaultText: "1", schema: int(1, 16) },
  width: { kind: "int", flag: "width", help: "image width in pixels", range: "a multiple of 8 from 64 to 4096", defaultText: "768 (v1), 896 (v1.1); the native size of a non-SDXL base", schema: size() },
  height: { kind: "int", flag: "height", help: "image height in pixels", range: "a multiple of 8 from 64 to 4096", defaultText: "1024 (v1), 1152 (v1.1); the native size of a non-SDXL base", schema: size() },
  idScale: { kind: "number", flag: "id-scale", help: "strength of the identity (higher: more like the photo, less editable)", range: "a number from 0 to 5", defaultText: "0.8", schema: z.number().min(0).max(5) },
  mode: { kind: "enum", flag: "mode", help: "v1 preset: fidelity (num_zero 8, ortho v2) or extremely-style (num_zero 16, ortho v1)", range: `one of ${ID_MODES.join(", ")}`, defaultText: "fidelity", schema: z.enum(ID_MODES), choices: ID_MODES },
  numZero: { kind: "int", flag: "num-zero", help: "zero tokens appended to the ID tokens (higher: more editable, less similar); overrides the mode's", range: "an integer from 0 to 80", defaultText: "from --mode (v1); 20 (v1.1)", schema: int(0, 80) },
  ortho: { kind: "enum", flag: "ortho", help: "remove the part of the ID attention along the text attention; overrides the mode's", range: `one of ${ORTHO_CHOICES.join(", ")}`, defaultText: "from --mode (v1); v2 (v1.1)", schema: z.enum(ORTHO_CHOICES), choices: ORTHO_CHOICES },
  sampler: { kind: "enum", flag: "sampler", help: "sampler (src/diffusion)", range: `one of ${SAMPLER_NAMES.join(", ")}`, defaultText: "dpmpp_2m (v1); dpmpp_sde on a Lightning base, else dpmpp_2m (v1.1)", schema: z.enum(SAMPLER_NAMES), choices: SAMPLER_NAMES },
  idMix: { kind: "boolean", flag: "id-mix", help: "v1, several photos: use all 10 tokens of every extra photo (else its first 5)", range: "true or false", defaultText: "false", schema: z.boolean() },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTION_SPECS;

/** The schema of a generate call's options: every option optional, unknown keys refused. */
export const GenerateOptionsSchema = z.strictObject(
  Object.fromEntries(Object.entries(OPTION_SPECS).map(([k, s]) => [k, s.schema.optional()])) as {
    [K in OptionName]: z.ZodOptional<(typeof OPTION_SPECS)[K]["schema"]>;
  },
);

/** Options of one generation as a caller gives them (all optional). */
export interface GenerateOptions {
  prompt?: string;
  negativePrompt?: string;
  steps?: number;
  cfg?: number;
  seed?: number;
  num?: number;
  width?: number;
  height?: number;
  idScale?: number;
  mode?: IdMode;
  numZero?: number;
  ortho?: Ortho;
  sampler?: SamplerName;
  idMix?: boolean;
}

/** Every option decided: what one generation runs with (recorded in each PNG). */
export interface ResolvedGenerateOptions {
  prompt: string;
  negativePrompt: string;
  steps: number;
  cfg: number;
  /** Seed of image 0; image i uses seed + i. */
  seed: number;
  num: number;
  width: number;
  height: number;
  idScale: number;
  /** v1 preset used for numZero/ortho defaults (null for v1.1). */
  mode: IdMode | null;
  numZero: number;
  ortho: Ortho;
  sampler: SamplerName;
  idMix: boolean;
}

/** What the defaults depend on. */
export interface DefaultsContext {
  version: "v1" | "v1.1";
  /** The base model is a Lightning (few-step) model (v1.1 picks sampler, steps and cfg from this). */
  lightning: boolean;
  /** The base's native image size in pixels (UNet sample_size x VAE factor): 1024 for SDXL. */
  nativeSize: number;
  /** The negative prompt when none is given (default {@link DEFAULT_NEGATIVE_PROMPT}; the world models: ""). */
  defaultNegativePrompt?: string;
  /** Where a random seed comes from when none is given (injected: the core has no hidden RNG). */
  randomSeed: () => number;
}

const describe = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : typeof v === "number" || typeof v === "boolean" ? String(v) : v === null ? "null" : typeof v);

/**
 * Validates options given by a caller (any JSON-like object).
 * @throws OptionsError listing every bad option: `idScale (--id-scale) must be a number from 0 to 5, got 7`;
 *   unknown options are named with the known ones.
 */
export function parseGenerateOptions(input: unknown): GenerateOptions {
  const r = GenerateOptionsSchema.safeParse(input ?? {});
  if (r.success) return r.data as GenerateOptions;
  const issues: OptionIssue[] = [];
  const seen = new Set<string>();
  for (const iss of r.error.issues) {
    if (iss.code === "unrecognized_keys") {
      for (const k of iss.keys) issues.push({ option: k, flag: `--${k}`, message: `unknown option '${k}' (known: ${Object.keys(OPTION_SPECS).join(", ")})` });
      continue;
    }
    const key = String(iss.path[0] ?? "");
    const spec = (OPTION_SPECS as Record<string, OptionSpec>)[key];
    if (!spec) {
      issues.push({ option: "", flag: "", message: `options must be an object, got ${describe(input)}` });
      continue;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    const got = (input as Record<string, unknown>)[key];
    issues.push({ option: key, flag: `--${spec.flag}`, message: `${key} (--${spec.flag}) must be ${spec.range}, got ${describe(got)}` });
  }
  throw new OptionsError(issues);
}

/** The v1 presets of app.py. */
export const MODE_PRESETS: Record<IdMode, { numZero: number; ortho: Ortho }> = {
  fidelity: { numZero: 8, ortho: "v2" },
  "extremely-style": { numZero: 16, ortho: "v1" },
};

/**
 * Validates and fills every default for one call (see the table at the top of this file).
 * @throws OptionsError as {@link parseGenerateOptions}.
 */
export function resolveGenerateOptions(input: unknown, ctx: DefaultsContext): ResolvedGenerateOptions {
  const o = parseGenerateOptions(input);
  const v1 = ctx.version === "v1";
  const sdxlSized = ctx.nativeSize === 1024;
  const mode: IdMode | null = v1 ? (o.mode ?? "fidelity") : null;
  const preset = mode ? MODE_PRESETS[mode] : { numZero: 20, ortho: "v2" as const };
  const [defH, defW] = !sdxlSized ? [ctx.nativeSize, ctx.nativeSize] : v1 ? [1024, 768] : [1152, 896];
  const seed = o.seed ?? ctx.randomSeed();
  if (!Number.isSafeInteger(seed) || seed < 0) throw new OptionsError([{ option: "seed", flag: "--seed", message: `seed: the random seed source returned ${seed}` }]);
  return {
    prompt: o.prompt ?? DEFAULT_PROMPT,
    negativePrompt: o.negativePrompt ?? ctx.defaultNegativePrompt ?? DEFAULT_NEGATIVE_PROMPT,
    steps: o.steps ?? (v1 ? 4 : ctx.lightning ? 5 : 25),
    cfg: o.cfg ?? (v1 ? 1.2 : ctx.lightning ? 2 : 7),
    seed,
    num: o.num ?? 1,
    width: o.width ?? defW,
    height: o.height ?? defH,
    idScale: o.idScale ?? 0.8,
    mode,
    numZero: o.numZero ?? preset.numZero,
    ortho: o.ortho ?? preset.ortho,
    sampler: o.sampler ?? (v1 || !ctx.lightning ? "dpmpp_2m" : "dpmpp_sde"),
    idMix: o.idMix ?? false,
  };
}

/**
 * Parses one command-line value for an option, by the option's kind (`--steps 4` -> 4). Range checks are left
 * to {@link parseGenerateOptions}, so the CLI and the API give the same message.
 * @throws OptionsError when the text is not of the option's type.
 */
export function optionFromText(name: OptionName, text: string | boolean): unknown {
  const spec: OptionSpec = OPTION_SPECS[name];
  if (spec.kind === "boolean") return text === true || text === "true";
  if (typeof text !== "string") return text;
  if (spec.kind === "int" || spec.kind === "number") {
    const v = text.trim() === "" ? NaN : Number(text);
    if (!Number.isFinite(v)) throw new OptionsError([{ option: name, flag: `--${spec.flag}`, message: `${name} (--${spec.flag}) must be ${spec.range}, got ${JSON.stringify(text)}` }]);
    return v;
  }
  return text;
}
