/**
 * The traced graph IR: every value is a `Node` produced by one primitive from its input nodes. Leaves are
 * graph inputs (`input`), parameters (`param`) and constants (`const`). Nodes are immutable and hold their
 * shape and dtype, checked when the node is created.
 */
import type { DType } from "./dtype.ts";
import type { HostTensor } from "./host-tensor.ts";

let nextId = 1;

export interface Node {
  readonly id: number;
  /** Primitive name (see primitives/). */
  readonly op: string;
  readonly inputs: readonly Node[];
  readonly attrs: Readonly<Record<string, any>>;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Module path active when the node was made (for errors and debugging). */
  readonly scope: string;
  /** Checkpoint group: nodes of one group are recomputed in the backward pass instead of kept. */
  readonly checkpoint: number | null;
}

/** Where a parameter's value comes from when a graph is lowered. */
export interface ParamSource {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Value held in memory (initializer or fed input). */
  value(): HostTensor | null;
  /** Storage inside a file (safetensors by offset), for external-data initializers. */
  readonly external?: { path: string; offset: number; byteLength: number; dtype: DType } | null;
}

// --- trace state: module scope stack and checkpoint group ---------------------------------------

const scopeStack: string[] = [];
let checkpointGroup: number | null = null;
let nextCheckpoint = 1;

export function currentScope(): string {
  return scopeStack[scopeStack.length - 1] ?? "";
}

/** Runs `fn` with `path` as the module path for nodes it creates. */
export function withScope<T>(path: string, fn: () => T): T {
  scopeStack.push(path);
  try {
    return fn();
  } finally {
    scopeStack.pop();
  }
}

/** Runs `fn` marking every node it creates as one checkpoint group (recomputed in the backward pass). */
export function withCheckpoint<T>(fn: () => T): T {
  const prev = checkpointGroup;
  checkpointGroup = nextCheckpoint++;
  try {
    return fn();
  } finally {
    checkpointGroup = prev;
  }
}

export function makeNode(
  op: string,
  inputs: readonly Node[],
  attrs: Record<string, any>,
  shape: readonly number[],
  dtype: DType,
  opts: { checkpoint?: number | null } = {},
): Node {
  return Object.freeze({
    id: nextId++,
    op,
    inputs,
    attrs,
    shape: Object.freeze([...shape]),
    dtype,
    scope: currentScope(),
    checkpoint: opts.checkpoint !== undefined ? opts.checkpoint : checkpointGroup,
  });
}

/** Nodes reachable from `outputs`, inputs before users (deterministic order). */
export function topoSort(outputs: readonly Node[]): Node[] {
  const order: Node[] = [];
  const seen = new Set<number>();
  // Iterative DFS (graphs like the SDXL UNet are deep enough to overflow recursion).
  const stack: [Node, number][] = [];
  for (const out of outputs) {
    if (seen.has(out.id)) continue;
    stack.push([out, 0]);
    seen.add(out.id);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      if (i < node.inputs.length) {
        top[1] = i + 1;
        const child = node.inputs[i]!;
        if (!seen.has(child.id)) {
          seen.add(child.id);
          stack.push([child, 0]);
        }
      } else {
        stack.pop();
        order.push(node);
      }
    }
  }
  return order;
}
