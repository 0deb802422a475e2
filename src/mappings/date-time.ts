/**
 * Checks an RFC 3339 date-time as Segment's schema validation does (ajv-formats 2.1.1 behind
 * actions-core 3.170.0): a real calendar date, `T`, `t` or a space, then a time of day with optional
 * fractions. The time zone (`Z` or `±hh:mm`) is optional there, although RFC 3339 requires it, and
 * koala-replay accepts what Segment accepted.
 */
// The date and the time have fixed widths, so the parts are read at fixed positions once the
// pattern matches: YYYY-MM-DD, one separator, hh:mm:ss. `\d` is [0-9] in a pattern without the u flag.
const dateTimePattern = /^\d{4}-\d{2}-\d{2}[t\s]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:z|[+-]\d{2}(?::?\d{2})?)?$/i;
const daysInMonth = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** Returns the number that the two digits at `index` write. */
function twoDigits(text: string, index: number): number {
  return (text.charCodeAt(index) - 48) * 10 + (text.charCodeAt(index + 1) - 48);
}

export function isDateTime(text: string): boolean {
  if (!dateTimePattern.test(text)) return false;
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  if (month < 1 || month > 12 || day < 1) return false;
  const lastDay = month === 2 && isLeapYear(year) ? 29 : (daysInMonth[month] ?? 0);
  if (day > lastDay) return false;
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  const isLeapSecond = hour === 23 && minute === 59 && second === 60;
  return (hour <= 23 && minute <= 59 && second <= 59) || isLeapSecond;
}
