import type { InputItem } from "../record.js";
import { detectSingleQuotedCells, unwrapSingleQuotedCells } from "./cell.js";
import { InvalidRow, type RowConverter } from "./row-converter.js";

/**
 * Checks each data row against the header, decodes single-quoted cells and hands the row to the
 * converter of the file's shape. Returns undefined for a line of spaces and for a row whose cells
 * are all empty, which are skipped like blank lines.
 */
export class RowReader {
  private singleQuotedCells: boolean | undefined;

  constructor(
    private readonly input: string,
    private readonly columnCount: number,
    private readonly converter: RowConverter,
    /** Engage downloads leave out the empty cells at the end of a row, so a short row is complete there. */
    private readonly acceptsShortRows: boolean,
  ) {}

  read(cells: string[], line: number): InputItem | undefined {
    if (isBlankLine(cells)) return undefined;
    const raggedMessage = this.describeRaggedRow(cells);
    if (raggedMessage !== undefined) return this.problem(line, raggedMessage);

    this.singleQuotedCells ??= detectSingleQuotedCells(cells);
    if (this.singleQuotedCells) unwrapSingleQuotedCells(cells);
    if (cells.every((cell) => cell === "")) return undefined;

    const converted = this.converter.convertRow(cells);
    if (converted instanceof InvalidRow) return this.problem(line, converted.message);
    return { kind: "record", event: converted, origin: { input: this.input, line } };
  }

  /**
   * Describes why a row's cell count does not fit the header, or returns undefined when it fits.
   * Extra cells fit when they are empty (a trailing comma). A short row fits only where the shape
   * allows it, because it can be the first half of a row split by an unquoted line break, and the
   * second half would then fill the wrong columns.
   */
  private describeRaggedRow(cells: readonly string[]): string | undefined {
    if (cells.length === this.columnCount) return undefined;
    if (cells.length < this.columnCount && this.acceptsShortRows) return undefined;
    if (cells.length > this.columnCount && cells.slice(this.columnCount).every((cell) => cell === "")) {
      return undefined;
    }
    return (
      `The row has ${cells.length} cells but the header has ${this.columnCount} columns, so the row is ` +
      "skipped. Look for a comma inside a cell that is not in double quotes, or for a missing cell."
    );
  }

  private problem(line: number, message: string): InputItem {
    return { kind: "problem", origin: { input: this.input, line }, reason: "malformed-csv-row", message };
  }
}

/** csv-parse skips empty lines, but a line of spaces reaches the reader as one blank cell. */
function isBlankLine(cells: readonly string[]): boolean {
  return cells.length === 1 && cells[0]!.trim() === "";
}

/** Tests whether a row is skipped as blank before its cells are decoded: a line of spaces, or only empty cells. */
export function isBlankRow(cells: readonly string[]): boolean {
  return isBlankLine(cells) || cells.every((cell) => cell === "");
}
