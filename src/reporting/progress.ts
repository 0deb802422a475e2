import type { Ora } from "ora";
import { truncateText } from "./fit-line.js";
import { formatDuration, formatProgressText, type ProgressSnapshot } from "./progress-text.js";

/** A live status line for a long run, and the one way to print other lines while it is shown. */
export interface ProgressReporter {
  /** Receives the run's latest counts; the line is redrawn at most once per interval. */
  update(snapshot: ProgressSnapshot): void;
  /** Shows what the run is doing while it has no counts to show; the next `update` replaces it. */
  phase(description: string): void;
  /** Prints a whole line (a warning, a verbose log line) above the status line, never through it. */
  log(line: string): void;
  /** Removes the status line, so that a summary can follow on a clean line. */
  stop(): void;
}

export interface ProgressOptions {
  /**
   * Stream for the status line and logged lines: stderr, so that stdout stays clean for pipes. The
   * line is fitted to its `columns` at each redraw, so it follows a resized terminal.
   */
  stream: NodeJS.WritableStream & { columns?: number };
  /** Draws the status line; when false only `log` prints anything. */
  enabled: boolean;
  dryRun: boolean;
  /** Minimum time between two redraws, in milliseconds. */
  intervalMs?: number;
  /** Clock, in milliseconds; tests pass a fake one. */
  now?: () => number;
  /**
   * When the status line is not drawn, prints the counts as a plain line this often, in
   * milliseconds, so that a log shows that a long run is alive. Undefined prints none.
   */
  plainLineIntervalMs?: number;
}

/**
 * Interval of the plain status lines where stderr is not a terminal (a CI log, a file). A run
 * shorter than this prints none, so scripts that read stderr of short runs see no new lines.
 */
export const PLAIN_LINE_INTERVAL_MS = 30_000;

const DEFAULT_INTERVAL_MS = 100;

/** Width assumed when the stream does not report its columns. */
const DEFAULT_COLUMNS = 80;

/**
 * Columns of a line that the text cannot use. ora draws a one-column spinner frame and a space
 * before the text. The last column stays empty too, because a terminal may move the cursor to the
 * next line once a line fills it, and ora would then clear the wrong line.
 */
const RESERVED_COLUMNS = 3;

/**
 * Whether a status line helps: only on a terminal, never with `--quiet` or in CI (where a spinner
 * fills the log with redraws), and not when the user turned it off. A terminal that reports a
 * width of 0 columns (an unsized pseudo-terminal) gets none either, because a redraw cannot
 * tell how many lines to clear and ora then clears ever more lines.
 */
export function shouldShowProgress(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv, options: { quiet: boolean; progress: boolean }): boolean {
  if (options.quiet || !options.progress) {
    return false;
  }
  if (env["CI"] !== undefined && env["CI"] !== "" && env["CI"] !== "0" && env["CI"].toLowerCase() !== "false") {
    return false;
  }
  return stream.isTTY === true && env["TERM"] !== "dumb" && (stream.columns ?? 0) > 0;
}

/**
 * Creates the status line: an ora spinner when enabled, and a plain line writer otherwise. ora is
 * loaded only for a spinner, because it imports string-width, whose loading costs a run without a
 * spinner a fifth of its start-up (see wrap-text.ts).
 */
export async function createProgress(options: ProgressOptions): Promise<ProgressReporter> {
  if (!options.enabled) {
    if (options.plainLineIntervalMs !== undefined) {
      return new PlainLineProgress(options, options.plainLineIntervalMs);
    }
    return {
      update: () => {},
      phase: () => {},
      log: (line) => {
        options.stream.write(`${line}\n`);
      },
      stop: () => {},
    };
  }
  const { default: ora } = await import("ora");
  return new SpinnerProgress(options, ora);
}

class SpinnerProgress implements ProgressReporter {
  private readonly spinner: Ora;
  private readonly options: ProgressOptions;
  private readonly now: () => number;
  private readonly intervalMs: number;
  /**
   * The time of the first counts, from which rates and estimates are measured. The start of the run
   * would count the identity first pass, which reads the inputs once before the counts begin.
   */
  private countsStartedAt: number | undefined;
  private lastDrawnAt = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(options: ProgressOptions, ora: typeof import("ora").default) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    // stdin may be an input (`-`), so ora must not put it into raw mode to swallow keystrokes.
    this.spinner = ora({ stream: options.stream, isEnabled: true, discardStdin: false, text: truncateText("reading inputs…", this.textWidth()) });
    this.spinner.start();
  }

  update(snapshot: ProgressSnapshot): void {
    const now = this.now();
    this.countsStartedAt ??= now;
    if (this.stopped || now - this.lastDrawnAt < this.intervalMs) {
      return;
    }
    this.lastDrawnAt = now;
    this.spinner.text = formatProgressText(snapshot, now - this.countsStartedAt, this.options.dryRun, this.textWidth());
  }

  phase(description: string): void {
    if (!this.stopped) {
      this.spinner.text = truncateText(`${description}…`, this.textWidth());
      // Drawn at once, because a phase can end before the spinner's next frame.
      this.spinner.render();
    }
  }

  log(line: string): void {
    if (this.stopped) {
      this.options.stream.write(`${line}\n`);
      return;
    }
    this.spinner.stop();
    this.options.stream.write(`${line}\n`);
    this.spinner.start();
  }

  stop(): void {
    if (!this.stopped) {
      this.stopped = true;
      this.spinner.stop();
    }
  }

  /** Returns the number of characters the text may take, so that the line never wraps and ora clears it whole. */
  private textWidth(): number {
    const columns = this.options.stream.columns;
    const width = columns !== undefined && columns > 0 ? columns : DEFAULT_COLUMNS;
    return Math.max(1, width - RESERVED_COLUMNS);
  }
}

/**
 * Prints the counts as a whole line, `progress: 120,000 events read · …`, once every interval, for
 * a stream that is not a terminal. The first comes one interval after the start, and a run that
 * ends sooner prints none.
 */
class PlainLineProgress implements ProgressReporter {
  private readonly now: () => number;
  private readonly startedAt: number;
  private countsStartedAt: number | undefined;
  private lastPrintedAt: number;
  private stopped = false;

  constructor(
    private readonly options: ProgressOptions,
    private readonly intervalMs: number,
  ) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.lastPrintedAt = this.startedAt;
  }

  update(snapshot: ProgressSnapshot): void {
    const now = this.now();
    this.countsStartedAt ??= now;
    if (this.isDue(now)) {
      this.print(now, formatProgressText(snapshot, now - this.countsStartedAt, this.options.dryRun));
    }
  }

  phase(description: string): void {
    const now = this.now();
    if (this.isDue(now)) {
      this.print(now, description);
    }
  }

  log(line: string): void {
    this.options.stream.write(`${line}\n`);
  }

  stop(): void {
    this.stopped = true;
  }

  private isDue(now: number): boolean {
    return !this.stopped && now - this.lastPrintedAt >= this.intervalMs;
  }

  private print(now: number, text: string): void {
    this.lastPrintedAt = now;
    const elapsed = formatDuration(now - this.startedAt);
    this.options.stream.write(`progress (${elapsed}): ${text}\n`);
  }
}
