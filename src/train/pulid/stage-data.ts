/**
 * The host side of a stage's inputs: one step's data is a map from the graph's input names to tensors, so a
 * data source can provide every input any stage may use and the graph takes the ones it declared.
 */
import type { HostTensor } from "../../engine/host-tensor.ts";
import { PulidError } from "../../engine/errors.ts";

/** One step's inputs by graph input name. */
export type StageData = Record<string, HostTensor>;

/** The feeds of a graph in its input order. @throws PulidError `missing_input` naming the absent inputs. */
export function orderFeeds(names: readonly string[], data: StageData): HostTensor[] {
  const missing = names.filter((n) => !data[n]);
  if (missing.length) throw new PulidError("missing_input", `the data source gave no ${missing.join(", ")}`);
  return names.map((n) => data[n]!);
}
