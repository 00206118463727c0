/**
 * Errors a caller can branch on: every engine-level failure carries a stable `code` plus a message that
 * names the input and what was wrong.
 */
export class PulidError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A weight file (safetensors, torch zip, pickle) is malformed, truncated or refused. */
export class WeightFileError extends PulidError {
  readonly file: string;
  constructor(code: string, file: string, message: string, options?: { cause?: unknown }) {
    super(code, `${file}: ${message}`, options);
    this.file = file;
  }
}

/** A shape or dtype mismatch found while tracing a graph; `path` is the module path where it happened. */
export class TraceError extends PulidError {
  readonly path: string;
  constructor(path: string, message: string) {
    super("trace_error", path ? `${path}: ${message}` : message);
    this.path = path;
  }
}
