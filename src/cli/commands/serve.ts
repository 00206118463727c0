/**
 * `pulid serve`: the studio (issue 16): the HTTP API and the page on one address, jobs in this process or, with
 * `--queue redis://...`, on BullMQ for `pulid worker` processes. Loads the models (default: the shipped world
 * models) to check uploads, fill defaults and, with the in-process queue, to generate.
 */
import { resolve } from "node:path";
import { intFlag, parseFlags, UsageError, type Command } from "../command.ts";
import { prepareOutDir } from "../out-path.ts";
import { openPipeline } from "./generate.ts";
import { buildStudio, DEFAULT_MAX_FILE_BYTES, JobBook, LocalQueue, RedisQueue, type JobQueue } from "../../server/index.ts";

const HELP = `usage: pulid serve [--host 127.0.0.1] [--port 7860] [--models DIR] [--concurrency 1] [--queue-limit 32]
                   [--data DIR] [--queue redis://HOST:PORT] [--max-upload-mb 10]

Serves the PuLID studio: open the printed address for the page; the JSON API is under /v1 (README).

  --host H            address to listen on (default 127.0.0.1: this machine only)
  --port N            port (default 7860; 0 picks a free one)
  --models DIR        models folder (default: the shipped world models, models/world)
  --adapter FILE      a PuLID adapter file to use instead of the folder's
  --threads N         ONNX Runtime threads
  --concurrency N     jobs run at once by the in-process queue (default 1)
  --queue-limit N     jobs waiting at most; past it POST /v1/generate answers 429 with Retry-After (default 32)
  --data DIR          finished images and job records (default ./pulid-data)
  --queue URL         redis://HOST:PORT: put jobs on BullMQ for 'pulid worker' processes instead of running them here
  --queue-name NAME   BullMQ queue name (default pulid)
  --max-upload-mb N   largest uploaded file (default 10)`;

export const serveCommand: Command = {
  name: "serve",
  summary: "the studio: HTTP API + web page + job queue (in-process or Redis)",
  async run(argv) {
    const { flags } = parseFlags(argv, {
      strings: ["host", "port", "models", "adapter", "threads", "concurrency", "queue-limit", "data", "queue", "queue-name", "max-upload-mb"],
    });
    if (flags.help) {
      console.log(HELP);
      return 0;
    }
    const host = typeof flags.host === "string" ? flags.host : "127.0.0.1";
    const port = intFlag(flags, "port", 7860, 0, 65535);
    const concurrency = intFlag(flags, "concurrency", 1, 1, 64);
    const limit = intFlag(flags, "queue-limit", 32, 1, 100_000);
    const maxFileBytes = intFlag(flags, "max-upload-mb", DEFAULT_MAX_FILE_BYTES >> 20, 1, 1024) << 20;
    const data = resolve(typeof flags.data === "string" ? flags.data : "pulid-data");
    const queueUrl = typeof flags.queue === "string" ? flags.queue : undefined;
    if (queueUrl !== undefined && !/^rediss?:\/\/./.test(queueUrl)) throw new UsageError(`--queue must be a redis:// URL, got '${queueUrl}'`);
    if (queueUrl !== undefined && flags.concurrency !== undefined) throw new UsageError("--concurrency is the in-process queue's; with --queue each 'pulid worker' has its own --concurrency");
    prepareOutDir(data, "--data");

    const pipe = await openPipeline(flags);
    const book = new JobBook(data);
    const open = book.load();
    let queue: JobQueue;
    if (queueUrl) {
      queue = await RedisQueue.open(book, open, { url: queueUrl, limit, ...(typeof flags["queue-name"] === "string" ? { name: flags["queue-name"] } : {}) });
    } else {
      const local = new LocalQueue(book, pipe, { concurrency, limit });
      await local.recover(open);
      queue = local;
    }
    const app = await buildStudio({ pipe, queue, maxFileBytes, logger: { level: "warn" } });
    const address = await app.listen({ host, port });
    console.log(`pulid studio: ${address}/  (PuLID ${pipe.version}, models ${pipe.models.dir}, ${queueUrl ? `queue ${queueUrl}` : `in-process queue, concurrency ${concurrency}`}, limit ${limit}, data ${data})`);
    await new Promise<void>((done) => {
      const stop = () => done();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await app.close();
    await pipe.dispose();
    return 0;
  },
};
