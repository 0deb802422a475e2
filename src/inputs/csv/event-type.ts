/** The six Segment call types a CSV row can become. */
export type EventType = "track" | "identify" | "page" | "screen" | "group" | "alias";

export const EVENT_TYPES: readonly EventType[] = ["track", "identify", "page", "screen", "group", "alias"];

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/** The object that receives a row's leftover columns: `properties` or `traits`, as Segment's spec places them. */
export type PayloadField = "properties" | "traits";

/** Alias calls have no payload in the spec, so their leftover columns go to `properties`. */
export function payloadFieldOf(type: EventType): PayloadField {
  switch (type) {
    case "track":
    case "page":
    case "screen":
    case "alias":
      return "properties";
    case "identify":
    case "group":
      return "traits";
    default:
      return assertNever(type);
  }
}

export function assertNever(value: never): never {
  throw new Error(`Unexpected value ${JSON.stringify(value)}: this is a bug in koala-replay, please report it.`);
}
