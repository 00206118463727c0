/**
 * An ONNX file from elsewhere (insightface's arcface-50 / glintr100 IResNet exports) re-expressed with engine ops,
 * so it can sit INSIDE a traced graph and pass gradients: PuLID's ID loss differentiates through the loss face net
 * (paper 4.1), and the published nets are ONNX files, not modules we can rebuild by name.
 *
 * Why an interpreter and not a module class per architecture: torch's ONNX export folds each BatchNorm that
 * follows a Conv into the Conv, names folded weights `onnx::Conv_683`, and keeps the others; the graph, not the
 * original class, is the ground truth. Walking its nodes with the op set below reproduces it exactly, for any net
 * built from these ops. ONNX Runtime itself cannot be used: it gives no gradients to our autodiff.
 *
 * Supported ops (inference semantics): Conv (2-D), BatchNormalization, PRelu, Relu, LeakyRelu, Sigmoid, Add, Sub,
 * Mul, Div, Flatten, Reshape, Gemm, MatMul, GlobalAveragePool, Identity, Dropout, Constant. Anything else fails
 * when the module is built, naming the op and the node. Float initializers become frozen float32 parameters
 * (their names are the ONNX names); integer ones are shape constants.
 */
import { readFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import { HostTensor } from "../engine/host-tensor.ts";
import { arrayFromBytes, type DType } from "../engine/dtype.ts";
import { ONNX_DTYPE } from "../engine/onnx/builder.ts";
import { PulidError } from "../engine/errors.ts";
import { constant, type Tensor } from "../engine/tensor.ts";
import * as ops from "../engine/ops.ts";
import { Module } from "./module.ts";
import { Parameter } from "./parameter.ts";

type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

const DTYPE_OF = new Map<number, DType>(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k as DType]));

/** Ops the interpreter knows. */
export const ONNX_GRAPH_OPS = [
  "Conv", "BatchNormalization", "PRelu", "Relu", "LeakyRelu", "Sigmoid", "Add", "Sub", "Mul", "Div", "Flatten", "Reshape",
  "Gemm", "MatMul", "GlobalAveragePool", "Identity", "Dropout", "Constant",
] as const;

/**
 * The value of an initializer or Constant tensor (raw_data, or the typed repeated fields older exporters write);
 * null for dtypes the engine has no host type for. @throws PulidError `bad_model_file` when the data is not inline.
 */
export function onnxTensorValue(t: TensorProto): HostTensor | null {
  const dtype = DTYPE_OF.get(t.dataType ?? 0);
  if (!dtype) return null;
  const shape = (t.dims ?? []).map(Number);
  if (t.rawData?.length) {
    const bytes = new Uint8Array(t.rawData.length);
    bytes.set(t.rawData);
    return new HostTensor(dtype, shape, arrayFromBytes(dtype, bytes));
  }
  if (dtype === "float32" && t.floatData?.length) return new HostTensor("float32", shape, Float32Array.from(t.floatData));
  if (dtype === "int64" && t.int64Data?.length) return new HostTensor("int64", shape, BigInt64Array.from(t.int64Data, (v) => BigInt(v.toString())));
  if (shape.some((d) => d === 0)) return HostTensor.zeros(dtype, shape);
  // External data (a .onnx beside its weights file) or a field this reader does not know.
  throw new PulidError("bad_model_file", `tensor '${t.name}': no inline data (external data is not supported here)`);
}

function attrs(n: NodeProto): Map<string, onnxProto.onnx.IAttributeProto> {
  return new Map((n.attribute ?? []).map((a) => [a.name ?? "", a]));
}
const intAttr = (n: NodeProto, name: string, dflt: number) => {
  const a = attrs(n).get(name);
  return a?.i === undefined || a.i === null ? dflt : Number(a.i);
};
const floatAttr = (n: NodeProto, name: string, dflt: number) => attrs(n).get(name)?.f ?? dflt;
const intsAttr = (n: NodeProto, name: string): number[] | null => {
  const v = attrs(n).get(name)?.ints;
  return v?.length ? v.map(Number) : null;
};

/** A frozen module running the graph of one ONNX file (single input, first output) with engine ops. */
export class OnnxGraphModule extends Module {
  /** Float initializers as parameters, by ONNX name. */
  readonly weights = new Map<string, Parameter>();
  /** Integer initializers and Constant outputs (shapes), by name. */
  private readonly constants = new Map<string, HostTensor>();
  readonly inputName: string;
  /** Declared input shape (0 where symbolic, e.g. the batch). */
  readonly inputShape: readonly number[];
  readonly outputName: string;
  private readonly nodes: NodeProto[];

  /** @throws PulidError `bad_model_file` for a file that is not ONNX or uses an op outside {@link ONNX_GRAPH_OPS}. */
  constructor(
    bytes: Uint8Array,
    readonly source: string,
  ) {
    super();
    let m: onnxProto.onnx.ModelProto;
    try {
      m = onnxProto.onnx.ModelProto.decode(bytes);
    } catch (e) {
      throw new PulidError("bad_model_file", `${source}: not an ONNX model (${(e as Error).message})`);
    }
    const g = m.graph;
    if (!g?.node?.length || !g.output?.length) throw new PulidError("bad_model_file", `${source}: the ONNX file has no graph`);
    for (const t of g.initializer ?? []) {
      const v = onnxTensorValue(t);
      const name = t.name ?? "";
      if (!v) throw new PulidError("bad_model_file", `${source}: initializer '${name}' has an unsupported dtype (${t.dataType})`);
      if (v.dtype === "float32" || v.dtype === "float16") {
        const p = new Parameter(v.shape);
        p.name = name;
        p.set(v.dtype === "float32" ? v : v.cast("float32"));
        p.requiresGrad = false;
        this.weights.set(name, p);
      } else this.constants.set(name, v);
    }
    const inits = new Set((g.initializer ?? []).map((t) => t.name));
    const realInputs = (g.input ?? []).filter((i) => !inits.has(i.name));
    if (realInputs.length !== 1) throw new PulidError("bad_model_file", `${source}: expected one graph input, found ${realInputs.length}`);
    this.inputName = realInputs[0]!.name ?? "";
    this.inputShape = (realInputs[0]!.type?.tensorType?.shape?.dim ?? []).map((d) => Number(d.dimValue ?? 0));
    this.outputName = g.output[0]!.name ?? "";
    for (const n of g.node) {
      if (!(ONNX_GRAPH_OPS as readonly string[]).includes(n.opType ?? "")) {
        throw new PulidError("bad_model_file", `${source}: op ${n.opType} (node '${n.name ?? n.output?.[0]}') is not supported for training; supported: ${ONNX_GRAPH_OPS.join(", ")}`);
      }
      if (n.opType === "Constant") {
        const t = attrs(n).get("value")?.t;
        const v = t ? onnxTensorValue(t) : null;
        if (!v) throw new PulidError("bad_model_file", `${source}: Constant node '${n.name}' has no tensor value`);
        this.constants.set(n.output![0]!, v);
      }
    }
    this.nodes = g.node;
  }

  static open(path: string): OnnxGraphModule {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new PulidError("missing_model_file", `${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return new OnnxGraphModule(bytes, path);
  }

  /** The initializers are the parameters (the class has no fixed fields to list). */
  override ownParameters(): [string, Parameter][] {
    return [...this.weights];
  }

  /** Runs the graph on `x` (the ONNX input) and returns its first output. */
  forward(x: Tensor): Tensor {
    const env = new Map<string, Tensor>([[this.inputName, x]]);
    const get = (name: string): Tensor => {
      const v = env.get(name) ?? this.weights.get(name)?.toTensor();
      if (v) return v;
      const c = this.constants.get(name);
      if (c) return constant(c.dtype === "float32" ? c : c.cast("float32"));
      throw new PulidError("bad_model_file", `${this.source}: value '${name}' is used before it is defined`);
    };
    const ints = (name: string): number[] => {
      const c = this.constants.get(name);
      if (!c) throw new PulidError("bad_model_file", `${this.source}: '${name}' must be a constant shape`);
      return Array.from(c.data as ArrayLike<number | bigint>, Number);
    };
    for (const n of this.nodes) {
      if (n.opType === "Constant") continue;
      const ins = n.input ?? [];
      const out = this.apply(n, ins, get, ints);
      env.set(n.output![0]!, out);
    }
    return get(this.outputName);
  }

  private apply(n: NodeProto, ins: string[], get: (s: string) => Tensor, ints: (s: string) => number[]): Tensor {
    const x = () => get(ins[0]!);
    switch (n.opType) {
      case "Conv": {
        const k = intsAttr(n, "kernel_shape");
        if (k && k.length !== 2) throw new PulidError("bad_model_file", `${this.source}: Conv '${n.name}' is ${k.length}-D; only 2-D is supported`);
        const p = intsAttr(n, "pads") ?? [0, 0, 0, 0];
        const s = intsAttr(n, "strides") ?? [1, 1];
        const d = intsAttr(n, "dilations") ?? [1, 1];
        const autoPad = attrs(n).get("auto_pad")?.s;
        if (autoPad?.length && new TextDecoder().decode(autoPad) !== "NOTSET") throw new PulidError("bad_model_file", `${this.source}: Conv '${n.name}' uses auto_pad; explicit pads only`);
        return ops.conv2d(x(), get(ins[1]!), ins[2] ? get(ins[2]) : null, { stride: [s[0]!, s[1]!], padding: [p[0]!, p[1]!, p[2]!, p[3]!], dilation: [d[0]!, d[1]!], groups: intAttr(n, "group", 1) });
      }
      case "BatchNormalization": {
        // y = (x - mean) / sqrt(var + eps) * scale + bias, per channel (axis 1).
        const v = x();
        const col = (t: Tensor) => (v.shape.length > 2 ? ops.reshape(t, [-1, ...new Array<number>(v.shape.length - 2).fill(1)]) : t);
        const [scale, bias, mean, varc] = ins.slice(1, 5).map((s) => col(get(s)));
        const inv = ops.div(scale!, ops.sqrt(ops.add(varc!, floatAttr(n, "epsilon", 1e-5))));
        return ops.add(ops.mul(ops.sub(v, mean!), inv), bias!);
      }
      case "PRelu": {
        const v = x();
        return ops.where(ops.greater(v, 0), v, ops.mul(v, get(ins[1]!)));
      }
      case "Relu":
        return ops.relu(x());
      case "LeakyRelu":
        return ops.leakyRelu(x(), floatAttr(n, "alpha", 0.01));
      case "Sigmoid":
        return ops.sigmoid(x());
      case "Add":
        return ops.add(x(), get(ins[1]!));
      case "Sub":
        return ops.sub(x(), get(ins[1]!));
      case "Mul":
        return ops.mul(x(), get(ins[1]!));
      case "Div":
        return ops.div(x(), get(ins[1]!));
      case "Flatten": {
        const v = x();
        const axis = intAttr(n, "axis", 1);
        const lead = v.shape.slice(0, axis).reduce((a, b) => a * b, 1);
        return ops.reshape(v, [lead, -1]);
      }
      case "Reshape": {
        const v = x();
        const shape = ints(ins[1]!).map((s, i) => (s === 0 ? v.shape[i]! : s));
        return ops.reshape(v, shape);
      }
      case "Gemm": {
        let a = x();
        let b = get(ins[1]!);
        if (intAttr(n, "transA", 0)) a = ops.transpose(a, [1, 0]);
        if (intAttr(n, "transB", 0)) b = ops.transpose(b, [1, 0]);
        const alpha = floatAttr(n, "alpha", 1);
        const beta = floatAttr(n, "beta", 1);
        let y = ops.matmul(a, b);
        if (alpha !== 1) y = ops.mul(y, alpha);
        if (ins[2]) y = ops.add(y, beta === 1 ? get(ins[2]) : ops.mul(get(ins[2]), beta));
        return y;
      }
      case "MatMul":
        return ops.matmul(x(), get(ins[1]!));
      case "GlobalAveragePool":
        return ops.mean(x(), [2, 3], true);
      case "Identity":
      case "Dropout":
        return x();
      default:
        throw new PulidError("bad_model_file", `${this.source}: op ${n.opType} is not supported`);
    }
  }
}
