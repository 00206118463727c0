/**
 * Identity splits: identity indices are cut into disjoint ranges, so no identity is in two splits, and any split
 * can be regenerated from its name alone. Test comes first so the benchmarks' held-out identities never move
 * when the training set grows.
 */
import { WorldError } from "./errors.ts";

export const SPLIT_NAMES = ["train", "val", "test"] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** [start, start + count) of identity indices per split. */
export const SPLITS: Record<SplitName, { start: number; count: number }> = {
  test: { start: 0, count: 400 },
  val: { start: 400, count: 400 },
  train: { start: 800, count: 100_000 },
};

/** Validates a split name (e.g. from the command line). */
export function checkSplit(name: string): SplitName {
  if (!(SPLIT_NAMES as readonly string[]).includes(name)) {
    throw new WorldError(
      "bad_split",
      `split ${JSON.stringify(name)} is unknown; expected one of ${SPLIT_NAMES.join(", ")}`,
    );
  }
  return name as SplitName;
}

/** The identity index of the k-th identity of a split. */
export function splitIdentity(split: SplitName, k: number): number {
  const s = SPLITS[split];
  if (!Number.isInteger(k) || k < 0 || k >= s.count) {
    throw new WorldError("bad_split", `${split} has ${s.count} identities; index ${k} is out of range`);
  }
  return s.start + k;
}

/** Which split an identity index belongs to. */
export function splitOf(index: number): SplitName {
  for (const name of SPLIT_NAMES) {
    const s = SPLITS[name];
    if (index >= s.start && index < s.start + s.count) return name;
  }
  throw new WorldError("bad_split", `identity index ${index} is in no split`);
}
