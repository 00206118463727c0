/** The primitive table: every op the tracer can record, gathered in one explicit list. */
import type { Primitive } from "./primitive.ts";
import { ELEMENTWISE } from "./elementwise.ts";
import { SHAPE } from "./shape.ts";
import { REDUCE } from "./reduce.ts";
import { LINALG } from "./linalg.ts";
import { NN } from "./nn.ts";

export type { Primitive } from "./primitive.ts";

let table: Map<string, Primitive> | null = null;

function build(): Map<string, Primitive> {
  const m = new Map<string, Primitive>();
  for (const p of [...ELEMENTWISE, ...SHAPE, ...REDUCE, ...LINALG, ...NN]) {
    if (m.has(p.name)) throw new Error(`primitive '${p.name}' defined twice`);
    m.set(p.name, p);
  }
  return m;
}

export function getPrimitive(name: string): Primitive {
  table ??= build();
  const p = table.get(name);
  if (!p) throw new Error(`unknown primitive '${name}'`);
  return p;
}

export function allPrimitives(): Primitive[] {
  table ??= build();
  return [...table.values()];
}
