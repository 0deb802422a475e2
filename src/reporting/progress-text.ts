import { formatCount } from "./count-format.js";
import { fitParts, type LinePart } from "./fit-line.js";

/** The counts a progress line shows, read from the run as it goes. */
export interface ProgressSnapshot {
  eventsRead: number;
  entriesSent: number;
  skipped: number;
  /** Not sent because of a problem: invalid events, unreadable lines and failed requests. */
  failed: number;
  /** Raw (still compressed) bytes read from the inputs so far. */
  bytesRead: number;
  /** Size of all inputs on disk, or undefined when one of them is stdin. */
  totalBytes: number | undefined;
  /**
   * Whether the events of every input have been read and handed to delivery, so that only
   * deliveries remain. The bytes read cannot tell it, because an input is read a whole chunk at a
   * time before the events in the chunk are parsed. A small input is all read before its first event.
   */
  readingDone: boolean;
  /** Entries handed to delivery and neither delivered nor dead-lettered yet, when the run reports them. */
  entriesPending?: number;
  /** Requests sent and still waiting for a response, when the run reports them. */
  requestsInFlight?: number;
  /**
   * Set while Koala has not responded since a request failed with a connection error or 5xx: for how
   * long, and, when no request is in flight, the time until the next retry starts. With `onlyErrors`,
   * every failure was a 5xx or 408 response, so the line shows errors rather than no response.
   */
  koalaNotResponding?: { forMs: number; nextRetryInMs: number | undefined; onlyErrors?: boolean } | undefined;
}

/** Below this elapsed time a rate would mostly show start-up noise. */
const MIN_ELAPSED_FOR_ESTIMATE_MS = 1000;

/**
 * Below this elapsed time a remaining time is not shown. In the first seconds the share read jumps
 * by whole chunks and few entries have been sent, so an estimate could fall from 45 minutes to
 * under one within seconds.
 */
const MIN_ELAPSED_FOR_TIME_LEFT_MS = 5000;

/** Below this share of the input read, the remaining time of the reading is not estimated. */
const MIN_SHARE_FOR_TIME_LEFT = 0.02;

/** Koala not responding for less than this is a failed request or two, not worth replacing the estimate. */
const MIN_NOT_RESPONDING_SHOWN_MS = 1000;

const SEPARATOR = " · ";

type PartName = "eventsRead" | "sent" | "skipped" | "someFailed" | "noneFailed" | "rate" | "share" | "timeLeft" | "waiting" | "inputRead" | "leftToDeliver" | "inFlight";

/**
 * The parts shown while reading, most important first. A terminal too narrow for the whole line
 * drops parts from the end of this list. The counts of events read and sent, and problems when
 * there are any, stay longest, because the share and the time left only estimate how far the run is.
 */
const READING_RANKS: readonly PartName[] = ["eventsRead", "sent", "someFailed", "waiting", "share", "timeLeft", "skipped", "rate", "noneFailed"];

/**
 * The parts shown once reading is done, most important first. The entries sent and left to deliver
 * now matter more than the events read, which no longer change. `input read` is dropped before them,
 * because the entries left to deliver already tell that only deliveries remain.
 */
const DELIVERY_RANKS: readonly PartName[] = ["sent", "someFailed", "waiting", "leftToDeliver", "timeLeft", "inputRead", "eventsRead", "inFlight", "skipped", "rate", "noneFailed"];

interface NamedPart {
  name: PartName;
  text: string;
  short?: string;
}

/**
 * Formats one progress line of at most `maxWidth` characters, for example
 * `120,000 events read · 80,000 sent · 39,000 skipped · 1,000 problems · 42,000 events/s · 37% read · ~1 min 10 s left`.
 * While inputs are read, the percentage and the remaining time are estimates from the bytes read,
 * shown only when the size of the inputs is known (see `readFraction`), and the remaining time only
 * after the first 5 seconds. Once reading is done, the line shows delivery
 * instead: the rate of entries sent and, when the run reports them, the entries left and the
 * requests in flight. While Koala does not respond, the remaining time, which the rate so far cannot
 * estimate, gives way to how long Koala has not responded and when the next retry starts. A line too
 * wide keeps the most important parts, some of them shortened.
 */
export function formatProgressText(snapshot: ProgressSnapshot, elapsedMs: number, dryRun: boolean, maxWidth = Number.POSITIVE_INFINITY): string {
  const sentWord = dryRun ? "printed" : "sent";
  const eventsRead = formatCount(snapshot.eventsRead);
  const parts: NamedPart[] = [
    // Next to "80,000 sent", "120,000 read" needs no noun, which leaves room for one more part.
    { name: "eventsRead", text: `${eventsRead} events read`, short: `${eventsRead} read` },
    { name: "sent", text: `${formatCount(snapshot.entriesSent)} ${sentWord}` },
    { name: "skipped", text: `${formatCount(snapshot.skipped)} skipped` },
    // Not "failed": the summary's failed row counts only entries that Koala did not accept.
    { name: snapshot.failed > 0 ? "someFailed" : "noneFailed", text: `${formatCount(snapshot.failed)} ${snapshot.failed === 1 ? "problem" : "problems"}` },
  ];
  if (snapshot.readingDone) {
    parts.push(...deliveryParts(snapshot, elapsedMs, sentWord));
  } else {
    parts.push(...readingParts(snapshot, elapsedMs));
  }
  const ranks = snapshot.readingDone ? DELIVERY_RANKS : READING_RANKS;
  const ranked: LinePart[] = parts.map(({ name, text, short }) => ({ text, short, rank: ranks.indexOf(name) }));
  return fitParts(ranked, maxWidth, SEPARATOR);
}

/**
 * Returns the rate of events read, the share of bytes read and the time left: to read the rest, or to
 * deliver the entries of the whole input at the rate of the entries sent so far, whichever is longer.
 * The entries of the whole input are extrapolated from those of the share read, because against a
 * slow Koala the time left is that of sending, and the events not read yet add to it.
 */
function readingParts(snapshot: ProgressSnapshot, elapsedMs: number): NamedPart[] {
  const parts: NamedPart[] = [];
  if (elapsedMs >= MIN_ELAPSED_FOR_ESTIMATE_MS) {
    parts.push({ name: "rate", text: `${formatCount(Math.round((snapshot.eventsRead * 1000) / elapsedMs))} events/s` });
  }
  const fraction = readFraction(snapshot);
  const waiting = waitingPart(snapshot.koalaNotResponding);
  if (fraction !== undefined) {
    // "read": the share is of the bytes read, which can be near 100% while most entries still wait for Koala.
    parts.push({ name: "share", text: `${Math.floor(fraction * 100)}% read` });
    if (waiting === undefined && elapsedMs >= MIN_ELAPSED_FOR_TIME_LEFT_MS && fraction >= MIN_SHARE_FOR_TIME_LEFT) {
      const readingMs = (elapsedMs * (1 - fraction)) / fraction;
      const expectedEntries = (snapshot.entriesSent + (snapshot.entriesPending ?? 0)) / fraction;
      const deliveringMs = snapshot.entriesSent > 0 ? ((expectedEntries - snapshot.entriesSent) * elapsedMs) / snapshot.entriesSent : 0;
      parts.push(timeLeft(Math.max(readingMs, deliveringMs)));
    }
  }
  if (waiting !== undefined) {
    parts.push(waiting);
  }
  return parts;
}

/**
 * Returns the delivery parts shown once reading is done: the entries sent per second since the
 * start and, when the run reports them, the entries left with an estimated time and the requests in
 * flight. While Koala does not respond, the time since it last did replaces the estimated time.
 */
function deliveryParts(snapshot: ProgressSnapshot, elapsedMs: number, sentWord: string): NamedPart[] {
  const parts: NamedPart[] = [{ name: "inputRead", text: "input read" }];
  const entriesPerSecond = elapsedMs >= MIN_ELAPSED_FOR_ESTIMATE_MS ? (snapshot.entriesSent * 1000) / elapsedMs : undefined;
  if (entriesPerSecond !== undefined) {
    parts.push({ name: "rate", text: `${formatCount(Math.round(entriesPerSecond))} ${sentWord}/s` });
  }
  if (snapshot.entriesPending !== undefined) {
    const pending = formatCount(snapshot.entriesPending);
    parts.push({ name: "leftToDeliver", text: `${pending} left to deliver`, short: `${pending} to deliver` });
  }
  const waiting = waitingPart(snapshot.koalaNotResponding);
  if (waiting !== undefined) {
    parts.push(waiting);
  } else if (snapshot.entriesPending !== undefined && elapsedMs >= MIN_ELAPSED_FOR_TIME_LEFT_MS && entriesPerSecond !== undefined && entriesPerSecond > 0 && snapshot.entriesPending > 0) {
    parts.push(timeLeft((snapshot.entriesPending * 1000) / entriesPerSecond));
  }
  if (snapshot.requestsInFlight !== undefined) {
    parts.push({ name: "inFlight", text: `${formatCount(snapshot.requestsInFlight)} ${snapshot.requestsInFlight === 1 ? "request" : "requests"} in flight` });
  }
  return parts;
}

/** Returns the text reporting that Koala is not responding, or undefined when it responds or the failures are too recent to matter. */
function waitingPart(notResponding: ProgressSnapshot["koalaNotResponding"]): NamedPart | undefined {
  if (notResponding === undefined || notResponding.forMs < MIN_NOT_RESPONDING_SHOWN_MS) {
    return undefined;
  }
  const forDuration = formatDuration(notResponding.forMs);
  const failure = notResponding.onlyErrors === true ? "only errors" : "no response";
  if (notResponding.nextRetryInMs === undefined) {
    return { name: "waiting", text: `${failure} from Koala for ${forDuration}`, short: `${failure} for ${forDuration}` };
  }
  // Rounded up, so that the line never shows "retry in 0 s" while the retry still waits.
  const retryIn = formatDuration(Math.ceil(notResponding.nextRetryInMs / 1000) * 1000);
  return {
    name: "waiting",
    text: `waiting for Koala (${failure} for ${forDuration}, retry in ${retryIn})`,
    short: `waiting for Koala (retry in ${retryIn})`,
  };
}

/** Formats the remaining time in one form only, so that the line does not switch between two phrasings as its width changes. */
function timeLeft(remainingMs: number): NamedPart {
  if (remainingMs < 1000) {
    return { name: "timeLeft", text: "<1 s left" };
  }
  return { name: "timeLeft", text: `~${formatDuration(remainingMs)} left` };
}

/**
 * Returns the share of the input bytes read, or undefined when it would not show how far the run
 * is: the size is unknown, no event has been read yet, or every byte is read while the run has not
 * reported reading done. A small file, or a gzip file, is read whole in a chunk or two before most
 * of its events are parsed, and would show 99% while few events or none had been read.
 */
function readFraction(snapshot: ProgressSnapshot): number | undefined {
  if (snapshot.totalBytes === undefined || snapshot.totalBytes <= 0 || snapshot.eventsRead === 0 || snapshot.bytesRead >= snapshot.totalBytes) {
    return undefined;
  }
  return snapshot.bytesRead / snapshot.totalBytes;
}

/** Formats a duration in whole seconds, minutes and hours: `45 s`, `3 min 20 s`, `2 h 5 min`. */
export function formatDuration(durationMs: number): string {
  const totalSeconds = Math.max(0, Math.round(durationMs / 1000));
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) {
    return `${hours} h ${minutes} min`;
  }
  if (minutes > 0) {
    return `${minutes} min ${seconds} s`;
  }
  return `${seconds} s`;
}
