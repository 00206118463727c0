/**
 * Symbolic tensors. A `Tensor` is a handle on a graph `Node`; calling an op creates a new node after checking
 * shapes and dtypes (a mismatch throws a `TraceError` naming the module path and both shapes). Nothing is
 * computed until the graph is lowered to ONNX and run.
 */
import type { DType } from "./dtype.ts";
import { type Node, makeNode, currentScope, withCheckpoint } from "./graph.ts";
import { HostTensor, shapeStr } from "./host-tensor.ts";
import { TraceError } from "./errors.ts";
import { getPrimitive } from "./primitives/index.ts";
import * as ops from "./ops.ts";

export type TensorLike = Tensor | number;

export class Tensor {
  readonly node: Node;
  constructor(node: Node) {
    this.node = node;
  }
  get shape(): readonly number[] {
    return this.node.shape;
  }
  get dtype(): DType {
    return this.node.dtype;
  }
  get rank(): number {
    return this.node.shape.length;
  }
  /** Size of dimension `i` (negative counts from the end). */
  dim(i: number): number {
    const r = this.rank;
    const a = i < 0 ? i + r : i;
    if (a < 0 || a >= r) throw new TraceError(currentScope(), `dimension ${i} out of range for shape ${shapeStr(this.shape)}`);
    return this.shape[a]!;
  }
  toString(): string {
    return `Tensor(${this.node.op}#${this.node.id}, ${this.dtype}, ${shapeStr(this.shape)})`;
  }

  add(o: TensorLike): Tensor {
    return ops.add(this, o);
  }
  sub(o: TensorLike): Tensor {
    return ops.sub(this, o);
  }
  mul(o: TensorLike): Tensor {
    return ops.mul(this, o);
  }
  div(o: TensorLike): Tensor {
    return ops.div(this, o);
  }
  pow(o: TensorLike): Tensor {
    return ops.pow(this, o);
  }
  neg(): Tensor {
    return ops.neg(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  matmul(o: Tensor): Tensor {
    return ops.matmul(this, o);
  }
  reshape(shape: readonly number[]): Tensor {
    return ops.reshape(this, shape);
  }
  transpose(perm: readonly number[]): Tensor {
    return ops.transpose(this, perm);
  }
  /** Swaps two axes (PyTorch `transpose(a, b)`). */
  swap(a: number, b: number): Tensor {
    return ops.swapAxes(this, a, b);
  }
  sum(axes?: number | readonly number[], keepdims = false): Tensor {
    return ops.sum(this, axes, keepdims);
  }
  mean(axes?: number | readonly number[], keepdims = false): Tensor {
    return ops.mean(this, axes, keepdims);
  }
  max(axes?: number | readonly number[], keepdims = false): Tensor {
    return ops.max(this, axes, keepdims);
  }
  cast(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }
  slice(axis: number, start: number, end: number, step = 1): Tensor {
    return ops.slice(this, axis, start, end, step);
  }
}

/**
 * Creates a node for primitive `op` after running its shape/dtype rule. Errors from the rule are rethrown as
 * `TraceError` with the active module path and the input shapes.
 */
export function apply(op: string, inputs: readonly Tensor[], attrs: Record<string, any> = {}): Tensor {
  const prim = getPrimitive(op);
  const nodes = inputs.map((t) => t.node);
  let sig: { shape: readonly number[]; dtype: DType };
  try {
    sig = prim.infer(nodes, attrs);
  } catch (e) {
    if (e instanceof TraceError) throw e;
    const shapes = nodes.map((n) => `${n.dtype}${shapeStr(n.shape)}`).join(", ");
    throw new TraceError(currentScope(), `${op}: ${(e as Error).message} (inputs: ${shapes})`);
  }
  return new Tensor(makeNode(op, nodes, attrs, sig.shape, sig.dtype));
}

/** A graph input placeholder. */
export function input(name: string, shape: readonly number[], dtype: DType = "float32"): Tensor {
  return new Tensor(makeNode("input", [], { name }, shape, dtype, { checkpoint: null }));
}

/** A constant baked into the graph. */
export function constant(value: HostTensor | number, dtype: DType = "float32"): Tensor {
  const v = typeof value === "number" ? HostTensor.from(dtype, [], [value]) : value;
  return new Tensor(makeNode("const", [], { value: v }, v.shape, v.dtype, { checkpoint: null }));
}

/**
 * Gradient checkpointing: nodes created by `fn` are recomputed in the backward pass instead of being kept
 * alive from the forward pass, trading compute for peak memory.
 */
export function checkpoint<T>(fn: () => T): T {
  return withCheckpoint(fn);
}
