/**
 * Checks an RFC 3339 date-time as Segment's schema validation does (ajv-formats 2.1.1 behind
 * actions-core 3.170.0): a real calendar date, `T`, `t` or a space, then a time of day with optional
 * fractions. The time zone (`Z` or `±hh:mm`) is optional there, although RFC 3339 requires it, and
 * koala-replay accepts what Segment accepted.
 */
const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const timePattern = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(z|[+-]\d{2}(?::?\d{2})?)?$/i;
const daysInMonth = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function isValidDate(text: string): boolean {
  const match = datePattern.exec(text);
  if (match === null) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const lastDay = month === 2 && isLeapYear(year) ? 29 : (daysInMonth[month] ?? 0);
  return day <= lastDay;
}

function isValidTime(text: string): boolean {
  const match = timePattern.exec(text);
  if (match === null) return false;
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  const second = Number(match[3]);
  const isLeapSecond = hour === 23 && minute === 59 && second === 60;
  return (hour <= 23 && minute <= 59 && second <= 59) || isLeapSecond;
}

export function isDateTime(text: string): boolean {
  const parts = text.split(/t|\s/i);
  return parts.length === 2 && isValidDate(parts[0] ?? "") && isValidTime(parts[1] ?? "");
}
