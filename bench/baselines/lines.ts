import { createReadStream } from "node:fs";

/**
 * Calls `onLine` with each non-empty line of an uncompressed JSONL file, in order, and returns the
 * number of lines. Lines are cut on the newline byte, so a multi-byte character is never split.
 */
export async function forEachLine(path: string, onLine: (line: string) => void): Promise<number> {
  let count = 0;
  let carry: Buffer | null = null;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buffer: Buffer = carry === null ? chunk : Buffer.concat([carry, chunk]);
    let start = 0;
    let newline = buffer.indexOf(10, start);
    while (newline !== -1) {
      if (newline > start) {
        onLine(buffer.toString("utf8", start, newline));
        count++;
      }
      start = newline + 1;
      newline = buffer.indexOf(10, start);
    }
    carry = start < buffer.length ? buffer.subarray(start) : null;
  }
  if (carry !== null && carry.length > 0) {
    onLine(carry.toString("utf8"));
    count++;
  }
  return count;
}
