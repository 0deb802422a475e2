import type { SegmentEvent } from "../record.js";
import { deriveMessageId } from "../message-id.js";
import { decodeValueCell } from "./cell.js";
import { contextPathOfColumn } from "./context-dictionary.js";
import { assertNever, payloadFieldOf, type EventType } from "./event-type.js";
import { setOwn, setPath, type JsonObject } from "./event-object.js";
import type { RowConverter } from "./row-converter.js";
import type { WarehouseTable } from "./table.js";
import { normaliseTimestamp } from "./timestamp.js";

/** Plan for one column of a warehouse table, decided once from the header. */
type WarehouseColumn =
  | { kind: "drop" }
  | { kind: "text-field"; field: string }
  | { kind: "timestamp-field"; field: string }
  | { kind: "context"; path: readonly string[] }
  | { kind: "payload"; key: string };

/** Columns added by the warehouse loader, not by the event. */
const LOADER_COLUMNS: ReadonlySet<string> = new Set(["uuid", "uuid_ts", "loaded_at"]);

const TIMESTAMP_FIELDS: ReadonlyMap<string, string> = new Map([
  ["received_at", "receivedAt"],
  ["sent_at", "sentAt"],
  ["timestamp", "timestamp"],
  ["original_timestamp", "originalTimestamp"],
]);

const CONTEXT_PREFIX = "context_";

export interface WarehouseRowOptions {
  /** Lower-cased header. */
  header: readonly string[];
  table: WarehouseTable;
  /** The type of every row; differs from the table's type only when the user chose one. */
  type: EventType;
  convertNumbers: boolean;
}

/** Converts rows of a Segment warehouse table (`tracks`, `identifies`, `order_completed`, …) back into events. */
export function createWarehouseRowConverter(options: WarehouseRowOptions): RowConverter {
  const { header, table, type, convertNumbers } = options;
  const hasEventText = header.includes("event_text");
  const columns = header.map((name) => planColumn(name, table, type, hasEventText));
  const hasEventColumn = columns.some((column) => column.kind === "text-field" && column.field === "event");
  // A per-event table without `event_text` or `event` only keeps the event's slug in its name.
  const fallbackEventName = table.isPerEventTable && !hasEventColumn ? table.name : undefined;
  const payloadField = payloadFieldOf(type);

  return {
    columnTargets: columns.map((column) => targetOfColumn(column, payloadField)),
    convertRow(cells) {
      const event: SegmentEvent = { type };
      if (fallbackEventName !== undefined) event.event = fallbackEventName;
      const payload: JsonObject = {};
      let context: JsonObject | undefined;

      for (let index = 0; index < columns.length; index += 1) {
        const cell = cells[index];
        if (cell === undefined || cell === "") continue;
        const column = columns[index]!;
        switch (column.kind) {
          case "drop":
            break;
          case "text-field":
            event[column.field] = cell;
            break;
          case "timestamp-field":
            event[column.field] = normaliseTimestamp(cell);
            break;
          case "context": {
            context ??= {};
            setPath(context, column.path, decodeValueCell(cell, convertNumbers), "_");
            break;
          }
          case "payload":
            setOwn(payload, column.key, decodeValueCell(cell, convertNumbers));
            break;
          default:
            assertNever(column);
        }
      }

      event[payloadField] = payload;
      if (context !== undefined) event.context = context;
      if (event.messageId === undefined) event.messageId = deriveMessageId(event, "csv-");
      return event;
    },
  };
}

function targetOfColumn(column: WarehouseColumn, payloadField: string): string | undefined {
  switch (column.kind) {
    case "drop":
      return undefined;
    case "text-field":
    case "timestamp-field":
      return column.field;
    case "context":
      return `context.${column.path.join(".")}`;
    case "payload":
      return `${payloadField}.${column.key}`;
    default:
      return assertNever(column);
  }
}

function planColumn(name: string, table: WarehouseTable, type: EventType, hasEventText: boolean): WarehouseColumn {
  if (LOADER_COLUMNS.has(name)) return { kind: "drop" };

  const timestampField = TIMESTAMP_FIELDS.get(name);
  if (timestampField !== undefined) return { kind: "timestamp-field", field: timestampField };

  switch (name) {
    case "id":
      // The `users` table has one row per user, keyed by the userId.
      return { kind: "text-field", field: table.name === "users" ? "userId" : "messageId" };
    case "anonymous_id":
      return { kind: "text-field", field: "anonymousId" };
    case "user_id":
      return { kind: "text-field", field: "userId" };
    case "event_text":
      return { kind: "text-field", field: "event" };
    case "event":
      // `event` is a snake_case slug of `event_text`, the real name.
      return hasEventText ? { kind: "drop" } : { kind: "text-field", field: "event" };
    case "name":
    case "category":
      if (type === "page" || type === "screen") return { kind: "text-field", field: name };
      break;
    case "group_id":
      if (type === "group") return { kind: "text-field", field: "groupId" };
      break;
    case "previous_id":
      if (type === "alias") return { kind: "text-field", field: "previousId" };
      break;
  }

  if (name.startsWith(CONTEXT_PREFIX) && name.length > CONTEXT_PREFIX.length) {
    return { kind: "context", path: contextPathOfColumn(name.slice(CONTEXT_PREFIX.length)) };
  }
  return { kind: "payload", key: name };
}
