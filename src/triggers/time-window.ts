import { formatLiteral } from "./format.js";
import { parseTimestamp } from "./values.js";

/** Names of the two bounds in error messages, such as the command-line options that set them. */
export interface TimeWindowLabels {
  since: string;
  until: string;
}

export interface TimeWindow {
  /** First instant included, as an ISO-8601 date or timestamp. */
  since?: string;
  /** First instant excluded, as an ISO-8601 date or timestamp. */
  until?: string;
}

/**
 * Builds the trigger text that keeps events whose `timestamp` lies in the window: `since` included,
 * `until` excluded. `timestamp` is outside Segment's trigger subset, so compile the text with the fql
 * dialect. Throws a RangeError naming the invalid date, or when `since` is not before `until`. The
 * message names the bounds with `labels`.
 */
export function timeWindowTrigger(window: TimeWindow, labels: TimeWindowLabels = { since: "since date", until: "until date" }): string {
  const conditions: string[] = [];
  const since = validDate(labels.since, window.since);
  const until = validDate(labels.until, window.until);
  if (since !== undefined) conditions.push(`timestamp >= ${formatLiteral(since.text)}`);
  if (until !== undefined) conditions.push(`timestamp < ${formatLiteral(until.text)}`);
  if (since !== undefined && until !== undefined && since.instant >= until.instant) {
    throw new RangeError(`The time window is empty: ${labels.since} ${since.text} is not before ${labels.until} ${until.text}.`);
  }
  if (conditions.length === 0) throw new RangeError("A time window needs a since date, an until date or both.");
  return conditions.join(" and ");
}

/** Text that reads as a duration, such as 90d, 2 weeks or 6 months, which users try for a recent window. */
const DURATION = /^\d+\s*(?:[dhwmy]|hours?|days?|weeks?|months?|years?)(?:\s*ago)?$/i;

function validDate(label: string, text: string | undefined): { text: string; instant: number } | undefined {
  if (text === undefined) return undefined;
  const instant = parseTimestamp(text);
  if (Number.isNaN(instant)) {
    throw new RangeError(
      `Invalid ${label} ${JSON.stringify(text)}: expected an ISO-8601 date such as 2024-01-31 or a timestamp such as 2024-01-31T12:00:00Z.` +
        (DURATION.test(text.trim()) ? ` Durations are not taken, so that a resumed run keeps the same window: compute the date in the shell, as in $(date -u -d -90days +%F).` : ""),
    );
  }
  return { text, instant };
}
