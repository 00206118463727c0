/** Errors of the PuLID pipeline layer: bad options, missing model files, embeddings from another encoder. */
import { PulidError } from "../engine/errors.ts";

/** Stable codes of pipeline errors. */
export type PipelineErrorCode =
  /** One or more generation options are missing, mistyped or out of range (`OptionsError.issues` lists them). */
  | "bad_option"
  /** Files of a models folder are missing (`MissingModelFilesError.missing` lists every one). */
  | "missing_model_files"
  /** An ID embedding file was made by another encoder (version or adapter weights differ), or is not one. */
  | "embedding_mismatch"
  | "bad_embedding"
  /** No ID photo and no ID embedding were given. */
  | "no_id";

/** A pipeline failure. `code` is one of {@link PipelineErrorCode}. */
export class PipelineError extends PulidError {
  declare readonly code: PipelineErrorCode;
  constructor(code: PipelineErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** One problem with one option (zod-style): which option, its CLI flag, and what is wrong. */
export interface OptionIssue {
  /** The TypeScript/HTTP name (`idScale`). */
  readonly option: string;
  /** The command-line flag (`--id-scale`). */
  readonly flag: string;
  readonly message: string;
}

/** Generation options that do not validate; every bad option is listed in `issues` and in the message. */
export class OptionsError extends PipelineError {
  readonly issues: readonly OptionIssue[];
  constructor(issues: readonly OptionIssue[]) {
    super("bad_option", issues.length === 1 ? issues[0]!.message : `${issues.length} bad options:\n${issues.map((i) => `  - ${i.message}`).join("\n")}`);
    this.issues = issues;
  }
}

/** One file a models folder lacks: where it goes, what it is, and where the published one comes from. */
export interface MissingModelFile {
  readonly path: string;
  readonly what: string;
  readonly source: string;
}

/** A models folder is incomplete: the message lists every missing file at once. */
export class MissingModelFilesError extends PipelineError {
  readonly dir: string;
  readonly missing: readonly MissingModelFile[];
  constructor(dir: string, missing: readonly MissingModelFile[]) {
    const lines = missing.map((m) => `  - ${m.path}\n      ${m.what}; from ${m.source}`);
    super("missing_model_files", `${dir}: ${missing.length} model file(s) missing:\n${lines.join("\n")}\nPut each file at the path shown (the layout is in src/pulid/layout.ts and the README).`);
    this.dir = dir;
    this.missing = missing;
  }
}
