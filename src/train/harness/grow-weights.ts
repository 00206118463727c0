/**
 * Growing a trained model into a larger config of the same class without changing what it computes: every trained
 * weight is kept (same name, same shape), and each added block keeps its fresh initialisation except the weights
 * that make it the identity on its residual path (a zero output projection), so a further run starts exactly where
 * the trained model was and the new block can learn from there. The per-model rules (which blocks may be new,
 * which of their weights start at zero) come from the caller: `growVaeWeights`, `growUNetWeights`.
 */
import { HostTensor } from "../../engine/host-tensor.ts";

export interface GrowRule {
  /** Captures the added block's name from a new key (e.g. `decoder.up_blocks.0.resnets.2`); no match = refused. */
  block: RegExp;
  /** Key suffixes (after `block.`) set to zero: what makes the added block an identity. */
  zero: readonly string[];
  /** Extra check on a new key; returns a reason to refuse it, or undefined. */
  refuse?(block: string, key: string): string | undefined;
  /** Words for the error of a new key outside any added block (e.g. "an added resnet"). */
  what: string;
}

/**
 * The grown weights, from `trained` (the smaller config's) and `fresh` (a freshly initialised model of the larger
 * config: its keys and shapes define the result), and the names of the added blocks. Throws when a trained key
 * is missing or mis-shaped in the larger config, or a new key is not part of an added block.
 */
export function growWeights(trained: ReadonlyMap<string, HostTensor>, fresh: ReadonlyMap<string, HostTensor>, rule: GrowRule): { weights: Map<string, HostTensor>; added: string[] } {
  const weights = new Map<string, HostTensor>();
  const added = new Set<string>();
  for (const k of trained.keys()) if (!fresh.has(k)) throw new RangeError(`${k}: trained, but not in the grown config`);
  for (const [k, t] of fresh) {
    const old = trained.get(k);
    if (old) {
      if (old.shape.join() !== t.shape.join()) throw new RangeError(`${k}: trained [${old.shape.join(", ")}], grown config [${t.shape.join(", ")}]`);
      weights.set(k, old);
      continue;
    }
    const block = rule.block.exec(k)?.[1];
    if (!block) throw new RangeError(`${k}: not in the trained model, and not part of ${rule.what}`);
    if ([...trained.keys()].some((o) => o.startsWith(`${block}.`))) throw new RangeError(`${k}: ${block} is trained, yet lacks this weight`);
    const reason = rule.refuse?.(block, k);
    if (reason) throw new RangeError(`${block}: ${reason}`);
    weights.set(k, rule.zero.some((s) => k === `${block}.${s}`) ? HostTensor.f32(t.shape) : t);
    added.add(block);
  }
  return { weights, added: [...added] };
}
