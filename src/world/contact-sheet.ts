/**
 * A contact sheet: identities down, attribute variations across, so a person can judge at a glance whether
 * identities differ and stay recognisable while everything else changes.
 */
import { withDefaults, type Attributes } from "./attributes.ts";
import { identityAt } from "./identity.ts";
import { renderFace } from "./render.ts";

/** The columns of the sheet: a label and the attributes it shows. */
export const SHEET_COLUMNS: readonly { label: string; attributes: Partial<Attributes> }[] = [
  { label: "photo", attributes: {} },
  {
    label: "smile, 3/4",
    attributes: { expression: "smiling", view: "three-quarter-left", background: "garden" },
  },
  {
    label: "side, beach",
    attributes: { view: "side-right", background: "beach-sunset", lightColour: "warm" },
  },
  { label: "hat, city", attributes: { accessories: ["hat"], background: "city", lightDirection: "left" } },
  {
    label: "glasses, office",
    attributes: { accessories: ["glasses"], background: "office", clothing: "suit", clothingColour: "black" },
  },
  { label: "child", attributes: { age: "child", expression: "laughing", background: "yellow" } },
  { label: "elderly", attributes: { age: "elderly", background: "room", tilt: "tilted-right" } },
  { label: "close-up", attributes: { framing: "close-up", expression: "surprised", background: "snow" } },
  { label: "far", attributes: { framing: "far", position: "left", background: "forest" } },
  { label: "pencil", attributes: { style: "pencil" } },
  { label: "watercolor", attributes: { style: "watercolor", background: "garden" } },
  { label: "pixel", attributes: { style: "pixel", background: "blue" } },
  { label: "comic", attributes: { style: "comic", expression: "angry", background: "kitchen" } },
  { label: "noir", attributes: { style: "noir", lightDirection: "left", accessories: ["mask"] } },
  { label: "neon", attributes: { style: "neon", background: "city", accessories: ["headphones"] } },
  { label: "papercut", attributes: { style: "papercut", background: "grey", accessories: ["earrings"] } },
];

/** Renders `rows` identities (indices `first`..) x SHEET_COLUMNS into one HWC [0, 1] image with 2 px gutters. */
export function contactSheet(
  rows = 8,
  size = 64,
  first = 0,
): { rgb: Float32Array; width: number; height: number } {
  const gap = 2;
  const cols = SHEET_COLUMNS.length;
  const width = cols * (size + gap) + gap;
  const height = rows * (size + gap) + gap;
  const rgb = new Float32Array(width * height * 3).fill(1);
  for (let r = 0; r < rows; r++) {
    const id = identityAt(first + r);
    SHEET_COLUMNS.forEach((col, c) => {
      const img = renderFace(id, withDefaults(col.attributes), { size, seed: r * cols + c });
      const x0 = gap + c * (size + gap);
      const y0 = gap + r * (size + gap);
      for (let y = 0; y < size; y++) {
        rgb.set(img.rgb.subarray(y * size * 3, (y + 1) * size * 3), ((y0 + y) * width + x0) * 3);
      }
    });
  }
  return { rgb, width, height };
}
