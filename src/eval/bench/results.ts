/** What a benchmark run returns and `results.json` holds (its own file so the report and the runner share it without a cycle). */
import type { GenerateOptions } from "../../pulid/options.ts";
import type { BenchName } from "./plan.ts";
import type { MethodScores } from "./scores.ts";
import type { SweepPoint } from "./sweep-plot.ts";

export interface MethodResult extends MethodScores {
  label: string;
  adapter: string | null;
  options: GenerateOptions;
  /** The paper's [Face Sim, CLIP-T, CLIP-I] for the row this method reproduces (Table 2). */
  paper: readonly [number, number, number] | null;
}

export interface BenchResults {
  bench: BenchName;
  benchmark: string;
  plan: { persons: number; prompts: number; seeds: number; images_per_method: number };
  methods: Record<string, MethodResult>;
  sweep: SweepPoint[];
  generated: number;
  reused: number;
  seconds: number;
}

