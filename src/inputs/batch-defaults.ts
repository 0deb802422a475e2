import type { BatchDefaults } from "./json-sequence.js";
import type { SegmentEvent } from "./record.js";

/**
 * Merges the `context` and `integrations` of a `/v1/batch` request body into one of its events. The
 * HTTP APIs of Segment and compatible services apply them to every call of a batch (Customer.io's
 * batch reference states it), but do not document how. Here the merge is deep and the event wins:
 * where both have an object, their keys are merged level by level, and anywhere else the event's
 * own value is kept. So an event with `context.traits.name` still gets the body's
 * `context.traits.email`, because both describe the same person and a shallow merge would drop the
 * email. Arrays are values, not merged. The body's objects are copied, never shared between events.
 */
export function applyBatchDefaults(event: SegmentEvent, defaults: BatchDefaults): void {
  for (const [key, value] of Object.entries(defaults)) {
    if (value !== undefined) {
      event[key] = mergeUnder(value, event[key]);
    }
  }
}

/**
 * Returns `own` with the keys of `base` that it lacks, at every depth where both are objects, or a
 * copy of `base` when `own` is undefined. The event's keys keep their order, and the body's follow.
 * `Object.fromEntries` defines a `__proto__` key as an own property, as JSON.parse does.
 */
function mergeUnder(base: unknown, own: unknown): unknown {
  if (own === undefined) {
    return structuredClone(base);
  }
  if (!isObject(base) || !isObject(own)) {
    return own;
  }
  const entries: Array<[string, unknown]> = Object.entries(own).map(([key, value]) => [key, Object.hasOwn(base, key) ? mergeUnder(base[key], value) : value]);
  for (const [key, value] of Object.entries(base)) {
    if (!Object.hasOwn(own, key)) {
      entries.push([key, structuredClone(value)]);
    }
  }
  return Object.fromEntries(entries);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
