import type { RecordOrigin } from "../inputs/record.js";
import type { MessageIdHash } from "./dedupe.js";

/** Top-level fields of a `/batch` request: the person every entry of the request belongs to. */
export interface PersonFields {
  profile_id?: string;
  email?: string;
  traits: Record<string, unknown>;
  ip?: string;
}

/** Array of a `/batch` body that the entry goes into. */
export type EntryKind = "events" | "identifies";

/**
 * One entry for Koala, ready to deliver. Its JSON is serialised where it was mapped (possibly in a
 * worker thread), so the delivery stage only concatenates strings.
 */
export interface KoalaEntry {
  kind: EntryKind;
  person: PersonFields;
  /**
   * `JSON.stringify` of `person` with keys in the order profile_id, email, traits, ip. Entries share
   * a request only when their keys are identical, so a batched request means exactly what the single
   * requests would have meant.
   */
  personKey: string;
  /**
   * UTF-8 of `personKey`, set on entries that a worker thread mapped, so that batching compares
   * bytes and never decodes them. Code that changes `personKey` must clear it.
   */
  personKeyBytes?: Uint8Array;
  /** JSON of the object placed in `events` or `identifies`. */
  entryJson: string;
  /**
   * UTF-8 bytes of `entryJson`, set on entries that a worker thread mapped, so that request bodies
   * are assembled from bytes without decoding and encoding the text again.
   */
  entryBytes?: Uint8Array;
  /** Length of `entryBytes`, set where reading `entryBytes` would make a new view of them. */
  entryByteLength?: number;
  /**
   * The person the batcher orders requests by: `profile_id`, else `email`. Optional because it can be
   * read from `person`; set it where `person` is costly to build (entries decoded from a worker).
   */
  personId?: string;
  /** Koala's idempotency key for the entry. */
  messageId: string;
  /** Hash of the mapping name and `messageId`, when the thread that mapped the entry computed it. */
  messageIdHash?: MessageIdHash;
  mappingName: string;
  origin: RecordOrigin;
  /** JSON of the event the entry was mapped from, kept for the dead-letter file. */
  eventJson: string;
}

/** Size of the entry's JSON, in bytes when it came from a worker thread, otherwise in characters. */
export function entrySize(entry: KoalaEntry): number {
  return entry.entryByteLength ?? entry.entryBytes?.length ?? entry.entryJson.length;
}

/** A person key as text, or as UTF-8 bytes when the entry came from a worker thread. */
export type PersonKey = string | Uint8Array;

/** Returns the entry's person key in the form it already has, so that nothing is decoded. */
export function personKeyOf(entry: KoalaEntry): PersonKey {
  return entry.personKeyBytes ?? entry.personKey;
}

/** Checks whether two person keys are the same JSON text, whatever their forms. */
export function samePersonKey(first: PersonKey, second: PersonKey): boolean {
  if (typeof first === "string" && typeof second === "string") {
    return first === second;
  }
  if (typeof first !== "string" && typeof second !== "string") {
    return first.length === second.length && Buffer.compare(first, second) === 0;
  }
  return personKeyText(first) === personKeyText(second);
}

/** Returns a person key as text. */
export function personKeyText(key: PersonKey): string {
  return typeof key === "string" ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("utf8");
}
