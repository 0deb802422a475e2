import { createWriteStream } from "node:fs";
import { rename } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { archiveLines, type ArchiveShape } from "./archive.js";

export interface ArchiveFile extends ArchiveShape {
  out: string;
  gzip: boolean;
}

export interface WrittenArchive {
  path: string;
  events: number;
  /** Bytes of JSONL before compression. */
  uncompressedBytes: number;
}

/** Lines are grouped into chunks of about this size before they are written. */
const chunkBytes = 256 * 1024;

/**
 * Writes a generated archive, streaming: memory stays flat whatever the size. The file appears
 * under its name only once complete, so an interrupted run never leaves a truncated archive behind.
 */
export async function writeArchive(file: ArchiveFile): Promise<WrittenArchive> {
  let uncompressedBytes = 0;
  const chunks = Readable.from(
    (function* chunkedLines(): Generator<string> {
      let chunk = "";
      for (const line of archiveLines(file)) {
        chunk += line + "\n";
        if (chunk.length >= chunkBytes) {
          uncompressedBytes += Buffer.byteLength(chunk);
          yield chunk;
          chunk = "";
        }
      }
      uncompressedBytes += Buffer.byteLength(chunk);
      if (chunk !== "") yield chunk;
    })(),
  );
  const partialPath = `${file.out}.partial-${process.pid}`;
  const output = createWriteStream(partialPath);
  if (file.gzip) await pipeline(chunks, createGzip(), output);
  else await pipeline(chunks, output);
  await rename(partialPath, file.out);
  return { path: file.out, events: file.events, uncompressedBytes };
}
