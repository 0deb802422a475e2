import { resolve } from "node:path";
import { countUndeliveredEarlier, type DeadLetterFileStatus, type EarlierDeadLetters } from "../delivery/index.js";
import type { RunStats } from "./run-stats.js";
import { maskPublicKey } from "./mask.js";

/**
 * Version of the report's layout. It changes only when a key is renamed or removed or its meaning
 * changes; new keys may appear without a change. In 2, `invalidByReason` counts a reason without
 * the bad value it quotes, and folds reasons past the first 100.
 */
export const RUN_REPORT_VERSION = 3;

/** The options of a run as the report records them, with the public key masked. */
export interface ReportedOptions {
  inputs: readonly string[];
  dryRun: boolean;
  endpoint: string;
  publicKey: string | undefined;
  concurrency: number;
  adaptiveConcurrency: boolean;
  maxRps: number | undefined;
  maxBatchSize: number;
  timeoutMs: number;
  maxAttempts: number;
  /** How long an outage may last before the run stops (`--max-outage-ms`). */
  maxOutageMs: number;
  resume: boolean;
  browserEvents: string;
  format: string | undefined;
  /** Origin of the mappings: "presets" or the config file's path. */
  config: string;
  stitch: boolean;
  /** Texts of `--filter`, `--since` and `--until`, as the run compiled them. */
  filters: readonly string[];
  /** Email patterns of the config's `excludeEmails` and `--exclude-emails`, as written. */
  excludeEmails: readonly string[];
}

/** The signal that interrupted a send, and the command that resumes it: null when the run cannot be resumed. */
export interface ReportedInterruption {
  /** SIGINT (Ctrl-C), SIGTERM or SIGHUP; null when the run stopped for another reason. */
  signal: string | null;
  resumeCommand: string | null;
}

export interface RunReportContext {
  version: string;
  /** Set when a signal interrupted the run. */
  interruption?: ReportedInterruption | undefined;
  /** Absolute path of the directory the inputs given as relative paths are relative to. */
  workingDirectory: string;
  options: ReportedOptions;
  exitStatus: number;
  finishedAt: number;
}

/** The JSON written by `send --report` and printed by `send --json`. Keys are documented in docs/reports.md. */
export interface RunReport {
  reportVersion: number;
  tool: { name: "koala-replay"; version: string };
  command: "send";
  /** Directory the relative paths of the inputs, `filesSkipped` and the examples are relative to. */
  workingDirectory: string;
  exitStatus: number;
  /** The signal that interrupted the run and the command that resumes it; null when no signal did. */
  interruption: ReportedInterruption | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  options: Omit<ReportedOptions, "publicKey" | "format" | "maxRps"> & { publicKey: string | null; format: string | null; maxRps: number | null };
  counts: {
    filesRead: number;
    filesSkipped: number;
    eventsRead: number;
    entriesSent: number;
    requestsSent: number;
    requestsAccepted: number;
    skipped: number;
    invalid: number;
    unreadable: number;
    failed: number;
  };
  matchedByMapping: Record<string, number>;
  /** Lines of a dead-letter file given as input, by the mapping of their entry; they are not in `matchedByMapping`. */
  resentDeadLettersByMapping: Record<string, number>;
  /** Lines of dead-letter files among the inputs: `read`, of which `valid` carry an entry to resend and `invalid` do not. */
  resentDeadLetters: { read: number; valid: number; invalid: number; excluded: number };
  sentByMapping: Record<string, number>;
  skippedByReason: Record<string, number>;
  invalidByReason: Record<string, number>;
  unreadableByReason: Record<string, number>;
  failedByReason: Record<string, number>;
  unmatchedTypes: Record<string, number>;
  /** Entries of `skippedByReason["duplicate-message-id"]` whose messageId is a JSON number past 2^53 in the event, which may be other events rounded to one id. */
  roundedMessageIds: number;
  /** Entries by identity before and after stitching; null when the run did not collect it. */
  /** Batching, retries, dead letters and checkpoint, as the delivery stage reported them; null before delivery started. */
  delivery: {
    entriesPerRequest: { mean: number; max: number };
    retries: Record<string, number>;
    /** Requests whose batch Koala rejected or failed on, split in halves that were sent again: each adds a request. */
    requestsSplit: number;
    deadLettered: Record<string, number>;
    duplicatesSkipped: number;
    /** Recent entries that the duplicate check always covered, when a run had more than it remembers; null otherwise. */
    duplicateWindow: number | null;
    /** Inputs every entry of which was skipped as a duplicate: often a copy of another input. */
    inputsOfDuplicatesOnly: string[];
    alreadyDelivered: number;
    /** In a resume, entries that the earlier runs of the checkpoint dead-lettered: null when it did not count them, 0 outside a resume. */
    earlierDeadLettered: number | null;
    /** The dead-letter file of those runs, as the checkpoint records it last; null outside a resume and when it records none. */
    earlierDeadLetterPath: string | null;
    /** Those of `earlierDeadLettered` that no resend delivered since, which make the resume exit 1: null when not counted, 0 outside a resume. */
    earlierDeadLettersUndelivered: number | null;
    /** Every dead-letter file of those runs, with what resends did with its entries: null when the checkpoint does not list them, [] outside a resume. */
    earlierDeadLetterFiles: EarlierDeadLetterFileReport[] | null;
    undelivered: number;
    stopped: boolean;
    /** Failed saves of the state file, of which the summary printed the first error. */
    checkpointErrors: number;
    /** Problems with the dead-letter file that did not stop the run, each printed as a warning. */
    deadLetterFileErrors: number;
    /** The cause that stopped the run, with the `status` or `errorCode` of the last request that failed (null when it had none). */
    fatal: { reason: string; status: number | null; errorCode: string | null; message: string } | null;
    deadLetterPath: string | null;
    statePath: string | null;
  } | null;
  identityStitching: {
    stitch: boolean;
    firstPassMs: number;
    before: { withEmail: number; withProfileIdOnly: number; withNeither: number };
    after: { withEmail: number; withProfileIdOnly: number; withNeither: number };
    stitched: number;
    conflicts: number;
  } | null;
  filesSkipped: Array<{ path: string; reason: string }>;
  /** The `--not-sent` file: its absolute path, lines written and lost, and the error that lost them; null without `--not-sent`. */
  notSentFile: { path: string; lines: number; linesLost: number; error: string | null } | null;
  unreadableExamples: Array<{ input: string; line: number; reason: string; message: string }>;
  invalidExamples: Array<{ input: string; line: number; mapping: string; reason: string }>;
  failedExamples: Array<{ input: string; line: number; mapping: string; reason: string; status: number | null }>;
}

/** Builds the report of a finished run. Maps become objects ordered by count, largest first. */
export function buildRunReport(stats: RunStats, context: RunReportContext): RunReport {
  const { publicKey, format, ...options } = context.options;
  return {
    reportVersion: RUN_REPORT_VERSION,
    tool: { name: "koala-replay", version: context.version },
    command: "send",
    workingDirectory: context.workingDirectory,
    exitStatus: context.exitStatus,
    interruption: context.interruption === undefined ? null : { ...context.interruption },
    startedAt: new Date(stats.startedAt).toISOString(),
    finishedAt: new Date(context.finishedAt).toISOString(),
    durationMs: context.finishedAt - stats.startedAt,
    options: {
      ...options,
      inputs: [...options.inputs],
      filters: [...options.filters],
      excludeEmails: [...options.excludeEmails],
      publicKey: publicKey === undefined ? null : maskPublicKey(publicKey),
      format: format ?? null,
      // Kept as null when there is no limit, so that the key is always present.
      maxRps: options.maxRps ?? null,
    },
    counts: {
      filesRead: stats.filesRead,
      filesSkipped: stats.filesSkipped.length,
      eventsRead: stats.eventsRead,
      entriesSent: stats.entriesSent,
      requestsSent: stats.requestsSent,
      requestsAccepted: stats.requestsAccepted,
      skipped: stats.skippedCount,
      invalid: stats.invalidCount,
      unreadable: stats.unreadableCount,
      failed: stats.failedCount,
    },
    matchedByMapping: objectByCount(stats.matchedByMapping),
    resentDeadLettersByMapping: objectByCount(stats.resentDeadLettersByMapping),
    resentDeadLetters: resentDeadLettersOf(stats),
    sentByMapping: objectByCount(stats.deliveredByMapping),
    skippedByReason: objectByCount(stats.skippedByReason),
    invalidByReason: objectByCount(stats.invalidByReason),
    unreadableByReason: objectByCount(stats.unreadableByReason),
    failedByReason: objectByCount(stats.failedByReason),
    unmatchedTypes: objectByCount(stats.unmatchedTypes),
    roundedMessageIds: stats.roundedMessageIds,
    delivery: deliveryOf(stats, context.workingDirectory),
    identityStitching: identityStitchingOf(stats),
    filesSkipped: stats.filesSkipped.map((file) => ({ path: file.path, reason: file.reason })),
    notSentFile: notSentFileOf(stats, context.workingDirectory),
    unreadableExamples: stats.unreadableExamples.map((problem) => ({ ...problem.origin, reason: problem.reason, message: problem.message })),
    invalidExamples: stats.invalidExamples.map((example) => ({ ...example })),
    failedExamples: stats.failedExamples.map((failure) => ({ ...failure, status: failure.status ?? null })),
  };
}

function notSentFileOf(stats: RunStats, workingDirectory: string): RunReport["notSentFile"] {
  const file = stats.notSentFile;
  if (file === undefined) {
    return null;
  }
  return { path: resolve(workingDirectory, file.path), lines: file.lines, linesLost: file.linesLost, error: file.error ?? null };
}

/** Copies the delivery counts and makes the state and dead-letter paths absolute, because `--state` and `--dead-letter` may be relative. */
function deliveryOf(stats: RunStats, workingDirectory: string): RunReport["delivery"] {
  const result = stats.delivery;
  if (result === undefined) {
    return null;
  }
  return {
    entriesPerRequest: { ...result.entriesPerRequest },
    retries: { ...result.retries },
    requestsSplit: result.requestsSplit ?? 0,
    deadLettered: { ...result.deadLettered },
    duplicatesSkipped: result.duplicatesSkipped,
    duplicateWindow: result.duplicateWindow ?? null,
    inputsOfDuplicatesOnly: [...result.inputsOfDuplicatesOnly],
    alreadyDelivered: result.alreadyDone,
    earlierDeadLettered: result.earlierDeadLetters === undefined ? 0 : (result.earlierDeadLetters.entries ?? null),
    earlierDeadLetterPath: result.earlierDeadLetters?.path ?? null,
    earlierDeadLettersUndelivered: result.earlierDeadLetters === undefined ? 0 : (countUndeliveredEarlier(result.earlierDeadLetters) ?? null),
    earlierDeadLetterFiles: describeEarlierDeadLetterFiles(result.earlierDeadLetters),
    undelivered: result.undelivered,
    stopped: result.stopped,
    checkpointErrors: result.checkpointErrors,
    deadLetterFileErrors: result.deadLetterFileErrors ?? 0,
    fatal:
      result.fatal === undefined
        ? null
        : { reason: result.fatal.reason, status: result.fatal.status ?? null, errorCode: result.fatal.errorCode ?? null, message: result.fatal.message },
    deadLetterPath: result.deadLetterPath === undefined ? null : resolve(workingDirectory, result.deadLetterPath),
    statePath: result.statePath === undefined ? null : resolve(workingDirectory, result.statePath),
  };
}

function identityStitchingOf(stats: RunStats): RunReport["identityStitching"] {
  const identity = stats.identity;
  if (identity === undefined) {
    return null;
  }
  const { coverage } = identity;
  return {
    stitch: identity.stitch,
    firstPassMs: identity.firstPassMs,
    before: { ...coverage.before },
    after: { ...coverage.after },
    stitched: coverage.stitched,
    conflicts: coverage.conflicts,
  };
}

function objectByCount(map: ReadonlyMap<string, number>): Record<string, number> {
  const sorted = [...map.entries()].sort((left, right) => right[1] - left[1]);
  // A null prototype keeps a mapping named "__proto__" an ordinary key.
  const result = Object.create(null) as Record<string, number>;
  for (const [key, count] of sorted) {
    result[key] = count;
  }
  return result;
}

function resentDeadLettersOf(stats: RunStats): RunReport["resentDeadLetters"] {
  let valid = 0;
  for (const count of stats.resentDeadLettersByMapping.values()) {
    valid += count;
  }
  return { read: valid + stats.invalidDeadLetterLines, valid, invalid: stats.invalidDeadLetterLines, excluded: stats.resentDeadLettersExcluded };
}

/** A dead-letter file of the earlier runs of a resumed checkpoint, in the report. */
interface EarlierDeadLetterFileReport {
  path: string;
  entries: number;
  undelivered: number;
  status: DeadLetterFileStatus;
  /** Checkpoint of the resend that `status` describes, or null when none was found. */
  resendStatePath: string | null;
}

function describeEarlierDeadLetterFiles(earlier: EarlierDeadLetters | undefined): EarlierDeadLetterFileReport[] | null {
  if (earlier === undefined) {
    return [];
  }
  if (earlier.files === undefined) {
    return null;
  }
  return earlier.files.map((file) => ({ path: file.path, entries: file.entries, undelivered: file.undelivered, status: file.status, resendStatePath: file.resendStatePath ?? null }));
}
