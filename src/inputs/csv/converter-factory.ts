import { createEngageRowConverter } from "./engage-row.js";
import { assertNever, type EventType } from "./event-type.js";
import { lowerCaseHeader } from "./header.js";
import { createPathRowConverter } from "./path-row.js";
import { InvalidRow, type RowConverter } from "./row-converter.js";
import { createS3ActionsRowConverter } from "./s3-actions-row.js";
import type { CsvShape } from "./shape.js";
import { describeTable, type WarehouseTable } from "./table.js";
import { createWarehouseRowConverter } from "./warehouse-row.js";

export interface ConverterSettings {
  table: string | undefined;
  type: EventType | undefined;
  convertNumbers: boolean;
}

/** Builds the row converter for a file's shape from its cleaned header. */
export function createRowConverter(shape: CsvShape, header: readonly string[], settings: ConverterSettings): RowConverter {
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

function createWarehouseConverter(header: readonly string[], settings: ConverterSettings): RowConverter {
  const table = resolveWarehouseTable(header, settings);
  if (table === undefined) return rejectEveryRow(UNKNOWN_TABLE);
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

const UNKNOWN_TABLE = new InvalidRow(
  "The file looks like a warehouse table export, but its table is unknown, so the event type of its rows " +
    "is too. Name the file after its table (tracks.csv, identifies.csv, order_completed.csv), " +
    "or give it with --csv-table <table> or --csv-type <type>.",
);

function rejectEveryRow(reason: InvalidRow): RowConverter {
  return { convertRow: () => reason };
}
