import { EVENT_TYPES, isEventType, type EventType } from "./event-type.js";
import { InvalidRow } from "./row-converter.js";

/**
 * Decides a row's event type. The type cell wins when filled (case-insensitive), then the type the
 * user chose for the file, then `track` when the row names an event. Otherwise the row is invalid.
 */
export function resolveRowType(
  typeCell: string | undefined,
  defaultType: EventType | undefined,
  hasEventName: boolean,
  typeColumnName: string,
): EventType | InvalidRow {
  if (typeCell !== undefined && typeCell !== "") {
    const type = typeCell.trim().toLowerCase();
    if (isEventType(type)) return type;
    return new InvalidRow(
      `Column "${typeColumnName}" contains ${JSON.stringify(typeCell)}, which is not an event type. ` +
        `Use one of ${EVENT_TYPES.join(", ")}.`,
    );
  }
  if (defaultType !== undefined) return defaultType;
  if (hasEventName) return "track";
  return new InvalidRow(
    `The row has no event type and no event name. Fill column "${typeColumnName}", ` +
      `or choose a type for the whole file (${EVENT_TYPES.join(", ")}).`,
  );
}
