import { createHash } from "node:crypto";
import type { SegmentEvent } from "./record.js";

/**
 * Derives a messageId from an event's content, for events that have none: the same event always
 * gets the same id, so a second run of the same input is deduplicated by Koala.
 */
export function deriveMessageId(event: SegmentEvent): string {
  const digest = createHash("sha256").update(canonicalJson(event)).digest("hex");
  return `koala-replay-${digest.slice(0, 32)}`;
}

/** JSON with object keys sorted at every depth, so that key order does not change the id. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(",")}]`;
  }
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value).sort();
    const members = keys
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
