/**
 * `GET /v1/jobs/:id/events`: server-sent events. The job's record is sent at once and after every change
 * (`event: job`), and the stream ends when the job is final, so an `EventSource` needs no polling.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { JobBook } from "./job-book.ts";
import { FINAL_STATES, type JobRecord } from "./job.ts";

/** Keeps proxies from closing a quiet stream while a long job waits in the queue. */
const PING_MS = 15_000;

/** Streams a known job's changes to the client until it is final or the client goes away. */
export function streamJobEvents(book: JobBook, record: JobRecord, req: FastifyRequest, reply: FastifyReply): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    unsubscribe();
    clearInterval(ping);
    res.end();
  };
  const send = (r: JobRecord) => {
    if (!open) return;
    res.write(`event: job\ndata: ${JSON.stringify(r)}\n\n`);
    if (FINAL_STATES.includes(r.state)) close();
  };
  const unsubscribe = book.subscribe(record.id, send);
  const ping = setInterval(() => open && res.write(": ping\n\n"), PING_MS);
  req.raw.on("close", close);
  send(record);
}
