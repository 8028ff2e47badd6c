/** A one-line progress display on a terminal; silent when stderr is not a TTY (pipes, CI logs). */
export class Progress {
  private readonly start = Date.now();
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly label: string,
    stream: NodeJS.WriteStream = process.stderr,
    private readonly out: NodeJS.WriteStream = stream,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  tick(done: number, what: string): void {
    if (!this.tty) return;
    const secs = (Date.now() - this.start) / 1000;
    const rate = done / Math.max(secs, 1e-3);
    const eta = rate > 0 ? (this.total - done) / rate : 0;
    const line = `${this.label} ${done}/${this.total}  ${rate.toFixed(1)}/s  ETA ${Math.round(eta)}s  ${what}`;
    this.out.write(`\r${line.slice(0, (this.out.columns || 100) - 1).padEnd((this.out.columns || 100) - 1)}`);
  }

  end(): void {
    if (this.tty) this.out.write('\n');
  }
}
