import { createHash } from "node:crypto";
import type { SegmentEvent } from "./record.js";

/** Hex digits kept from the SHA-256: 128 bits, so a collision between two different events is negligible. */
const HASH_HEX_LENGTH = 32;

/**
 * Derives a deterministic `messageId` for an event that has none: `prefix` followed by the first
 * 32 hex digits of the SHA-256 of the event's canonical JSON (object keys sorted at every depth).
 * The same content always gets the same id, so a second replay of the same file is deduplicated by
 * Koala, and two identical rows (a duplicate left by an at-least-once loader) share one id.
 * Call it before setting `messageId`, because the id is part of the hashed content.
 */
export function deriveMessageId(event: SegmentEvent, prefix = "replay-"): string {
  const hash = createHash("sha256").update(canonicalJson(event)).digest("hex");
  return prefix + hash.slice(0, HASH_HEX_LENGTH);
}

/**
 * Serialises a JSON value with object keys sorted, so that key order never changes the text.
 * Values follow `JSON.stringify`: `undefined` and functions in objects are left out, and
 * non-finite numbers become `null`.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const text = JSON.stringify(value);
    return text === undefined ? "null" : text;
  }
  if (Array.isArray(value)) {
    let text = "[";
    for (let index = 0; index < value.length; index += 1) {
      if (index > 0) text += ",";
      text += canonicalJson(value[index]);
    }
    return text + "]";
  }
  const record = value as Record<string, unknown>;
  let text = "{";
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined || typeof member === "function") continue;
    if (text.length > 1) text += ",";
    text += JSON.stringify(key) + ":" + canonicalJson(member);
  }
  return text + "}";
}

/**
 * Tests whether a `messageId`, as text, is a number that JSON.parse rounded: an integer beyond
 * 2^53 (`Number.MAX_SAFE_INTEGER`) written as JavaScript prints it, such as the text of
 * `12345678901234567890`, which is `12345678901234567000`. Numbers that differ beyond their 16th
 * digit or so then give the same id. A string id of that form passes too, so `holdsRoundedNumber`
 * checks the event itself.
 */
export function isRoundedLargeNumber(messageId: string): boolean {
  const value = Number(messageId);
  return Number.isInteger(value) && !Number.isSafeInteger(value) && String(value) === messageId;
}

/**
 * Checks whether `event` holds, at any depth, a JSON number beyond 2^53 whose text is `messageId`:
 * the value a mapping made the rounded id from. A string id that merely looks like a rounded number
 * is not one, and neither is an id that a template built from other text.
 */
export function holdsRoundedNumber(event: unknown, messageId: string): boolean {
  const pending: unknown[] = [event];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value) && String(value) === messageId) {
      return true;
    }
    if (typeof value === "object" && value !== null) {
      for (const member of Object.values(value)) {
        pending.push(member);
      }
    }
  }
  return false;
}

/**
 * Describes an entry skipped as a duplicate whose numeric `messageId` may have been rounded into
 * another's. `skipped` describes what became of the entry, for a run or for a command that only reads.
 */
export function describeRoundedMessageId(input: string, line: number, messageId: string, skipped = "this entry was skipped as a duplicate of an earlier one"): string {
  return (
    `${input}:${line}: messageId ${messageId} is a number larger than 2^53, which a JSON number cannot hold exactly, so different ids that round to it count as one, ` +
    `and ${skipped}. Segment and Koala read such numbers the same way, so Koala would keep only one of them too. ` +
    "When they are different events, write messageId as a string in the input, or map message_id from another field in the config. " +
    "All such entries are counted under duplicate-message-id"
  );
}
