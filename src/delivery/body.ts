import type { KoalaEntry, PersonKey } from "./entry.js";

const COMMA = 0x2c;
const CLOSING_BRACKET = 0x5d;
const CLOSING_BRACE = 0x7d;
const EVENTS_KEY = Buffer.from(`"events":[`);
const IDENTIFIES_KEY = Buffer.from(`"identifies":[`);

/**
 * Builds the JSON body of one `/batch` request, as UTF-8, by concatenating the entries' ready JSON.
 * Keys come in the order profile_id, email, traits, ip, events, identifies; an empty array is
 * omitted. All entries must share `personKey` (the caller's batching guarantees it).
 */
export function buildBatchBody(personKey: PersonKey, entries: readonly KoalaEntry[]): Buffer {
  const events: Uint8Array[] = [];
  const identifies: Uint8Array[] = [];
  let entryBytes = 0;
  for (const entry of entries) {
    const bytes = entry.entryBytes ?? Buffer.from(entry.entryJson);
    (entry.kind === "events" ? events : identifies).push(bytes);
    entryBytes += bytes.length;
  }

  // personKey is the JSON of the person's fields, so the body is that object with the arrays added.
  const personBytes = typeof personKey === "string" ? Buffer.byteLength(personKey) : personKey.length;
  const arraysBytes = arrayBytes(events, EVENTS_KEY) + arrayBytes(identifies, IDENTIFIES_KEY);
  const body = Buffer.allocUnsafe(personBytes + arraysBytes + entryBytes);
  if (typeof personKey === "string") {
    body.write(personKey, 0);
  } else {
    body.set(personKey, 0);
  }
  let offset = personBytes - 1;
  let needsComma = personBytes > 2;
  for (const [items, key] of [
    [events, EVENTS_KEY],
    [identifies, IDENTIFIES_KEY],
  ] as const) {
    if (items.length === 0) {
      continue;
    }
    if (needsComma) {
      body[offset++] = COMMA;
    }
    needsComma = true;
    offset += key.copy(body, offset);
    for (let index = 0; index < items.length; index += 1) {
      if (index > 0) {
        body[offset++] = COMMA;
      }
      body.set(items[index] as Uint8Array, offset);
      offset += (items[index] as Uint8Array).length;
    }
    body[offset++] = CLOSING_BRACKET;
  }
  body[offset++] = CLOSING_BRACE;
  return offset === body.length ? body : body.subarray(0, offset);
}

/** Bytes an array adds to the body besides its entries: a comma before it, its key, the commas and the bracket. */
function arrayBytes(items: readonly Uint8Array[], key: Buffer): number {
  return items.length === 0 ? 0 : 1 + key.length + (items.length - 1) + 1;
}
