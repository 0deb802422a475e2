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
  /** Groups of columns that fill the same place in the event, such as `email,email` or `userId,user_id`. */
  private readonly collidingColumns: readonly (readonly number[])[];

  constructor(
    private readonly input: string,
    private readonly header: readonly string[],
    private readonly converter: RowConverter,
    /** Engage downloads leave out the empty cells at the end of a row, so a short row is complete there. */
    private readonly acceptsShortRows: boolean,
  ) {
    this.collidingColumns = findCollidingColumns(converter.columnTargets);
  }

  read(cells: string[], line: number): InputItem | undefined {
    if (isBlankLine(cells)) return undefined;
    const raggedMessage = this.describeRaggedRow(cells);
    if (raggedMessage !== undefined) return this.problem(line, raggedMessage);

    this.singleQuotedCells ??= detectSingleQuotedCells(cells);
    if (this.singleQuotedCells) unwrapSingleQuotedCells(cells);
    if (cells.every((cell) => cell === "")) return undefined;
    const collisionMessage = this.describeCollision(cells);
    if (collisionMessage !== undefined) return this.problem(line, collisionMessage);

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
    if (cells.length === this.header.length) return undefined;
    if (cells.length < this.header.length && this.acceptsShortRows) return undefined;
    if (cells.length > this.header.length && cells.slice(this.header.length).every((cell) => cell === "")) {
      return undefined;
    }
    return (
      `The row has ${cells.length} cells but the header has ${this.header.length} columns, so the row is ` +
      "skipped. Look for a comma inside a cell that is not in double quotes, or for a missing cell."
    );
  }

  /**
   * Describes the first group of colliding columns whose non-empty cells differ, or returns
   * undefined. Only one of the values could be kept, and keeping either would send a value that the
   * row may not mean, such as the messageId of a joined table's `id`.
   */
  private describeCollision(cells: readonly string[]): string | undefined {
    for (const group of this.collidingColumns) {
      const filled = group.filter((index) => (cells[index] ?? "") !== "");
      if (new Set(filled.map((index) => cells[index])).size < 2) continue;
      const columns = filled.map((index) => `${index + 1} (${this.header[index]})`);
      return (
        `Columns ${columns.join(" and ")} both give ${this.converter.columnTargets[filled[0]!]}, and this row has ` +
        "different values in them, so the row is skipped. Rename or remove one of the columns."
      );
    }
    return undefined;
  }

  private problem(line: number, message: string): InputItem {
    return { kind: "problem", origin: { input: this.input, line }, reason: "malformed-csv-row", message };
  }
}

/** Groups the indexes of columns with the same target, leaving out dropped columns and targets of one column. */
function findCollidingColumns(targets: readonly (string | undefined)[]): number[][] {
  const indexesByTarget = new Map<string, number[]>();
  targets.forEach((target, index) => {
    if (target === undefined) return;
    const indexes = indexesByTarget.get(target);
    if (indexes === undefined) indexesByTarget.set(target, [index]);
    else indexes.push(index);
  });
  return [...indexesByTarget.values()].filter((indexes) => indexes.length > 1);
}

/** csv-parse skips empty lines, but a line of spaces reaches the reader as one blank cell. */
function isBlankLine(cells: readonly string[]): boolean {
  return cells.length === 1 && cells[0]!.trim() === "";
}

/** Tests whether a row is skipped as blank before its cells are decoded: a line of spaces, or only empty cells. */
export function isBlankRow(cells: readonly string[]): boolean {
  return isBlankLine(cells) || cells.every((cell) => cell === "");
}
