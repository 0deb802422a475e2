import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import type { InputSource } from "./expand-inputs.js";
import { isGzipMagic } from "./open-input.js";

/** An input whose content, decompressed, is the same as that of an input read before it. */
export interface CopiedInput {
  copy: string;
  original: string;
  /** Whether either file is gzip data, whose content was compared once decompressed. */
  decompressed: boolean;
}

/** One regular file among the inputs, with the size of its content once decompressed. */
interface ContentSize {
  path: string;
  gzip: boolean;
  /** Bytes of the decompressed content, modulo 2^32, which is all that a gzip trailer keeps. */
  sizeModulo: number;
}

/** Files whose size or gzip trailer is read at the same time. */
const CONCURRENT_STATS = 32;

/**
 * Finds the inputs whose content is the same as that of an input read before them, once both are
 * decompressed, such as an S3 object `x.gz` and its decompressed copy `x.decompressed.jsonl` in one
 * folder. Each copy is named before the run reads it, whatever becomes of its events (skipped, sent or duplicates).
 *
 * Only files whose content has the same size are compared, so most runs read no byte here. The size
 * of a gzip file's content is its trailer's ISIZE, the size of its last member modulo 2^32, so a
 * copy of a file of several gzip members is not found. A file that cannot be read, or a gzip file
 * that cannot be decompressed, is left out: reading it reports the problem.
 */
export async function findCopiedInputs(sources: readonly InputSource[]): Promise<CopiedInput[]> {
  const files = sources.filter((source) => source.readOnce === undefined && source.path !== "-").map((source) => source.path);
  const sizes: ContentSize[] = [];
  for (let start = 0; start < files.length; start += CONCURRENT_STATS) {
    const batch = await Promise.all(files.slice(start, start + CONCURRENT_STATS).map((path) => contentSizeOf(path)));
    sizes.push(...batch.filter((size): size is ContentSize => size !== undefined));
  }
  const bySize = new Map<number, ContentSize[]>();
  for (const size of sizes) {
    const group = bySize.get(size.sizeModulo) ?? [];
    group.push(size);
    bySize.set(size.sizeModulo, group);
  }
  const copies: CopiedInput[] = [];
  for (const [size, group] of bySize) {
    // Files without content contain no events to read twice.
    if (size > 0 && group.length > 1) {
      copies.push(...(await findCopiesAmong(group)));
    }
  }
  // In the order the inputs are read, as the warnings name them.
  const order = new Map(files.map((path, index) => [path, index]));
  return copies.sort((left, right) => (order.get(left.copy) ?? 0) - (order.get(right.copy) ?? 0));
}

/** Compares the content of files of one size, and returns each file whose content an earlier one has. */
async function findCopiesAmong(group: readonly ContentSize[]): Promise<CopiedInput[]> {
  const firstByHash = new Map<string, ContentSize>();
  const copies: CopiedInput[] = [];
  for (const file of group) {
    const hash = await hashContent(file);
    if (hash === undefined) {
      continue;
    }
    const original = firstByHash.get(hash);
    if (original === undefined) {
      firstByHash.set(hash, file);
    } else {
      copies.push({ copy: file.path, original: original.path, decompressed: file.gzip || original.gzip });
    }
  }
  return copies;
}

/** Returns the size of a file's content, or undefined for an empty file, one that is not regular or one that cannot be read. */
async function contentSizeOf(path: string): Promise<ContentSize | undefined> {
  try {
    const info = await stat(path);
    if (!info.isFile() || info.size === 0) {
      return undefined;
    }
    const handle = await open(path, "r");
    try {
      const head = Buffer.alloc(2);
      await handle.read(head, 0, 2, 0);
      // The smallest gzip member is 18 bytes: a 10-byte header, an empty deflate block and an 8-byte trailer.
      if (!isGzipMagic(head) || info.size < 18) {
        return { path, gzip: false, sizeModulo: info.size % 2 ** 32 };
      }
      const trailer = Buffer.alloc(4);
      await handle.read(trailer, 0, 4, info.size - 4);
      return { path, gzip: true, sizeModulo: trailer.readUInt32LE(0) };
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/** Returns the SHA-256 of a file's content, decompressed for a gzip file, or undefined when it cannot be read. */
async function hashContent(file: ContentSize): Promise<string | undefined> {
  const hash = createHash("sha256");
  const raw = createReadStream(file.path);
  const content = file.gzip ? raw.pipe(createGunzip()) : raw;
  raw.on("error", (error) => content.destroy(error));
  try {
    for await (const chunk of content as AsyncIterable<Buffer>) {
      hash.update(chunk);
    }
    return hash.digest("hex");
  } catch {
    return undefined;
  } finally {
    raw.destroy();
  }
}
