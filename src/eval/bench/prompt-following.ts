/**
 * Prompt following per category, read by the world's `judge`: the share of the attributes a prompt asks for that
 * the judge sees in the image. Only what the prompt names is checked (the rest is left to the model), so an
 * identity that drags the age or the style back towards the reference photo shows up here.
 */
import type { JudgeVerdict } from "../../models/world/judge-file.ts";
import type { Attributes } from "../../world/attributes.ts";

/** [attributes checked, attributes the judge agreed with] for one image. */
export function promptAgreement(verdict: JudgeVerdict, asked: Partial<Attributes>): [number, number] {
  let checked = 0;
  let agreed = 0;
  for (const [k, want] of Object.entries(asked)) {
    const got = verdict[k];
    if (got === undefined) continue;
    checked++;
    if (Array.isArray(want)) {
      const seen = new Set(got as string[]);
      if ((want as string[]).every((x) => seen.has(x))) agreed++;
    } else if (got === want) agreed++;
  }
  return [checked, agreed];
}
