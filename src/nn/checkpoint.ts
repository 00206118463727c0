/**
 * Training checkpoints: model weights, optimizer state, step and RNG state in one safetensors file, written
 * atomically (temp + rename), so an interrupted run never leaves a half-written checkpoint and a resumed run
 * continues bit for bit.
 *
 * Layout: tensors `model/<param name>`, `optim/<state key>` and, when the run keeps one, `ema/<param name>` (the
 * weights' moving average); `__metadata__.pulid_checkpoint` holds JSON `{version, step, optimizer, rng, ema, extra}`.
 */
import type { Module } from "./module.ts";
import type { Optimizer } from "./optim/optimizer.ts";
import type { Rng, RngState } from "../engine/rng.ts";
import type { WeightEma } from "./optim/ema.ts";
import { HostTensor } from "../engine/host-tensor.ts";
import { SafetensorsFile, saveSafetensors } from "../engine/io/safetensors.ts";
import { PulidError } from "../engine/errors.ts";

export interface CheckpointContents {
  model: Module;
  optimizer: Optimizer;
  /** Training step (number of updates done). */
  step: number;
  rng?: Rng;
  /** The weights' moving average, when the run keeps one. */
  ema?: WeightEma;
  /** Anything JSON-able the trainer wants back (config, data cursor, metrics). */
  extra?: Record<string, unknown>;
}

const META_KEY = "pulid_checkpoint";

export async function saveCheckpoint(path: string, c: CheckpointContents): Promise<void> {
  const tensors = new Map<string, HostTensor>();
  for (const [k, v] of c.model.bindNames().stateDict()) tensors.set(`model/${k}`, v);
  const os = c.optimizer.state();
  for (const [k, v] of os.tensors) tensors.set(`optim/${k}`, v);
  const es = c.ema?.state();
  for (const [k, v] of es?.tensors ?? []) tensors.set(`ema/${k}`, v);
  const meta = { version: 1, step: c.step, optimizer: os.meta, rng: c.rng?.getState() ?? null, ema: es ? { count: es.count } : null, extra: c.extra ?? {} };
  await saveSafetensors(path, tensors, { [META_KEY]: JSON.stringify(meta) });
}

/** Restores model, optimizer and RNG in place; returns the step and the extra data. */
export function loadCheckpoint(
  path: string,
  target: { model: Module; optimizer: Optimizer; rng?: Rng; ema?: WeightEma },
): { step: number; extra: Record<string, unknown> } {
  const f = SafetensorsFile.open(path);
  try {
    const raw = f.metadata[META_KEY];
    if (!raw) throw new PulidError("not_a_checkpoint", `${path}: not a pulid training checkpoint (no '${META_KEY}' metadata)`);
    const meta = JSON.parse(raw) as { version: number; step: number; optimizer: Record<string, unknown>; rng: { s: RngState; spare: number | null } | null; ema?: { count: number } | null; extra: Record<string, unknown> };
    if (meta.version !== 1) throw new PulidError("checkpoint_version", `${path}: checkpoint version ${meta.version} is not supported (expected 1)`);
    target.model.loadStateDict(f, { prefix: "model/", source: path });
    const tensors = new Map<string, HostTensor>();
    for (const k of f.keys()) if (k.startsWith("optim/")) tensors.set(k.slice(6), f.read(k));
    target.optimizer.loadState({ tensors, meta: meta.optimizer });
    if (target.rng) {
      if (!meta.rng) throw new PulidError("checkpoint_rng", `${path}: checkpoint has no RNG state to restore`);
      target.rng.setState(meta.rng);
    }
    if (target.ema) {
      if (!meta.ema) throw new PulidError("checkpoint_ema", `${path}: checkpoint has no EMA weights to restore (the run did not keep an average)`);
      const ema = new Map<string, HostTensor>();
      for (const k of f.keys()) if (k.startsWith("ema/")) ema.set(k.slice(4), f.read(k));
      target.ema.loadState({ tensors: ema, count: meta.ema.count }, path);
    }
    return { step: meta.step, extra: meta.extra };
  } finally {
    f.close();
  }
}
