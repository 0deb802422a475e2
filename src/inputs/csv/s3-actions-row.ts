import type { SegmentEvent } from "../record.js";
import { deriveMessageId } from "../message-id.js";
import { decodeValueCell } from "./cell.js";
import { isPlainObject, setOwn, type JsonObject } from "./event-object.js";
import { payloadFieldOf, type EventType, type PayloadField } from "./event-type.js";
import { decodeObjectCell } from "./json-object-cell.js";
import { InvalidRow, type RowConverter } from "./row-converter.js";
import { resolveRowType } from "./row-type.js";
import { normaliseTimestamp } from "./timestamp.js";

/**
 * The header columns by which a CSV file written by Segment's AWS S3 (Actions) destination is
 * recognised. Its other columns are `user_id, anonymous_id, email, properties, traits, context,
 * timestamp, integrations` and whatever the destination's mapping added.
 */
export const S3_ACTIONS_SIGNATURE: readonly string[] = ["event_name", "event_type", "message_id"];

type S3Column =
  | "event_name"
  | "event_type"
  | "user_id"
  | "anonymous_id"
  | "email"
  | "properties"
  | "traits"
  | "context"
  | "integrations"
  | "timestamp"
  | "message_id";

const S3_COLUMNS: ReadonlySet<string> = new Set<S3Column>([
  "event_name",
  "event_type",
  "user_id",
  "anonymous_id",
  "email",
  "properties",
  "traits",
  "context",
  "integrations",
  "timestamp",
  "message_id",
]);

/** Written by the destination about its own upload, not by the event. */
const DROPPED_COLUMNS: ReadonlySet<string> = new Set(["batch_size"]);

export interface S3ActionsRowOptions {
  /** Header as written; known columns are matched case-insensitively. */
  header: readonly string[];
  defaultType: EventType | undefined;
  convertNumbers: boolean;
}

/**
 * Converts rows of an AWS S3 (Actions) CSV. `traits` becomes the event's `traits` for identify and
 * group calls. For the others it goes to `context.traits`, where Segment keeps a user's traits on a
 * track call. The `email` column fills `email` there when the JSON lacks it. Columns added by the
 * destination's mapping become properties (or traits) without replacing a key of the same name.
 */
export function createS3ActionsRowConverter(options: S3ActionsRowOptions): RowConverter {
  const { defaultType, convertNumbers } = options;
  const indexOf = new Map<S3Column, number>();
  const extraColumns: { index: number; name: string }[] = [];
  const columnTargets = options.header.map((name): string | undefined => {
    const lowerCaseName = name.toLowerCase();
    if (S3_COLUMNS.has(lowerCaseName)) return lowerCaseName;
    return DROPPED_COLUMNS.has(lowerCaseName) ? undefined : `properties.${name} or traits.${name}`;
  });
  options.header.forEach((name, index) => {
    const lowerCaseName = name.toLowerCase();
    if (S3_COLUMNS.has(lowerCaseName)) indexOf.set(lowerCaseName as S3Column, index);
    else if (!DROPPED_COLUMNS.has(lowerCaseName)) extraColumns.push({ index, name });
  });
  const cellOf = (cells: readonly string[], column: S3Column): string => {
    const index = indexOf.get(column);
    return index === undefined ? "" : (cells[index] ?? "");
  };

  return {
    columnTargets,
    convertRow(cells) {
      const eventName = cellOf(cells, "event_name");
      const type = resolveRowType(cellOf(cells, "event_type"), defaultType, eventName !== "", "event_type");
      if (type instanceof InvalidRow) return type;

      const objects = decodeObjectColumns(cells, cellOf);
      if (objects instanceof InvalidRow) return objects;

      const event: SegmentEvent = { type };
      setTextField(event, "event", eventName);
      setTextField(event, "userId", cellOf(cells, "user_id"));
      setTextField(event, "anonymousId", cellOf(cells, "anonymous_id"));
      const timestamp = cellOf(cells, "timestamp");
      if (timestamp !== "") event.timestamp = normaliseTimestamp(timestamp);

      const payloadField = payloadFieldOf(type);
      if (objects.context !== undefined) event.context = objects.context;
      if (objects.integrations !== undefined) event.integrations = objects.integrations;
      if (payloadField === "traits") {
        event.traits = objects.traits ?? {};
        if (objects.properties !== undefined) event.properties = objects.properties;
      } else {
        event.properties = objects.properties ?? {};
        if (objects.traits !== undefined) mergeContextTraits(event, objects.traits);
      }
      const payload = event[payloadField] as JsonObject;
      placeEmail(event, payloadField, cellOf(cells, "email"));

      for (const { index, name } of extraColumns) {
        const cell = cells[index] ?? "";
        if (cell === "" || Object.hasOwn(payload, name)) continue;
        setOwn(payload, name, decodeValueCell(cell, convertNumbers));
      }

      setTextField(event, "messageId", cellOf(cells, "message_id"));
      if (event.messageId === undefined) event.messageId = deriveMessageId(event, "csv-");
      return event;
    },
  };
}

interface ObjectColumns {
  properties: JsonObject | undefined;
  traits: JsonObject | undefined;
  context: JsonObject | undefined;
  integrations: JsonObject | undefined;
}

function decodeObjectColumns(
  cells: readonly string[],
  cellOf: (cells: readonly string[], column: S3Column) => string,
): ObjectColumns | InvalidRow {
  const properties = decodeObjectCell(cellOf(cells, "properties"), "properties");
  if (properties instanceof InvalidRow) return properties;
  const traits = decodeObjectCell(cellOf(cells, "traits"), "traits");
  if (traits instanceof InvalidRow) return traits;
  const context = decodeObjectCell(cellOf(cells, "context"), "context");
  if (context instanceof InvalidRow) return context;
  const integrations = decodeObjectCell(cellOf(cells, "integrations"), "integrations");
  if (integrations instanceof InvalidRow) return integrations;
  return { properties, traits, context, integrations };
}

function setTextField(event: SegmentEvent, field: string, cell: string): void {
  if (cell !== "") event[field] = cell;
}

/** Adds the `traits` column to `context.traits`; keys already in the context JSON win. */
function mergeContextTraits(event: SegmentEvent, traits: JsonObject): void {
  const context = isPlainObject(event.context) ? event.context : {};
  const existingTraits = isPlainObject(context.traits) ? context.traits : {};
  context.traits = { ...traits, ...existingTraits };
  event.context = context;
}

function placeEmail(event: SegmentEvent, payloadField: PayloadField, email: string): void {
  if (email === "") return;
  let traits: JsonObject;
  if (payloadField === "traits") {
    traits = event.traits as JsonObject;
  } else {
    const context = isPlainObject(event.context) ? event.context : {};
    if (!isPlainObject(context.traits)) context.traits = {};
    traits = context.traits as JsonObject;
    event.context = context;
  }
  if (traits.email === undefined) traits.email = email;
}
