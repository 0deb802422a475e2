import type { SegmentEvent } from "../record.js";
import { deriveMessageId } from "../message-id.js";
import { decodeValueCell } from "./cell.js";
import { setOwn, setPath } from "./event-object.js";
import { assertNever, payloadFieldOf, type EventType } from "./event-type.js";
import { decodeObjectCell } from "./json-object-cell.js";
import { InvalidRow, type RowConverter } from "./row-converter.js";
import { resolveRowType } from "./row-type.js";
import { normaliseTimestamp } from "./timestamp.js";

/** Plan for one column of a hand-made CSV whose headers are event paths. */
type PathColumn =
  | { kind: "type" }
  | { kind: "text-field"; field: string }
  | { kind: "timestamp-field"; field: string }
  | { kind: "object-field"; field: string }
  | { kind: "path"; path: readonly string[] }
  | { kind: "payload"; key: string };

type FieldDecoding = "text" | "timestamp" | "object";

/** Top-level Segment fields, keyed by lower-cased name; the snake_case spellings are accepted too. */
const TOP_LEVEL_FIELDS: ReadonlyMap<string, { field: string; decoding: FieldDecoding }> = new Map(
  (
    [
      ["event", "text"],
      ["name", "text"],
      ["category", "text"],
      ["channel", "text"],
      ["version", "text"],
      ["writeKey", "text"],
      ["userId", "text"],
      ["anonymousId", "text"],
      ["messageId", "text"],
      ["groupId", "text"],
      ["previousId", "text"],
      ["timestamp", "timestamp"],
      ["sentAt", "timestamp"],
      ["receivedAt", "timestamp"],
      ["originalTimestamp", "timestamp"],
      ["properties", "object"],
      ["traits", "object"],
      ["context", "object"],
      ["integrations", "object"],
      ["_metadata", "object"],
    ] as const
  ).flatMap(([field, decoding]) => {
    const snakeCase = field.replace(/[A-Z]/g, (letter) => "_" + letter.toLowerCase());
    return [
      [field.toLowerCase(), { field, decoding }],
      [snakeCase, { field, decoding }],
    ] as const;
  }),
);

/** Tests whether a header name marks a hand-made file of event paths rather than a warehouse table. */
export function isEventPathHeader(name: string): boolean {
  if (name.includes(".")) return true;
  // camelCase names: a warehouse would have snake_cased them.
  return /[a-z][A-Z]/.test(name) && TOP_LEVEL_FIELDS.has(name.toLowerCase());
}

export interface PathRowOptions {
  /** Header as written. */
  header: readonly string[];
  defaultType: EventType | undefined;
  convertNumbers: boolean;
}

/**
 * Converts rows of a hand-made CSV whose headers are event paths (`type, event, userId,
 * properties.plan, traits.email`). A header without a dot that is not a Segment field (`plan`) is a
 * property, or a trait on identify and group rows.
 */
export function createPathRowConverter(options: PathRowOptions): RowConverter {
  const { defaultType, convertNumbers } = options;
  const columns = options.header.map(planColumn);
  const typeIndex = columns.findIndex((column) => column.kind === "type");
  const eventIndex = columns.findIndex((column) => column.kind === "text-field" && column.field === "event");
  // Whole-object cells go first, so that `properties.plan` lands inside the `properties` JSON.
  const order = columns.map((_, index) => index);
  order.sort((left, right) => rank(columns[left]!) - rank(columns[right]!));

  return {
    columnTargets: columns.map(targetOfColumn),
    convertRow(cells) {
      const eventName = eventIndex === -1 ? "" : (cells[eventIndex] ?? "");
      const typeCell = typeIndex === -1 ? undefined : cells[typeIndex];
      const type = resolveRowType(typeCell, defaultType, eventName !== "", "type");
      if (type instanceof InvalidRow) return type;

      const event: SegmentEvent = { type };
      const payloadField = payloadFieldOf(type);
      for (const index of order) {
        const cell = cells[index];
        if (cell === undefined || cell === "") continue;
        const problem = applyColumn(event, columns[index]!, cell, options.header[index]!, payloadField, convertNumbers);
        if (problem !== undefined) return problem;
      }

      event[payloadField] ??= {};
      if (event.messageId === undefined) event.messageId = deriveMessageId(event, "csv-");
      return event;
    },
  };
}

function applyColumn(
  event: SegmentEvent,
  column: PathColumn,
  cell: string,
  headerName: string,
  payloadField: "properties" | "traits",
  convertNumbers: boolean,
): InvalidRow | undefined {
  switch (column.kind) {
    case "type":
      return undefined;
    case "text-field":
      event[column.field] = cell;
      return undefined;
    case "timestamp-field":
      event[column.field] = normaliseTimestamp(cell);
      return undefined;
    case "object-field": {
      const object = decodeObjectCell(cell, headerName);
      if (object instanceof InvalidRow) return object;
      if (object !== undefined) setPath(event, [column.field], object, ".");
      return undefined;
    }
    case "path":
      setPath(event, column.path, decodeValueCell(cell, convertNumbers), ".");
      return undefined;
    case "payload": {
      const payload = (event[payloadField] ??= {}) as Record<string, unknown>;
      setOwn(payload, column.key, decodeValueCell(cell, convertNumbers));
      return undefined;
    }
    default:
      return assertNever(column);
  }
}

function planColumn(name: string): PathColumn {
  if (name.toLowerCase() === "type") return { kind: "type" };
  const segments = name.split(".");
  if (segments.length > 1) {
    const root = TOP_LEVEL_FIELDS.get(segments[0]!.toLowerCase());
    const rootName = root?.decoding === "object" ? root.field : segments[0]!;
    return { kind: "path", path: [rootName, ...segments.slice(1)] };
  }
  const known = TOP_LEVEL_FIELDS.get(name.toLowerCase());
  if (known === undefined) return { kind: "payload", key: name };
  switch (known.decoding) {
    case "text":
      return { kind: "text-field", field: known.field };
    case "timestamp":
      return { kind: "timestamp-field", field: known.field };
    case "object":
      return { kind: "object-field", field: known.field };
    default:
      return assertNever(known.decoding);
  }
}

function targetOfColumn(column: PathColumn): string {
  switch (column.kind) {
    case "type":
      return "type";
    case "text-field":
    case "timestamp-field":
    case "object-field":
      return column.field;
    case "path":
      return column.path.join(".");
    case "payload":
      // The payload is `properties` or `traits` by the row's type, which the header does not tell.
      return `properties.${column.key} or traits.${column.key}`;
    default:
      return assertNever(column);
  }
}

function rank(column: PathColumn): number {
  return column.kind === "object-field" ? 0 : 1;
}
