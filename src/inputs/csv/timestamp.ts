/**
 * `YYYY-MM-DD`, optionally followed by `T` or a space and a time with optional seconds and fraction,
 * then an optional zone: `Z`, `UTC` or an offset (`+05:30`, `+0530`, `+05`), with or without a space.
 */
const DATE_TIME_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i;

const EPOCH_PATTERN = /^-?\d+(?:\.\d+)?$/;

/** Epoch values below these magnitudes are read in the unit of the branch that tests them. */
const SECONDS_BELOW = 1e11; // 1e11 s is year 5138, while 1e11 ms is 1973-03-03.
const MILLISECONDS_BELOW = 1e14;
const MICROSECONDS_BELOW = 1e17;

/**
 * Normalises a timestamp cell to ISO 8601 in UTC with milliseconds (`2015-02-23T22:28:55.000Z`).
 * A date-time without a zone is UTC, as warehouses store it. Digits only are an epoch whose unit is
 * decided by magnitude: seconds below 1e11, milliseconds below 1e14, microseconds below 1e17,
 * nanoseconds above (so a millisecond epoch before 1973-03-03 is misread as seconds). Digits beyond
 * milliseconds are dropped. Any other text is returned as written, for the mapping to deal with.
 */
export function normaliseTimestamp(text: string): string {
  const trimmed = text.trim();
  if (EPOCH_PATTERN.test(trimmed)) return epochToIso(Number(trimmed)) ?? text;

  const match = DATE_TIME_PATTERN.exec(trimmed);
  if (match === null) return text;
  return dateTimeToIso(match) ?? text;
}

function epochToIso(epoch: number): string | undefined {
  const magnitude = Math.abs(epoch);
  let milliseconds: number;
  if (magnitude < SECONDS_BELOW) milliseconds = epoch * 1000;
  else if (magnitude < MILLISECONDS_BELOW) milliseconds = epoch;
  else if (magnitude < MICROSECONDS_BELOW) milliseconds = epoch / 1000;
  else milliseconds = epoch / 1e6;
  return toIsoString(Math.trunc(milliseconds));
}

function dateTimeToIso(match: RegExpExecArray): string | undefined {
  const [, year = "", month = "", day = "", hour = "00", minute = "00", second = "00", fraction = "", zone] = match;
  const milliseconds = (fraction + "000").slice(0, 3);
  const isUtc = zone === undefined || /^(z|utc)$/i.test(zone);
  if (isUtc) {
    // Already UTC: the ISO text can be written directly once the fields are in range, which is
    // several times faster than a round trip through Date on a column of millions of cells.
    if (!isValidDateTime(Number(year), Number(month), Number(day), Number(hour), Number(minute), Number(second))) {
      return undefined;
    }
    return `${year}-${month}-${day}T${hour}:${minute}:${second}.${milliseconds}Z`;
  }
  const isoText = `${year}-${month}-${day}T${hour}:${minute}:${second}.${milliseconds}${offsetToIso(zone)}`;
  return toIsoString(Date.parse(isoText));
}

/** Leap seconds (`:60`) and `24:00` are rejected, as `Date.parse` rejects them. */
function isValidDateTime(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  return day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Turns `+0530` and `+05` into `+05:30` and `+05:00`, the forms `Date.parse` accepts. */
function offsetToIso(offset: string): string {
  const digits = offset.slice(1).replace(":", "");
  return `${offset[0]}${digits.slice(0, 2)}:${(digits.slice(2) + "00").slice(0, 2)}`;
}

function toIsoString(milliseconds: number): string | undefined {
  const date = new Date(milliseconds);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
