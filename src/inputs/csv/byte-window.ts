/**
 * The bytes of a CSV input from the start of the record being parsed to the last byte received, so
 * that a record can be checked against its raw text after csv-parse has produced it. Offsets count
 * bytes from the start of the input, byte order mark included, as csv-parse's `info.bytes` does.
 * The window contains one record and the chunks around it, not the whole input.
 */
export class ByteWindow {
  private readonly chunks: Buffer[] = [];
  /** Offset of the first byte of `chunks[0]`. */
  private chunksStart = 0;
  private receivedEnd = 0;
  private recordStart = 0;
  /** The first bytes of the input, kept until they show whether it starts with a byte order mark. */
  private head = Buffer.alloc(0);

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.head.length < BYTE_ORDER_MARK_SEARCH_LENGTH) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, BYTE_ORDER_MARK_SEARCH_LENGTH)]);
    }
    this.chunks.push(chunk);
    this.receivedEnd += chunk.length;
  }

  /** Offset just past the last byte received. */
  get end(): number {
    return this.receivedEnd;
  }

  /**
   * Decodes the current record's bytes, from its start to `end`. UTF-16LE input (recognised by its
   * byte order mark, as csv-parse does) is decoded as UTF-16. Anything else is decoded as latin1,
   * one character per byte, which keeps every ASCII character of UTF-8 text at its place because
   * no byte of a multi-byte UTF-8 sequence is ASCII. The text may start with the blank lines
   * csv-parse skipped before the record, and a byte order mark is left out.
   */
  recordText(end: number = this.receivedEnd): string {
    const start = Math.max(this.recordStart, this.byteOrderMarkLength());
    const encoding = this.isUtf16() ? "utf16le" : "latin1";
    return this.slice(start, end).toString(encoding);
  }

  /** Returns the current record's bytes, from its start to `end`, without a byte order mark. */
  recordBytes(end: number = this.receivedEnd): Buffer {
    return this.slice(Math.max(this.recordStart, this.byteOrderMarkLength()), end);
  }

  /** Whether the input is UTF-16LE, which csv-parse recognises by its byte order mark. */
  get utf16(): boolean {
    return this.isUtf16();
  }

  /** Marks `end` as the start of the next record and drops the chunks that end before it. */
  endRecord(end: number): void {
    this.recordStart = end;
    while (this.chunks.length > 0 && this.chunksStart + this.chunks[0]!.length <= end) {
      this.chunksStart += this.chunks.shift()!.length;
    }
  }

  private slice(start: number, end: number): Buffer {
    const parts: Buffer[] = [];
    let chunkStart = this.chunksStart;
    for (const chunk of this.chunks) {
      const chunkEnd = chunkStart + chunk.length;
      if (chunkEnd > start && chunkStart < end) {
        parts.push(chunk.subarray(Math.max(start - chunkStart, 0), Math.min(end - chunkStart, chunk.length)));
      }
      chunkStart = chunkEnd;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private isUtf16(): boolean {
    return this.head[0] === 0xff && this.head[1] === 0xfe;
  }

  private byteOrderMarkLength(): number {
    if (this.isUtf16()) return 2;
    if (this.head[0] === 0xef && this.head[1] === 0xbb && this.head[2] === 0xbf) return 3;
    return 0;
  }
}

/** Length of the longest byte order mark csv-parse recognises (UTF-8's). */
const BYTE_ORDER_MARK_SEARCH_LENGTH = 3;
