import type { Readable } from "node:stream";
import { chunkBuffers } from "../inputs/chunk-buffers.js";
import { MAX_ROW_BYTES } from "../inputs/csv/parse-problems.js";
import { readLineChunks, StreamReadError } from "../inputs/line-chunks.js";
import type { RowSink } from "./identities-file.js";
import { lostBytesInDecoding } from "../inputs/utf8.js";
import { chooseFields, normalizeFieldName, NOT_UTF8_ROW, readIdentityRow, type RowOutcome } from "./identity-row.js";

const NEWLINE = 0x0a;

/** Bytes of lines decoded at a time. */
const CHUNK_BYTES = 1 << 20;

/**
 * Reads one JSON object a line: `{"userId": "u1", "anonymousId": "a1", "email": "…", "timestamp": "…"}`,
 * with the same key spellings as CSV headers (`user_id`, `anonymous_id`, …). `traits.email` is read
 * too, so a file of identify calls works. Blank lines are skipped. A line longer than
 * `MAX_ROW_BYTES` (32 MiB, the limit of a CSV row) is reported and skipped without being held in
 * memory, and the lines after it are read. Reading stops at the first line read after `signal` is
 * aborted.
 */
export async function readJsonlIdentities(stream: Readable, sink: RowSink, signal?: AbortSignal): Promise<void> {
  try {
    for await (const chunk of readLineChunks(stream, CHUNK_BYTES, MAX_ROW_BYTES)) {
      if (signal?.aborted === true) {
        return;
      }
      if (chunk.kind === "oversized") {
        sink({ kind: "problem", message: describeOversizedLine(chunk.bytes) }, chunk.line);
        continue;
      }
      const keepReading = readLines(chunk.bytes, chunk.firstLine, sink, signal);
      chunkBuffers.give(chunk.bytes);
      if (!keepReading) {
        return;
      }
    }
  } catch (error) {
    // The caller reports the stream's own error, such as a damaged gzip file, with its code.
    throw error instanceof StreamReadError ? error.cause : error;
  }
}

/**
 * Reads the lines of `bytes`, the first of which is line `firstLine`. Lines are cut and decoded one
 * by one, so that a line whose bytes are not UTF-8 is reported. Returns false once `signal` is aborted.
 */
function readLines(bytes: Buffer, firstLine: number, sink: RowSink, signal: AbortSignal | undefined): boolean {
  let start = 0;
  let lineNumber = firstLine;
  while (start < bytes.length) {
    if (signal?.aborted === true) {
      return false;
    }
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) {
      end = bytes.length;
    }
    const text = bytes.toString("utf8", start, end);
    let line = text.replace(/\r$/, "");
    if (lineNumber === 1) line = line.replace(/^\uFEFF/, "");
    if (lostBytesInDecoding(text, bytes, start, end)) {
      sink(NOT_UTF8_ROW, lineNumber);
    } else if (line.trim() !== "") {
      sink(readJsonLine(line), lineNumber);
    }
    lineNumber += 1;
    start = end + 1;
  }
  return true;
}

function describeOversizedLine(bytes: number): string {
  const megabytes = (count: number): string => `${Math.round(count / (1024 * 1024))} MiB`;
  return `is ${megabytes(bytes)} long, more than the ${megabytes(MAX_ROW_BYTES)} a line may have, so it was not held in memory; check that the file is JSON Lines, one object a line`;
}

function readJsonLine(line: string): RowOutcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    return { kind: "problem", message: `is not valid JSON (${(error as Error).message})` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { kind: "problem", message: "is not a JSON object" };
  }

  const values = normalizedValues(parsed as Record<string, unknown>);
  const fields = chooseFields(new Set(values.keys()));
  return readIdentityRow(fields, (field) => values.get(field));
}

function normalizedValues(object: Record<string, unknown>): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const [key, value] of Object.entries(object)) {
    values.set(normalizeFieldName(key), value);
  }

  const traits = object["traits"];
  if (!values.has("email") && typeof traits === "object" && traits !== null) {
    values.set("email", (traits as Record<string, unknown>)["email"]);
  }
  return values;
}
