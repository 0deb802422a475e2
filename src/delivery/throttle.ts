/**
 * Limits requests in flight with AIMD (additive increase, multiplicative decrease), the scheme TCP
 * uses for its congestion window. The limit climbs by one after a window of fast responses, halves
 * on a 429, a 503 or a timeout, and steps down a quarter when latency doubles. Koala does not
 * publish its rate limits, so the limit is found by probing, never above `maxConcurrency`.
 */
export class ConcurrencyController {
  private currentLimit: number;
  private successesSinceChange = 0;
  private baselineLatencyMs = 0;
  private recentLatencyMs = 0;
  private samples = 0;
  private lastDecreaseAtMs = -Infinity;
  /** The limit before the last decrease, until `undoDecreaseSince` restores it. */
  private limitBeforeDecrease: number | undefined;

  constructor(
    private readonly maxConcurrency: number,
    private readonly adaptive: boolean,
    private readonly onChange: (limit: number) => void = () => {},
  ) {
    // Start low, so a throttled API is not hit at full concurrency at once.
    this.currentLimit = adaptive ? 1 : maxConcurrency;
  }

  get limit(): number {
    return this.currentLimit;
  }

  /** Records a response that showed no overload; `latencyMs` is its round-trip time. */
  recordSuccess(latencyMs: number, nowMs: number): void {
    if (!this.adaptive) {
      return;
    }
    this.samples += 1;
    // A slow average follows the API's normal latency, a fast one its latency right now.
    this.baselineLatencyMs = this.samples === 1 ? latencyMs : this.baselineLatencyMs * 0.98 + latencyMs * 0.02;
    this.recentLatencyMs = this.samples === 1 ? latencyMs : this.recentLatencyMs * 0.7 + latencyMs * 0.3;

    if (this.samples >= 20 && this.recentLatencyMs > 2 * this.baselineLatencyMs + 5) {
      this.decrease(0.75, nowMs);
      return;
    }
    this.successesSinceChange += 1;
    if (this.successesSinceChange >= this.currentLimit && this.currentLimit < this.maxConcurrency) {
      this.setLimit(this.currentLimit + 1);
    }
  }

  /** Records a sign of overload: a 429, a 503 or a timeout. */
  recordOverload(nowMs: number): void {
    if (this.adaptive) {
      this.decrease(0.5, nowMs);
    }
  }

  /**
   * Restores the limit of before the last decrease, when that decrease came at or after `sinceMs`.
   * The sender calls it as an outage begins at `sinceMs`: the 503 or timeout that lowered the limit
   * was a sign that Koala went down, not that it was overloaded.
   */
  undoDecreaseSince(sinceMs: number): void {
    if (this.limitBeforeDecrease !== undefined && this.lastDecreaseAtMs >= sinceMs) {
      this.setLimit(this.limitBeforeDecrease);
      this.limitBeforeDecrease = undefined;
    }
  }

  private decrease(factor: number, nowMs: number): void {
    // The requests in flight when the API got overloaded all report it; count that as one signal.
    if (nowMs - this.lastDecreaseAtMs < Math.max(this.recentLatencyMs, 50)) {
      return;
    }
    this.lastDecreaseAtMs = nowMs;
    this.limitBeforeDecrease = this.currentLimit;
    this.setLimit(Math.max(1, Math.floor(this.currentLimit * factor)));
  }

  private setLimit(limit: number): void {
    this.successesSinceChange = 0;
    if (limit !== this.currentLimit) {
      this.currentLimit = limit;
      this.onChange(limit);
    }
  }
}

/** Spaces request starts at least `1000 / maxRps` milliseconds apart. */
export class RateLimiter {
  private nextStartAtMs = 0;
  private readonly intervalMs: number;

  constructor(maxRps: number | undefined) {
    this.intervalMs = maxRps === undefined ? 0 : 1000 / maxRps;
  }

  /** Milliseconds to wait before the next request may start; 0 when it may start now. */
  delayMs(nowMs: number): number {
    return Math.max(0, this.nextStartAtMs - nowMs);
  }

  /** Records a request start. */
  take(nowMs: number): void {
    this.nextStartAtMs = Math.max(nowMs, this.nextStartAtMs) + this.intervalMs;
  }
}
