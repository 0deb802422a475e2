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

  write(text: string): boolean {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength >= this.blockLength) {
      this.flush();
    }
    return true;
  }

  flush(): void {
    if (this.pendingLength === 0) {
      return;
    }
    this.target.write(this.pending.join(""));
    this.pending = [];
    this.pendingLength = 0;
  }
}
