/**
 * Gathers small writes (one dry-run line per request) into blocks of about 64 KiB, because stdout
 * to a file or a pipe is written synchronously on Linux and one system call per line costs more than
 * building the line.
 */
export class BufferedOutput {
  private pending: string[] = [];
  private pendingLength = 0;

  constructor(
    private readonly target: NodeJS.WritableStream,
    private readonly blockLength = 64 * 1024,
  ) {}

  /** Returns false when the target asked the writer to wait for `drain`, as a stream's `write` does. */
  write(text: string): boolean {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength >= this.blockLength) {
      return this.flush();
    }
    return true;
  }

  once(event: "drain", listener: () => void): this {
    this.target.once(event, listener);
    return this;
  }

  flush(): boolean {
    if (this.pendingLength === 0) {
      return true;
    }
    const text = this.pending.join("");
    this.pending = [];
    this.pendingLength = 0;
    return this.target.write(text);
  }
}
