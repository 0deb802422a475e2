/** The destination of the dry-run requests: stdout, or an object that writes to it. */
export interface OutputTarget {
  /** Returns false when the writer should wait for `drain`, as a stream's `write` does. */
  write(chunk: string | Uint8Array): boolean;
  once(event: "drain", listener: () => void): unknown;
}

/**
 * Gathers small writes (a dry-run request is three) into blocks of about 64 KiB, because stdout to
 * a file or a pipe is written synchronously on Linux and one system call per line costs more than
 * building the line. Text and bytes are copied into the block as UTF-8.
 */
export class BufferedOutput {
  private block: Buffer;
  private used = 0;

  constructor(
    private readonly target: OutputTarget,
    private readonly blockLength = 64 * 1024,
  ) {
    this.block = Buffer.allocUnsafe(blockLength);
  }

  /** Returns false when the target asked the writer to wait for `drain`, as a stream's `write` does. */
  write(chunk: string | Uint8Array): boolean {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    const maxBytes = typeof chunk === "string" ? chunk.length * 3 : chunk.length;
    let accepted = true;
    if (this.used + maxBytes > this.blockLength) {
      accepted = this.flush();
    }
    if (maxBytes > this.blockLength) {
      return this.target.write(chunk) && accepted;
    }
    if (typeof chunk === "string") {
      this.used += this.block.write(chunk, this.used);
    } else {
      this.block.set(chunk, this.used);
      this.used += chunk.length;
    }
    return accepted;
  }

  once(event: "drain", listener: () => void): this {
    this.target.once(event, listener);
    return this;
  }

  flush(): boolean {
    if (this.used === 0) {
      return true;
    }
    const filled = this.block.subarray(0, this.used);
    this.used = 0;
    const accepted = this.target.write(filled);
    // A stream that buffered the block may still read it, so the next writes go to a new block. Files,
    // and pipes on Linux, are written at once, and then the block is free to fill again.
    if (writableLength(this.target) !== 0) {
      this.block = Buffer.allocUnsafe(this.blockLength);
    }
    return accepted;
  }
}

/** Returns the bytes a stream has buffered and not yet written, or undefined for a stream without `writableLength`. */
function writableLength(stream: OutputTarget): number | undefined {
  const length = (stream as { writableLength?: unknown }).writableLength;
  return typeof length === "number" ? length : undefined;
}
