import type { DType } from "../dtype.ts";
import type { Node } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import type { OnnxBuilder } from "../onnx/builder.ts";

/**
 * One primitive: its shape/dtype rule, its vector-Jacobian product written in the same ops, and its ONNX
 * lowering. Composite ops (softmax with max-shift, gelu, attention, ...) are written with primitives in
 * `ops.ts` and need no rule of their own.
 */
export interface Primitive {
  readonly name: string;
  /** Output shape and dtype; throw an Error with a plain message on mismatch (the caller adds context). */
  infer(inputs: readonly Node[], attrs: Record<string, any>): { shape: readonly number[]; dtype: DType };
  /**
   * Gradients for each input given the output cotangent `g`. A gradient may have the output's (broadcast)
   * shape: autodiff sums it down to the input's shape. `null` = no gradient (integer inputs, conditions).
   * Absent for primitives with no derivative (comparisons): their inputs get no gradient.
   */
  vjp?(g: Tensor, inputs: readonly Tensor[], out: Tensor, attrs: Record<string, any>): (Tensor | null)[];
  /** Whether gradients stop here (comparisons, integer results, stop_gradient). */
  readonly nondiff?: boolean;
  /** Emits ONNX nodes computing the output from the input value names; returns the output name. */
  lower(b: OnnxBuilder, inputs: readonly string[], node: Node): string;
}

/** numpy broadcasting of two shapes, or throws. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a.join(", ")}] and [${b.join(", ")}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

export function sameDtype(inputs: readonly Node[]): DType {
  const d = inputs[0]!.dtype;
  for (const n of inputs) {
    if (n.dtype !== d) throw new Error(`dtype mismatch ${inputs.map((i) => i.dtype).join(" vs ")}`);
  }
  return d;
}

/** Normalises a possibly negative axis against a rank. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}
