/**
 * Computes the line on which each CSV record starts, from the counters csv-parse (6.2) reports when
 * a record ends. Two quirks are corrected: csv-parse reports the line where a record ends, and it
 * counts a CRLF inside a quoted cell as two lines (CR and LF each end a line for its counter).
 * Call the methods in the order csv-parse produces records and errors.
 */
export class LineTracker {
  /** Line (as csv-parse counts) on which the previous record ended, or undefined after a skipped record. */
  private previousEnd: number | undefined = 0;
  private previousEmptyLines = 0;
  /** Lines csv-parse has counted twice so far, one per CRLF inside a quoted cell. */
  private overcount = 0;

  /** Returns the start line of a record that csv-parse has just produced, and moves past it. */
  startOfRecord(cells: readonly string[], endLine: number, emptyLines: number): number {
    let start: number;
    if (this.previousEnd === undefined) {
      start = endLine - countLineBreakCharacters(cells);
    } else {
      start = this.previousEnd + 1 + (emptyLines - this.previousEmptyLines);
    }
    const trueStart = start - this.overcount;
    if (endLine > start) this.overcount += countCrLf(cells);
    this.previousEnd = endLine;
    this.previousEmptyLines = emptyLines;
    return trueStart;
  }

  /**
   * Returns the start line of a record csv-parse skipped because of an error, or the line of the
   * error when the start is unknown (after another skipped record). The skipped record's end is
   * unknown, so the next record's start is computed from its own cells.
   */
  startOfSkippedRecord(errorLine: number, emptyLines: number): number {
    const start =
      this.previousEnd === undefined ? errorLine : this.previousEnd + 1 + (emptyLines - this.previousEmptyLines);
    this.previousEnd = undefined;
    this.previousEmptyLines = emptyLines;
    return start - this.overcount;
  }
}

/** csv-parse advances its line counter once per CR and once per LF inside a quoted cell. */
function countLineBreakCharacters(cells: readonly string[]): number {
  let count = 0;
  for (const cell of cells) {
    for (let index = 0; index < cell.length; index += 1) {
      const code = cell.charCodeAt(index);
      if (code === 0x0a || code === 0x0d) count += 1;
    }
  }
  return count;
}

function countCrLf(cells: readonly string[]): number {
  let count = 0;
  for (const cell of cells) {
    let index = cell.indexOf("\r\n");
    while (index !== -1) {
      count += 1;
      index = cell.indexOf("\r\n", index + 2);
    }
  }
  return count;
}
