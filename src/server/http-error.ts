/**
 * The one error type the HTTP layer answers with: a status, the request field it concerns (so the page can show
 * the message next to that control) and a message for a person. Everything a handler cannot turn into one of
 * these is a bug and is answered as a plain 500 without details (never a stack trace).
 */

/** One problem with one field (the options schema reports several at once). */
export interface FieldIssue {
  /** The multipart field or option name: `id`, `id_embedding`, `options`, `idScale`, ... */
  readonly field: string;
  readonly message: string;
}

/** An error answered as `{ error, field, issues }` with `status`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly field: string | null,
    message: string,
    readonly issues: readonly FieldIssue[] = field ? [{ field, message }] : [],
    /** Seconds for a `Retry-After` header (429, 503). */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = "HttpError";
  }

  /** The JSON body. */
  body(): { error: string; field: string | null; issues: readonly FieldIssue[] } {
    return { error: this.message, field: this.field, issues: this.issues };
  }
}

/** The queue is full: 429 with a `Retry-After` estimate. */
export class QueueFullError extends HttpError {
  constructor(limit: number, retryAfterS: number) {
    super(429, null, `the queue is full (${limit} jobs waiting); retry in about ${retryAfterS} s`, [], retryAfterS);
  }
}
