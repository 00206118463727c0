/**
 * The paper's numbers (PuLID, arXiv:2404.16022 v2, Tables 1 and 2; transcribed in shared/research/pulid-paper.md
 * section 3), to print beside ours. Columns: Face Sim, CLIP-T, CLIP-I on DivID-120 and on Unsplash-50.
 */
import type { BenchName } from "./plan.ts";

export interface PaperRow {
  readonly row: string;
  readonly divid120: readonly [number, number, number];
  readonly unsplash50: readonly [number, number, number];
}

export const PAPER_TABLE1: readonly PaperRow[] = [
  { row: "PhotoMaker (SDXL-base)", divid120: [0.271, 26.06, 0.649], unsplash50: [0.193, 27.38, 0.692] },
  { row: "IPAdapter", divid120: [0.619, 28.36, 0.703], unsplash50: [0.615, 28.71, 0.701] },
  { row: "InstantID", divid120: [0.725, 28.72, 0.68], unsplash50: [0.614, 30.55, 0.736] },
  { row: "PuLID (ours)", divid120: [0.733, 31.31, 0.812], unsplash50: [0.659, 32.16, 0.84] },
];

export const PAPER_TABLE2: readonly PaperRow[] = [
  { row: "Baseline (Stage1)", divid120: [0.561, 29.06, 0.736], unsplash50: [0.514, 30.16, 0.769] },
  { row: "w/ ID Loss naive", divid120: [0.652, 27.05, 0.683], unsplash50: [0.601, 28.0, 0.707] },
  { row: "w/ ID Loss (Stage2)", divid120: [0.761, 24.91, 0.624], unsplash50: [0.708, 25.83, 0.646] },
  { row: "PuLID (Stage3)", divid120: [0.733, 31.31, 0.812], unsplash50: [0.659, 32.16, 0.84] },
];

/** Our method -> the Table 2 row it reproduces (none for the base and the modes' extra rows are Stage3). */
const ROW_OF: Record<string, string> = {
  stage1: "Baseline (Stage1)",
  "stage1-naive": "w/ ID Loss naive",
  stage2: "w/ ID Loss (Stage2)",
  stage3: "PuLID (Stage3)",
  "stage3-fidelity": "PuLID (Stage3)",
  "stage3-style": "PuLID (Stage3)",
};

/** The paper's [Face Sim, CLIP-T, CLIP-I] for our method on this benchmark, or null. */
export function paperNumbers(method: string, bench: BenchName): readonly [number, number, number] | null {
  const row = PAPER_TABLE2.find((r) => r.row === ROW_OF[method]);
  return row ? row[bench] : null;
}
