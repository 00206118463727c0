/** Reductions over a set of axes. */
import type { Primitive } from "./primitive.ts";
import * as ops from "../ops.ts";
import { int, ints } from "../onnx/builder.ts";

function reducedShape(shape: readonly number[], axes: readonly number[], keepdims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

export const REDUCE: Primitive[] = [
  {
    name: "reduce_sum",
    infer: (ins, a) => ({ shape: reducedShape(ins[0]!.shape, a.axes, a.keepdims), dtype: ins[0]!.dtype }),
    vjp: (g, [x], _o, a) => [ops.broadcastTo(ops.reshape(g, keptShape(x!.shape, a.axes)), x!.shape)],
    lower: (b, ins, node) =>
      b.node("ReduceSum", [ins[0]!, b.int64s(node.attrs.axes)], { keepdims: int(node.attrs.keepdims ? 1 : 0) }),
  },
  {
    name: "reduce_max",
    infer: (ins, a) => ({ shape: reducedShape(ins[0]!.shape, a.axes, a.keepdims), dtype: ins[0]!.dtype }),
    vjp: (g, [x], out, a) => {
      // Ties share the gradient equally (as torch.amax does).
      const kept = keptShape(x!.shape, a.axes);
      const mask = ops.cast(ops.equal(x!, ops.reshape(ops.stopGradient(out), kept)), x!.dtype);
      const count = ops.sum(mask, a.axes, true);
      return [ops.mul(ops.reshape(g, kept), ops.div(mask, count))];
    },
    lower: (b, ins, node) =>
      b.node("ReduceMax", [ins[0]!], { axes: ints(node.attrs.axes), keepdims: int(node.attrs.keepdims ? 1 : 0) }),
  },
];
