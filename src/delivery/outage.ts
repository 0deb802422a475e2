import type { BackoffLimits } from "./backoff.js";
import { ABORTED_CODE, type AttemptResult } from "./http.js";
import type { AttemptOutcome } from "./outcome.js";

/**
 * Persons whose requests must fail, with no response from Koala in between, before the failures count
 * as an outage, unless GET /auth failed too. One person's requests failing alone may be caused by that
 * person's entries (a payload that makes Koala return 500 every time), and those entries belong in the
 * dead-letter file.
 */
export const OUTAGE_MIN_FAILING_PERSONS = 2;

/** The outage that a run is in, for the message that stops it. */
export interface OutageState {
  /** Time the first failure after Koala's last response arrived, in epoch milliseconds. */
  sinceMs: number;
  /** Failed attempts that got a response (a 5xx or a 408), absent while none did: the others got none. */
  failedResponses?: number;
  failedAttempts: number;
  /** The last failure: a network error code (`ECONNREFUSED`) or `HTTP <status>`. */
  lastError: string;
  /** The status of the last failure, when it was a response (a 5xx or a 408). */
  lastStatus: number | undefined;
  /** The network error code of the last failure, when it got no response. */
  lastErrorCode: string | undefined;
  /** Whether the failed attempts are of several persons; otherwise GET /auth failed too, which made it an outage. */
  severalPersons: boolean;
}

/**
 * Returns whether an attempt failed in a way that reveals nothing about its entries: no response (refused,
 * reset, timed out), a 5xx, or a 408. Every other response shows that Koala is up.
 */
export function isOutageFailure(outcome: AttemptOutcome): boolean {
  if (outcome.kind === "network-error") {
    return true;
  }
  return (outcome.status >= 500 && outcome.status < 600) || outcome.status === 408;
}

/**
 * Returns whether a failed attempt may have been caused by its entries: a 500, the status of an
 * internal error, which a server returns when a payload breaks it. 502, 503 and 504 come from
 * gateways and overload, and 408 and connection errors from the network, whatever the entries.
 */
export function mayFailOnEntries(outcome: AttemptOutcome): boolean {
  return outcome.kind === "response" && outcome.status === 500;
}

/**
 * Largest wait between two attempts of an entry that got a 500 from Koala while Koala was up, in
 * milliseconds (unless the retry backoff is capped lower). Such an entry blocks the later entries of
 * its person until it is dead-lettered. The usual cap of a minute guards a Koala that is overloaded
 * or down, which this one is not. With it, a send to the emulator of 2,000 events with 200 such
 * entries, with 10 attempts, took 545 s instead of 118 s.
 */
export const ENTRY_FAILURE_MAX_DELAY_MS = 5_000;

/** Result of `KoalaHealth.check`: `unknown` when GET /auth returned neither a success nor an outage failure. */
export type KoalaHealthState = "up" | "down" | "unknown";

/**
 * Tells a Koala that is down from one that fails on some entries, which both return 500 to every
 * request that contains such entries. Koala counts as up once it accepted a request, or responded to
 * it with anything but an outage failure, or `GET /auth` returned a success. That request carries no
 * entries, so its failure is a sign of an outage whatever the entries of the failed requests are.
 *
 * NOTE: a Koala whose `/batch` alone fails with 500 while `GET /auth` succeeds (a broken store
 * behind a working front, say) cannot be distinguished from one that fails on every entry sent: its entries
 * are split and dead-lettered. No other request shows that `/batch` works without sending entries.
 */
export class KoalaHealth {
  private upAtMs = Number.NEGATIVE_INFINITY;
  private probe: Promise<KoalaHealthState> | undefined;

  constructor(private readonly probeAuth: () => Promise<AttemptResult>) {}

  /** Records a response from Koala that was not an outage failure, at `nowMs`. */
  noteUp(nowMs: number): void {
    this.upAtMs = Math.max(this.upAtMs, nowMs);
  }

  /**
   * Returns whether Koala is up, judged by a response since `sinceMs` (the start of the failed
   * request), else by one `GET /auth`, which every caller shares while it is in flight.
   */
  check(sinceMs: number): Promise<KoalaHealthState> {
    if (this.upAtMs >= sinceMs) {
      return Promise.resolve("up");
    }
    this.probe ??= this.askAuth().finally(() => {
      this.probe = undefined;
    });
    return this.probe;
  }

  private async askAuth(): Promise<KoalaHealthState> {
    const { outcome } = await this.probeAuth();
    if (outcome.kind === "response" && outcome.status >= 200 && outcome.status < 300 && outcome.webPage !== true) {
      this.noteUp(Date.now());
      return "up";
    }
    // A probe aborted by a stop shows nothing about Koala.
    const aborted = outcome.kind === "network-error" && outcome.code === ABORTED_CODE;
    return isOutageFailure(outcome) && !aborted ? "down" : "unknown";
  }
}

/**
 * Tracks the failures since Koala last responded to a request, across every person. Koala has an
 * outage when the requests of at least `OUTAGE_MIN_FAILING_PERSONS` persons failed with no response
 * since, or those of one person did and GET /auth failed as well.
 */
export class OutageTracker {
  private state: OutageState | undefined;
  /** The first person that failed in the current streak, until a second one does. */
  private firstFailingPerson: object | undefined;
  private failingPersons = 0;
  /** Whether GET /auth failed since Koala last responded. */
  private authFailed = false;

  /** Records an attempt that got a response other than a failure, which ends any outage. */
  noteResponse(): void {
    this.state = undefined;
    this.firstFailingPerson = undefined;
    this.failingPersons = 0;
    this.authFailed = false;
  }

  /**
   * Records a failed attempt (see `isOutageFailure`) of `person`, any object that represents one
   * person, such as its lane. `authFailed` is set when GET /auth failed too, which makes it an outage
   * even while only this person's requests have failed.
   */
  noteFailure(person: object, outcome: AttemptOutcome, nowMs: number, authFailed = false): void {
    const lastStatus = outcome.kind === "response" ? outcome.status : undefined;
    const lastErrorCode = outcome.kind === "network-error" ? outcome.code : undefined;
    const lastError = lastErrorCode ?? `HTTP ${lastStatus}`;
    if (this.state === undefined) {
      this.state = { sinceMs: nowMs, failedAttempts: 0, lastError, lastStatus, lastErrorCode, severalPersons: false };
    }
    this.state.failedAttempts += 1;
    this.state.lastError = lastError;
    this.state.lastStatus = lastStatus;
    this.state.lastErrorCode = lastErrorCode;
    if (this.failingPersons === 0) {
      this.firstFailingPerson = person;
      this.failingPersons = 1;
    } else if (this.failingPersons === 1 && person !== this.firstFailingPerson) {
      this.failingPersons = 2;
    }
    this.state.severalPersons = this.failingPersons >= OUTAGE_MIN_FAILING_PERSONS;
    this.authFailed ||= authFailed;
    if (outcome.kind === "response") {
      this.state.failedResponses = (this.state.failedResponses ?? 0) + 1;
    }
  }

  /** Returns the failures since Koala last responded, even of one person, or undefined when the last attempt got a response. */
  get failingSince(): OutageState | undefined {
    return this.state;
  }

  /** Returns whether every failure since Koala last responded, one at least, is of `person`. */
  hasOnlyFailuresOf(person: object): boolean {
    return this.state !== undefined && this.failingPersons === 1 && this.firstFailingPerson === person;
  }

  /** Returns the current outage, or undefined while fewer persons' requests have failed since Koala last responded, and GET /auth has not. */
  get outage(): OutageState | undefined {
    return this.failingPersons >= OUTAGE_MIN_FAILING_PERSONS || this.authFailed ? this.state : undefined;
  }

  /** Returns whether the current outage has lasted `limitMs` or longer. */
  hasLasted(limitMs: number, nowMs: number): boolean {
    const outage = this.outage;
    return outage !== undefined && nowMs - outage.sinceMs >= limitMs;
  }
}

/**
 * Largest wait between two test requests during an outage, in milliseconds (unless the retry backoff
 * is capped lower). It bounds how long a run stays idle after Koala is back, at the cost of one
 * request every 2.5 to 5 s while Koala is down.
 */
export const OUTAGE_PROBE_MAX_DELAY_MS = 5_000;

/**
 * Holds requests while Koala has an outage, so that the run backs off as a whole instead of every
 * waiting request retrying on its own backoff. One request at a time tests whether Koala is back,
 * after a wait that doubles with each failed test, capped and jittered. The sender opens the gate
 * when any request gets a response other than an outage failure, and then every request held goes.
 */
export class OutageGate {
  private closed = false;
  private probeInFlight = false;
  private failedProbes = 0;
  private probeAtMs = 0;

  constructor(
    private readonly limits: BackoffLimits,
    private readonly random: () => number,
  ) {}

  /** Whether requests are held, apart from one test request at a time. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Epoch millisecond at which the next test request may start. */
  get nextProbeAtMs(): number {
    return this.probeAtMs;
  }

  /** Starts holding requests, when an outage has just begun; the first test request waits one backoff step. */
  close(nowMs: number): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.probeInFlight = false;
    this.failedProbes = 0;
    this.probeAtMs = nowMs + this.probeDelayMs(1);
  }

  /** Lets every request go again: Koala responded. */
  open(): void {
    this.closed = false;
    this.probeInFlight = false;
    this.failedProbes = 0;
  }

  /** Returns the wait until a test request may start, 0 when one may start now, or undefined while one is in flight. */
  waitMs(nowMs: number): number | undefined {
    return this.probeInFlight ? undefined : Math.max(0, this.probeAtMs - nowMs);
  }

  /** Records that a test request started. */
  startProbe(): void {
    this.probeInFlight = true;
  }

  /** Records that the test request failed as the outage's requests do, and sets the time of the next one. */
  probeFailed(nowMs: number): void {
    this.probeInFlight = false;
    this.failedProbes += 1;
    this.probeAtMs = nowMs + this.probeDelayMs(this.failedProbes + 1);
  }

  /**
   * Returns the wait before test request `probe` (1 for the first) with "equal jitter": uniform
   * between half the ceiling and the ceiling, which doubles from the base delay up to its cap. Unlike
   * the full jitter of retries, the wait never drops near 0, so the tests stay spaced as they grow.
   */
  private probeDelayMs(probe: number): number {
    const cap = Math.min(this.limits.maxDelayMs, OUTAGE_PROBE_MAX_DELAY_MS);
    const ceiling = Math.min(cap, this.limits.baseDelayMs * 2 ** Math.min(probe - 1, 31));
    return Math.floor(ceiling / 2 + (this.random() * ceiling) / 2);
  }
}
