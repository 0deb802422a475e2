import { basename, resolve } from "node:path";
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

/** The tables of `--csv-table`: one for every CSV file, and ones for single files. */
export interface CsvTableSettings {
  /** The table of every CSV file that `tablesByFile` does not name (`--csv-table <table>`). */
  table?: string;
  /** Tables of single files (`--csv-table <table>=<file>`), by absolute path. */
  tablesByFile?: Readonly<Record<string, string>>;
}

/** Returns the table that `--csv-table` gives the file `input`: its own, else the one of every file, else undefined. */
export function givenTableOf(input: string, settings: CsvTableSettings | undefined): string | undefined {
  if (input !== "-" && settings?.tablesByFile !== undefined) {
    const own = settings.tablesByFile[resolve(input)];
    if (own !== undefined) return own;
  }
  return settings?.table;
}

/** Returns every table name that `--csv-table` gives, for the checks of each name. */
export function givenTableNames(settings: CsvTableSettings | undefined): string[] {
  const names = new Set<string>(settings?.tablesByFile === undefined ? [] : Object.values(settings.tablesByFile));
  if (settings?.table !== undefined) names.add(settings.table);
  return [...names];
}

/** The singular words that a file name may use for a standard table, such as `page-export-2024.csv`. */
const SINGULAR_TABLE_NAMES: ReadonlyMap<string, string> = new Map([
  ["track", "tracks"],
  ["identify", "identifies"],
  ["user", "users"],
  ["page", "pages"],
  ["screen", "screens"],
  ["group", "groups"],
  ["alias", "aliases"],
]);

/**
 * Returns the standard table that the words of a file name point to, when its name as a whole is no
 * table name: `dbt-segment_example_segment_pages.csv` gives `pages`. The last such word counts,
 * because exports usually add the table's name after a prefix. Returns undefined when no word does.
 */
export function tableHintedByFileName(path: string): string | undefined {
  const words = stripExtensions(basename(path)).toLowerCase().split(/[^a-z0-9]+/);
  for (const word of words.reverse()) {
    if (STANDARD_TABLE_TYPES.has(word)) return word;
    const plural = SINGULAR_TABLE_NAMES.get(word);
    if (plural !== undefined) return plural;
  }
  return undefined;
}

/** Removes `.csv`, `.txt` and `.gz` extensions from a file name, in any order and number. */
function stripExtensions(fileName: string): string {
  let name = fileName;
  let withoutExtension = name.replace(/\.(csv|txt|gz)$/i, "");
  while (withoutExtension !== name) {
    name = withoutExtension;
    withoutExtension = name.replace(/\.(csv|txt|gz)$/i, "");
  }
  return name;
}

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
  const lowerCaseName = stripExtensions(basename(path)).toLowerCase();
  return /^[a-z_][a-z0-9_]*$/.test(lowerCaseName) ? lowerCaseName : undefined;
}

/**
 * Returns a warning when `--csv-table` (`table`) overrides the table that the file's name gives, so
 * that its rows are read as another table's, or undefined. Only standard table names count, because
 * other file names (`export-2024.csv`, `order_completed.csv`) are what the option is for.
 */
export function describeTableOverride(path: string, settings: CsvTableSettings | undefined): string | undefined {
  if (settings?.tablesByFile?.[resolve(path)] !== undefined) {
    // A table given for this file alone is meant for it.
    return undefined;
  }
  const table = settings?.table;
  const named = tableFromFileName(path);
  if (table === undefined || named === undefined || named === table.toLowerCase() || !STANDARD_TABLE_TYPES.has(named)) {
    return undefined;
  }
  return (
    `--csv-table ${table} reads ${path} as the ${table} table, though its name gives the ${named} table; ` +
    `if that is wrong, give this file its own table with --csv-table ${named}=${path}, or leave --csv-table out so that each file is read as the table its name gives`
  );
}
