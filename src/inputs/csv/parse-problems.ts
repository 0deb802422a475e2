import type { CsvError } from "csv-parse";
import type { QuoteProblem } from "./quote-check.js";
import type { OversizedRow } from "./row-size-guard.js";

/**
 * Maximum length of one row, in bytes, without its line break. A longer row usually means an
 * opening quote that is never closed, and it is skipped without being held in memory whole.
 */
export const MAX_ROW_BYTES = 32 * 1024 * 1024;

/** Describes a row longer than `MAX_ROW_BYTES` and how to fix the file. The caller adds the input and `firstLine`. */
export function describeOversizedRow(row: OversizedRow, firstLine: number): string {
  const megabytes = (bytes: number): string => `${Math.round(bytes / (1024 * 1024))} MiB`;
  const lastLine = firstLine + row.innerLineBreaks;
  const lines = lastLine > firstLine ? `lines ${firstLine} to ${lastLine}` : `line ${firstLine}`;
  if (row.quoteNotClosed) {
    return (
      `The row is longer than ${megabytes(MAX_ROW_BYTES)} because a quoted cell opened in it is never closed, so everything ` +
      `up to the end of the input (${lines}) was read as one row and skipped. Close the quote, or double it if it is part of the text.`
    );
  }
  return (
    `The row is ${megabytes(row.bytes)} long (${lines}), more than the ${megabytes(MAX_ROW_BYTES)} a row may have, so it is ` +
    "skipped and reading goes on with the next row. Shorten its longest cell, or check that its quotes are closed."
  );
}

/**
 * Describes a misplaced quote and how to fix the file. The caller adds the input and the first
 * line of the row. The message of a row that spans lines also names its last line, because the
 * lines after the first were read as part of the row.
 */
export function describeQuoteProblem(problem: QuoteProblem, firstLine: number, lastLine: number): string {
  const line = firstLine + problem.lineOffset;
  const span =
    lastLine > firstLine
      ? ` The row spans lines ${firstLine} to ${lastLine} because a quoted cell contains line breaks, so those lines are skipped with it.`
      : "";
  switch (problem.kind) {
    case "quote-in-unquoted-cell":
      return (
        `Unquoted cell ${problem.column} on line ${line} contains a double quote, so the row is skipped.${span} ` +
        'Wrap the cell in double quotes and double each quote inside it ("say ""hi""").'
      );
    case "text-after-closing-quote":
      return (
        `Quoted cell ${problem.column} continues after its closing double quote on line ${line}, so the row ` +
        `is skipped.${span} Double each quote inside a quoted cell.`
      );
  }
}

/**
 * Describes an error csv-parse raised for a record and how to fix the file. `readLastLine` returns
 * the line of the last byte read, and is called only for the errors whose message shows it. The
 * caller adds the input and the first line of the record.
 */
export function describeParseError(error: CsvError, readLastLine: () => number): string {
  switch (error.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return (
        `A quoted cell opened in this row is never closed, so everything up to the end of the input ` +
        `(line ${readLastLine()}) was read as one cell and skipped. Close the quote, or double it if it is part of the text.`
      );
    case "CSV_MAX_RECORD_SIZE":
      return (
        `The row is longer than ${MAX_ROW_BYTES} characters, which usually means an opening quote ` +
        "is never closed. The rest of the input is not read. Check the quotes of this row."
      );
    default:
      return `The row could not be parsed (${error.message}), so it is skipped.`;
  }
}
