import type { EntryKind, KoalaEntry, PersonKey } from "./entry.js";

const COMMA = Buffer.from(",");
const CLOSING_BRACKET = Buffer.from("]");
const CLOSING_BRACE = Buffer.from("}");
const EVENTS_KEY = Buffer.from(`"events":[`);
const IDENTIFIES_KEY = Buffer.from(`"identifies":[`);
/** The body's arrays, in the order they are written. */
const ENTRY_KINDS: readonly EntryKind[] = ["events", "identifies"];

/**
 * Writes the JSON body of one `/batch` request, as UTF-8 pieces, from the entries' ready JSON. Keys
 * come in the order profile_id, email, traits, ip, events, identifies; an empty array is omitted.
 * All entries must share `personKey` (the caller's batching guarantees it).
 */
export function writeBatchBody(personKey: PersonKey, entries: readonly KoalaEntry[], write: (piece: Uint8Array) => void): void {
  // personKey is the JSON of the person's fields, so the body is that object with the arrays added.
  const person = typeof personKey === "string" ? Buffer.from(personKey) : personKey;
  write(person.subarray(0, person.length - 1));
  let needsComma = person.length > 2;
  for (let kindIndex = 0; kindIndex < ENTRY_KINDS.length; kindIndex += 1) {
    const kind = ENTRY_KINDS[kindIndex] as EntryKind;
    let opened = false;
    // Indexed loops, because a dry run writes a body per request on the main thread, and `for…of`
    // allocated there.
    for (let index = 0; index < entries.length; index += 1) {
      const entry = entries[index] as KoalaEntry;
      if (entry.kind !== kind) {
        continue;
      }
      if (opened) {
        write(COMMA);
      } else {
        const key = kind === "events" ? EVENTS_KEY : IDENTIFIES_KEY;
        if (needsComma) {
          write(COMMA);
        }
        write(key);
        opened = true;
        needsComma = true;
      }
      write(entry.entryBytes ?? Buffer.from(entry.entryJson));
    }
    if (opened) {
      write(CLOSING_BRACKET);
    }
  }
  write(CLOSING_BRACE);
}

/** Returns the JSON body of one `/batch` request as one buffer (see `writeBatchBody`). */
export function buildBatchBody(personKey: PersonKey, entries: readonly KoalaEntry[]): Buffer {
  const pieces: Uint8Array[] = [];
  let length = 0;
  writeBatchBody(personKey, entries, (piece) => {
    pieces.push(piece);
    length += piece.length;
  });
  return Buffer.concat(pieces, length);
}
