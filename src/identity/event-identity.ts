import type { SegmentEvent } from "../inputs/record.js";

/** Milliseconds since the epoch for an observation whose time is missing or unreadable. */
export const UNKNOWN_TIME = Number.NEGATIVE_INFINITY;

const BLANK = /^\s*$/;

/**
 * Returns an id as a string: a non-blank string as it is, a number in its decimal form (so the
 * number 42 and the string "42" are the same user, as in Segment), anything else undefined. A
 * number beyond ±2^53 gives undefined too, because JSON.parse rounds it. 64-bit ids such as
 * 1234567890123456789 and 1234567890123456790 would otherwise become one user and share an email.
 */
export function normalizeId(value: unknown): string | undefined {
  if (typeof value === "string") {
    // Most ids start with a visible character, which settles it without the regular expression.
    const startsVisible = value.length > 0 && value.charCodeAt(0) > 32;
    return startsVisible || !BLANK.test(value) ? value : undefined;
  }
  if (typeof value === "number" && Math.abs(value) <= Number.MAX_SAFE_INTEGER) {
    return String(value);
  }
  return undefined;
}

/**
 * Returns a trimmed email, or null for a value that is not one (no `@` with text on both sides).
 * The case is kept as written: whether Koala matches emails case-insensitively is not documented,
 * so the graph sends the email found in the archive and only compares case-insensitively.
 */
export function normalizeEmail(value: unknown): string | null {
  if (typeof value !== "string") {
    return null;
  }
  const email = value.trim();
  const at = email.indexOf("@");
  return at > 0 && at < email.length - 1 ? email : null;
}

export function emailsMatch(first: string, second: string): boolean {
  return first === second || (first.length === second.length && first.toLowerCase() === second.toLowerCase());
}

/**
 * Finds the email of the user behind an event: a string, null when an email field contains something
 * that is not an email, undefined when there is no email field. Identify calls are read in the order
 * Koala's Identify Visitor reads them (`traits.email`, then `email`, then `context.traits.email`).
 * Other calls are read as `email`, `context.traits.email`, then `properties.email`, last because
 * properties describe the event and may name someone else, such as the recipient of an invitation.
 * `traits` of a group call describe the group, so its `traits.email` is not the user's.
 */
export function readEventEmail(event: SegmentEvent): string | null | undefined {
  return readEventEmailSource(event).email;
}

/**
 * Reads the email as `readEventEmail` does, and whether it came from `properties.email`, which may
 * name someone other than the user, so the identity graph gives it less weight.
 */
export function readEventEmailSource(event: SegmentEvent): { email: string | null | undefined; fromProperties: boolean } {
  let found: string | null | undefined;

  if (event["type"] === "identify") {
    found = pickEmail(found, emailField(event["traits"]));
    if (typeof found === "string") return { email: found, fromProperties: false };
  }
  found = pickEmail(found, event["email"]);
  if (typeof found === "string") return { email: found, fromProperties: false };

  const context = event["context"];
  found = pickEmail(found, emailField(isObject(context) ? context["traits"] : undefined));
  if (typeof found === "string" || event["type"] === "identify") return { email: found, fromProperties: false };

  const fromProperties = pickEmail(found, emailField(event["properties"]));
  return { email: fromProperties, fromProperties: typeof fromProperties === "string" };
}

function pickEmail(found: string | null | undefined, candidate: unknown): string | null | undefined {
  if (candidate === undefined || candidate === null || candidate === "") {
    return found;
  }
  return normalizeEmail(candidate);
}

function emailField(container: unknown): unknown {
  return isObject(container) ? container["email"] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Returns the event's time in epoch milliseconds: `timestamp`, else `receivedAt`, else `originalTimestamp`. */
export function readEventTime(event: SegmentEvent): number {
  return (
    parseTime(event["timestamp"]) ??
    parseTime(event["receivedAt"]) ??
    parseTime(event["originalTimestamp"]) ??
    UNKNOWN_TIME
  );
}

const ZONELESS_DATE_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const EPOCH_DIGITS = /^\d{9,13}$/;
const UPPERCASE_Z = 90;
const UPPERCASE_T = 84;
/** Epoch values at or above this are milliseconds (it is 2001-09-09 in milliseconds, year 33658 in seconds). */
const SMALLEST_EPOCH_MILLISECONDS = 1e12;

/**
 * Parses an ISO 8601 date-time, a warehouse date-time without a zone (taken as UTC, as warehouses
 * store it), or epoch seconds or milliseconds given as a number or digits. Returns undefined for
 * anything else.
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) ? fromEpoch(value) : undefined;
  }
  if (typeof value !== "string" || value === "") {
    return undefined;
  }
  // Fast path for the form Segment writes (`2024-03-01T09:00:00.000Z`), which Date.parse reads as UTC.
  if (value.charCodeAt(value.length - 1) === UPPERCASE_Z && value.charCodeAt(10) === UPPERCASE_T) {
    const milliseconds = Date.parse(value);
    if (!Number.isNaN(milliseconds)) return milliseconds;
  }
  if (EPOCH_DIGITS.test(value)) {
    return fromEpoch(Number(value));
  }

  const text = ZONELESS_DATE_TIME.test(value) ? `${value.replace(" ", "T")}Z` : value;
  const milliseconds = Date.parse(text);
  return Number.isNaN(milliseconds) ? undefined : milliseconds;
}

function fromEpoch(value: number): number {
  return value >= SMALLEST_EPOCH_MILLISECONDS ? value : value * 1000;
}
