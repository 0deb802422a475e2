import type { KoalaEntry } from "./entry.js";

/**
 * Builds the JSON body of one `/batch` request by concatenating the entries' ready JSON. Keys come
 * in the order profile_id, email, traits, ip, events, identifies; an empty array is omitted.
 * All entries must share `personKey` (the caller's batching guarantees it).
 */
export function buildBatchBody(personKey: string, entries: readonly KoalaEntry[]): string {
  let events = "";
  let identifies = "";
  for (const entry of entries) {
    if (entry.kind === "events") {
      events = events.length === 0 ? entry.entryJson : `${events},${entry.entryJson}`;
    } else {
      identifies = identifies.length === 0 ? entry.entryJson : `${identifies},${entry.entryJson}`;
    }
  }

  // personKey is the JSON of the person's fields, so the body is that object with the arrays added.
  let body = personKey.slice(0, -1);
  let separator = body.length > 1 ? "," : "";
  if (events.length > 0) {
    body += `${separator}"events":[${events}]`;
    separator = ",";
  }
  if (identifies.length > 0) {
    body += `${separator}"identifies":[${identifies}]`;
  }
  return `${body}}`;
}
