/**
 * A one-line progress bar on stderr (redrawn in place on a TTY, a line every ~10% otherwise, so CI logs stay
 * short). `tick(n, note)` advances; `done()` ends the line.
 */
export class Progress {
  private n = 0;
  private lastPct = -1;
  private readonly start = performance.now();
  constructor(
    readonly label: string,
    readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  tick(by = 1, note = ""): void {
    this.n = Math.min(this.total, this.n + by);
    const pct = Math.floor((100 * this.n) / this.total);
    const secs = (performance.now() - this.start) / 1000;
    const width = 24;
    const filled = Math.round((width * this.n) / this.total);
    const line = `${this.label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${this.n}/${this.total} ${secs.toFixed(1)}s ${note}`;
    if (this.out.isTTY) this.out.write(`\r${line}\x1b[K`);
    else if (pct >= this.lastPct + 10 || this.n === this.total) {
      this.out.write(`${line}\n`);
      this.lastPct = pct;
    }
  }

  done(): void {
    if (this.out.isTTY) this.out.write("\n");
  }
}
