import { open, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import type { CsvOptions } from "./csv/read-csv.js";
import type { EventType } from "./csv/event-type.js";
import { givenTableOf, tableFromFileName, type CsvTableSettings } from "./csv/table.js";
import { detectFormat, formatNeedsMoreBytes, type InputFormat } from "./detect-format.js";
import { ElementChunkBuilder } from "./element-chunks.js";
import { describeCarriageReturnLines } from "./jsonl.js";
import { itemsFromPart, JsonEventNumbers } from "./json-document.js";
import { JsonSequenceSplitter, MAX_DOCUMENT_BYTES, type JsonSequencePart } from "./json-sequence.js";
import { MAX_LINE_BYTES, readFileLineChunks, readLineChunks, StreamReadError, type FileReader, type LineChunk, type OversizedLine } from "./line-chunks.js";
import { formatCount } from "../reporting/count-format.js";
import { isGzipMagic, openInput, type OpenedInput } from "./open-input.js";
import { TrailingBytesError } from "./gzip-file.js";
import type { InputItem } from "./record.js";

export type { InputFormat };

/**
 * Unit of work the reader hands the pipeline. JSONL lines and the elements of JSON arrays come as
 * bytes from `chunkBuffers`, to be parsed where the work is cheapest (a worker thread). Other JSON
 * documents and CSV rows come as items that the reader had to parse itself.
 */
export type InputBatch = RawChunk | { kind: "items"; items: InputItem[] };

/** JSONL lines from `firstLine` on, or elements of JSON arrays that `elements` locates and numbers (see `forEachElement`). */
export type RawChunk = { kind: "lines"; input: string; firstLine: number; bytes: Buffer } | { kind: "elements"; input: string; bytes: Buffer; elements: Int32Array };

export interface ReadInputOptions {
  /** Forces a format; without it the format is detected from the first bytes. */
  format?: InputFormat;
  /** CSV reading options; without them a CSV input is read with the table taken from its file name. */
  csv?: CsvTableSettings & { type?: EventType; convertNumbers: boolean };
  /** Receives the raw-bytes counter of the opened input, for progress. */
  onOpen?: (progress: { sizeBytes?: number; bytesRead: () => number }) => void;
  /** Receives the format of the input, given or detected, before its first batch. */
  onFormat?: (format: InputFormat) => void;
  /** Aborts a read that waits for bytes, from stdin or a named pipe; the read then fails with an AbortError. */
  signal?: AbortSignal;
  /** Receives warnings about input that was read but not as the user may expect, with its file and line. */
  onWarning?: (message: string) => void;
}

const ITEMS_PER_BATCH = 1000;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/** Bytes that format detection reads at most before it decides, when the first chunk leaves the format open. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Bytes of array elements or CSV rows per batch, as many as `readLineChunks` puts in a chunk of lines. */
const ELEMENT_BYTES_PER_BATCH = 1 << 20;

/** Reads one input (a file or `-`) as batches of events, detecting gzip and the format from the content. */
export async function* readInput(input: string, options: ReadInputOptions = {}): AsyncGenerator<InputBatch> {
  const opened = await openWarningOfSilentPipe(input, options);
  // The bytes read so far, from `opened.stream` unless a plain file is read without it.
  let bytesRead = opened.bytesRead;
  options.onOpen?.({ sizeBytes: opened.sizeBytes, bytesRead: () => bytesRead() });
  const { head, rest } = await peek(opened.stream, options.format === undefined ? formatNeedsMoreBytes : () => false);
  const utf16 = utf16Encoding(head);
  // detectFormat reads UTF-8, and a UTF-16LE file of JSON lines would otherwise be taken for CSV.
  const format = options.format ?? detectFormat(utf16 === "UTF-16LE" ? Buffer.from(head.toString("utf16le")) : head);
  options.onFormat?.(format);
  // Only the CSV reader decodes UTF-16, and only UTF-16LE. Read as UTF-8, every line would be reported.
  if (utf16 !== undefined && (format !== "csv" || utf16 === "UTF-16BE")) {
    opened.stream.destroy();
    yield { kind: "items", items: [utf16Problem(input, utf16)] };
    return;
  }
  // Read as text, the inner gzip data would be reported as a CSV header that is not UTF-8.
  if (opened.gzip && isGzipMagic(head)) {
    opened.stream.destroy();
    yield { kind: "items", items: [doubleGzipProblem(input)] };
    return;
  }

  switch (format) {
    case "jsonl": {
      if (usesCarriageReturnLines(head)) {
        options.onWarning?.(`${input}: its lines end in a carriage return (CR) alone, as on classic Mac OS, so each CR was read as a line break`);
        yield* readJsonLines(input, readLineChunks(carriageReturnsAsLineFeeds(rest)));
        return;
      }
      if (opened.plainFile === undefined) {
        yield* readJsonLines(input, readLineChunks(rest));
        return;
      }
      // The head read for detection is read again, in the first chunk.
      opened.stream.destroy();
      const file: FileReader = { handle: await open(opened.plainFile, "r"), bytesRead: 0 };
      bytesRead = () => file.bytesRead;
      yield* readJsonLines(input, readFileLineChunks(file));
      return;
    }
    case "json":
      yield* readJsonDocuments(input, rest, options.onWarning);
      return;
    case "csv":
      yield* readCsvItems(input, rest, options);
      return;
    default: {
      const unknownFormat: never = format;
      throw new Error(`unknown format ${String(unknownFormat)}`);
    }
  }
}

async function* readJsonLines(input: string, chunks: AsyncIterable<LineChunk | OversizedLine>): AsyncGenerator<InputBatch> {
  try {
    for await (const chunk of chunks) {
      if (chunk.kind === "oversized") {
        yield { kind: "items", items: [oversizedLineProblem(input, chunk)] };
      } else {
        yield { kind: "lines", input, firstLine: chunk.firstLine, bytes: chunk.bytes };
      }
    }
  } catch (error) {
    if (!(error instanceof StreamReadError)) {
      throw error;
    }
    yield { kind: "items", items: [streamProblem(input, error)] };
  }
}

/**
 * Reads a JSON input of one document or several one after another, a document or an array element
 * at a time, so that memory is bounded by the largest of them. The elements of top-level arrays and
 * batch arrays come as bytes, numbered here, so that worker threads can parse them. The other parts
 * come parsed, as items. The events read before a read error are yielded before the error is
 * thrown, or, for gzip data that ends early, before the problem that reports it.
 */
async function* readJsonDocuments(input: string, bytes: AsyncIterable<Buffer>, warn?: (message: string) => void): AsyncGenerator<InputBatch> {
  const splitter = new JsonSequenceSplitter(MAX_DOCUMENT_BYTES);
  const numbers = new JsonEventNumbers();
  // The first batch body with its context after its array is described; the others are counted, for one warning at the end.
  const defaultsAfterBatch = { bodies: 0, events: 0 };
  const onDefaultsAfterBatch = (message: string, events: number): void => {
    if (defaultsAfterBatch.bodies === 0) {
      warn?.(message);
    }
    defaultsAfterBatch.bodies += 1;
    defaultsAfterBatch.events += events;
  };
  const warnOfLaterBodies = (): void => {
    const { bodies, events } = defaultsAfterBatch;
    if (bodies > 1) {
      warn?.(`${input}: ${formatCount(bodies - 1)} more batch bodies have their top-level "context" or "integrations" after their batch array, which was not applied to ${formatCount(events)} events in all (see the warning above)`);
    }
  };
  const elements = new ElementChunkBuilder();
  let items: InputItem[] = [];
  // Batches in input order: adding an element ends the batch of items, and adding an item ends the batch of elements.
  const ready: InputBatch[] = [];
  const endItems = (): void => {
    if (items.length > 0) {
      ready.push({ kind: "items", items });
      items = [];
    }
  };
  const endElements = (): void => {
    const chunk = elements.take();
    if (chunk !== undefined) {
      ready.push({ kind: "elements", input, ...chunk });
    }
  };
  const add = (parts: JsonSequencePart[]): void => {
    for (const part of parts) {
      // An element that gets its body's context is parsed here, so that workers only parse plain elements.
      if (part.kind === "element" && part.defaults === undefined) {
        endItems();
        elements.add(part.bytes, numbers.next(part.place.documentLine), part.firstLine, part.place);
        if (elements.byteLength >= ELEMENT_BYTES_PER_BATCH) {
          endElements();
        }
        continue;
      }
      endElements();
      items.push(...itemsFromPart(part, input, numbers, onDefaultsAfterBatch));
      if (items.length >= ITEMS_PER_BATCH) {
        endItems();
      }
    }
  };
  const endAll = (): InputBatch[] => {
    endItems();
    endElements();
    return ready.splice(0);
  };

  try {
    for await (const chunk of bytes) {
      add(splitter.push(chunk));
      yield* ready.splice(0);
    }
  } catch (error) {
    yield* endAll();
    warnOfLaterBodies();
    if (!endsGzipEarly(error)) {
      throw error;
    }
    const line = splitter.currentLine;
    const message = `${input}:${line}: the gzip data ends early, so the file is truncated at line ${line}; the events before it were read, so download the file again to replay the rest`;
    yield { kind: "items", items: [{ kind: "problem", origin: { input, line }, reason: "truncated-gzip", message }] };
    return;
  }
  add(splitter.end());
  yield* endAll();
  warnOfLaterBodies();
}

async function* readCsvItems(input: string, bytes: AsyncIterable<Buffer>, options: ReadInputOptions): AsyncGenerator<InputBatch> {
  const givenTable = givenTableOf(input, options.csv);
  const csvOptions: CsvOptions = {
    input,
    table: givenTable ?? (input === "-" ? undefined : tableFromFileName(input)),
    tableFromFileName: givenTable === undefined,
    type: options.csv?.type,
    convertNumbers: options.csv?.convertNumbers ?? false,
  };
  // Loaded only when a CSV input is read: the reader and csv-parse are about 30 modules, which took
  // 40 ms or more to load, and most replays read JSON.
  const { readCsvRecords } = await import("./csv/read-csv.js");
  // A batch ends after 1,000 rows or after the rows of about 1 MiB of input, whichever comes first,
  // because a row of thousands of columns becomes an event of thousands of properties.
  let bytesSinceBatch = 0;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of bytes) {
      bytesSinceBatch += chunk.length;
      yield chunk;
    }
  }
  let items: InputItem[] = [];
  for await (const item of readCsvRecords(Readable.from(counted(), { objectMode: false }), csvOptions)) {
    items.push(item);
    if (items.length >= ITEMS_PER_BATCH || bytesSinceBatch >= ELEMENT_BYTES_PER_BATCH) {
      yield { kind: "items", items };
      items = [];
      bytesSinceBatch = 0;
    }
  }
  if (items.length > 0) {
    yield { kind: "items", items };
  }
}

function oversizedLineProblem(input: string, { line, bytes, carriageReturns }: OversizedLine): InputItem {
  const megabytes = (size: number): string => `${Math.round(size / (1024 * 1024))} MiB`;
  const advice = carriageReturns === true ? describeCarriageReturnLines(input) : "Segment events are at most 32 KB, so check that the file is JSON Lines";
  return {
    kind: "problem",
    origin: { input, line },
    reason: "line-too-long",
    message: `${input}:${line}: the line is ${megabytes(bytes)} long, more than the ${megabytes(MAX_LINE_BYTES)} a line may have, so it was skipped; ${advice}`,
  };
}

/** Milliseconds after which a named pipe that gave no byte yet gets a warning, because its writer may never start. */
const SILENT_PIPE_WARNING_MS = 5_000;

/**
 * Opens the input, and warns once when it is a named pipe that gave no byte within 5 seconds,
 * because opening one waits for a writer without a word, and a script may never start it.
 */
async function openWarningOfSilentPipe(input: string, options: ReadInputOptions): Promise<OpenedInput> {
  const warnLater = input !== "-" && options.onWarning !== undefined && (await isFifo(input));
  const timer = warnLater
    ? setTimeout(
        () => options.onWarning?.(`${input}: the named pipe has given no data for ${SILENT_PIPE_WARNING_MS / 1000} s, so koala-replay still waits for its writer; start the program that writes to it, or press Ctrl-C to stop`),
        SILENT_PIPE_WARNING_MS,
      )
    : undefined;
  try {
    return await openInput(input, options.signal);
  } finally {
    clearTimeout(timer);
  }
}

async function isFifo(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFIFO();
  } catch {
    // openInput reports the path that cannot be read.
    return false;
  }
}

function streamProblem(input: string, error: StreamReadError): InputItem {
  const truncated = endsGzipEarly(error.cause) || endsGzipEarly(error);
  if (!truncated && isGzipHeaderError(error)) {
    return {
      kind: "problem",
      origin: { input, line: error.line },
      reason: "unreadable-file",
      // gunzipFile decompresses a regular file again up to these bytes, but stdin and pipes cannot be read again.
      message: `${input}:${error.line}: bytes that are not gzip data follow the gzip data, and the events decompressed in the same step before them, up to 16 KiB, were lost too; decompress the input with gunzip, which skips such bytes, and give the result`,
    };
  }
  const lost = error.partialLine.length > 0 ? ` (the last ${error.partialLine.length} bytes, an incomplete line, were not read)` : "";
  if (error.cause instanceof TrailingBytesError && lost === "") {
    // Every event of the gzip data was read. What the bytes after it hold is unknown, so the file still counts as not wholly read.
    return {
      kind: "problem",
      origin: { input, line: error.line },
      reason: "unreadable-file",
      message: `${input}:${error.line}: every event of the gzip data was read, but ${error.cause.message}; if the file should hold more events, download it again`,
    };
  }
  return {
    kind: "problem",
    origin: { input, line: error.line },
    reason: truncated ? "truncated-gzip" : "unreadable-file",
    message: truncated
      ? `${input}:${error.line}: the gzip data ends early, so the file is truncated${lost}; download it again and send the new copy on its own, with its own --state, because --resume refuses a file that changed (Koala ignores the events sent again, by their message_id)`
      : `${input}:${error.line}: reading failed (${error.message})${lost}`,
  };
}

/** Tests whether zlib rejected bytes after a gzip member as the header of the next one. */
function isGzipHeaderError(error: StreamReadError): boolean {
  return /incorrect header check/i.test(error.message);
}

/** Tests whether a read failed because gzip data ends before its end marker: zlib's `Z_BUF_ERROR`, "unexpected end of file". */
function endsGzipEarly(error: unknown): boolean {
  return error instanceof Error && ((error as NodeJS.ErrnoException).code === "Z_BUF_ERROR" || /unexpected end of file/i.test(error.message));
}

/** Names the UTF-16 encoding whose byte order mark starts `head`, or returns undefined. */
function utf16Encoding(head: Buffer): "UTF-16LE" | "UTF-16BE" | undefined {
  if (head[0] === 0xff && head[1] === 0xfe) return "UTF-16LE";
  if (head[0] === 0xfe && head[1] === 0xff) return "UTF-16BE";
  return undefined;
}

function utf16Problem(input: string, encoding: "UTF-16LE" | "UTF-16BE"): InputItem {
  return {
    kind: "problem",
    origin: { input, line: 0 },
    reason: "not-utf8",
    message:
      `${input}: is ${encoding} text (it starts with that byte order mark), but JSON and JSONL files are read only as UTF-8, and CSV files as UTF-8 or UTF-16LE, so none of its events are read. ` +
      "Save the file as UTF-8, for example with iconv -f UTF-16 -t UTF-8, and send it again.",
  };
}

function doubleGzipProblem(input: string): InputItem {
  return {
    kind: "problem",
    origin: { input, line: 0 },
    reason: "unreadable-file",
    message:
      `${input}: is compressed twice (its gzip data holds gzip data), so none of its events are read. ` +
      "Decompress it once, for example with gunzip -c < file.gz > once.gz, and give the result.",
  };
}

/**
 * Tests whether JSON lines end in CR alone: the first bytes contain a carriage return and no line
 * feed. A CR is invalid inside a JSON string, so outside strings it can only be whitespace or a line end.
 * NOTE: a first line longer than the head that uses CR as whitespace between tokens is misread as
 * several lines; JSON writers do not put CRs there, so this is not checked further.
 */
function usesCarriageReturnLines(head: Buffer): boolean {
  return head.includes(CARRIAGE_RETURN) && !head.includes(LINE_FEED);
}

/** Replaces every carriage return with a line feed, in place, in buffers that only this reader holds. */
async function* carriageReturnsAsLineFeeds(bytes: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of bytes) {
    for (let index = chunk.indexOf(CARRIAGE_RETURN); index !== -1; index = chunk.indexOf(CARRIAGE_RETURN, index + 1)) {
      chunk[index] = LINE_FEED;
    }
    yield chunk;
  }
}

/**
 * Reads the first chunks of a stream without losing them: `rest` yields them again, then the
 * remainder. It reads on while `needsMore` returns true for the bytes read, up to `MAX_HEAD_BYTES`, because
 * a pipe can deliver its first bytes in pieces of any size.
 */
async function peek(stream: Readable, needsMore: (head: Buffer) => boolean): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = false;
  let failure: { error: unknown } | undefined;
  try {
    do {
      const next = await iterator.next();
      if (next.done === true) {
        ended = true;
      } else {
        chunks.push(next.value);
        length += next.value.length;
      }
    } while (!ended && (length === 0 || (length < MAX_HEAD_BYTES && needsMore(Buffer.concat(chunks, length)))));
  } catch (error) {
    failure = { error };
  }
  const head = Buffer.concat(chunks, length);

  async function* rest(): AsyncGenerator<Buffer> {
    if (length > 0) {
      yield head;
    }
    if (failure !== undefined) {
      throw failure.error;
    }
    if (ended) {
      return;
    }
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      yield next.value;
    }
  }
  return { head, rest: rest() };
}
