import { open } from "node:fs/promises";
import { extname } from "node:path";
import { Readable } from "node:stream";
import { isNamedPipe, openNamedPipe } from "../inputs/named-pipe.js";
import { createGunzip } from "node:zlib";
import { isGzipMagic } from "../inputs/open-input.js";
import type { IdentityGraph } from "./identity-graph.js";
import type { IdentityRow, RowOutcome } from "./identity-row.js";
import { readJsonlIdentities } from "./identities-jsonl.js";
import { IdentitiesFileError } from "./identities-file-error.js";

export type IdentitiesFormat = "csv" | "jsonl";

/** A row of an identities file that could not be used. */
export interface IdentitiesFileProblem {
  /** 1-based line of the file; for CSV the line where the row ends, the header being line 1. */
  line: number;
  message: string;
}

export interface LoadIdentitiesOptions {
  /** Format of the file; by default from the extension (`.csv`, `.jsonl`, `.ndjson`, `.json`), else from its first character. */
  format?: IdentitiesFormat;
  /** Name used in messages (default: the path, or `identities` for a stream). */
  name?: string;
  /** Called for every bad row, in order. */
  onProblem?: (problem: IdentitiesFileProblem) => void;
  /** How many problems the result keeps (default 100); all are counted. */
  maxProblemsKept?: number;
  /**
   * Stops reading when aborted (Ctrl-C): the promise then rejects with the signal's reason, and the
   * graph keeps the identities read until then.
   */
  signal?: AbortSignal;
}

export interface LoadIdentitiesResult {
  format: IdentitiesFormat;
  /** Data rows read, not counting a CSV header or blank lines. */
  rows: number;
  /** Rows that gave an email to a userId or anonymousId. */
  identities: number;
  /** Rows with an id and an empty email: normal in a warehouse export, not a problem. */
  rowsWithoutEmail: number;
  badRows: number;
  /** The first `maxProblemsKept` bad rows. */
  problems: IdentitiesFileProblem[];
}

/** Receives each row's outcome from a format reader. */
export type RowSink = (outcome: RowOutcome, line: number) => void;

const DEFAULT_MAX_PROBLEMS_KEPT = 100;

/**
 * Reads a CSV or JSONL file (gzip-compressed or not) of `userId`/`anonymousId` and `email` into
 * the graph. Bad rows are counted and reported with their line, never fatal. Throws
 * IdentitiesFileError when the file cannot be opened, read or decompressed, or a CSV header has no
 * id or email column.
 */
export async function loadIdentities(
  source: string | Readable,
  graph: IdentityGraph,
  options: LoadIdentitiesOptions = {},
): Promise<LoadIdentitiesResult> {
  const name = options.name ?? (typeof source === "string" ? source : "identities");
  const opened = typeof source === "string" ? await openFile(source, name) : source;
  const result: LoadIdentitiesResult = {
    format: "csv",
    rows: 0,
    identities: 0,
    rowsWithoutEmail: 0,
    badRows: 0,
    problems: [],
  };
  const maxProblemsKept = options.maxProblemsKept ?? DEFAULT_MAX_PROBLEMS_KEPT;

  const sink: RowSink = (outcome, line) => {
    result.rows++;
    switch (outcome.kind) {
      case "identity":
        addIdentity(graph, outcome.identity);
        result.identities++;
        return;
      case "no-email":
        result.rowsWithoutEmail++;
        return;
      case "problem": {
        const problem = { line, message: `${name}:${line}: row ${outcome.message}. The row is skipped.` };
        result.badRows++;
        if (result.problems.length < maxProblemsKept) result.problems.push(problem);
        options.onProblem?.(problem);
        return;
      }
      default:
        return assertNever(outcome);
    }
  };

  // A stream may wait long for more data, so an abort also destroys it, which ends a pending read of
  // a pipe or socket at once. A file stream still finishes a read in progress first, and the readers
  // check the signal between rows.
  const signal = options.signal;
  const stopReading = (): void => {
    opened.destroy(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
  };
  signal?.addEventListener("abort", stopReading, { once: true });
  try {
    signal?.throwIfAborted();
    const { format, stream } = await chooseFormat(await gunzipIfCompressed(opened), options.format ?? formatFromPath(source));
    result.format = format;
    if (format === "csv") {
      // Imported here, because csv-parse and the CSV checks are 13 modules that a send without a CSV --identities file never uses.
      const { readCsvIdentities } = await import("./identities-csv.js");
      await readCsvIdentities(stream, name, sink, signal);
    } else {
      await readJsonlIdentities(stream, sink, signal);
    }
    signal?.throwIfAborted();
  } catch (error) {
    if (signal?.aborted === true) {
      throw signal.reason;
    }
    throw describeReadError(error, name);
  } finally {
    signal?.removeEventListener("abort", stopReading);
    opened.destroy();
  }
  return result;
}

async function openFile(path: string, name: string): Promise<Readable> {
  try {
    // A pipe is read through the event loop, so that Ctrl-C stops a read that waits for its writer.
    if (await isNamedPipe(path)) {
      return await openNamedPipe(path);
    }
    const handle = await open(path, "r");
    return handle.createReadStream();
  } catch (error) {
    throw describeReadError(error, name);
  }
}

function addIdentity(graph: IdentityGraph, identity: IdentityRow): void {
  graph.observeEmail(identity.userId, identity.anonymousId, identity.email, identity.time);
}

function formatFromPath(source: string | Readable): IdentitiesFormat | undefined {
  if (typeof source !== "string") return undefined;

  const extension = extname(source).toLowerCase();
  if (extension === ".csv") return "csv";
  if (extension === ".jsonl" || extension === ".ndjson" || extension === ".json") return "jsonl";
  return undefined;
}

/** Maximum bytes read to find the gzip magic or the first character of the text, after leading whitespace. */
const FORMAT_SNIFF_MAX_BYTES = 64 * 1024;

/**
 * Returns the stream's bytes, gunzipped when they start with the gzip magic bytes, as inputs are
 * read: a warehouse export is often gzip-compressed. A pipe may deliver the two magic bytes in
 * separate reads, so reading goes on until two bytes have come or the stream ends.
 */
async function gunzipIfCompressed(stream: Readable): Promise<Readable> {
  const { head, rest } = await peekHead(stream, (bytes) => bytes.length >= 2);
  if (!isGzipMagic(head)) {
    return rest;
  }
  const gunzip = createGunzip();
  rest.on("error", (error) => gunzip.destroy(error));
  return rest.pipe(gunzip);
}

/**
 * Reads chunks of a stream until `isEnough` accepts the bytes read so far, the stream ends, or
 * `FORMAT_SNIFF_MAX_BYTES` have come. Returns those bytes, and a stream of every chunk, those
 * included.
 */
async function peekHead(stream: Readable, isEnough: (head: Buffer) => boolean): Promise<{ head: Buffer; rest: Readable }> {
  const iterator: AsyncIterator<Buffer | string> = stream[Symbol.asyncIterator]();
  const peeked: Array<Buffer | string> = [];
  let head = Buffer.alloc(0);
  let ended = false;
  while (!isEnough(head) && head.length < FORMAT_SNIFF_MAX_BYTES) {
    const next = await iterator.next();
    if (next.done === true) {
      ended = true;
      break;
    }
    peeked.push(next.value);
    head = Buffer.concat([head, Buffer.from(next.value)]);
  }

  async function* replay(): AsyncGenerator<Buffer | string> {
    yield* peeked;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  return { head, rest: Readable.from(replay(), { objectMode: false }) };
}

/** Uses the given format, or takes JSONL when the first character other than whitespace is `{`. */
async function chooseFormat(
  stream: Readable,
  format: IdentitiesFormat | undefined,
): Promise<{ format: IdentitiesFormat; stream: Readable }> {
  if (format !== undefined) return { format, stream };

  // The first character may come after a byte order mark and blank lines, in a later read than the first.
  const { head, rest } = await peekHead(stream, (bytes) => /^\uFEFF?\s*\S/.test(bytes.toString("utf8")));
  const detected: IdentitiesFormat = /^\uFEFF?\s*\{/.test(head.toString("utf8")) ? "jsonl" : "csv";
  return { format: detected, stream: rest };
}

function describeReadError(error: unknown, name: string): Error {
  if (error instanceof IdentitiesFileError) {
    return error;
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const expected = "a CSV or JSONL file of userId/anonymousId and email, such as a warehouse users export";
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return new IdentitiesFileError(`identities file not found: ${name}`, name, `check the path given to --identities (${expected})`, { cause: error });
    case "EISDIR":
      return new IdentitiesFileError(`--identities names a directory: ${name}`, name, `give the path of ${expected}`, { cause: error });
    case "EACCES":
    case "EPERM":
      return new IdentitiesFileError(`identities file cannot be read: ${name} (${code})`, name, "check the permissions of the file", { cause: error });
    case "Z_BUF_ERROR":
    case "Z_DATA_ERROR":
      return new IdentitiesFileError(
        `identities file ${name} is gzip-compressed but cannot be decompressed (${(error as Error).message})`,
        name,
        "the file is cut short or damaged: copy or download it again",
        { cause: error },
      );
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}

function assertNever(value: never): never {
  throw new Error(`Unhandled row outcome: ${JSON.stringify(value)}`);
}
