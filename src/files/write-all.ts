import { writeSync } from "node:fs";

/**
 * Writes every byte of `bytes` to `descriptor`, at `position` or, without one, at the file's
 * current offset. write(2) may write only part of the bytes and succeed, as when the disk fills up
 * or a file-size limit is reached, and only the next call fails with ENOSPC or EFBIG. One
 * `writeSync` would leave the file cut short without an error, so this loops until that error.
 */
export function writeAll(descriptor: number, bytes: Uint8Array, position?: number): void {
  let written = 0;
  while (written < bytes.length) {
    const at = position === undefined ? null : position + written;
    const count = writeSync(descriptor, bytes, written, bytes.length - written, at);
    if (count === 0) {
      // A regular file never takes 0 bytes of a non-empty write, but looping on it would never end.
      throw Object.assign(new Error(`write returned 0 of ${bytes.length - written} bytes`), { code: "EIO" });
    }
    written += count;
  }
}
