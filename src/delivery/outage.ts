import type { AttemptOutcome } from "./outcome.js";

/**
 * Persons whose requests must fail, with no response from Koala in between, before the failures count
 * as an outage. One person's requests failing alone may be caused by that person's entries (a payload
 * that makes Koala return 500 every time), and those entries belong in the dead-letter file.
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
 * Tracks the failures since Koala last responded to a request, across every person. Koala has an
 * outage when the requests of at least `OUTAGE_MIN_FAILING_PERSONS` persons failed with no response since.
 */
export class OutageTracker {
  private state: OutageState | undefined;
  /** The first person that failed in the current streak, until a second one does. */
  private firstFailingPerson: object | undefined;
  private failingPersons = 0;

  /** Records an attempt that got a response other than a failure, which ends any outage. */
  noteResponse(): void {
    this.state = undefined;
    this.firstFailingPerson = undefined;
    this.failingPersons = 0;
  }

  /** Records a failed attempt (see `isOutageFailure`) of `person`, any object that stands for one person, such as its lane. */
  noteFailure(person: object, outcome: AttemptOutcome, nowMs: number): void {
    const lastError = outcome.kind === "network-error" ? outcome.code : `HTTP ${outcome.status}`;
    if (this.state === undefined) {
      this.state = { sinceMs: nowMs, failedAttempts: 0, lastError };
    }
    this.state.failedAttempts += 1;
    this.state.lastError = lastError;
    if (this.failingPersons === 0) {
      this.firstFailingPerson = person;
      this.failingPersons = 1;
    } else if (this.failingPersons === 1 && person !== this.firstFailingPerson) {
      this.failingPersons = 2;
    }
    if (outcome.kind === "response") {
      this.state.failedResponses = (this.state.failedResponses ?? 0) + 1;
    }
  }

  /** Returns the failures since Koala last responded, even of one person, or undefined when the last attempt got a response. */
  get failingSince(): OutageState | undefined {
    return this.state;
  }

  /** Returns the current outage, or undefined while fewer persons' requests have failed since Koala last responded. */
  get outage(): OutageState | undefined {
    return this.failingPersons >= OUTAGE_MIN_FAILING_PERSONS ? this.state : undefined;
  }

  /** Returns whether the current outage has lasted `limitMs` or longer. */
  hasLasted(limitMs: number, nowMs: number): boolean {
    const outage = this.outage;
    return outage !== undefined && nowMs - outage.sinceMs >= limitMs;
  }
}
