import { isSingleQuoted } from "./cell.js";

/**
 * Cleans the header cells: surrounding spaces and single quotes are removed, and an empty name
 * becomes `column_<n>` (1-based), so that a cell under it is kept rather than dropped.
 * Case is kept here: warehouse headers are lower-cased later, event-path headers are case-sensitive.
 */
export function cleanHeader(cells: readonly string[]): string[] {
  return cells.map((cell, index) => {
    let name = cell.trim();
    if (isSingleQuoted(name)) name = name.slice(1, -1).trim();
    return name === "" ? `column_${index + 1}` : name;
  });
}

/** Warehouse column names are snake_case; Snowflake exports them UPPERCASE. */
export function lowerCaseHeader(header: readonly string[]): string[] {
  return header.map((name) => name.toLowerCase());
}
