/**
 * Checks the double quotes of one CSV record's raw text by RFC 4180's rules. csv-parse runs with
 * `relax_quotes`, so a misplaced quote becomes text and the record still ends where its line ends.
 * This check finds those records, so they are reported instead of read.
 */

export type QuoteProblemKind = "quote-in-unquoted-cell" | "text-after-closing-quote";

export interface QuoteProblem {
  kind: QuoteProblemKind;
  /** 1-based cell number of the misplaced quote. */
  column: number;
  /** Lines between the first line of the record and the line of the problem: 0 when they are the same. */
  lineOffset: number;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Finds the first misplaced double quote of a record, or returns undefined when its quotes are
 * well formed. A quote may only open a cell (right after the record's start or a comma), and a
 * closing quote must be followed by a comma, a line break or the end of the record, unless it is
 * doubled. `text` is the record with its line break; blank lines before it are ignored.
 */
export function findQuoteProblem(text: string): QuoteProblem | undefined {
  const recordStart = skipLineBreaks(text, 0);
  let inQuotedCell = false;
  let position = recordStart;
  for (;;) {
    const quote = text.indexOf('"', position);
    if (quote === -1) return undefined;

    if (!inQuotedCell) {
      if (quote !== recordStart && text.charCodeAt(quote - 1) !== COMMA) {
        return locateProblem(text, recordStart, quote, "quote-in-unquoted-cell");
      }
      inQuotedCell = true;
      position = quote + 1;
      continue;
    }

    const next = text.charCodeAt(quote + 1);
    if (next === QUOTE) {
      position = quote + 2;
    } else if (Number.isNaN(next) || next === COMMA || next === CR || next === LF) {
      inQuotedCell = false;
      position = quote + 1;
    } else {
      return locateProblem(text, recordStart, quote, "text-after-closing-quote");
    }
  }
}

/** Computes the cell and line of the quote at `offset`, scanning the record from its start. */
function locateProblem(text: string, recordStart: number, offset: number, kind: QuoteProblemKind): QuoteProblem {
  let column = 1;
  let inQuotedCell = false;
  for (let index = recordStart; index < offset; index += 1) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      inQuotedCell = !inQuotedCell;
    } else if (code === COMMA && !inQuotedCell) {
      column += 1;
    }
  }
  return { kind, column, lineOffset: countLineBreaks(text, recordStart, offset) };
}

/**
 * Counts the lines that `text` covers after its leading blank lines, up to its last character
 * that is not a line break. A CRLF is one line break.
 */
export function countRecordLines(text: string): number {
  const recordStart = skipLineBreaks(text, 0);
  let recordEnd = text.length;
  while (recordEnd > recordStart && isLineBreak(text.charCodeAt(recordEnd - 1))) recordEnd -= 1;
  return 1 + countLineBreaks(text, recordStart, recordEnd);
}

/** Counts CRLF, LF and CR line breaks in `text` from `start` to `end`, a CRLF once. */
function countLineBreaks(text: string, start: number, end: number): number {
  let count = 0;
  for (let index = start; index < end; index += 1) {
    const code = text.charCodeAt(index);
    if (code === LF) count += 1;
    if (code === CR && text.charCodeAt(index + 1) !== LF) count += 1;
  }
  return count;
}

function skipLineBreaks(text: string, start: number): number {
  let index = start;
  while (index < text.length && isLineBreak(text.charCodeAt(index))) index += 1;
  return index;
}

function isLineBreak(code: number): boolean {
  return code === CR || code === LF;
}
