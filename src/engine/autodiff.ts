/**
 * Reverse-mode differentiation of traced graphs. `grad(y, wrt)` walks the graph from `y` back to `wrt` in
 * reverse topological order, applies each primitive's VJP, sums gradients where a value fans out, and sums a
 * broadcast gradient back to its input's shape in one place (`sumTo`).
 *
 * Gradient checkpointing: nodes made inside `checkpoint(() => ...)` share a group id. When the backward pass
 * reaches a group, the group's forward nodes are re-emitted (their external activations gated on the incoming
 * cotangent, so ONNX Runtime can neither run the copy early nor merge it with the original) and the VJPs use the
 * copies; the originals' intermediates then die right after the forward pass.
 */
import { type Node, makeNode, topoSort } from "./graph.ts";
import { isFloat } from "./dtype.ts";
import { Tensor, constant } from "./tensor.ts";
import { getPrimitive } from "./primitives/index.ts";
import * as ops from "./ops.ts";
import { HostTensor, shapeStr } from "./host-tensor.ts";
import { PulidError } from "./errors.ts";

const LEAVES = new Set(["input", "param", "const"]);

/**
 * Gradients of `y` with respect to each of `wrt`. `y` must be a scalar unless `seed` (the cotangent, same
 * shape as `y`) is given. A `wrt` that `y` does not depend on gets a zero gradient.
 */
export function grad(y: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  if (!seed && y.shape.length > 0 && y.shape.some((d) => d !== 1)) {
    throw new PulidError("grad_non_scalar", `grad: output has shape ${shapeStr(y.shape)}; pass a seed cotangent or reduce to a scalar`);
  }
  if (!isFloat(y.dtype)) throw new PulidError("grad_dtype", `grad: output dtype ${y.dtype} is not a float type`);
  const order = topoSort([y.node]);
  const wrtIds = new Set(wrt.map((t) => t.node.id));
  // Nodes on a path from some wrt to y.
  const live = new Set<number>();
  for (const n of order) {
    if (wrtIds.has(n.id) || n.inputs.some((i) => live.has(i.id) && getPrimitive(n.op).nondiff !== true)) live.add(n.id);
  }
  const acc = new GradAccumulator();
  const g0 = seed ?? constant(HostTensor.from(y.dtype, y.shape, new Array(y.node.shape.reduce((a, b) => a * b, 1)).fill(1)));
  acc.add(y.node, g0);

  const recomputed = new Map<number, Map<number, Node>>(); // group -> original id -> copy
  const groupNodes = new Map<number, Node[]>();
  for (const n of order) {
    if (n.checkpoint !== null && !LEAVES.has(n.op)) {
      let list = groupNodes.get(n.checkpoint);
      if (!list) groupNodes.set(n.checkpoint, (list = []));
      list.push(n);
    }
  }

  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    if (!live.has(node.id) || LEAVES.has(node.op)) continue;
    const g = acc.take(node);
    if (!g) continue;
    const prim = getPrimitive(node.op);
    if (prim.nondiff) continue;
    // A slice's cotangent is kept as a piece of its input's gradient: pieces that tile an axis are joined by
    // one concat instead of zero-padding each and adding them (the split in attention's q/k/v, for example).
    if (node.op === "slice" && live.has(node.inputs[0]!.id)) {
      acc.addSlice(node.inputs[0]!, node.attrs, g);
      continue;
    }
    if (!prim.vjp) throw new PulidError("no_vjp", `no VJP rule for primitive '${node.op}' (at ${node.scope || "top level"})`);
    let view = (n: Node) => n;
    if (node.checkpoint !== null) {
      const copies = recomputeGroup(node.checkpoint, groupNodes.get(node.checkpoint)!, recomputed, g);
      view = (n: Node) => copies.get(n.id) ?? n;
    }
    const inputs = node.inputs.map((n) => new Tensor(view(n)));
    const gs = prim.vjp(g, inputs, new Tensor(view(node)), node.attrs as Record<string, any>);
    node.inputs.forEach((inp, k) => {
      const gi = gs[k];
      if (!gi || !live.has(inp.id) || !isFloat(inp.dtype)) return;
      acc.add(inp, ops.sumTo(gi, inp.shape));
    });
  }
  return wrt.map((t) => acc.take(t.node) ?? constant(HostTensor.zeros(t.dtype, t.shape)));
}

interface SlicePiece {
  starts: number[];
  ends: number[];
  steps: number[];
  g: Tensor;
}

/** Sums the gradient contributions of each node; slice pieces are assembled when the gradient is taken. */
class GradAccumulator {
  private dense = new Map<number, Tensor>();
  private pieces = new Map<number, SlicePiece[]>();

  add(node: Node, g: Tensor): void {
    const prev = this.dense.get(node.id);
    this.dense.set(node.id, prev ? ops.add(prev, g) : g);
  }

  addSlice(node: Node, attrs: Record<string, any>, g: Tensor): void {
    let list = this.pieces.get(node.id);
    if (!list) this.pieces.set(node.id, (list = []));
    list.push({ starts: attrs.starts, ends: attrs.ends, steps: attrs.steps, g });
  }

  /** The total gradient of `node` (null if none arrived). */
  take(node: Node): Tensor | null {
    const pieces = this.pieces.get(node.id) ?? [];
    let total = this.dense.get(node.id) ?? null;
    for (const part of assemblePieces(node, pieces)) total = total ? ops.add(total, part) : part;
    return total;
  }
}

/** Disjoint unit-step pieces along `axis`, in order, joined by one concat with zeros in the gaps. */
function concatPieces(node: Node, sorted: readonly SlicePiece[], axis: number): Tensor {
  const zeros = (n: number) => {
    const s = [...node.shape];
    s[axis] = n;
    return constant(HostTensor.zeros(node.dtype, s));
  };
  const parts: Tensor[] = [];
  let at = 0;
  for (const p of sorted) {
    if (p.starts[axis]! > at) parts.push(zeros(p.starts[axis]! - at));
    parts.push(p.g);
    at = p.ends[axis]!;
  }
  if (at < node.shape[axis]!) parts.push(zeros(node.shape[axis]! - at));
  return ops.concat(parts, axis);
}

/**
 * Turns slice cotangents into gradient terms of the sliced tensor. Unit-step pieces that differ on one axis
 * only and do not overlap become a single concat (gaps filled with zeros); anything else is zero-padded by the
 * slice's own VJP.
 */
function assemblePieces(node: Node, pieces: readonly SlicePiece[]): Tensor[] {
  if (pieces.length === 0) return [];
  const shape = node.shape;
  const offAxes = new Set<number>();
  for (const p of pieces) shape.forEach((d, i) => (p.starts[i] !== 0 || p.ends[i] !== d) && offAxes.add(i));
  const unit = pieces.every((p) => p.steps.every((s) => s === 1));
  if (pieces.length > 1 && unit && offAxes.size === 1) {
    const axis = [...offAxes][0]!;
    const sorted = [...pieces].sort((a, b) => a.starts[axis]! - b.starts[axis]!);
    const disjoint = sorted.every((p, i) => i === 0 || p.starts[axis]! >= sorted[i - 1]!.ends[axis]!);
    if (disjoint) return [concatPieces(node, sorted, axis)];
  }
  const prim = getPrimitive("slice");
  return pieces.map((p) => prim.vjp!(p.g, [new Tensor(node)], p.g, { starts: p.starts, ends: p.ends, steps: p.steps })[0]!);
}

/** Re-emits a checkpoint group's forward nodes (once per group), gated on cotangent `g`. */
function recomputeGroup(
  group: number,
  nodes: readonly Node[],
  cache: Map<number, Map<number, Node>>,
  g: Tensor,
): Map<number, Node> {
  const hit = cache.get(group);
  if (hit) return hit;
  const copies = new Map<number, Node>();
  const inGroup = new Set(nodes.map((n) => n.id));
  // A bool scalar that depends on the cotangent: where(ok, x, x) orders the copy after the backward pass
  // reaches this group and keeps ONNX Runtime's common-subexpression pass from merging it with the original.
  const g0 = ops.reshape(ops.sliceAll(ops.reshape(g, [-1]), [[0, 1]]), []);
  const ok = ops.equal(g0, g0);
  const gated = new Map<number, Node>();
  const gate = (n: Node): Node => {
    if (LEAVES.has(n.op) || !isFloat(n.dtype)) return n;
    let out = gated.get(n.id);
    if (!out) {
      const t = new Tensor(n);
      out = ops.where(ok, t, t).node;
      gated.set(n.id, out);
    }
    return out;
  };
  for (const n of nodes) {
    const inputs = n.inputs.map((i) => (inGroup.has(i.id) ? copies.get(i.id)! : gate(i)));
    copies.set(n.id, makeNode(n.op, inputs, n.attrs, n.shape, n.dtype, { checkpoint: null }));
  }
  cache.set(group, copies);
  return copies;
}

/** The traced value together with its gradients with respect to `wrt` (JAX's `value_and_grad` shape). */
export function valueAndGrad(y: Tensor, wrt: readonly Tensor[]): { value: Tensor; grads: Tensor[] } {
  return { value: y, grads: grad(y, wrt) };
}
