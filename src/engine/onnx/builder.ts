/**
 * A small builder for ONNX graphs on top of `onnx-proto`: nodes, initializers, typed attributes. Names are
 * generated; constants are de-duplicated.
 */
import onnxProto from "onnx-proto";
import type { onnx as onnxT } from "onnx-proto";
const { onnx } = onnxProto;
import type { DType } from "../dtype.ts";
import { HostTensor } from "../host-tensor.ts";

export const OPSET = 17;
export const MS_DOMAIN = "com.microsoft";

export const ONNX_DTYPE: Record<DType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  float16: onnx.TensorProto.DataType.FLOAT16,
  bfloat16: onnx.TensorProto.DataType.BFLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

export type Attr =
  | { kind: "int"; v: number }
  | { kind: "ints"; v: readonly number[] }
  | { kind: "float"; v: number }
  | { kind: "floats"; v: readonly number[] }
  | { kind: "string"; v: string }
  | { kind: "tensor"; v: HostTensor };

export const int = (v: number): Attr => ({ kind: "int", v });
export const ints = (v: readonly number[]): Attr => ({ kind: "ints", v });
export const float = (v: number): Attr => ({ kind: "float", v });
export const floats = (v: readonly number[]): Attr => ({ kind: "floats", v });
export const str = (v: string): Attr => ({ kind: "string", v });

function attrProto(name: string, a: Attr): onnxT.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case "int":
      return { name, type: T.INT, i: a.v };
    case "ints":
      return { name, type: T.INTS, ints: [...a.v] };
    case "float":
      return { name, type: T.FLOAT, f: a.v };
    case "floats":
      return { name, type: T.FLOATS, floats: [...a.v] };
    case "string":
      return { name, type: T.STRING, s: new TextEncoder().encode(a.v) };
    case "tensor":
      return { name, type: T.TENSOR, t: tensorProto("", a.v) };
  }
}

/** A TensorProto holding the tensor's bytes inline (raw_data). */
export function tensorProto(name: string, t: HostTensor): onnxT.ITensorProto {
  const d = t.data;
  return {
    name,
    dims: [...t.shape],
    dataType: ONNX_DTYPE[t.dtype],
    rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
  };
}

export class OnnxBuilder {
  readonly nodes: onnxT.INodeProto[] = [];
  readonly initializers: onnxT.ITensorProto[] = [];
  private counter = 0;
  private constCache = new Map<string, string>();
  usesMsDomain = false;

  fresh(hint = "t"): string {
    return `${hint}_${this.counter++}`;
  }

  /** Adds a node and returns its output names. */
  nodeN(opType: string, inputs: readonly string[], nOut: number, attrs: Record<string, Attr> = {}, domain?: string): string[] {
    const outputs = Array.from({ length: nOut }, () => this.fresh(opType.toLowerCase()));
    if (domain === MS_DOMAIN) this.usesMsDomain = true;
    this.nodes.push({
      opType,
      domain: domain ?? "",
      input: [...inputs],
      output: outputs,
      name: outputs[0],
      attribute: Object.entries(attrs).map(([k, v]) => attrProto(k, v)),
    });
    return outputs;
  }

  /** Adds a single-output node and returns its output name. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, domain?: string): string {
    return this.nodeN(opType, inputs, 1, attrs, domain)[0]!;
  }

  /** An initializer with the given value (de-duplicated for small constants). */
  constant(t: HostTensor, hint = "c"): string {
    const small = t.size <= 64;
    const key = small ? `${t.dtype}|${t.shape.join(",")}|${Array.from(t.data as ArrayLike<number | bigint>, String).join(",")}` : "";
    if (small) {
      const hit = this.constCache.get(key);
      if (hit) return hit;
    }
    const name = this.fresh(hint);
    this.initializers.push(tensorProto(name, t));
    if (small) this.constCache.set(key, name);
    return name;
  }

  int64s(values: readonly number[]): string {
    return this.constant(HostTensor.from("int64", [values.length], values), "shape");
  }

  scalar(value: number, dtype: DType): string {
    return this.constant(HostTensor.from(dtype, [], [value]), "s");
  }
}
