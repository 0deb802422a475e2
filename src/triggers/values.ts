import type { SegmentEvent } from "../inputs/record.js";

/** Reads a value from an event, or returns `undefined` when the field is missing. */
export type ValueReader = (event: SegmentEvent) => unknown;

/**
 * Builds a reader for a field path. In event data parsed from JSON, only own keys of objects and
 * in-range indices of arrays are followed, so `constructor`, `__proto__`, `toString` or the `length`
 * of a string or an array are missing unless the event has them as its own keys. A string, number,
 * boolean or null in the middle of the path makes the field missing.
 */
export function compilePathReader(segments: readonly string[]): ValueReader {
  const steps = segments.map(compileStep);
  if (steps.length === 1) return steps[0] as Step;
  if (steps.length === 2) {
    const first = steps[0] as Step;
    const second = steps[1] as Step;
    return (event) => second(first(event));
  }
  return (event) => {
    let value: unknown = event;
    for (const step of steps) {
      value = step(value);
      if (value === undefined) return undefined;
    }
    return value;
  };
}

type Step = (container: unknown) => unknown;

const objectPrototype = Object.prototype as Record<string, unknown>;

function compileStep(key: string): Step {
  const index = arrayIndexOf(key);
  // `__proto__` is an accessor on Object.prototype that returns the prototype itself, so the
  // comparison below cannot tell an inherited value from an own one for it.
  const alwaysCheckOwn = key === "__proto__";
  return (container) => {
    if (typeof container !== "object" || container === null) return undefined;
    const value = (container as Record<string, unknown>)[key];
    if (value === undefined) return undefined;
    if (Array.isArray(container)) return index !== undefined ? value : undefined;

    // Event objects come from JSON, so an inherited value can only come from Object.prototype. A value
    // that differs from Object.prototype's is therefore the object's own, and Object.hasOwn runs only
    // for keys such as `constructor` (or keys added to Object.prototype), which keeps the common
    // lookup at one property load.
    if (alwaysCheckOwn) return Object.hasOwn(container, key) ? value : undefined;
    return value !== objectPrototype[key] || Object.hasOwn(container, key) ? value : undefined;
  };
}

/** Returns the array index that a path segment spells (`0`, `12`), or undefined for any other text. */
function arrayIndexOf(key: string): number | undefined {
  if (!/^(?:0|[1-9][0-9]{0,8})$/.test(key)) return undefined;
  return Number(key);
}

// ISO-8601 calendar dates with an optional time and zone: 2024-01-01, 2024-01-01T12:00Z,
// 2024-01-01T12:00:00.123+02:00. A time without a zone is read as UTC, never as local time.
const isoTimestamp =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Parses an ISO-8601 timestamp into milliseconds since the epoch, or returns NaN when it is not one. */
export function parseTimestamp(text: string): number {
  const match = isoTimestamp.exec(text);
  if (match === null) return Number.NaN;
  const [, year, month, day, hour = "00", minute = "00", second = "00", fraction = "", zone = "Z"] = match;
  const milliseconds = Number(fraction.padEnd(3, "0").slice(0, 3));
  const local = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), milliseconds);

  // Date.UTC rolls 2024-02-30 over into March, so an impossible date is caught by reading it back.
  const check = new Date(local);
  if (
    check.getUTCFullYear() !== Number(year) ||
    check.getUTCMonth() !== Number(month) - 1 ||
    check.getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    return Number.NaN;
  }
  return local - zoneOffsetMilliseconds(zone);
}

function zoneOffsetMilliseconds(zone: string): number {
  if (zone === "Z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4));
  return sign * (hours * 60 + minutes) * 60_000;
}

/**
 * Compares two values for `=`: a missing field equals null, numbers, strings and booleans compare by
 * type and value (`"5"` never equals 5), arrays and objects compare element by element.
 */
export function valuesEqual(left: unknown, right: unknown): boolean {
  const a = left === undefined ? null : left;
  const b = right === undefined ? null : right;
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((element, index) => valuesEqual(element, b[index]));
  }
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  return aKeys.every(
    (key) => Object.hasOwn(b, key) && valuesEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

/** Names the JSON type of a value for `typeof()`: a missing field is "null", like a null one. */
export function typeName(value: unknown): string {
  if (value === undefined || value === null) return "null";
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return typeof value;
    default:
      return "object";
  }
}

/** Converts text to snake_case: `Order Completed` and `orderCompleted` both become `order_completed`. */
export function toSnakeCase(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== "")
    .join("_")
    .toLowerCase();
}
