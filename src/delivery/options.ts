import type { RecordOrigin } from "../inputs/record.js";
import type { ResolvedIds } from "../identity/identity-graph.js";
import type { InputNotRead, NoIdentityRecordsLeft } from "./checkpoint.js";
import type { EarlierDeadLetterFile } from "./dead-letter-files.js";
import type { Destination } from "./destination.js";
import type { KoalaEntry } from "./entry.js";
import type { DeadLetterReason, FatalReason, RetryReason } from "./outcome.js";
import type { RepeatFilter } from "./repeat-filter.js";

/** Settings of one delivery run. Optional numbers have the defaults listed in `DELIVERY_DEFAULTS`. */
export interface DeliveryOptions {
  /** Base URL of Koala's API, for example `https://api2.getkoala.com`. */
  endpoint: string;
  /** Koala public key; required unless `dryRun`. Never printed unmasked. */
  publicKey?: string;
  /** Write each request to `output` as a JSON line instead of sending it. */
  dryRun: boolean;
  /** Receives the dry-run lines, and nothing else; `write` returning false waits for `drain`. */
  output: DryRunOutput;
  userAgent: string;
  /** Maximum requests in flight. */
  concurrency?: number;
  /** Adapt the number of requests in flight (AIMD) below `concurrency`. */
  adaptiveConcurrency?: boolean;
  /** Maximum requests started per second; no limit when undefined. */
  maxRps?: number;
  /** Maximum entries of each kind per request, 1 to 30. */
  maxBatchSize?: number;
  /** Maximum persons with an open batch; the oldest batch is sent when one more would exceed it. */
  maxBufferedPersons?: number;
  /** Maximum bytes of entry JSON in open batches, and the backpressure bound on bytes not yet delivered. */
  maxBufferedBytes?: number;
  /** An open batch is sent once this many records have been read since it was opened. */
  flushAfterRecords?: number;
  /** Dead-letter file; defaults to a file next to the state file. */
  deadLetterPath?: string;
  /**
   * Checkpoint file; defaults to `defaultStatePath(givenInputs, cwd)`, or with `resume`, when that
   * file does not exist, to an existing `legacyStatePath(inputs, cwd)`.
   */
  statePath?: string;
  /** Skip records that the checkpoint marks as done. */
  resume: boolean;
  /**
   * Replace the checkpoint of an earlier run that did not finish, and send everything again. Without
   * it or `resume`, such a checkpoint raises `UnfinishedRunError` before anything is sent.
   */
  restart?: boolean;
  /** Inputs as the records' `origin.input` names them (`-` for stdin), for fingerprints. */
  inputs: readonly string[];
  /** Inputs as the user gave them (folders before they are walked), which name the default state file; defaults to `inputs`. */
  givenInputs?: readonly string[];
  /**
   * Hash of what decides the entries of an event (mappings, filters, --browser-events, stitching).
   * The state file keeps it, so that a resume can tell that it changed since the earlier run.
   */
  entrySettingsHash?: string;
  /**
   * A hash per group of those settings, by group name (such as "mappings" or "excludeEmails"), so
   * that a resume can name the settings that changed.
   */
  entrySettingHashes?: Readonly<Record<string, string>>;
  /** Directory relative inputs and the default state path are resolved against. */
  cwd?: string;
  /** Attempts per request, the first one included. */
  maxAttempts?: number;
  /** Time after an entry's first attempt after which it is not retried again, in milliseconds. */
  maxRetryTimeMs?: number;
  /** Upper bound on a wait requested by `Retry-After`, in milliseconds. */
  retryAfterCapMs?: number;
  /** First backoff ceiling, doubled at each attempt, in milliseconds. */
  retryBaseDelayMs?: number;
  /** Largest backoff ceiling, in milliseconds. */
  retryMaxDelayMs?: number;
  /** Timeout of one request (until the headers, then between body chunks), in milliseconds. */
  timeoutMs?: number;
  /**
   * How long Koala may go without responding, while the requests of several persons fail with
   * connection errors, 5xx or 408, before the run stops as `unavailable`, in milliseconds.
   */
  maxOutageMs?: number;
  /** How long `stop()` lets requests in flight finish before aborting them, in milliseconds. */
  stopGraceMs?: number;
  /** Minimum interval between two checkpoint writes, in milliseconds. */
  checkpointIntervalMs?: number;
  events?: DeliveryEvents;
  /** Source of the backoff jitter, in [0, 1); tests pass a seeded one. */
  random?: () => number;
}

/** The part of a writable stream that a dry run uses. */
export interface DryRunOutput {
  write(chunk: string | Uint8Array): boolean;
  once(event: "drain", listener: () => void): unknown;
}

export const DELIVERY_DEFAULTS = Object.freeze({
  concurrency: 8,
  adaptiveConcurrency: true,
  maxBatchSize: 30,
  maxBufferedPersons: 10_000,
  // An entry waiting for Koala takes several times the size of its JSON in memory (its copied
  // bytes, its objects, its batch), so this bound sets much of a send's memory. On a 1M-event send
  // to a local server, 16 MiB peaked at 395 MB and 8 MiB at 335 MB, in the same time. Only a
  // person with many queued requests fills it, and a larger bound does not drain them faster.
  maxBufferedBytes: 8 * 1024 * 1024,
  flushAfterRecords: 2_000,
  maxAttempts: 10,
  maxRetryTimeMs: 15 * 60_000,
  retryAfterCapMs: 120_000,
  retryBaseDelayMs: 500,
  retryMaxDelayMs: 60_000,
  timeoutMs: 30_000,
  // A restart or deploy of Koala, or a short network loss, is usually over within a minute or two and
  // is retried through. Past that, a run that stops with its checkpoint costs the user one resume,
  // while one that keeps retrying leaves them waiting without news. A request out of attempts during an
  // outage keeps retrying until then instead of being dead-lettered: among hundreds of requests, the
  // first to use up 10 attempts does so well before their 92 s mean, since the backoff has full jitter.
  maxOutageMs: 120_000,
  stopGraceMs: 5_000,
  checkpointIntervalMs: 1_000,
});

/** Koala's limit of entries of each kind in one `/batch` request. */
export const KOALA_MAX_BATCH_SIZE = 30;

export interface RequestSentEvent {
  entries: number;
  /** 1 for the first attempt of these entries. */
  attempt: number;
  bytes: number;
  inFlight: number;
}

export interface RetryEvent {
  /** Attempts made so far (1 after the first failure). */
  attempt: number;
  reason: RetryReason;
  /**
   * Wait before the next attempt, in milliseconds. For a request held during an outage, it is the wait
   * before the next test request, and 0 while one is in flight.
   */
  delayMs: number;
  /**
   * Whether the request is held with the others until Koala responds to a test request, because
   * Koala has an outage. It is sent again only then, or as a later test request.
   */
  heldForOutage?: boolean;
  entries: number;
  /** The entries of the retried request, for a log line that names the person and the input. */
  batchEntries: readonly KoalaEntry[];
  /** Status of the response, when there was one. */
  status?: number;
  /** Network error code, when there was no response. */
  errorCode?: string;
}

export interface DeadLetterEvent {
  entry: KoalaEntry;
  reason: DeadLetterReason;
  /** The reason the attempt before the last was retried, when the entry was retried at all. */
  lastRetryReason?: RetryReason;
  /** The network error code of the last attempt (`ETIMEDOUT`, `ECONNRESET`), when it got no response. */
  errorCode?: string;
  status?: number;
  /** The start of Koala's answer, with the public key masked, when there was one. */
  responseExcerpt?: string;
  attempts: number;
}

/**
 * Reason for ending a run early: an API response that every further request would get as well, or
 * a dead-letter file that cannot be written, so failed entries could not be recorded.
 */
export type RunFailureReason = FatalReason | "dead-letter-write-failed";

export interface FatalCause {
  reason: RunFailureReason;
  /** Status of the batch request that failed last, when it got a response (the last 5xx or 408 of an outage). */
  status?: number;
  /** Network error code of the batch request that failed last, when it got no response (`ECONNREFUSED`, `ECONNRESET`, `UND_ERR_HEADERS_TIMEOUT`). */
  errorCode?: string;
  /** Status of the confirming `GET /auth` probe, when one was made. */
  probeStatus?: number;
  /** Description of the failure and the next step, with the public key masked. */
  message: string;
}

/** Callbacks for logging and counting; the delivery module prints nothing itself. All optional. */
export interface DeliveryEvents {
  onRequestSent?(event: RequestSentEvent): void;
  /** Koala accepted these entries (or, in a dry run, they were printed). */
  onDelivered?(entries: readonly KoalaEntry[]): void;
  onRetry?(event: RetryEvent): void;
  onDeadLetter?(event: DeadLetterEvent): void;
  onFatal?(cause: FatalCause): void;
  /** Every sender waits after a 429 for this long. */
  onPause?(delayMs: number): void;
  onConcurrencyChange?(limit: number): void;
  onCheckpointSaved?(path: string): void;
  /** The state file could not be written; delivery goes on, and a resume would resend more. */
  onCheckpointError?(path: string, message: string): void;
  /** A resume cut off the piece of a dead-letter line, `bytes` long, that a run killed while writing it left at the end of `path`. */
  onPartialDeadLetterLineCut?(path: string, bytes: number): void;
  /**
   * A resume found such a piece of a line, `bytes` long, at the end of `path`, and cutting it off
   * failed with the error `message` (a read-only file, say). The run goes on and sends its entry
   * again. Until it writes a dead letter, which first ends the piece with a newline, its checkpoint
   * records the file's length before the piece, so that a later resume can cut it off.
   */
  onPartialDeadLetterLineNotCut?(path: string, bytes: number, message: string): void;
  /**
   * Reports a lock of the checkpoint or dead-letter file that a finished run of this host left and
   * this run took over. Also reports a lock that could not be created, in which case the run goes on without it.
   */
  onLockWarning?(message: string): void;
  /** `resume` was asked for, but no state file exists at `statePath`, so every record is sent. */
  onNothingToResume?(statePath: string): void;
  /**
   * The resumed state file names inputs that this run does not read, so the events of them that
   * were not delivered stay unsent.
   */
  onInputsNotRead?(statePath: string, inputs: readonly InputNotRead[]): void;
  /**
   * The resumed state file is of a version that did not record the endpoint and public key, so the
   * resume cannot check that this run sends where the earlier one did.
   */
  onDestinationUnchecked?(statePath: string): void;
  /**
   * A dry run with `resume` has another endpoint or key than the resumed state file records, as
   * `difference` describes. A real run would raise DestinationMismatchError.
   */
  onOtherDestination?(statePath: string, difference: string): void;
  /**
   * Koala rejected the key of the run that wrote the resumed state file, and this run resumes with
   * another key (`current`), taken as the corrected key of the same project.
   */
  onRejectedKeyReplaced?(statePath: string, recorded: Destination, current: Destination): void;
  /**
   * Earlier runs of the resumed state skipped records as no-identity, and this run's identity graph
   * resolves other ids than theirs, so it may give some of those records an email. A resume does not
   * read them again.
   */
  onNoIdentityRecordsLeft?(statePath: string, left: NoIdentityRecordsLeft): void;
  /**
   * The state file is of an earlier run that did not finish, or cannot be read as a state file
   * (`invalid` is the reason), and this run, with `restart`, replaces it.
   */
  onUnfinishedRunReplaced?(statePath: string, invalid?: string): void;
  /**
   * The resumed state file was written by a run whose settings that decide the entries of an event
   * differ from this run's, so the records it finished are skipped without being mapped again.
   * `changed` names the groups of `entrySettingHashes` that differ, or is undefined for a state file
   * of an earlier version, which kept one hash for all of them.
   */
  onEntrySettingsChanged?(statePath: string, changed: readonly string[] | undefined): void;
  /**
   * Two mappings made entries of one kind with the same `message_id` from one record. Koala records
   * one entry per `message_id`, so it keeps only one of them. Called for each such pair, `first` being the earlier mapping.
   */
  onSharedMessageId?(first: KoalaEntry, second: KoalaEntry): void;
  /**
   * An entry was skipped as a duplicate, and its `message_id` is a JSON number too large to be
   * exact (see `isRoundedLargeNumber`), so the entries may be different events whose ids rounded to one.
   */
  onRoundedMessageId?(entry: KoalaEntry): void;
  /** An entry was skipped because an earlier entry of this run had its mapping and `message_id`. Called within `submit`. */
  onDuplicateSkipped?(entry: KoalaEntry): void;
  /**
   * Every entry of `input` repeated the mapping and messageId of an entry submitted before, so none
   * was sent: the input is often a copy of another. Called once the next input starts or the run finishes.
   */
  onInputOfDuplicatesOnly?(input: string): void;
}

/** The dead letters of the earlier runs of a resumed state. */
export interface EarlierDeadLetters {
  /** Entries those runs dead-lettered, or undefined when the state file, of an earlier version, did not count them. */
  entries: number | undefined;
  /** The dead-letter file, by absolute path, that the state file records last; absent in older state files. */
  path?: string;
  /**
   * Every dead-letter file of those runs, with what resends did with its entries; undefined when
   * the state file did not count its dead letters.
   */
  files?: readonly EarlierDeadLetterFile[];
}

/** Counts of a finished, stopped or failed run. */
export interface DeliveryResult {
  dryRun: boolean;
  /**
   * Entries submitted, except those of records a previous run finished. Equals `delivered` +
   * `deadLetteredTotal` + `duplicatesSkipped` + `undelivered`.
   */
  submitted: number;
  /** Entries accepted by Koala, or written to output in a dry run. */
  delivered: number;
  deadLettered: Partial<Record<DeadLetterReason, number>>;
  deadLetteredTotal: number;
  /** Entries whose (mapping, messageId) was already submitted in this run. */
  duplicatesSkipped: number;
  /**
   * Set when the run had more entries than the duplicate check remembers: duplicates were caught
   * among at least this many recent entries, and a repeat further apart was sent again.
   */
  duplicateWindow?: number;
  /** Inputs every entry of which was skipped as a duplicate, in the order read (see `onInputOfDuplicatesOnly`). */
  inputsOfDuplicatesOnly: string[];
  /**
   * Entries not sent because earlier runs of the resumed state finished them: entries of records
   * those runs had finished, submitted again and ignored, and entries those runs dead-lettered
   * while other entries of their record were on their way.
   */
  alreadyDone: number;
  /**
   * In a resume: how many of the records that earlier runs finished, in the inputs this run reads,
   * had no entry to send (skipped or invalid). Undefined outside a resume, and for a state file of
   * an earlier version, which did not count them.
   */
  earlierRecordsWithoutEntries?: number;
  /** In a resume: the dead letters of the earlier runs of the resumed state. */
  earlierDeadLetters?: EarlierDeadLetters;
  /** Entries neither delivered nor dead-lettered because the run stopped; a resume sends them. */
  undelivered: number;
  /** Requests made, each attempt and retry counted (requests printed, in a dry run). */
  requestsSent: number;
  /** Requests Koala accepted, so that their entries count as delivered (requests printed, in a dry run). */
  requestsAccepted: number;
  /**
   * Requests of several entries that Koala rejected (400, 413, 422) or failed on (500 while Koala
   * was up), whose batch was split in halves and sent again. Each adds a request.
   * Optional for results built by hand, as in tests; a run always sets it.
   */
  requestsSplit?: number;
  entriesPerRequest: { mean: number; max: number };
  retries: Partial<Record<RetryReason, number>>;
  retriesTotal: number;
  fatal?: FatalCause;
  /** Failed writes of the state file. */
  checkpointErrors: number;
  /**
   * Problems with the dead-letter file that did not stop the run: a piece of a line that a resume
   * could not cut off (`onPartialDeadLetterLineNotCut`), or a final fsync that failed. Absent when none.
   */
  deadLetterFileErrors?: number;
  /** Whether `stop()` ended the run early. */
  stopped: boolean;
  deadLetterPath?: string;
  /** Whether the dead-letter file already contained lines of earlier runs, which stay in it. */
  deadLetterFileHadEarlierLines?: boolean;
  statePath?: string;
}

export interface Delivery {
  /** State file that the run saves its checkpoint to; undefined in a dry run. */
  readonly statePath: string | undefined;
  /**
   * Takes the entries mapped from one record. Call it once for every record read, in input order,
   * with no entries when the record was skipped or invalid. Returns a promise while buffers are full.
   */
  submit(origin: RecordOrigin, entries: readonly KoalaEntry[]): Promise<void> | void;
  /** Whether a previous run finished this record (only with `resume`). */
  isDone(origin: RecordOrigin): boolean;
  /**
   * Adds the entries of a record that a previous run finished to the duplicate check, without
   * sending them, so that a later copy of the event is skipped as it was in that run.
   */
  rememberDone(entries: readonly KoalaEntry[]): void;
  /**
   * Takes the ids that this run's identity graph resolves, once the graph is built and before the
   * first record is submitted: the checkpoint records them and compares them with the resumed ones.
   */
  useIdentityGraph(resolved: ResolvedIds): void;
  /**
   * Takes the message_ids that may repeat, found in the first pass, before the first record is
   * submitted: the duplicate check then remembers only entries with those ids.
   */
  useRepeatFilter(repeats: RepeatFilter): void;
  /** Notes that some entries of the record at `origin` have no identity, before the record is submitted. */
  noteUnidentified(origin: RecordOrigin): void;
  /** Whether the run stopped taking work, after `stop()` or a fatal response, so the caller should stop reading. */
  isStopped(): boolean;
  /** Sends what is buffered, waits for every request, saves the checkpoint and returns the counts. */
  finish(): Promise<DeliveryResult>;
  /** Stops taking work, cancels backoff waits, lets requests in flight finish briefly, saves the checkpoint. */
  stop(): Promise<void>;
  /** Returns what is still on its way, for a progress line. */
  progress(): DeliveryProgress;
}

/** Entries and requests that a delivery run still has on their way. */
export interface DeliveryProgress {
  /** Entries taken and neither delivered nor dead-lettered yet. */
  entriesPending: number;
  requestsInFlight: number;
  /**
   * Set while Koala has not responded since a request failed with a connection error, 5xx or 408:
   * for how long, and, when no request is in flight, the time until the next retry starts.
   * `onlyErrors` is true when every one of those failures was a 5xx or 408 response.
   */
  koalaNotResponding?: { forMs: number; nextRetryInMs: number | undefined; onlyErrors: boolean };
}

export type ResolvedDeliveryOptions = Readonly<
  Required<Omit<DeliveryOptions, "publicKey" | "maxRps" | "deadLetterPath" | "statePath" | "events" | "givenInputs" | "entrySettingsHash" | "entrySettingHashes">> & {
    entrySettingHashes: Readonly<Record<string, string>> | undefined;
    publicKey: string | undefined;
    entrySettingsHash: string | undefined;
    maxRps: number | undefined;
    deadLetterPath: string | undefined;
    /** State file written as delivery goes on; undefined in a dry run, which delivers nothing. */
    statePath: string | undefined;
    /**
     * State file that `resume` reads to skip finished records: `statePath`, or in a dry run the file
     * that a real run would resume from, which the dry run reads and never writes. Undefined without `resume`.
     */
    resumeStatePath: string | undefined;
    events: DeliveryEvents;
  }
>;
