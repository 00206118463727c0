/** Learning-rate schedules: pure functions of the step number (0-based). */
export type LrSchedule = (step: number) => number;

export const constantLr = (lr: number): LrSchedule => () => lr;

/** Linear warm-up from ~0 to `lr` over `warmupSteps`, then constant. */
export const warmupLr = (lr: number, warmupSteps: number): LrSchedule => (step) =>
  warmupSteps > 0 && step < warmupSteps ? (lr * (step + 1)) / warmupSteps : lr;

/** Linear warm-up, then cosine decay from `lr` to `minLr` at `totalSteps`. */
export const cosineLr = (lr: number, totalSteps: number, warmupSteps = 0, minLr = 0): LrSchedule => (step) => {
  if (warmupSteps > 0 && step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
  const span = Math.max(1, totalSteps - warmupSteps);
  const t = Math.min(1, (step - warmupSteps) / span);
  return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * t));
};

export type ScheduleSpec =
  | { kind: "constant"; lr: number }
  | { kind: "warmup"; lr: number; warmupSteps: number }
  | { kind: "cosine"; lr: number; totalSteps: number; warmupSteps?: number; minLr?: number };

/** Builds a schedule from a JSON-able spec (so checkpoints can record it). */
export function makeSchedule(s: ScheduleSpec): LrSchedule {
  switch (s.kind) {
    case "constant":
      return constantLr(s.lr);
    case "warmup":
      return warmupLr(s.lr, s.warmupSteps);
    case "cosine":
      return cosineLr(s.lr, s.totalSteps, s.warmupSteps, s.minLr);
  }
}
