/**
 * Talking to the PyTorch side of bench:engine (`bench/torch_engine.py`, run by Debian's `/usr/bin/python3`).
 *
 * - `torchCall`: one request, one JSON answer (probe, wgrad, check).
 * - `startTorchSteps`: a process that keeps one measure's model built and times k steps on request, so the
 *   bench can alternate short runs of ours and PyTorch's. This machine's speed drifts by tens of percent over
 *   seconds (other tenants); alternating puts both sides under the same drift.
 */
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PY = "/usr/bin/python3";
const TORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "torch_engine.py");

/** Runs one request; returns the parsed answer or `{ error }`. */
export function torchCall(req: Record<string, unknown>, env: NodeJS.ProcessEnv): any {
  const r = spawnSync(PY, [TORCH_SCRIPT, JSON.stringify(req)], { env, encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.error) return { error: `cannot run ${PY}: ${r.error.message}` };
  const last = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last);
  } catch {
    return {
      error: `torch subprocess failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`,
    };
  }
}

/** A PyTorch process holding one measure's training step. */
export interface TorchSteps {
  /** Seconds for each of k more steps. */
  time(k: number): Promise<number[]>;
  close(): void;
}

/** Starts `serve` mode for a measure ({measure, batch, warmup, threads}); resolves once it is warmed up. */
export async function startTorchSteps(req: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<TorchSteps> {
  const child = spawn(PY, [TORCH_SCRIPT, JSON.stringify({ ...req, mode: "serve" })], {
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<any> => {
    const r = await lines.next();
    if (r.done) {
      throw new Error(`torch subprocess ended (exit ${child.exitCode}): ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
    }
    const msg = JSON.parse(r.value);
    if (msg.error) throw new Error(msg.error);
    return msg;
  };
  try {
    await next(); // {"ready": true}
  } catch (e) {
    child.kill();
    throw e;
  }
  return {
    async time(k: number) {
      child.stdin.write(JSON.stringify({ steps: k }) + "\n");
      return (await next()).times as number[];
    },
    close() {
      child.stdin.end();
    },
  };
}
