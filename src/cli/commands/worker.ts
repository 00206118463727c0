/**
 * `pulid worker --queue redis://...`: runs the studio's jobs from the BullMQ queue that `pulid serve --queue`
 * fills. Start as many as you like, on any machine that reaches Redis and has the models. Prints one line per
 * job (`start JOB`, `completed JOB`, `failed JOB: why`).
 */
import { intFlag, parseFlags, UsageError, type Command } from "../command.ts";
import { openPipeline } from "./generate.ts";
import { startRedisWorker } from "../../server/index.ts";

const HELP = `usage: pulid worker --queue redis://HOST:PORT [--models DIR] [--concurrency 1] [--lock-ms 30000]

Takes generate jobs from the Redis queue of 'pulid serve --queue' and runs them; stops on Ctrl-C / SIGTERM.

  --queue URL         redis://HOST:PORT (required)
  --queue-name NAME   BullMQ queue name (default pulid; the same as the server's)
  --models DIR        models folder (default: the shipped world models); the same models as the server's
  --adapter FILE      a PuLID adapter file to use instead of the folder's
  --threads N         ONNX Runtime threads
  --concurrency N     jobs at once in this worker (default 1)
  --lock-ms N         a job held by a worker that stopped answering goes to another worker after this long (default 30000)`;

export const workerCommand: Command = {
  name: "worker",
  summary: "run the studio's jobs from a Redis queue (pulid serve --queue)",
  async run(argv) {
    const { flags } = parseFlags(argv, { strings: ["queue", "queue-name", "models", "adapter", "threads", "concurrency", "lock-ms"] });
    if (flags.help) {
      console.log(HELP);
      return 0;
    }
    if (typeof flags.queue !== "string") throw new UsageError("--queue redis://HOST:PORT is required");
    if (!/^rediss?:\/\/./.test(flags.queue)) throw new UsageError(`--queue must be a redis:// URL, got '${flags.queue}'`);
    const concurrency = intFlag(flags, "concurrency", 1, 1, 64);
    const lockMs = intFlag(flags, "lock-ms", 30_000, 1000, 3_600_000);
    const pipe = await openPipeline(flags);
    const handle = await startRedisWorker(pipe, {
      url: flags.queue,
      concurrency,
      lockMs,
      ...(typeof flags["queue-name"] === "string" ? { name: flags["queue-name"] } : {}),
      log: (line) => console.log(line),
    });
    console.log(`pulid worker: ready (PuLID ${pipe.version}, models ${pipe.models.dir}, queue ${flags.queue}, concurrency ${concurrency})`);
    await new Promise<void>((done) => {
      process.once("SIGINT", () => done());
      process.once("SIGTERM", () => done());
    });
    await handle.close();
    await pipe.dispose();
    return 0;
  },
};
