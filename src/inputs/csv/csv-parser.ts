import { parse, type CsvError, type InfoRecord, type Options, type Parser } from "csv-parse";
import { LineTracker } from "./line-tracker.js";

/** One record of the CSV input as the parser produced it, or a record it had to skip. */
export type ParsedRecord =
  | { kind: "row"; cells: string[]; line: number }
  | { kind: "skipped"; line: number; message: string; endsInput: boolean };

/**
 * Maximum length of one record, in characters. A longer record usually means an opening quote that
 * is never closed. csv-parse (6.2) cannot resume after this error, so the rest of the input is
 * reported unread, which also keeps it from being buffered whole in memory.
 */
export const MAX_RECORD_CHARACTERS = 32 * 1024 * 1024;

/**
 * Creates a csv-parse transform that emits `ParsedRecord`s in input order. Bad records are skipped
 * by csv-parse (`skip_records_with_error`) and pushed into the same stream from `on_skip`, so they
 * keep their place between the good rows. Column counts are checked by the caller, which has
 * the header (`relax_column_count`). Every line ending (CRLF, LF, CR) ends a record, even when a
 * file mixes them, and a UTF-8 byte order mark is dropped.
 */
export function createCsvParser(): Parser {
  const lines = new LineTracker();
  let lastSkip: { code: string; records: number } | undefined;
  let inputEnded = false;

  const parser: Parser = parse({
    bom: true,
    record_delimiter: ["\r\n", "\n", "\r"],
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: MAX_RECORD_CHARACTERS,
    // csv-parse's types expect `on_record` to return a record of cells; any object is pushed as is.
    on_record: ((cells: string[], context: InfoRecord): ParsedRecord => ({
      kind: "row",
      cells,
      line: lines.startOfRecord(cells, context.lines, context.empty_lines),
    })) as unknown as Options["on_record"],
    on_skip: (error: CsvError | undefined) => {
      if (error === undefined || inputEnded) return undefined;
      const records = numberField(error, "records");
      // After an invalid closing quote, csv-parse stays inside the quoted cell, so the same record
      // is reported again as an unclosed quote at the end of the input.
      const isEchoOfLastSkip =
        error.code === "CSV_QUOTE_NOT_CLOSED" &&
        lastSkip?.code === "CSV_INVALID_CLOSING_QUOTE" &&
        lastSkip.records === records;
      lastSkip = { code: error.code, records };
      if (isEchoOfLastSkip) return undefined;

      const errorLine = numberField(error, "lines");
      // A quote inside an unquoted cell cannot open a multi-line cell, so the row ends on that line
      // unless a later quoted cell of the same row spans lines, which is rare.
      const endsOnErrorLine = error.code === "INVALID_OPENING_QUOTE";
      const line = lines.startOfSkippedRecord(errorLine, numberField(error, "empty_lines"), endsOnErrorLine);
      const endsInput = error.code === "CSV_MAX_RECORD_SIZE";
      inputEnded = endsInput;
      const skipped: ParsedRecord = { kind: "skipped", line, message: describeParseError(error, errorLine), endsInput };
      parser.push(skipped);
      return undefined;
    },
  });
  return parser;
}

function numberField(error: CsvError, name: string): number {
  const value = error[name];
  return typeof value === "number" ? value : 0;
}

/** Describes what is wrong with the record and how to fix the file. The caller adds the input and line. */
function describeParseError(error: CsvError, errorLine: number): string {
  const column = numberField(error, "column") + 1;
  switch (error.code) {
    case "INVALID_OPENING_QUOTE":
      return (
        `Unquoted cell ${column} on line ${errorLine} contains a double quote, so the row is skipped. ` +
        'Wrap the cell in double quotes and double each quote inside it ("say ""hi""").'
      );
    case "CSV_INVALID_CLOSING_QUOTE":
      return (
        `Quoted cell ${column} continues after its closing double quote on line ${errorLine}, so the row ` +
        "is skipped. The rows after it, up to the next double quote, may have been read as part of it. " +
        "Double each quote inside a quoted cell."
      );
    case "CSV_QUOTE_NOT_CLOSED":
      return (
        `A quoted cell opened in this row is never closed, so everything up to the end of the input ` +
        `(line ${errorLine}) was read as one cell and skipped. Close the quote, or double it if it is part of the text.`
      );
    case "CSV_MAX_RECORD_SIZE":
      return (
        `The row is longer than ${MAX_RECORD_CHARACTERS} characters, which usually means an opening quote ` +
        "is never closed. The rest of the input is not read. Check the quotes of this row."
      );
    default:
      return `The row could not be parsed (${error.message}), so it is skipped.`;
  }
}
