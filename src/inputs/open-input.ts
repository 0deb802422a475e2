import { createReadStream, type Stats } from "node:fs";
import { open, stat } from "node:fs/promises";
import { addAbortSignal, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { gunzipFile } from "./gzip-file.js";
import { openNamedPipe } from "./named-pipe.js";
import { isStandardInput } from "./read-once.js";

/** The two bytes every gzip member starts with (RFC 1952). */
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const GZIP_MAGIC_LENGTH = 2;

export interface OpenedInput {
  /** The input's bytes, gunzipped when they were gzip. */
  stream: Readable;
  gzip: boolean;
  /** Size on disk in bytes, when the input is a regular file. */
  sizeBytes?: number;
  /** Raw (still compressed) bytes read so far, for progress; 0 for stdin. */
  bytesRead: () => number;
  /** The path of a regular file that is not gzip, which can be read without `stream` (see `readFileLineChunks`). */
  plainFile?: string;
}

/**
 * Opens a file, or stdin for `-`, as a byte stream. gzip is recognised by its magic bytes and never
 * by the file name, because some download paths hand S3 objects over already gunzipped while
 * keeping the `.gz` name. A regular file is sniffed at position 0 before it is read. stdin, a named
 * pipe, a pipe from `<(…)` and a character device cannot seek, so their first bytes are read
 * from the stream and put back in front of it.
 */
export async function openInput(input: string, signal?: AbortSignal): Promise<OpenedInput> {
  if (input === "-") {
    return openWithoutSeeking(process.stdin, () => 0, signal);
  }
  const found = await stat(input);
  if (found.isDirectory()) {
    throw Object.assign(new Error(`${input} is a directory`), { code: "EISDIR" });
  }
  if (found.isSocket()) {
    throw new Error(describeSocketInput(input, found));
  }
  if (found.isFIFO()) {
    // Read through the event loop, so that Ctrl-C stops a read that waits for the writer.
    const pipe = await openNamedPipe(input);
    return openWithoutSeeking(pipe, () => pipe.bytesRead, signal);
  }
  if (!found.isFile()) {
    // Without `start`, the stream reads at the current position, which a character device needs.
    const device = createReadStream(input, { highWaterMark: 256 * 1024 });
    return openWithoutSeeking(device, () => device.bytesRead, signal);
  }
  return openRegularFile(input, signal);
}

/**
 * Describes why the socket at `path` cannot be read, and what to give instead. Linux rejects the
 * open of a socket with ENXIO. It is usually standard input given by its path (`/dev/stdin`) when
 * the parent process connected stdin with a socket pair, as Node's child_process does.
 */
export function describeSocketInput(path: string, stats: Stats): string {
  if (isStandardInput(stats)) {
    return `it is standard input, which is a socket here, and a socket cannot be opened by its path; give - instead of ${path} to read standard input`;
  }
  return `it is a Unix domain socket, which cannot be opened as a file; save what its server sends to a file and give that file, or pipe it in and give -`;
}

async function openRegularFile(input: string, signal: AbortSignal | undefined): Promise<OpenedInput> {
  const { gzip, sizeBytes } = await sniffFile(input);
  const raw = createReadStream(input, { highWaterMark: 256 * 1024 });
  if (signal !== undefined) {
    addAbortSignal(signal, raw);
  }
  // A regular file can be read again, which lets gunzipFile keep the output before a failure.
  const stream = gzip ? gunzipFile(input, raw) : raw;
  return { stream, gzip, sizeBytes, bytesRead: () => raw.bytesRead, plainFile: gzip ? undefined : input };
}

async function sniffFile(path: string): Promise<{ gzip: boolean; sizeBytes: number }> {
  const handle = await open(path, "r");
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) {
      throw Object.assign(new Error(`${path} is a directory`), { code: "EISDIR" });
    }
    const head = Buffer.alloc(GZIP_MAGIC_LENGTH);
    const { bytesRead } = await handle.read(head, 0, GZIP_MAGIC_LENGTH, 0);
    return { gzip: bytesRead === GZIP_MAGIC_LENGTH && isGzipMagic(head), sizeBytes: stat.size };
  } finally {
    await handle.close();
  }
}

export function isGzipMagic(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
}

/**
 * Opens a stream that cannot seek (stdin, a pipe, a character device): its first bytes show
 * whether it is gzip, and are then read again as the start of the stream.
 */
async function openWithoutSeeking(raw: Readable, bytesRead: () => number, signal: AbortSignal | undefined): Promise<OpenedInput> {
  if (signal !== undefined) {
    // A writer that stays open without writing would otherwise keep the run waiting after Ctrl-C.
    addAbortSignal(signal, raw);
  }
  const { head, ended } = await readHead(raw, GZIP_MAGIC_LENGTH);
  let source = raw;
  if (ended || raw.readableEnded) {
    // The stream ended while its head was read, and an ended stream takes nothing back.
    source = Readable.from(head.length > 0 ? [head] : []);
  } else {
    source.unshift(head);
  }
  return { ...gunzipIf(isGzipMagic(head), source), bytesRead };
}

function gunzipIf(gzip: boolean, raw: Readable): { stream: Readable; gzip: boolean } {
  if (!gzip) {
    return { stream: raw, gzip };
  }
  const stream = raw.pipe(createGunzip());
  raw.on("error", (error) => stream.destroy(error));
  return { stream, gzip };
}

/**
 * Reads from `stream` until at least `minBytes` bytes have come or the stream ends, without
 * seeking. A pipe may deliver its first bytes in pieces, so one chunk can be shorter than the gzip
 * magic. Returns the bytes read, and whether the stream ended.
 */
function readHead(stream: Readable, minBytes: number): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onReadable = (): void => {
      for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) {
        chunks.push(chunk);
        length += chunk.length;
      }
      if (length >= minBytes) {
        cleanup();
        resolve({ head: Buffer.concat(chunks, length), ended: false });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ head: Buffer.concat(chunks, length), ended: true });
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const cleanup = (): void => {
      stream.off("readable", onReadable);
      stream.off("end", onEnd);
      stream.off("error", onError);
    };
    stream.on("readable", onReadable);
    stream.once("end", onEnd);
    stream.once("error", onError);
  });
}
