/**
 * Ctrl-C for training commands: the first one asks the loop to stop after the current step (it writes a
 * checkpoint first, so `--resume` continues bit for bit); a second one quits at once with exit code 130.
 */
export function stopOnSigint(): { signal: AbortSignal; release(): void } {
  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write("\nstopping after this step (checkpoint first); Ctrl-C again to quit now\n");
    stop.abort();
  };
  process.on("SIGINT", onSigint);
  return { signal: stop.signal, release: () => void process.off("SIGINT", onSigint) };
}
