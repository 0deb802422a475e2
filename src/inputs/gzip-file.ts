import { createReadStream, statSync } from "node:fs";
import { Readable } from "node:stream";
import { createGunzip, type Gunzip } from "node:zlib";

/**
 * Decompresses a gzip file, members one after another, and keeps every byte of output that comes
 * before a failure.
 *
 * zlib inflates the input of one write in steps of up to 16 KiB of output. When a step ends a
 * member and the next bytes are neither another member nor zero padding, Node (checked with 20.20) fails
 * the whole step with "incorrect header check", and the output of that step, the end of the
 * member, is lost. The file is then decompressed again up to that point, with the bytes of the
 * failed write given one at a time, so that no step reaches past the end of the member.
 */
export function gunzipFile(path: string, raw: Readable): Readable {
  const gunzip = createGunzip();
  raw.pipe(gunzip);
  raw.on("error", (error) => gunzip.destroy(error));
  return Readable.from(decompress(path, gunzip), { objectMode: false });
}

/** Error for bytes after the last gzip member that are neither a member nor zero padding. */
export class TrailingBytesError extends Error {
  constructor(readonly trailingBytes: number) {
    super(`the file ends with ${trailingBytes} ${trailingBytes === 1 ? "byte" : "bytes"} after its gzip data that are not gzip data, which were not read`);
    this.name = "TrailingBytesError";
  }
}

async function* decompress(path: string, gunzip: Gunzip): AsyncGenerator<Buffer> {
  let outputBytes = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      outputBytes += chunk.length;
      yield chunk;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "Z_DATA_ERROR") {
      throw error;
    }
    // `bytesWritten` counts the input of the writes that succeeded, so the failed one starts there.
    const recovered = await decompressUpToFailure(path, gunzip.bytesWritten, outputBytes);
    yield* recovered.output;
    throw isHeaderError(error) ? new TrailingBytesError(recovered.trailingBytes) : error;
  }
}

interface Recovery {
  /** Output after the first `skipBytes` bytes, up to the failure. */
  output: Buffer[];
  /** Bytes of the file from the start of the bytes that failed to its end. */
  trailingBytes: number;
}

/**
 * Decompresses the file again: the first `failedWriteStart` bytes as usual, then the bytes after
 * them one at a time until zlib fails again. Returns the output after the first `skipBytes` bytes,
 * which the first decompression returned already. The output of one write of the first
 * decompression is at most a few megabytes, so it is kept in memory.
 */
async function decompressUpToFailure(path: string, failedWriteStart: number, skipBytes: number): Promise<Recovery> {
  const gunzip = createGunzip();
  const output: Buffer[] = [];
  let outputBytes = 0;
  gunzip.on("data", (chunk: Buffer) => {
    const start = Math.max(0, skipBytes - outputBytes);
    outputBytes += chunk.length;
    if (start < chunk.length) {
      output.push(chunk.subarray(start));
    }
  });
  let written = 0;
  /** Offset of the byte whose write failed. */
  let failedAt: number | undefined;
  const settled = new Promise<void>((resolve) => {
    gunzip.once("error", () => {
      failedAt = written;
      resolve();
    });
    gunzip.once("end", () => resolve());
  });

  if (failedWriteStart > 0) {
    for await (const chunk of createReadStream(path, { end: failedWriteStart - 1, highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
      await writeInOrder(gunzip, chunk, settled);
      written += chunk.length;
    }
  }
  for await (const chunk of createReadStream(path, { start: failedWriteStart, highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    // One byte at a time, so that a write that ends a member contains nothing after it.
    for (let index = 0; index < chunk.length && failedAt === undefined; index += 1) {
      await writeInOrder(gunzip, chunk.subarray(index, index + 1), settled);
      written += 1;
    }
    if (failedAt !== undefined) {
      break;
    }
  }
  if (failedAt === undefined) {
    gunzip.end();
  }
  await settled;
  // zlib rejects a header once it has its second byte, so the bytes that are not gzip start one before.
  const trailingStart = failedAt === undefined ? written : Math.max(failedWriteStart, failedAt - 1);
  return { output, trailingBytes: statSync(path).size - trailingStart };
}

/** Writes `chunk` and resolves once zlib has processed it, or once `settled` resolves because the stream failed or ended. */
function writeInOrder(gunzip: Gunzip, chunk: Buffer, settled: Promise<void>): Promise<void> {
  if (gunzip.destroyed) {
    return Promise.resolve();
  }
  const processed = new Promise<void>((resolve) => gunzip.write(chunk, () => resolve()));
  return Promise.race([processed, settled]);
}

function isHeaderError(error: unknown): boolean {
  return error instanceof Error && /incorrect header check/i.test(error.message);
}
