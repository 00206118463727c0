import type { DType } from "../engine/dtype.ts";
import type { ParamSource } from "../engine/graph.ts";
import { makeNode } from "../engine/graph.ts";
import { HostTensor, numel, shapeStr } from "../engine/host-tensor.ts";
import { Tensor } from "../engine/tensor.ts";
import type { Rng } from "../engine/rng.ts";
import { PulidError } from "../engine/errors.ts";

/** How a parameter is initialised by `Module.initialize` (PyTorch's defaults are expressed with these). */
export type Init =
  | { kind: "zeros" }
  | { kind: "ones" }
  | { kind: "uniform"; bound: number }
  | { kind: "normal"; std: number };

/**
 * A trainable (or frozen) weight. Its name is its module path (`down_blocks.0.resnets.0.conv1.weight`),
 * assigned when the module tree is walked. In a traced graph it is a leaf node, the same node in every trace,
 * so programs can feed it, embed it, or read it from its file.
 */
export class Parameter implements ParamSource {
  name = "";
  readonly shape: readonly number[];
  /** Compute dtype inside graphs. Stored data may be 16-bit; it is cast in the graph. */
  readonly dtype: DType;
  readonly init: Init;
  /** Excluded from gradients and optimizer updates when false. */
  requiresGrad = true;
  private data: HostTensor | null = null;
  external: ParamSource["external"] = null;
  private leaf: Tensor | null = null;

  constructor(shape: readonly number[], init: Init = { kind: "zeros" }, dtype: DType = "float32") {
    this.shape = Object.freeze([...shape]);
    this.init = init;
    this.dtype = dtype;
  }

  get size(): number {
    return numel(this.shape);
  }

  /** The parameter as a graph leaf. */
  toTensor(): Tensor {
    this.leaf ??= new Tensor(makeNode("param", [], { param: this }, this.shape, this.dtype, { checkpoint: null }));
    return this.leaf;
  }

  value(): HostTensor | null {
    return this.data;
  }

  /** The value, failing clearly when the parameter was never initialised or loaded. */
  get(): HostTensor {
    if (!this.data) {
      if (this.external) throw new PulidError("param_not_loaded", `parameter '${this.name}' lives in ${this.external.path}; read it with loadStateDict`);
      throw new PulidError("param_no_value", `parameter '${this.name}' has no value: call initialize() or loadStateDict() first`);
    }
    return this.data;
  }

  /** Sets the value (same shape required; any float dtype, kept as given). */
  set(v: HostTensor): void {
    if (v.shape.join(",") !== this.shape.join(",")) {
      throw new PulidError("shape_mismatch", `parameter '${this.name}': expected shape ${shapeStr(this.shape)}, got ${shapeStr(v.shape)}`);
    }
    this.data = v;
    this.external = null;
  }

  /** Points the parameter at a tensor inside a file (read lazily; used as ONNX external data). */
  setExternal(ext: NonNullable<ParamSource["external"]>): void {
    this.external = ext;
    this.data = null;
  }

  initialize(rng: Rng): void {
    const out = new Float32Array(this.size);
    switch (this.init.kind) {
      case "zeros":
        break;
      case "ones":
        out.fill(1);
        break;
      case "uniform":
        rng.fillUniform(out, -this.init.bound, this.init.bound);
        break;
      case "normal":
        rng.fillNormal(out, 0, this.init.std);
        break;
    }
    this.data = new HostTensor("float32", this.shape, out).cast(this.dtype);
    this.external = null;
  }
}
