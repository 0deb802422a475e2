import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { addAbortSignal, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";

/** The two bytes every gzip member starts with (RFC 1952). */
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export interface OpenedInput {
  /** The input's bytes, gunzipped when they were gzip. */
  stream: Readable;
  gzip: boolean;
  /** Size on disk in bytes, when the input is a regular file. */
  sizeBytes?: number;
  /** Raw (still compressed) bytes read so far, for progress; 0 for stdin. */
  bytesRead: () => number;
}

/**
 * Opens a file, or stdin for `-`, as a byte stream. gzip is recognised by its magic bytes and never
 * by the file name, because some download paths hand S3 objects over already gunzipped while
 * keeping the `.gz` name.
 */
export async function openInput(input: string, signal?: AbortSignal): Promise<OpenedInput> {
  if (input === "-") {
    return openStdin(signal);
  }
  const { gzip, sizeBytes } = await sniffFile(input);
  const raw = createReadStream(input, { highWaterMark: 256 * 1024 });
  if (signal !== undefined) {
    // A named pipe can wait for its writer forever.
    addAbortSignal(signal, raw);
  }
  const stream = gzip ? raw.pipe(createGunzip()) : raw;
  if (gzip) {
    raw.on("error", (error) => stream.destroy(error));
  }
  return { stream, gzip, sizeBytes, bytesRead: () => raw.bytesRead };
}

async function sniffFile(path: string): Promise<{ gzip: boolean; sizeBytes: number }> {
  const handle = await open(path, "r");
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) {
      throw Object.assign(new Error(`${path} is a directory`), { code: "EISDIR" });
    }
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return { gzip: bytesRead === 2 && isGzipMagic(head), sizeBytes: stat.size };
  } finally {
    await handle.close();
  }
}

export function isGzipMagic(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
}

async function openStdin(signal: AbortSignal | undefined): Promise<OpenedInput> {
  const stdin = process.stdin;
  if (signal !== undefined) {
    // A writer that stays open without writing would otherwise keep the run waiting after Ctrl-C.
    addAbortSignal(signal, stdin);
  }
  const head = await readFirstChunk(stdin);
  if (head !== undefined) {
    stdin.unshift(head);
  }
  const gzip = head !== undefined && isGzipMagic(head);
  const stream = gzip ? stdin.pipe(createGunzip()) : stdin;
  if (gzip) {
    stdin.on("error", (error) => stream.destroy(error));
  }
  return { stream, gzip, bytesRead: () => 0 };
}

function readFirstChunk(stream: Readable): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const onReadable = (): void => {
      const chunk = stream.read() as Buffer | null;
      if (chunk === null) {
        return;
      }
      cleanup();
      resolve(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(undefined);
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
