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
}

/** Below this elapsed time a rate and a remaining time would mostly show start-up noise. */
const MIN_ELAPSED_FOR_ESTIMATE_MS = 1000;

/**
 * Writes one progress line, for example
 * `120,000 events read · 80,000 sent · 39,000 skipped · 1,000 failed · 42,000 events/s · 37% · about 1 min 10 s left`.
 * The percentage and the remaining time are estimates from the bytes read, shown only when the
 * size of the inputs is known.
 */
export function formatProgressText(snapshot: ProgressSnapshot, elapsedMs: number, dryRun: boolean): string {
  const parts = [
    `${formatCount(snapshot.eventsRead)} events read`,
    `${formatCount(snapshot.entriesSent)} ${dryRun ? "printed" : "sent"}`,
    `${formatCount(snapshot.skipped)} skipped`,
    `${formatCount(snapshot.failed)} failed`,
  ];
  if (elapsedMs >= MIN_ELAPSED_FOR_ESTIMATE_MS) {
    parts.push(`${formatCount(Math.round((snapshot.eventsRead * 1000) / elapsedMs))} events/s`);
  }
  const fraction = readFraction(snapshot);
  if (fraction !== undefined) {
    parts.push(`${Math.floor(fraction * 100)}%`);
    if (elapsedMs >= MIN_ELAPSED_FOR_ESTIMATE_MS && fraction > 0) {
      const remainingMs = (elapsedMs * (1 - fraction)) / fraction;
      parts.push(remainingMs < 1000 ? "less than 1 s left" : `about ${formatDuration(remainingMs)} left`);
    }
  }
  return parts.join(" · ");
}

function readFraction(snapshot: ProgressSnapshot): number | undefined {
  if (snapshot.totalBytes === undefined || snapshot.totalBytes <= 0) {
    return undefined;
  }
  return Math.min(1, snapshot.bytesRead / snapshot.totalBytes);
}

export function formatCount(count: number): string {
  return count.toLocaleString("en-US");
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
