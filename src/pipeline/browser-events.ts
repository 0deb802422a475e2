import type { SegmentEvent } from "../inputs/record.js";
import { parseTimestamp } from "../triggers/values.js";

/**
 * Policy for track events recorded by analytics.js, which Koala's browser pixel may have
 * recorded already. Segment's Koala (Cloud) destination always skips them (`skip`).
 */
export type BrowserEventsPolicy =
  | { kind: "skip" }
  | { kind: "include" }
  /** Include those older than `beforeMs` (epoch milliseconds): history from before the pixel went live. */
  | { kind: "before"; beforeMs: number; date: string };

export class InvalidBrowserEventsPolicyError extends Error {
  constructor(value: string) {
    const expected = value.startsWith("before:")
      ? `${JSON.stringify(value.slice("before:".length))} is not a valid ISO-8601 date or time, such as before:2024-03-01 or before:2024-03-01T12:00:00Z (UTC unless it has a zone)`
      : "expected skip, include or before:<ISO date> (for example before:2024-03-01, UTC unless it has a zone)";
    super(`invalid --browser-events value "${value}": ${expected}`);
    this.name = "InvalidBrowserEventsPolicyError";
  }
}

/**
 * Parses `skip`, `include` or `before:<date>`. The date is read as `--since` and `--until` read
 * theirs: UTC unless it has a zone, whatever the machine's time zone, and a day that does not exist
 * (2024-02-30) is rejected rather than moved to the next month.
 */
export function parseBrowserEventsPolicy(value: string): BrowserEventsPolicy {
  if (value === "skip" || value === "include") {
    return { kind: value };
  }
  if (value.startsWith("before:")) {
    const date = value.slice("before:".length);
    const beforeMs = parseTimestamp(date);
    if (!Number.isNaN(beforeMs)) {
      return { kind: "before", beforeMs, date };
    }
  }
  throw new InvalidBrowserEventsPolicyError(value);
}

export function isAnalyticsJsEvent(event: SegmentEvent): boolean {
  const context = event["context"] as { library?: { name?: unknown } } | undefined;
  return typeof context === "object" && context !== null && context.library?.name === "analytics.js";
}

/** Checks whether the policy keeps this analytics.js track event. An event without a readable timestamp is not kept under `before`. */
export function keepsBrowserEvent(policy: BrowserEventsPolicy, event: SegmentEvent): boolean {
  switch (policy.kind) {
    case "skip":
      return false;
    case "include":
      return true;
    case "before": {
      const timestamp = event["timestamp"];
      // Parsed as the policy's date is, so that a timestamp without a zone is UTC here too.
      const time = typeof timestamp === "string" ? parseTimestamp(timestamp) : Number.NaN;
      return Number.isFinite(time) && time < policy.beforeMs;
    }
    default: {
      const unknownPolicy: never = policy;
      throw new Error(`unknown policy ${String(unknownPolicy)}`);
    }
  }
}
