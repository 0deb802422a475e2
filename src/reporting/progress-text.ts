import { formatCount } from "./count-format.js";

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
}

/** Below this elapsed time a rate and a remaining time would mostly show start-up noise. */
const MIN_ELAPSED_FOR_ESTIMATE_MS = 1000;

/**
 * Writes one progress line, for example
 * `120,000 events read · 80,000 sent · 39,000 skipped · 1,000 failed · 42,000 events/s · 37% · about 1 min 10 s left`.
 * While inputs are read, the percentage and the remaining time are estimates from the bytes read,
 * shown only when the size of the inputs is known. Once reading is done, the line shows delivery
 * instead: the rate of entries sent and, when the run reports them, the entries left and the
 * requests in flight.
 */
export function formatProgressText(snapshot: ProgressSnapshot, elapsedMs: number, dryRun: boolean): string {
  const sentWord = dryRun ? "printed" : "sent";
  const parts = [
    `${formatCount(snapshot.eventsRead)} events read`,
    `${formatCount(snapshot.entriesSent)} ${sentWord}`,
    `${formatCount(snapshot.skipped)} skipped`,
    `${formatCount(snapshot.failed)} failed`,
  ];
  parts.push(...(snapshot.readingDone ? deliveryParts(snapshot, elapsedMs, sentWord) : readingParts(snapshot, elapsedMs)));
  return parts.join(" · ");
}

/** Returns the rate of events read, the share of bytes read and the time left to read the rest. */
function readingParts(snapshot: ProgressSnapshot, elapsedMs: number): string[] {
  const parts: string[] = [];
  if (elapsedMs >= MIN_ELAPSED_FOR_ESTIMATE_MS) {
    parts.push(`${formatCount(Math.round((snapshot.eventsRead * 1000) / elapsedMs))} events/s`);
  }
  const fraction = readFraction(snapshot);
  if (fraction !== undefined) {
    // At most 99% until the run reports reading done, because the events of the bytes read last
    // are still to be parsed and mapped.
    parts.push(`${Math.min(99, Math.floor(fraction * 100))}%`);
    if (elapsedMs >= MIN_ELAPSED_FOR_ESTIMATE_MS && fraction > 0) {
      parts.push(timeLeft((elapsedMs * (1 - fraction)) / fraction));
    }
  }
  return parts;
}

/**
 * Returns the delivery parts shown once reading is done: the entries sent per second since the
 * start and, when the run reports them, the entries left with an estimated time and the requests in flight.
 */
function deliveryParts(snapshot: ProgressSnapshot, elapsedMs: number, sentWord: string): string[] {
  const parts = ["input read"];
  const entriesPerSecond = elapsedMs >= MIN_ELAPSED_FOR_ESTIMATE_MS ? (snapshot.entriesSent * 1000) / elapsedMs : undefined;
  if (entriesPerSecond !== undefined) {
    parts.push(`${formatCount(Math.round(entriesPerSecond))} ${sentWord}/s`);
  }
  if (snapshot.entriesPending !== undefined) {
    parts.push(`${formatCount(snapshot.entriesPending)} left to deliver`);
    if (entriesPerSecond !== undefined && entriesPerSecond > 0 && snapshot.entriesPending > 0) {
      parts.push(timeLeft((snapshot.entriesPending * 1000) / entriesPerSecond));
    }
  }
  if (snapshot.requestsInFlight !== undefined) {
    parts.push(`${formatCount(snapshot.requestsInFlight)} ${snapshot.requestsInFlight === 1 ? "request" : "requests"} in flight`);
  }
  return parts;
}

function timeLeft(remainingMs: number): string {
  return remainingMs < 1000 ? "less than 1 s left" : `about ${formatDuration(remainingMs)} left`;
}

function readFraction(snapshot: ProgressSnapshot): number | undefined {
  if (snapshot.totalBytes === undefined || snapshot.totalBytes <= 0) {
    return undefined;
  }
  return Math.min(1, snapshot.bytesRead / snapshot.totalBytes);
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
