import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";

/** Cheap identity of an input file's content, which a changed file fails to match. */
export interface InputFingerprint {
  size: number;
  mtimeMs: number;
  /** SHA-256 of the first and last 64 KiB, so an edit near either end is caught without reading it all. */
  headTailSha256: string;
}

const SAMPLE_BYTES = 64 * 1024;

/** Fingerprints the file at `path`. Returns undefined for a folder, a pipe or a path that cannot be opened. */
export function fingerprintFile(path: string): InputFingerprint | undefined {
  // Opening a named pipe would wait for a writer, and closing it would cut the writer off.
  if (!isRegularFile(path)) {
    return undefined;
  }
  let descriptor: number;
  try {
    descriptor = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(descriptor);
    if (!stats.isFile()) {
      // A folder's files are fingerprinted one by one as they are read.
      return undefined;
    }
    const hash = createHash("sha256");
    hash.update(readSample(descriptor, 0, Math.min(SAMPLE_BYTES, stats.size)));
    const tailStart = Math.max(SAMPLE_BYTES, stats.size - SAMPLE_BYTES);
    hash.update(readSample(descriptor, tailStart, stats.size - tailStart));
    return { size: stats.size, mtimeMs: stats.mtimeMs, headTailSha256: hash.digest("hex") };
  } finally {
    closeSync(descriptor);
  }
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
  } catch {
    return false;
  }
}

function readSample(descriptor: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(Math.max(0, length));
  let filled = 0;
  while (filled < buffer.length) {
    const read = readSync(descriptor, buffer, filled, buffer.length - filled, position + filled);
    if (read === 0) {
      break;
    }
    filled += read;
  }
  return buffer.subarray(0, filled);
}

/** Describes how `current` differs from `recorded`, for the error that rejects a resume. */
export function describeFingerprintChange(recorded: InputFingerprint, current: InputFingerprint | undefined): string | undefined {
  if (current === undefined) {
    return "it can no longer be opened";
  }
  if (recorded.size !== current.size) {
    return `its size changed from ${recorded.size} to ${current.size} bytes`;
  }
  if (recorded.headTailSha256 !== current.headTailSha256) {
    return "its content changed";
  }
  if (recorded.mtimeMs !== current.mtimeMs) {
    return `its modification time changed from ${new Date(recorded.mtimeMs).toISOString()} to ${new Date(current.mtimeMs).toISOString()}`;
  }
  return undefined;
}
