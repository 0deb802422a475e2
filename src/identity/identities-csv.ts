import { isUtf8 } from "node:buffer";
import { parse } from "csv-parse";
import { Transform, type Readable } from "node:stream";
import type { RowSink } from "./identities-file.js";
import { IDENTITIES_COLUMNS_HINT, IdentitiesFileError } from "./identities-file-error.js";
import { chooseFields, normalizeFieldName, NOT_UTF8_ROW, readIdentityRow, type RowFields } from "./identity-row.js";
import { ByteWindow } from "../inputs/csv/byte-window.js";
import { MAX_ROW_BYTES } from "../inputs/csv/parse-problems.js";
import { findQuoteProblem, type QuoteProblem } from "../inputs/csv/quote-check.js";
import { RowSizeGuard, type OversizedRow } from "../inputs/csv/row-size-guard.js";

interface ParsedRecord {
  record: string[];
  /** `bytes` is the offset just past the record, from the start of the input. */
  info: { lines: number; bytes: number };
  /** The record's text as read, for checking its quotes. */
  raw: string;
}

/**
 * Reads a CSV file with a header row. Headers match case-insensitively and ignore `_`, `-`, `.` and spaces, so a
 * warehouse `users` or `identifies` export works as it is. A row with fewer or more cells than the
 * header is reported, and so is a row whose quotes break CSV's rules: csv-parse reads such a row
 * as text (`relax_quotes`), so that the rows after it are not lost, and its raw text is checked.
 * A row longer than `MAX_ROW_BYTES` (32 MiB), usually a quote never closed, is reported and left
 * out by a `RowSizeGuard` before csv-parse buffers it, so memory stays bounded by that size.
 * Reading stops at the first row read after `signal` is aborted.
 */
export async function readCsvIdentities(stream: Readable, name: string, sink: RowSink, signal?: AbortSignal): Promise<void> {
  const guard = new RowSizeGuard(MAX_ROW_BYTES);
  // The bytes given to the parser, so that a row with U+FFFD can be checked for bytes that are not UTF-8.
  const window = new ByteWindow();
  // csv-parse (6.2) cannot go on after its own record size error, and reports it again for every
  // chunk after it, so the bytes after the first such error are read but not parsed.
  let skipRest = false;
  const guarded = new Transform({
    transform: (chunk: Buffer, _encoding, callback) => (skipRest ? callback() : callback(null, windowed(guard.push(chunk)))),
    flush: (callback) => (skipRest ? callback() : callback(null, windowed(guard.end()))),
  });
  const windowed = (bytes: Buffer): Buffer => {
    window.append(bytes);
    return bytes;
  };
  const parser = parse({
    bom: true,
    info: true,
    relax_column_count: true,
    relax_quotes: true,
    raw: true,
    record_delimiter: ["\r\n", "\n", "\r"],
    skip_empty_lines: true,
    skip_records_with_error: true,
    // The guard drops longer rows first, in UTF-8 and UTF-16LE input, so this limit is only a safety net.
    max_record_size: MAX_ROW_BYTES,
    on_skip: (error) => {
      if (skipRest) {
        return undefined;
      }
      const line = typeof error?.["lines"] === "number" ? error["lines"] : 0;
      let message = `is not valid CSV (${error?.message ?? "unknown error"})`;
      if (error?.code === "CSV_MAX_RECORD_SIZE") {
        skipRest = true;
        message = `is longer than ${megabytes(MAX_ROW_BYTES)}, which usually means a quote that is never closed, so the rest of the file is not read. Check the quotes of this row`;
      }
      sink({ kind: "problem", message }, line);
      return undefined;
    },
  });
  // pipe() does not pass a read error on, and the loop below would wait for ever without it.
  stream.once("error", (error) => parser.destroy(error));
  guarded.once("error", (error) => parser.destroy(error));
  stream.pipe(guarded).pipe(parser);

  let header: { fields: RowFields; columnOf: Map<string, number>; width: number } | undefined;

  for await (const parsed of parser as AsyncIterable<ParsedRecord>) {
    // Leaving the loop destroys the parser, and the caller closes the file.
    if (signal?.aborted === true) {
      return;
    }
    const { record, info, raw } = parsed;
    // csv-parse decodes bytes that are not UTF-8 as U+FFFD, so only rows that contain it are checked.
    // NOTE: a row skipped by `on_skip` never reaches this loop, so its bytes are checked with the next row's.
    const lostBytes = !window.utf16 && record.some((cell) => cell.includes("\uFFFD")) && !isUtf8(window.recordBytes(info.bytes));
    window.endRecord(info.bytes);
    if (record.length === 1 && record[0] === guard.marker) {
      const oversized = guard.takeOversized();
      if (header === undefined) {
        throw oversizedHeaderError(name, oversized);
      }
      sink({ kind: "problem", message: describeOversizedRow(oversized, info.lines) }, info.lines);
      continue;
    }
    if (header === undefined) {
      header = readHeader(record, name);
      continue;
    }

    if (lostBytes) {
      sink(NOT_UTF8_ROW, info.lines);
      continue;
    }
    const quoteProblem = raw.includes('"') ? findQuoteProblem(raw) : undefined;
    if (quoteProblem !== undefined) {
      sink({ kind: "problem", message: `has a misplaced double quote in cell ${quoteProblem.column} (${describeQuoteKind(quoteProblem)}); double each quote inside a quoted cell` }, info.lines);
      continue;
    }
    if (record.length !== header.width) {
      const message = `has ${record.length} cells where the header has ${header.width}`;
      sink({ kind: "problem", message }, info.lines);
      continue;
    }
    const columnOf = header.columnOf;
    sink(readIdentityRow(header.fields, (field) => record[columnOf.get(field)!]), info.lines);
  }
}

function readHeader(cells: string[], name: string): { fields: RowFields; columnOf: Map<string, number>; width: number } {
  const columnOf = new Map<string, number>();
  cells.forEach((cell, index) => {
    const field = normalizeFieldName(cell.replace(/^'(.*)'$/, "$1"));
    if (!columnOf.has(field)) columnOf.set(field, index);
  });

  const fields = chooseFields(new Set(columnOf.keys()));
  const missing = [
    ...(fields.email === undefined ? ["email column"] : []),
    ...(fields.userId === undefined && fields.anonymousId === undefined ? ["user_id, id or anonymous_id column"] : []),
  ];
  if (missing.length > 0) {
    throw new IdentitiesFileError(
      `identities file ${name} has no ${missing.join(" and no ")} in its header (found ${cells.map((cell) => JSON.stringify(cell)).join(", ")})`,
      name,
      IDENTITIES_COLUMNS_HINT,
    );
  }
  return { fields, columnOf, width: cells.length };
}

/**
 * Describes a row that the guard left out, and how to fix the file. `firstLine` is the line the row
 * starts on: the guard puts its marker there.
 */
function describeOversizedRow(row: OversizedRow | undefined, firstLine: number): string {
  if (row === undefined) {
    return `is longer than ${megabytes(MAX_ROW_BYTES)}`;
  }
  const lastLine = firstLine + row.innerLineBreaks;
  const lines = lastLine > firstLine ? `lines ${firstLine} to ${lastLine}` : `line ${firstLine}`;
  if (row.quoteNotClosed) {
    return (
      `is longer than ${megabytes(MAX_ROW_BYTES)} because a quoted cell opened in it is never closed, so everything up to ` +
      `the end of the file (${lines}) was read as one row. Close the quote, or double it if it is part of the text`
    );
  }
  return (
    `is ${megabytes(row.bytes)} long (${lines}), more than the ${megabytes(MAX_ROW_BYTES)} a row may have. ` +
    "Shorten its longest cell, or check that its quotes are closed"
  );
}

function oversizedHeaderError(name: string, row: OversizedRow | undefined): IdentitiesFileError {
  const cause = row?.quoteNotClosed === true ? "a quoted cell opened in it is never closed" : "it is too long";
  return new IdentitiesFileError(
    `the header row of identities file ${name} is longer than ${megabytes(MAX_ROW_BYTES)} because ${cause}, so no row can be read`,
    name,
    `fix the first line of the file: ${IDENTITIES_COLUMNS_HINT}`,
  );
}

function megabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MiB`;
}

function describeQuoteKind(problem: QuoteProblem): string {
  return problem.kind === "quote-in-unquoted-cell" ? "a quote in a cell that is not quoted" : "text after the cell's closing quote";
}
