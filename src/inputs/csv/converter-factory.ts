import { basename } from "node:path";
import { createEngageRowConverter } from "./engage-row.js";
import { assertNever, EVENT_TYPES, type EventType } from "./event-type.js";
import { lowerCaseHeader } from "./header.js";
import { createPathRowConverter } from "./path-row.js";
import type { RowConverter } from "./row-converter.js";
import { createS3ActionsRowConverter } from "./s3-actions-row.js";
import type { CsvShape } from "./shape.js";
import { describeTable, STANDARD_TABLE_TYPES, tableHintedByFileName, type WarehouseTable } from "./table.js";
import { createWarehouseRowConverter } from "./warehouse-row.js";

export interface ConverterSettings {
  table: string | undefined;
  type: EventType | undefined;
  convertNumbers: boolean;
}

/**
 * Builds the row converter for a file's shape from its cleaned header. Returns undefined for a
 * warehouse table whose rows have no known event type: the table is unknown, no type was chosen
 * and there is no event column.
 */
export function createRowConverter(
  shape: CsvShape,
  header: readonly string[],
  settings: ConverterSettings,
): RowConverter | undefined {
  const { type, convertNumbers } = settings;
  switch (shape) {
    case "s3-actions":
      return createS3ActionsRowConverter({ header, defaultType: type, convertNumbers });
    case "event-paths":
      return createPathRowConverter({ header, defaultType: type, convertNumbers });
    case "engage":
      return createEngageRowConverter({ header: lowerCaseHeader(header), convertNumbers });
    case "warehouse":
      return createWarehouseConverter(lowerCaseHeader(header), settings);
    default:
      return assertNever(shape);
  }
}

function createWarehouseConverter(header: readonly string[], settings: ConverterSettings): RowConverter | undefined {
  const table = resolveWarehouseTable(header, settings);
  if (table === undefined) return undefined;
  return createWarehouseRowConverter({
    header,
    table,
    type: settings.type ?? table.type,
    convertNumbers: settings.convertNumbers,
  });
}

/**
 * Returns the named table. Without one, a chosen type reads the file as that type's standard
 * table, and an `event` or `event_text` column marks a table of track calls.
 */
function resolveWarehouseTable(header: readonly string[], settings: ConverterSettings): WarehouseTable | undefined {
  if (settings.table !== undefined) return describeTable(settings.table);
  if (settings.type !== undefined) return { name: "", type: settings.type, isPerEventTable: false };
  if (header.includes("event_text") || header.includes("event")) {
    return { name: "", type: "track", isPerEventTable: false };
  }
  return undefined;
}

/**
 * Describes a CSV input whose rows have no known event type, and the options that give it. `input`
 * is the input as the user named it (`-` for stdin).
 */
export function describeUnknownTable(input: string): string {
  const intro =
    "This CSV is not a table koala-replay recognises, so the event type of its rows is unknown and none of " +
    "them is read: the header has no type, event or event_text column, and ";
  const tables = `${[...STANDARD_TABLE_TYPES.keys()].join(", ")}, or a per-event table such as order_completed`;
  const byType = `--csv-type <type> with the type of every row (${EVENT_TYPES.join(", ")})`;
  if (input === "-") {
    return `${intro}stdin has no file name to take a table name from. Pass --csv-table <table> with the warehouse table it was exported from (${tables}), or ${byType}.`;
  }
  const name = `its file name, ${basename(input)}, is not a table name (a snake_case name such as tracks or order_completed)`;
  const hinted = tableHintedByFileName(input);
  if (hinted !== undefined) {
    // --csv-table <table> alone would apply to every CSV file of the run, which may be of other tables.
    return (
      `${intro}${name}. Its name suggests the ${hinted} table: if that is right, pass --csv-table ${hinted}=${input} to read this file alone as ${hinted}, ` +
      `or rename it to ${hinted}.csv. Otherwise give its table the same way (${tables}), or pass ${byType}.`
    );
  }
  return (
    `${intro}${name}. Pass --csv-table <table>=${input} with the warehouse table it was exported from (${tables}), ` +
    `or rename the file after its table (such as identifies.csv), or pass ${byType}.`
  );
}
