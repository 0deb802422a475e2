import { isUtf8 } from "node:buffer";
import type { UnreadableReason } from "../record.js";
import { describeInvalidUtf8 } from "../utf8.js";
import { Parser, type CsvError, type InfoRecord, type Options } from "csv-parse";
import { ByteWindow } from "./byte-window.js";
import { LineTracker } from "./line-tracker.js";
import { describeOversizedRow, describeParseError, describeQuoteProblem, MAX_ROW_BYTES } from "./parse-problems.js";
import { countRecordLines, findQuoteProblem } from "./quote-check.js";
import { RowSizeGuard } from "./row-size-guard.js";

export { MAX_ROW_BYTES };

/** Reason a record was skipped: its bytes are not UTF-8, or it is not well-formed CSV. */
export type SkippedRecordReason = Extract<UnreadableReason, "not-utf8" | "malformed-csv-row">;

/** One record of the CSV input as the parser produced it, or a record it had to skip. */
export type ParsedRecord =
  | { kind: "row"; cells: string[]; line: number }
  | { kind: "skipped"; line: number; reason: SkippedRecordReason; message: string; endsInput: boolean };

/**
 * csv-parse's stream parser, which first passes every chunk through a `RowSizeGuard`, then hands
 * what the guard passes on to a `ByteWindow` before parsing it, so that the records produced from
 * it can be checked against their raw text.
 */
class WindowedParser extends Parser {
  constructor(
    options: Options,
    private readonly window: ByteWindow,
    private readonly guard: RowSizeGuard,
  ) {
    super(options);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.parseGuarded(this.guard.push(chunk), callback);
  }

  override _flush(callback: (error?: Error | null) => void): void {
    this.parseGuarded(this.guard.end(), (error) => (error ? callback(error) : super._flush(callback)));
  }

  private parseGuarded(bytes: Buffer, callback: (error?: Error | null) => void): void {
    if (bytes.length === 0) {
      callback();
      return;
    }
    this.window.append(bytes);
    // csv-parse ignores the encoding argument: the chunks of this stream are Buffers.
    super._transform(bytes, "utf8", callback);
  }
}

/**
 * Creates a csv-parse transform that emits `ParsedRecord`s in input order. Every line ending
 * (CRLF, LF, CR) ends a record, even when a file mixes them, and a UTF-8 byte order mark is
 * dropped. Column counts are checked by the caller, which has the header (`relax_column_count`).
 *
 * Misplaced double quotes are read with `relax_quotes`, as text, so the record still ends where
 * its line ends. Each record with a quote in a cell is then checked against its raw text, and
 * skipped when a quote is misplaced. Without `relax_quotes`, csv-parse (6.2) stays inside the
 * quoted cell after text that follows a closing quote, and the rows up to the next double quote
 * would be lost with the bad one. The errors csv-parse still raises (a quote never closed, a record
 * too long) skip the record (`skip_records_with_error`) and are pushed from `on_skip`, so every
 * skipped record keeps its place between the good rows.
 */
export function createCsvParser(maxRowBytes = MAX_ROW_BYTES): Parser {
  const window = new ByteWindow();
  const lines = new LineTracker();
  const guard = new RowSizeGuard(maxRowBytes);
  let inputEnded = false;

  const onRecord = (cells: string[], context: InfoRecord): ParsedRecord => {
    const line = lines.startOfRecord(cells, context.lines, context.empty_lines);
    if (cells.length === 1 && cells[0] === guard.marker) {
      window.endRecord(context.bytes);
      const oversized = guard.takeOversized();
      const message = oversized === undefined ? `The row is longer than ${MAX_ROW_BYTES} bytes, so it is skipped.` : describeOversizedRow(oversized, line);
      return { kind: "skipped", line, reason: "malformed-csv-row", message, endsInput: false };
    }
    // csv-parse decodes bytes that are not UTF-8 as U+FFFD, so only rows that contain it are checked.
    if (!window.utf16 && cells.some((cell) => cell.includes("\uFFFD")) && !isUtf8(window.recordBytes(context.bytes))) {
      window.endRecord(context.bytes);
      return { kind: "skipped", line, reason: "not-utf8", message: describeInvalidUtf8("The row"), endsInput: false };
    }
    // A quote misplaced and read as text always stays in a cell, so a record without one is well formed.
    const message = cells.some((cell) => cell.includes('"'))
      ? checkQuotes(window.recordText(context.bytes), line)
      : undefined;
    window.endRecord(context.bytes);
    if (message === undefined) return { kind: "row", cells, line };
    return { kind: "skipped", line, reason: "malformed-csv-row", message, endsInput: false };
  };

  const onSkip = (error: CsvError | undefined): undefined => {
    if (error === undefined || inputEnded) return undefined;
    const line = lines.startOfSkippedRecord(numberField(error, "lines"), numberField(error, "empty_lines"));
    const endsInput = error.code === "CSV_MAX_RECORD_SIZE";
    inputEnded = endsInput;
    // csv-parse counts a CRLF inside a quoted cell as two lines, so the last line is counted here.
    // The record runs to the last byte received, which is the end of the input for a quote never closed.
    const readLastLine = () => line + countRecordLines(window.recordText()) - 1;
    const skipped: ParsedRecord = { kind: "skipped", line, reason: "malformed-csv-row", message: describeParseError(error, readLastLine), endsInput };
    parser.push(skipped);
    return undefined;
  };

  const parser: Parser = new WindowedParser(
    {
      bom: true,
      record_delimiter: ["\r\n", "\n", "\r"],
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      // The guard drops longer rows first, in UTF-8 and UTF-16LE input, so this limit is only a safety net.
      max_record_size: MAX_ROW_BYTES,
      // csv-parse's types expect `on_record` to return a record of cells; any object is pushed as is.
      on_record: onRecord as unknown as Options["on_record"],
      on_skip: onSkip,
    },
    window,
    guard,
  );
  return parser;
}

function numberField(error: CsvError, name: string): number {
  const value = error[name];
  return typeof value === "number" ? value : 0;
}

/** Describes the first misplaced quote of a record, or returns undefined when its quotes are well formed. */
function checkQuotes(recordText: string, firstLine: number): string | undefined {
  const problem = findQuoteProblem(recordText);
  if (problem === undefined) return undefined;
  return describeQuoteProblem(problem, firstLine, firstLine + countRecordLines(recordText) - 1);
}
