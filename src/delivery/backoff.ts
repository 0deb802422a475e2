/** Bounds of the exponential backoff between attempts, in milliseconds. */
export interface BackoffLimits {
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Computes the wait before the next attempt with "full jitter": a uniform random delay between 0
 * and `min(maxDelayMs, baseDelayMs * 2^(attempt - 1))`. Spreading retries over the whole interval
 * keeps concurrent senders that failed together from retrying together. `attempt` counts the
 * attempts already made (1 after the first failure); `random` returns a number in [0, 1).
 */
export function computeBackoffDelay(attempt: number, limits: BackoffLimits, random: () => number): number {
  const exponent = Math.max(0, attempt - 1);
  // 2^31 already exceeds any sensible cap, and a larger exponent would overflow to Infinity.
  const ceiling = Math.min(limits.maxDelayMs, limits.baseDelayMs * 2 ** Math.min(exponent, 31));
  return Math.floor(random() * ceiling);
}

/**
 * Parses a `Retry-After` header value into milliseconds from `nowMs`: either delay-seconds
 * (`120`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`). A date in the past gives 0. Returns
 * undefined when the header is missing or invalid, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    return Number(trimmed) * 1000;
  }
  // Every HTTP date format names the month, which keeps Date.parse from reading "-5" as a year.
  const dateMs = /[a-z]{3}/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(dateMs)) {
    return undefined;
  }
  return Math.max(0, dateMs - nowMs);
}
