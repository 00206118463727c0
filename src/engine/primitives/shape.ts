/** Movement primitives: reshape, transpose, slice, concat, pad, expand, gather (and its adjoint). */
import type { Primitive } from "./primitive.ts";
import { broadcastShapes, sameDtype } from "./primitive.ts";
import * as ops from "../ops.ts";
import { int, ints } from "../onnx/builder.ts";
import { numel } from "../host-tensor.ts";
import { HostTensor } from "../host-tensor.ts";


function argsort(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

export const SHAPE: Primitive[] = [
  {
    name: "reshape",
    infer: (ins, a) => {
      const shape = a.shape as number[];
      if (numel(shape) !== numel(ins[0]!.shape)) throw new Error(`cannot reshape to [${shape.join(", ")}]`);
      return { shape, dtype: ins[0]!.dtype };
    },
    vjp: (g, [x]) => [ops.reshape(g, x!.shape)],
    lower: (b, ins, node) => b.node("Reshape", [ins[0]!, b.int64s(node.shape)]),
  },
  {
    name: "transpose",
    infer: (ins, a) => {
      const perm = a.perm as number[];
      const s = ins[0]!.shape;
      if (perm.length !== s.length || [...perm].sort((x, y) => x - y).some((p, i) => p !== i)) {
        throw new Error(`bad permutation [${perm.join(", ")}] for rank ${s.length}`);
      }
      return { shape: perm.map((p) => s[p]!), dtype: ins[0]!.dtype };
    },
    vjp: (g, _x, _o, a) => [ops.transpose(g, argsort(a.perm))],
    lower: (b, ins, node) => b.node("Transpose", ins, { perm: ints(node.attrs.perm) }),
  },
  {
    // attrs: starts, ends, steps (one per axis, already clamped and non-negative; steps > 0)
    name: "slice",
    infer: (ins, a) => {
      const s = ins[0]!.shape;
      const shape = s.map((d, i) => {
        const st = a.starts[i] as number;
        const en = a.ends[i] as number;
        const sp = a.steps[i] as number;
        if (st < 0 || en > d || sp <= 0) throw new Error(`bad slice ${st}:${en}:${sp} on axis ${i} of size ${d}`);
        return Math.max(0, Math.ceil((en - st) / sp));
      });
      return { shape, dtype: ins[0]!.dtype };
    },
    vjp: (g, [x], _o, a) => {
      // Adjoint of a strided slice: place g back with zeros around it. Steps > 1 interleave zeros.
      let t = g;
      const s = x!.shape;
      for (let i = 0; i < s.length; i++) {
        const st = a.starts[i] as number;
        const sp = a.steps[i] as number;
        const n = t.shape[i]!;
        if (sp > 1 && n > 0) t = ops.interleaveZeros(t, i, sp);
        const covered = n === 0 ? 0 : (n - 1) * sp + 1;
        const after = s[i]! - st - covered;
        if (st > 0 || after > 0) t = ops.padAxis(t, i, st, after);
      }
      return [t];
    },
    lower: (b, ins, node) => {
      const a = node.attrs;
      const axes = (a.starts as number[]).map((_, i) => i);
      return b.node("Slice", [ins[0]!, b.int64s(a.starts), b.int64s(a.ends), b.int64s(axes), b.int64s(a.steps)]);
    },
  },
  {
    name: "concat",
    infer: (ins, a) => {
      const axis = a.axis as number;
      const first = ins[0]!.shape;
      let total = 0;
      for (const n of ins) {
        if (n.shape.length !== first.length || n.shape.some((d, i) => i !== axis && d !== first[i])) {
          throw new Error(`concat on axis ${axis}: shapes ${ins.map((i) => `[${i.shape.join(", ")}]`).join(", ")} differ off that axis`);
        }
        total += n.shape[axis]!;
      }
      const shape = [...first];
      shape[axis] = total;
      return { shape, dtype: sameDtype(ins) };
    },
    vjp: (g, xs, _o, a) => {
      let off = 0;
      return xs.map((x) => {
        const n = x.shape[a.axis]!;
        const part = ops.slice(g, a.axis, off, off + n);
        off += n;
        return part;
      });
    },
    lower: (b, ins, node) => b.node("Concat", ins, { axis: int(node.attrs.axis) }),
  },
  {
    // attrs.pads: [before_0, ..., before_{r-1}, after_0, ..., after_{r-1}] (ONNX order), non-negative; attrs.value
    name: "pad",
    infer: (ins, a) => {
      const s = ins[0]!.shape;
      const p = a.pads as number[];
      if (p.length !== 2 * s.length || p.some((v) => v < 0)) throw new Error(`bad pads [${p.join(", ")}]`);
      return { shape: s.map((d, i) => d + p[i]! + p[i + s.length]!), dtype: ins[0]!.dtype };
    },
    vjp: (g, [x], _o, a) => {
      const p = a.pads as number[];
      return [ops.sliceAll(g, x!.shape.map((d, i) => [p[i]!, p[i]! + d]))];
    },
    lower: (b, ins, node) => {
      const value = b.constant(HostTensor.from(node.dtype, [], [node.attrs.value ?? 0]));
      return b.node("Pad", [ins[0]!, b.int64s(node.attrs.pads), value]);
    },
  },
  {
    name: "expand",
    infer: (ins, a) => {
      const target = a.shape as number[];
      const shape = broadcastShapes(ins[0]!.shape, target);
      if (shape.join(",") !== target.join(",")) throw new Error(`cannot expand to [${target.join(", ")}]`);
      return { shape, dtype: ins[0]!.dtype };
    },
    vjp: (g) => [g], // autodiff sums the broadcast dims
    lower: (b, ins, node) => b.node("Expand", [ins[0]!, b.int64s(node.shape)]),
  },
  {
    // gather(x, indices) along attrs.axis; indices int64 of any shape
    name: "gather",
    infer: (ins, a) => {
      const [x, idx] = ins;
      if (idx!.dtype !== "int64" && idx!.dtype !== "int32") throw new Error(`gather indices must be int64/int32, got ${idx!.dtype}`);
      const ax = a.axis as number;
      return { shape: [...x!.shape.slice(0, ax), ...idx!.shape, ...x!.shape.slice(ax + 1)], dtype: x!.dtype };
    },
    vjp: (g, [x, idx], _o, a) => [ops.scatterAddAxis0(x!.shape, idx!, g, a.axis), null],
    lower: (b, ins, node) => b.node("Gather", ins, { axis: int(node.attrs.axis) }),
  },
  {
    // zeros(attrs.shape) with g added at indices along axis 0: the adjoint of gather on axis 0.
    name: "scatter_add0",
    infer: (ins, a) => ({ shape: a.shape as number[], dtype: ins[1]!.dtype }),
    vjp: (g, [idx]) => [null, ops.gather(g, idx!, 0)],
    lower: (b, ins, node) => {
      const [idx, upd] = ins;
      const zeros = b.node("ConstantOfShape", [b.int64s(node.shape)], {
        value: { kind: "tensor", v: HostTensor.from(node.dtype, [1], [0]) },
      });
      const idx64 = b.node("Unsqueeze", [idx!, b.int64s([-1])]);
      return b.node("ScatterND", [zeros, idx64, upd!], { reduction: { kind: "string", v: "add" } });
    },
  },
];
