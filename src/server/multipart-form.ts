/**
 * Reads a multipart request into files and text fields, turning @fastify/multipart's limit errors into
 * `HttpError`s that name the field (an oversized `id` photo is a 413 about `id`).
 */
import type { FastifyRequest } from "fastify";
import { HttpError } from "./http-error.ts";

export interface FormFile {
  field: string;
  filename: string;
  bytes: Uint8Array;
}

export interface Form {
  files: FormFile[];
  fields: Map<string, string>;
}

const mib = (n: number) => `${(n / (1 << 20)).toFixed(n % (1 << 20) ? 1 : 0)} MiB`;

/**
 * Every part of a multipart request.
 * @param allowed the file and text field names the route takes (any other is a 400 naming it).
 * @throws HttpError 415 (not multipart), 413 (a file over `maxFileBytes`, too many parts), 400 (unknown field).
 */
export async function readForm(req: FastifyRequest, allowed: { files: readonly string[]; fields: readonly string[] }, maxFileBytes: number): Promise<Form> {
  if (!req.isMultipart()) throw new HttpError(415, null, "send multipart/form-data (fields: " + [...allowed.files, ...allowed.fields].join(", ") + ")");
  const form: Form = { files: [], fields: new Map() };
  let field = "";
  try {
    for await (const part of req.parts()) {
      field = part.fieldname;
      if (part.type === "file") {
        if (!allowed.files.includes(field)) throw new HttpError(400, field, `unknown file field '${field}' (file fields: ${allowed.files.join(", ")})`);
        form.files.push({ field, filename: part.filename, bytes: new Uint8Array(await part.toBuffer()) });
      } else {
        if (!allowed.fields.includes(field)) throw new HttpError(400, field, `unknown field '${field}' (fields: ${allowed.fields.join(", ")})`);
        if (part.valueTruncated) throw new HttpError(413, field, `${field} is too long`);
        form.fields.set(field, String(part.value));
      }
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    const code = (e as { code?: string }).code;
    if (code === "FST_REQ_FILE_TOO_LARGE") throw new HttpError(413, field, `${field}: the file is larger than the upload limit of ${mib(maxFileBytes)}`);
    if (code === "FST_FILES_LIMIT" || code === "FST_PARTS_LIMIT" || code === "FST_FIELDS_LIMIT") throw new HttpError(413, field, `too many parts in the form (at ${field})`);
    if (code === "FST_INVALID_MULTIPART_CONTENT_TYPE" || code === "FST_NO_FORM_DATA") throw new HttpError(400, null, "the request is not valid multipart/form-data");
    // A truncated or malformed body: busboy's own errors.
    if (e instanceof Error && /Unexpected end of form|Malformed|boundary/i.test(e.message)) throw new HttpError(400, null, `the multipart body is malformed: ${e.message}`);
    throw e;
  }
  return form;
}
