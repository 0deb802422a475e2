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

/**
 * Parses an ISO-8601 timestamp into milliseconds since the epoch, or returns NaN when it is not one.
 * Accepted: a calendar date (2024-01-31), optionally followed by `T` or a space, a time (12:00,
 * 12:00:00, 12:00:00.123456789) and a zone (Z, +02:00, -0500). A time without a zone is read as UTC,
 * never as local time. The text is scanned by character codes so a trigger on `timestamp` allocates
 * nothing per event.
 */
export function parseTimestamp(text: string): number {
  const length = text.length;
  if (length < 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return Number.NaN;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
  if (length === 10) return utcMilliseconds(year, month, day, 0, 0, 0, 0);

  const separator = text.charCodeAt(10);
  if ((separator !== 84 && separator !== 32) || length < 16 || text.charCodeAt(13) !== 58) return Number.NaN;
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  let second = 0;
  let milliseconds = 0;
  let index = 16;
  if (text.charCodeAt(index) === 58) {
    second = digitsAt(text, index + 1, 2);
    index += 3;
    if (text.charCodeAt(index) === 46) {
      const fractionStart = index + 1;
      index = fractionStart;
      while (index < length && index - fractionStart < 9 && isDigitCode(text.charCodeAt(index))) index++;
      if (index === fractionStart) return Number.NaN;
      milliseconds = fractionMilliseconds(text, fractionStart, index);
    }
  }
  if (!(hour <= 23 && minute <= 59 && second <= 59)) return Number.NaN;

  const offset = zoneOffsetMinutes(text, index);
  if (Number.isNaN(offset)) return Number.NaN;
  return utcMilliseconds(year, month, day, hour, minute, second, milliseconds) - offset * 60_000;
}

/** The length of 400 Gregorian years, which is a whole number of days (146,097). */
const fourHundredYearsMilliseconds = 146_097 * 86_400_000;

/** Like Date.UTC, except that years 0 to 99 stay themselves instead of meaning 1900 to 1999. */
function utcMilliseconds(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  milliseconds: number,
): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second, milliseconds);
  return Date.UTC(year + 400, month - 1, day, hour, minute, second, milliseconds) - fourHundredYearsMilliseconds;
}

/** Reads `count` decimal digits at `start`, or returns NaN when one of them is not a digit. */
function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index++) {
    const code = text.charCodeAt(index);
    if (!isDigitCode(code)) return Number.NaN;
    value = value * 10 + (code - 48);
  }
  return value;
}

function isDigitCode(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Converts the first three digits of a fraction of a second to milliseconds, padding with zeros. */
function fractionMilliseconds(text: string, start: number, end: number): number {
  let value = 0;
  for (let index = start; index < start + 3; index++) {
    value = value * 10 + (index < end ? text.charCodeAt(index) - 48 : 0);
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Reads the zone that ends the text at `start` as minutes east of UTC, or returns NaN for anything else. */
function zoneOffsetMinutes(text: string, start: number): number {
  const rest = text.length - start;
  if (rest === 0) return 0;
  const sign = text.charCodeAt(start);
  if (rest === 1 && sign === 90) return 0;
  if (sign !== 43 && sign !== 45) return Number.NaN;

  let minutesStart: number;
  if (rest === 6 && text.charCodeAt(start + 3) === 58) minutesStart = start + 4;
  else if (rest === 5) minutesStart = start + 3;
  else return Number.NaN;
  const hours = digitsAt(text, start + 1, 2);
  const minutes = digitsAt(text, minutesStart, 2);
  if (!(hours <= 23 && minutes <= 59)) return Number.NaN;
  return (sign === 45 ? -1 : 1) * (hours * 60 + minutes);
}

/**
 * Tells whether a string literal spells a decimal number (`12`, `-3.5`, `.5`, `5.`, `1e3`). An ordering
 * compares such text as that number, as Segment does with Number(). Number() also converts "", " 5",
 * "0x10" and "Infinity", which are left out on purpose, so the checker warns that they never match.
 */
export function isDecimalNumberText(text: string): boolean {
  return /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(text);
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

/**
 * Names that `typeof()` may be compared with, by the name `typeName` returns. Segment's FQL reference
 * (segment-docs, src/api/public-api/fql.md) names the types "list" and "bool", while tsub-js, the FQL
 * evaluator of analytics.js, returns JavaScript's typeof ("boolean"), so both spellings select the same values.
 */
const TYPE_NAME_SPELLINGS: ReadonlyMap<string, string> = new Map([
  ["string", "string"],
  ["number", "number"],
  ["bool", "boolean"],
  ["boolean", "boolean"],
  ["list", "array"],
  ["array", "array"],
  ["object", "object"],
  ["null", "null"],
]);

/** Returns the name `typeName` gives for a type written as `name` in a trigger, or undefined for a name no value has. */
export function canonicalTypeName(name: string): string | undefined {
  return TYPE_NAME_SPELLINGS.get(name);
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
