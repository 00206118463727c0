/**
 * `GET /v1/options`: the generation options as JSON Schema, derived from the one zod declaration
 * (`GenerateOptionsSchema`, via zod's `z.toJSONSchema`), annotated from `OPTION_SPECS` (help, CLI flag, range in
 * words) and with the loaded models' defaults, so the page builds every control from it and shows the same
 * ranges the server enforces.
 */
import { z } from "zod";
import { GenerateOptionsSchema, OPTION_SPECS, type OptionName, type PulidPipeline } from "../pulid/index.ts";
import { MAX_PHOTOS } from "./submission.ts";

/** One property of the schema, as the page reads it. */
interface PropertySchema {
  type?: string;
  default?: unknown;
  description?: string;
  "x-flag"?: string;
  "x-range"?: string;
  "x-default-text"?: string;
  [k: string]: unknown;
}

/** The document `GET /v1/options` answers. */
export interface OptionsDocument {
  /** PuLID version of the loaded models. */
  version: "v1" | "v1.1";
  schema: { type: "object"; properties: Record<string, PropertySchema>; additionalProperties: false; [k: string]: unknown };
  /** Limits of the upload form. */
  upload: { maxPhotos: number; maxFileBytes: number; fields: { photos: "id"; embedding: "id_embedding"; options: "options" } };
}

/** Builds the options document for a loaded pipeline. */
export function optionsDocument(pipe: PulidPipeline, maxFileBytes: number): OptionsDocument {
  const schema = z.toJSONSchema(GenerateOptionsSchema) as OptionsDocument["schema"];
  // The seed has no fixed default (random per job), so the resolved defaults are taken with seed left out.
  const { seed: _, ...defaults } = pipe.resolveOptions({ seed: 0 });
  for (const [name, spec] of Object.entries(OPTION_SPECS) as [OptionName, (typeof OPTION_SPECS)[OptionName]][]) {
    const p = schema.properties[name]!;
    p.description = spec.help;
    p["x-flag"] = `--${spec.flag}`;
    p["x-range"] = spec.range;
    p["x-default-text"] = spec.defaultText;
    const d = (defaults as Record<string, unknown>)[name];
    if (d !== undefined && d !== null) p.default = d;
  }
  return { version: pipe.version, schema, upload: { maxPhotos: MAX_PHOTOS, maxFileBytes, fields: { photos: "id", embedding: "id_embedding", options: "options" } } };
}
