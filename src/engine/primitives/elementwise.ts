/** Elementwise primitives: binary arithmetic with broadcasting, unary math, comparisons, where, cast. */
import type { Primitive } from "./primitive.ts";
import { broadcastShapes, sameDtype } from "./primitive.ts";
import * as ops from "../ops.ts";
import { ONNX_DTYPE, int } from "../onnx/builder.ts";
import type { DType } from "../dtype.ts";

function binary(name: string, onnxOp: string, vjp: Primitive["vjp"]): Primitive {
  return {
    name,
    infer: (ins) => ({ shape: broadcastShapes(ins[0]!.shape, ins[1]!.shape), dtype: sameDtype(ins) }),
    vjp,
    lower: (b, ins) => b.node(onnxOp, ins),
  };
}

function unary(name: string, onnxOp: string, vjp: Primitive["vjp"]): Primitive {
  return {
    name,
    infer: (ins) => ({ shape: ins[0]!.shape, dtype: ins[0]!.dtype }),
    vjp,
    lower: (b, ins) => b.node(onnxOp, ins),
  };
}

function compare(name: string, onnxOp: string): Primitive {
  return {
    name,
    nondiff: true,
    infer: (ins) => ({ shape: broadcastShapes(ins[0]!.shape, ins[1]!.shape), dtype: (sameDtype(ins), "bool" as DType) }),
    lower: (b, ins) => b.node(onnxOp, ins),
  };
}

export const ELEMENTWISE: Primitive[] = [
  binary("add", "Add", (g) => [g, g]),
  binary("sub", "Sub", (g) => [g, ops.neg(g)]),
  binary("mul", "Mul", (g, [x, y]) => [ops.mul(g, y!), ops.mul(g, x!)]),
  binary("div", "Div", (g, [, y], out) => [ops.div(g, y!), ops.neg(ops.div(ops.mul(g, out), y!))]),
  binary("pow", "Pow", (g, [x, y], out) => [
    // d/dx x^y = y x^(y-1); d/dy = x^y log x (only where x > 0; 0 elsewhere keeps integer powers of negatives finite)
    ops.mul(g, ops.mul(y!, ops.pow(x!, ops.sub(y!, 1)))),
    ops.mul(g, ops.mul(out, ops.where(ops.greater(x!, 0), ops.log(ops.where(ops.greater(x!, 0), x!, 1)), 0))),
  ]),
  binary("maximum", "Max", (g, [x, y]) => {
    const pick = ops.greaterEqual(x!, y!);
    return [ops.where(pick, g, 0), ops.where(pick, 0, g)];
  }),
  binary("minimum", "Min", (g, [x, y]) => {
    const pick = ops.lessEqual(x!, y!);
    return [ops.where(pick, g, 0), ops.where(pick, 0, g)];
  }),
  unary("neg", "Neg", (g) => [ops.neg(g)]),
  unary("exp", "Exp", (g, _x, out) => [ops.mul(g, out)]),
  unary("log", "Log", (g, [x]) => [ops.div(g, x!)]),
  unary("sqrt", "Sqrt", (g, _x, out) => [ops.div(ops.mul(g, 0.5), out)]),
  unary("tanh", "Tanh", (g, _x, out) => [ops.mul(g, ops.sub(1, ops.mul(out, out)))]),
  unary("sigmoid", "Sigmoid", (g, _x, out) => [ops.mul(g, ops.mul(out, ops.sub(1, out)))]),
  unary("erf", "Erf", (g, [x]) => [ops.mul(g, ops.mul(2 / Math.sqrt(Math.PI), ops.exp(ops.neg(ops.mul(x!, x!)))))]),
  unary("abs", "Abs", (g, [x]) => [ops.mul(g, ops.sign(x!))]),
  unary("sin", "Sin", (g, [x]) => [ops.mul(g, ops.cos(x!))]),
  unary("cos", "Cos", (g, [x]) => [ops.neg(ops.mul(g, ops.sin(x!)))]),
  { ...unary("sign", "Sign", undefined), nondiff: true },
  { ...unary("floor", "Floor", undefined), nondiff: true },
  compare("less", "Less"),
  compare("greater", "Greater"),
  compare("equal", "Equal"),
  compare("less_equal", "LessOrEqual"),
  compare("greater_equal", "GreaterOrEqual"),
  {
    name: "where",
    infer: (ins) => {
      if (ins[0]!.dtype !== "bool") throw new Error(`where: condition must be bool, got ${ins[0]!.dtype}`);
      return {
        shape: broadcastShapes(broadcastShapes(ins[0]!.shape, ins[1]!.shape), ins[2]!.shape),
        dtype: sameDtype(ins.slice(1)),
      };
    },
    vjp: (g, [c]) => [null, ops.where(c!, g, 0), ops.where(c!, 0, g)],
    lower: (b, ins) => b.node("Where", ins),
  },
  {
    name: "cast",
    infer: (ins, a) => ({ shape: ins[0]!.shape, dtype: a.to as DType }),
    vjp: (g, [x]) => [ops.cast(g, x!.dtype)],
    lower: (b, ins, node) => b.node("Cast", ins, { to: int(ONNX_DTYPE[node.attrs.to as DType]) }),
  },
  {
    name: "stop_gradient",
    nondiff: true,
    infer: (ins) => ({ shape: ins[0]!.shape, dtype: ins[0]!.dtype }),
    lower: (b, ins) => b.node("Identity", ins),
  },
];
