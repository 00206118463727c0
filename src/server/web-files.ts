/**
 * The page's files (`web/`), read once at start and served from a fixed table: a request path is only ever a
 * key of this table, never joined onto a folder.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The folder of the page in this repository. */
export const DEFAULT_WEB_DIR = resolve(import.meta.dirname, "..", "..", "web");

const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/controls.js": { file: "controls.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

/** URL path -> body and content type. */
export function loadWebFiles(dir = DEFAULT_WEB_DIR): Map<string, { body: Buffer; type: string }> {
  return new Map(Object.entries(FILES).map(([url, f]) => [url, { body: readFileSync(join(dir, f.file)), type: f.type }]));
}
