import type { SegmentEvent } from "../inputs/record.js";

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
    super(`invalid --browser-events value "${value}": expected skip, include or before:<ISO date> (for example before:2024-03-01)`);
    this.name = "InvalidBrowserEventsPolicyError";
  }
}

export function parseBrowserEventsPolicy(value: string): BrowserEventsPolicy {
  if (value === "skip" || value === "include") {
    return { kind: value };
  }
  if (value.startsWith("before:")) {
    const date = value.slice("before:".length);
    const beforeMs = Date.parse(date);
    if (/^\d{4}-\d{2}-\d{2}/.test(date) && Number.isFinite(beforeMs)) {
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
      const time = typeof timestamp === "string" ? Date.parse(timestamp) : Number.NaN;
      return Number.isFinite(time) && time < policy.beforeMs;
    }
    default: {
      const unknownPolicy: never = policy;
      throw new Error(`unknown policy ${String(unknownPolicy)}`);
    }
  }
}
