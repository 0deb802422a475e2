import { isPlainObject, type JsonObject } from "./event-object.js";
import { InvalidRow } from "./row-converter.js";

/**
 * Decodes a cell of an object-valued column (`properties`, `traits`, `context`). An empty cell is
 * absent, and any other cell must be a JSON object. Anything else makes the row invalid, because a
 * string where Segment expects an object would mislead every mapping downstream.
 */
export function decodeObjectCell(cell: string, columnName: string): JsonObject | undefined | InvalidRow {
  if (cell === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(cell);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return new InvalidRow(
      `Column "${columnName}" is not valid JSON (${reason}): ${preview(cell)}. ` +
        "Fix the cell so it contains a JSON object, or empty it.",
    );
  }
  if (!isPlainObject(parsed)) {
    return new InvalidRow(
      `Column "${columnName}" contains ${describeJsonType(parsed)} where a JSON object is expected: ${preview(cell)}. ` +
        "Fix the cell so it contains a JSON object, or empty it.",
    );
  }
  return parsed;
}

function describeJsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

const PREVIEW_LENGTH = 80;

/** Shortens a cell for a message, so one huge cell does not flood the output. */
export function preview(cell: string): string {
  return cell.length <= PREVIEW_LENGTH ? JSON.stringify(cell) : JSON.stringify(cell.slice(0, PREVIEW_LENGTH)) + "…";
}
