import { basename } from "node:path";
import type { EventType } from "./event-type.js";

/** A Segment warehouse table and what its rows are. */
export interface WarehouseTable {
  name: string;
  type: EventType;
  /** A table of one track event (`order_completed`): its columns are that event's properties. */
  isPerEventTable: boolean;
}

/** The tables Segment's warehouse loader creates for every source. Any other table contains one track event. */
export const STANDARD_TABLE_TYPES: ReadonlyMap<string, EventType> = new Map<string, EventType>([
  ["tracks", "track"],
  ["identifies", "identify"],
  ["users", "identify"],
  ["pages", "page"],
  ["screens", "screen"],
  ["groups", "group"],
  ["aliases", "alias"],
]);

/** Describes a table by name (case-insensitive, as Snowflake upper-cases them). */
export function describeTable(name: string): WarehouseTable {
  const normalisedName = name.trim().toLowerCase();
  const standardType = STANDARD_TABLE_TYPES.get(normalisedName);
  if (standardType !== undefined) {
    return { name: normalisedName, type: standardType, isPerEventTable: false };
  }
  return { name: normalisedName, type: "track", isPerEventTable: true };
}

/**
 * Returns the table a file is an export of when its base name, without `.csv`, `.txt` and `.gz`
 * extensions, is a warehouse table name: a snake_case identifier such as `tracks`, `IDENTIFIES` or
 * `order_completed`. Returns undefined for other names (`export-2024-01-08.csv`), whose table must
 * be given explicitly.
 */
export function tableFromFileName(path: string): string | undefined {
  let name = basename(path);
  let withoutExtension = name.replace(/\.(csv|txt|gz)$/i, "");
  while (withoutExtension !== name) {
    name = withoutExtension;
    withoutExtension = name.replace(/\.(csv|txt|gz)$/i, "");
  }
  const lowerCaseName = name.toLowerCase();
  return /^[a-z_][a-z0-9_]*$/.test(lowerCaseName) ? lowerCaseName : undefined;
}

/**
 * Returns a warning when `--csv-table` (`table`) overrides the table that the file's name gives, so
 * that its rows are read as another table's, or undefined. Only standard table names count, because
 * other file names (`export-2024.csv`, `order_completed.csv`) are what the option is for.
 */
export function describeTableOverride(path: string, table: string | undefined): string | undefined {
  const named = tableFromFileName(path);
  if (table === undefined || named === undefined || named === table.toLowerCase() || !STANDARD_TABLE_TYPES.has(named)) {
    return undefined;
  }
  return (
    `--csv-table ${table} reads ${path} as the ${table} table, though its name gives the ${named} table; ` +
    `if that is wrong, give the files of each table in a run of their own, or leave --csv-table out so that each file is read as the table its name gives`
  );
}
