/**
 * Lowers a traced graph to an ONNX ModelProto. Graph inputs become ONNX inputs; constants become
 * initializers; parameters become, per parameter, an initializer holding the data, a graph input fed at
 * each run (training), or an external-data initializer pointing into a safetensors file by offset.
 * Parameters stored in a 16-bit type are cast to their compute dtype inside the graph.
 */
import onnxProto from "onnx-proto";
import type { onnx as onnxT } from "onnx-proto";
const { onnx } = onnxProto;
import { type Node, type ParamSource, topoSort } from "../graph.ts";
import { OnnxBuilder, OPSET, MS_DOMAIN, ONNX_DTYPE, tensorProto, int } from "./builder.ts";
import { getPrimitive } from "../primitives/index.ts";
import { PulidError } from "../errors.ts";
import type { DType } from "../dtype.ts";

export type ParamMode = "initializer" | "input" | "external";

export interface LowerOptions {
  /** Graph inputs, in order. Every `input` node the outputs depend on must be listed. */
  inputs: readonly Node[];
  outputs: readonly Node[];
  /** How each parameter is provided (default: initializer, or external when the parameter has a file location). */
  paramMode?: (p: ParamSource) => ParamMode;
  /** For external data: a path of the file as the ONNX model will see it (relative to the model file). */
  externalLocation?: (absPath: string) => string;
  /**
   * Guard the casts of 16-bit stored weights so they run at run time, layer by layer (default true). Without
   * the guard ONNX Runtime's constant folding casts every weight while building the session and keeps a float32
   * copy of all of them: for SDXL ~10 GB on top of the mapped 16-bit file. With optimisation disabled nothing
   * folds, and `compile` leaves the guard out (it slows session creation, see session.ts). Tried instead and
   * not adopted (2026-12-03): turning off ONNX Runtime's ConstantFolding and FuseFp16InitializerToFp32Node
   * passes; on the full-size SDXL UNet the session built no faster and peak RSS rose 7.79 -> 8.45 GiB.
   */
  castWeightsAtRuntime?: boolean;
  name?: string;
}

export interface LoweredModel {
  model: onnxT.ModelProto;
  inputNames: string[];
  outputNames: string[];
  /** Parameters fed as graph inputs, in the order they appear in `inputNames` after the user inputs. */
  paramInputs: ParamSource[];
  /** Absolute paths of files referenced as external data. */
  externalFiles: string[];
}

function valueInfo(name: string, dtype: DType, shape: readonly number[]): onnxT.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ONNX_DTYPE[dtype], shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  };
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_.:/-]/g, "_");
}

export function lowerToOnnx(opts: LowerOptions): LoweredModel {
  const b = new OnnxBuilder();
  const order = topoSort(opts.outputs);
  const names = new Map<number, string>();
  const inputSet = new Map(opts.inputs.map((n, i) => [n.id, i]));
  const graphInputs: onnxT.IValueInfoProto[] = [];
  const inputNames: string[] = [];
  opts.inputs.forEach((n) => {
    const name = sanitize(n.attrs.name ?? `input_${n.id}`);
    if (inputNames.includes(name)) throw new PulidError("duplicate_input", `two graph inputs are named '${name}'`);
    names.set(n.id, name);
    inputNames.push(name);
    graphInputs.push(valueInfo(name, n.dtype, n.shape));
  });
  let gateName: string | null | undefined;
  /** A bool scalar computed from the first graph input (null when the graph has no inputs). */
  const runtimeGate = (): string | null => {
    if (gateName !== undefined) return gateName;
    const first = inputNames[0];
    if (!first) return (gateName = null);
    const flat = b.node("Reshape", [first, b.int64s([-1])]);
    const one = b.node("Slice", [flat, b.int64s([0]), b.int64s([1])]);
    return (gateName = b.node("Reshape", [b.node("Equal", [one, one]), b.int64s([])]));
  };
  const paramInputs: ParamSource[] = [];
  const externalFiles = new Set<string>();
  const paramNames = new Set<string>();
  for (const node of order) {
    if (names.has(node.id)) continue;
    switch (node.op) {
      case "input":
        if (!inputSet.has(node.id)) {
          throw new PulidError("missing_input", `the graph uses input '${node.attrs.name}' ${node.dtype}[${node.shape.join(", ")}], which is not in the inputs list`);
        }
        break;
      case "const":
        names.set(node.id, b.constant(node.attrs.value, "const"));
        break;
      case "param": {
        const p = node.attrs.param as ParamSource;
        let name = sanitize(p.name || `param_${node.id}`);
        while (paramNames.has(name)) name += "_";
        paramNames.add(name);
        const mode = opts.paramMode?.(p) ?? (p.external ? "external" : "initializer");
        const storage = mode === "input" ? node.dtype : p.external?.dtype ?? p.value()?.dtype ?? node.dtype;
        if (mode === "input") {
          graphInputs.push(valueInfo(name, node.dtype, node.shape));
          inputNames.push(name);
          paramInputs.push(p);
        } else if (mode === "external") {
          const ext = p.external;
          if (!ext) throw new PulidError("no_external", `parameter '${p.name}' has no file location for external data`);
          externalFiles.add(ext.path);
          b.initializers.push({
            name,
            dims: [...node.shape],
            dataType: ONNX_DTYPE[ext.dtype],
            dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
            externalData: [
              { key: "location", value: opts.externalLocation ? opts.externalLocation(ext.path) : ext.path },
              { key: "offset", value: String(ext.offset) },
              { key: "length", value: String(ext.byteLength) },
            ],
          });
        } else {
          const v = p.value();
          if (!v) throw new PulidError("param_no_value", `parameter '${p.name}' has no value (not loaded or initialised)`);
          b.initializers.push(tensorProto(name, v));
        }
        if (storage === node.dtype) names.set(node.id, name);
        else {
          // Reshape(w, its own shape computed at run time) equals w (ONNX Runtime aliases it, no copy) but is not
          // constant, so constant folding leaves the cast alone. Works for every dtype, bfloat16 included.
          const gate = opts.castWeightsAtRuntime === false || mode === "input" ? null : runtimeGate();
          const shape = gate ? b.int64s(node.shape) : "";
          const src = gate ? b.node("Reshape", [name, b.node("Where", [gate, shape, shape])]) : name;
          names.set(node.id, b.node("Cast", [src], { to: int(ONNX_DTYPE[node.dtype]) }));
        }
        break;
      }
      default: {
        const prim = getPrimitive(node.op);
        const ins = node.inputs.map((i) => names.get(i.id)!);
        names.set(node.id, prim.lower(b, ins, node));
      }
    }
  }
  const outputNames: string[] = [];
  const graphOutputs: onnxT.IValueInfoProto[] = [];
  opts.outputs.forEach((n, i) => {
    const out = `output_${i}`;
    b.nodes.push({ opType: "Identity", input: [names.get(n.id)!], output: [out], name: out });
    outputNames.push(out);
    graphOutputs.push(valueInfo(out, n.dtype, n.shape));
  });
  const opsetImport: onnxT.IOperatorSetIdProto[] = [{ domain: "", version: OPSET }];
  if (b.usesMsDomain) opsetImport.push({ domain: MS_DOMAIN, version: 1 });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "pulid-ts",
    opsetImport,
    graph: {
      name: opts.name ?? "pulid",
      node: b.nodes,
      initializer: b.initializers,
      input: graphInputs,
      output: graphOutputs,
    },
  });
  return { model, inputNames, outputNames, paramInputs, externalFiles: [...externalFiles] };
}

export function encodeModel(model: onnxT.ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
