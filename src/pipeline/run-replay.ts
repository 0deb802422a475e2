import { stat } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { describeTableOverride } from "../inputs/csv/table.js";
import { expandInputs, type InputSource } from "../inputs/expand-inputs.js";
import { readInput, type InputFormat, type ReadInputOptions } from "../inputs/read-input.js";
import { locateProblem, type InputProblem } from "../inputs/record.js";
import type { MappingDefinition } from "../koala/presets.js";
import type { ProgressSnapshot } from "../reporting/progress-text.js";
import { askIfCopiedInput } from "../reporting/copied-input.js";
import { formatInputsNotRead } from "../reporting/inputs-not-read.js";
import { RunStats } from "../reporting/run-stats.js";
import { formatCount } from "../reporting/count-format.js";
import { formatDeadLetterLog, formatInvalidLog, formatRetryLog } from "../reporting/verbose-log.js";
import type { BrowserEventsPolicy } from "./browser-events.js";
import type { MappingVerdict } from "./outcomes.js";
import { BufferedOutput, type OutputTarget } from "./buffered-output.js";
import { createDelivery, DELIVERY_DEFAULTS, type DeadLetterEvent, type Delivery, type DeliveryEvents, type DeliveryOptions } from "../delivery/index.js";
import { chunkBuffers } from "../inputs/chunk-buffers.js";
import { ChunkReader, processChunk, takeSpareResults, type ChunkReaderOptions } from "./chunk-codec.js";
import { eventDepthProblem } from "./event-depth.js";
import { collectChunkOutcomes, type LineOutcome, type ReadOutcome } from "./process-lines.js";
import { processEvent, type ProcessorRules, type RecordResult } from "./processor.js";
import { buildProcessorRules, mappingNames, type ProcessorConfig } from "./processor-config.js";
import { WorkerPool } from "./worker-pool.js";
import { WORKER_POOL_THRESHOLD_BYTES } from "./early-workers.js";
import { buildIdentityGraph } from "./identity-pass.js";
import { mapsEventMessageIds, RepeatFilter } from "../delivery/repeat-filter.js";
import { NO_RESOLVED_IDS } from "../identity/index.js";
import { Stitcher } from "./stitching.js";
import { isResentDeadLetter } from "./resent-dead-letter.js";
import { CsvNumbersCheck } from "./csv-numbers-check.js";
import { createEmailExclusion, type EmailExclusion } from "./email-exclusion.js";
import { formatEntrySettingsChanged, hashEntrySettings } from "./entry-settings-hash.js";
import type { KoalaEntry } from "../delivery/entry.js";
import { describeRoundedMessageId, holdsRoundedNumber } from "../inputs/message-id.js";
import type { NotSentRecord } from "../reporting/not-sent-file.js";
import { NotSentRecorder, type EventTextSource } from "../reporting/not-sent-records.js";
import { messageIdSuffix } from "../mappings/config/shared-message-ids.js";

export interface ReplaySettings {
  inputs: readonly string[];
  format?: InputFormat;
  csv?: ReadInputOptions["csv"];
  mappings: readonly MappingDefinition[];
  browserEvents: BrowserEventsPolicy;
  filters: ProcessorConfig["filters"];
  /** Whether identity stitching fills the email of entries that have none (on unless --no-stitch). */
  stitch: boolean;
  /** Email patterns of the config's `excludeEmails` and `--exclude-emails`: entries with a matching email are not sent. None when absent. */
  excludeEmails?: readonly string[];
  identitiesFile?: string;
  dryRun: boolean;
  publicKey?: string;
  endpoint: string;
  userAgent: string;
  /** Batching, throttling, retries, checkpoint and dead letters, as the delivery stage takes them. */
  delivery: Pick<
    DeliveryOptions,
    "concurrency" | "adaptiveConcurrency" | "maxRps" | "maxBatchSize" | "deadLetterPath" | "statePath" | "resume" | "restart" | "timeoutMs" | "maxAttempts" | "maxOutageMs"
  >;
}

export interface ReplayIo {
  /** Stream that receives the dry-run lines. */
  stdout: OutputTarget;
  /** Receives a warning for the person running the replay (an unreadable line, a skipped file). */
  warn: (message: string) => void;
  /** Aborted by Ctrl-C or SIGTERM: reading stops, and what was read is delivered or saved. */
  signal?: AbortSignal;
  /**
   * Receives the run's counts after each chunk of input and once at the end, for a progress line.
   * The same object is passed each time and changes as the run goes on, so read it, do not keep it.
   */
  onProgress?: (snapshot: Readonly<ProgressSnapshot>) => void;
  /** Receives one line for each event that could not be mapped and each entry that could not be delivered, with the reason (`--verbose`). */
  verbose?: (message: string) => void;
  /** Receives the name of a stage that reports no counts, such as the identity pass, for the progress line. */
  onPhase?: (description: string) => void;
  /** Receives the state file that the run saves its checkpoint to, before anything is read. A dry run has none. */
  onStatePath?: (statePath: string) => void;
  /**
   * Receives each event, or each mapping's entry, as it is counted as skipped, invalid or unreadable
   * (`--not-sent`), except the events that a resume skips because earlier runs finished them.
   */
  onNotSent?: (record: NotSentRecord) => void;
}

/** Warnings printed for unreadable lines before they are only counted, so a broken file cannot flood the terminal. */
const MAX_WARNINGS = 20;

/** Reads every input, maps each event and delivers the entries; returns the run's counts. */
export async function runReplay(settings: ReplaySettings, io: ReplayIo): Promise<RunStats> {
  const stats = new RunStats();
  const config: ProcessorConfig = {
    mappings: settings.mappings,
    browserEvents: settings.browserEvents,
    filters: settings.filters,
    stitching: settings.stitch,
    keepsIdentity: settings.stitch !== false && (settings.excludeEmails?.length ?? 0) > 0,
  };
  const rules: ProcessorRules = buildProcessorRules(config);
  const names = mappingNames(config);
  const allFilterFieldBits = 2 ** (rules.filterFieldReaders?.length ?? 0) - 1;
  const exclusion = createEmailExclusion(settings.excludeEmails ?? []);
  // The JSON text of the event being handled, read only for the not-sent file and to name the fields of events the filter excluded.
  let eventText: EventTextSource = () => undefined;
  const notSent = io.onNotSent === undefined ? undefined : new NotSentRecorder(io.onNotSent, () => eventText());
  const { sources, skipped } = await expandInputs(settings.inputs);
  for (const file of skipped) {
    stats.filesSkipped.push(file);
    io.warn(`skipped ${file.path}: ${file.reason}`);
  }
  for (const source of sources) {
    const override = describeTableOverride(source.path, settings.csv);
    if (override !== undefined) {
      io.warn(override);
    }
  }
  const readOptions: ReadInputOptions = { format: settings.format, csv: settings.csv };
  // Without --csv-numbers, number-like CSV cells stay text, which a trigger comparing a number never matches.
  const numbersCheck = settings.csv?.convertNumbers === true ? undefined : new CsvNumbersCheck(settings.mappings, settings.filters);
  const numbersWatch = numbersCheck?.comparesNumbers === true ? numbersCheck : undefined;

  const output = new BufferedOutput(io.stdout);
  const entrySettings = hashEntrySettings(settings, exclusion);
  // Created before the first pass, so that a resume refused for a changed input stops the run before
  // anything is read.
  const delivery = createDelivery({
    ...settings.delivery,
    endpoint: settings.endpoint,
    publicKey: settings.publicKey,
    dryRun: settings.dryRun,
    output,
    userAgent: settings.userAgent,
    inputs: sources.map((source) => source.path),
    givenInputs: settings.inputs,
    entrySettingsHash: entrySettings.combined,
    entrySettingHashes: entrySettings.groups,
    events: deliveryEvents(stats, io, settings.dryRun, settings.delivery.statePath !== undefined, notSent, () => eventText(), settings.delivery.maxAttempts ?? DELIVERY_DEFAULTS.maxAttempts),
  });
  if (delivery.statePath !== undefined) {
    io.onStatePath?.(delivery.statePath);
  }

  // Worker threads, shared by both passes. Large files start them at once, so that they start up
  // while the first (small) chunks are read. A pipe, whose size is unknown, starts them on a large chunk.
  // A file that cannot be stat'ed now is reported when its turn comes.
  const inputBytes = await totalSizeOf(sources).catch(() => undefined);
  const largeInput = inputBytes !== undefined && inputBytes >= WORKER_POOL_THRESHOLD_BYTES;
  let pool: WorkerPool | undefined = largeInput ? new WorkerPool(config) : undefined;
  const workersFor = (chunkBytes: number): WorkerPool | undefined => {
    if (pool === undefined && chunkBytes >= WORKER_POOL_THRESHOLD_BYTES) {
      pool = new WorkerPool(config);
    }
    return pool;
  };
  const closeWorkers = async (): Promise<void> => {
    const closing = pool;
    pool = undefined;
    await closing?.close();
  };

  try {
    const firstPassStarted = Date.now();
    const firstPassPhase = "first pass: collecting emails from identify calls and aliases";
    if (settings.stitch) {
      io.onPhase?.(firstPassPhase);
    }
    const onShareRead = (share: number): void => io.onPhase?.(`${firstPassPhase} · ${Math.floor(share * 100)}%`);
    // The first pass also finds the message_ids that repeat, so that the duplicate check remembers only those.
    const repeats = settings.stitch && inputBytes !== undefined && mapsEventMessageIds(settings.mappings) ? new RepeatFilter(inputBytes) : undefined;
    const graph = settings.stitch
      ? await buildIdentityGraph(sources, { identitiesFile: settings.identitiesFile, readOptions, warn: io.warn, signal: io.signal, workersFor, onShareRead, repeats })
      : undefined;
    const stitcher = new Stitcher(graph, (origin) => delivery.noteUnidentified(origin));
    delivery.useIdentityGraph(graph?.resolvedIds() ?? NO_RESOLVED_IDS);
    if (repeats !== undefined) {
      delivery.useRepeatFilter(repeats);
    }
    stats.identity = { coverage: stitcher.coverage, firstPassMs: Date.now() - firstPassStarted, graph: graph?.stats(), stitch: settings.stitch };

    // Ctrl-C may come at any time, while reading or while the last batches are sent. A signal aborted
    // during the first pass dispatches no further abort event, so delivery is stopped here at once.
    const stopDelivery = (): void => {
      void delivery.stop();
    };
    if (isAborted(io.signal)) {
      stopDelivery();
    }
    io.signal?.addEventListener("abort", stopDelivery, { once: true });
    let warnings = 0;
    const warnOnce = (message: string): void => {
      warnings += 1;
      if (warnings <= MAX_WARNINGS) {
        io.warn(message);
      } else if (warnings === MAX_WARNINGS + 1) {
        io.warn(`more problems follow; they are counted in the summary but not printed`);
      }
    };

    // Returns a promise only when delivery needs the reader to wait, so most records cost no await.
    const handleResult = (result: RecordResult): Promise<void> | void => {
      stats.eventsRead += 1;
      if (delivery.isDone(result.origin)) {
        stats.countSkipped("already-delivered");
        // A later copy of the event is then a duplicate, as it was for the run that delivered this one.
        delivery.rememberDone(result.entries);
        return;
      }
      recordVerdicts(stats, result, io.verbose);
      notSent?.recordVerdicts(result);
      if (result.skipped === "filtered-out") {
        stats.sampleFilteredOut(eventText, allFilterFieldBits);
      }
      const { deliverable, unidentified } = stitcher.stitch(result);
      if (unidentified > 0) {
        stats.countSkipped("no-identity", unidentified);
        notSent?.recordUnidentified(result, unidentified);
      }
      if (exclusion === undefined) {
        return delivery.submit(result.origin, deliverable);
      }
      // A resent dead letter is sent as written, so only its own emails are checked.
      const resent = isResentDeadLetter(result);
      const identifiedEmail = resent ? undefined : stitcher.identifiedEmail(result);
      return delivery.submit(result.origin, withoutExcluded(deliverable, exclusion, stats, resent, notSent, identifiedEmail));
    };
    const handleProblem = (problem: InputProblem): void => {
      if (problem.origin.line > 0 && delivery.isDone(problem.origin)) {
        // The run that finished the line reported it, in its summary, report and not-sent file.
        stats.countSkipped("unreadable-earlier");
        return;
      }
      stats.countUnreadable(problem);
      notSent?.recordProblem(problem);
      warnOnce(locateProblem(problem));
    };
    const countCsvFile = (format: InputFormat): void => {
      numbersWatch?.startInput(format);
      if (format === "csv") {
        stats.csvFilesRead += 1;
      }
    };
    const handleOutcome = (outcome: ReadOutcome): Promise<void> | void => {
      if (outcome.kind === "problem") {
        handleProblem(outcome.problem);
        return;
      }
      return handleResult(outcome.result);
    };

    // Chunks processed by workers or by this thread, in input order; their results are handled in that order.
    const inFlight: Array<Promise<OutcomeSource>> = [];
    // After Ctrl-C or a fatal stop, the outcomes not yet handled are left for the resumed run. Handled,
    // they would count as read while delivery no longer takes their entries.
    const stopped = (): boolean => isAborted(io.signal) || delivery.isStopped();
    const drain = async (keep: number): Promise<void> => {
      while (inFlight.length > keep) {
        const source = await (inFlight.shift() as Promise<OutcomeSource>);
        eventText = () => source.eventText();
        for (let outcome = source.next(); outcome !== undefined && !stopped(); outcome = source.next()) {
          const wait = handleOutcome(outcome);
          if (wait !== undefined) {
            await wait;
          }
        }
        source.release();
      }
    };
    const readerOptions: ChunkReaderOptions = { keepEventLines: !settings.dryRun, separateEntryBuffers: !settings.dryRun };

    const progress = io.onProgress === undefined ? undefined : await startProgress(stats, sources, delivery, io.onProgress);
    // Deliveries go on between input chunks and after the last one, so the line is also redrawn on a timer.
    const progressTimer = progress === undefined ? undefined : setInterval(() => progress.report(), 250);
    progressTimer?.unref();

    try {
      for (const source of sources) {
        if (stopped()) {
          break;
        }
        stats.filesRead += 1;
        try {
          const batches = readInput(source.path, { ...readOptions, onOpen: progress?.onOpen, onFormat: countCsvFile, signal: io.signal, onWarning: io.warn });
          for await (const batch of numbersWatch === undefined ? batches : numbersWatch.watch(batches)) {
            if (stopped()) {
              break;
            }
            progress?.report();
            if (batch.kind === "items") {
              await drain(0);
              for (const item of batch.items) {
                if (stopped()) {
                  break;
                }
                const problem = item.kind === "problem" ? item : eventDepthProblem(item.event, item.origin);
                if (problem !== undefined) {
                  handleProblem(problem);
                } else if (item.kind === "record") {
                  eventText = () => JSON.stringify(item.event);
                  await handleResult(processEvent(item.event, item.origin, undefined, rules));
                }
              }
              continue;
            }
            const workers = workersFor(batch.bytes.length);
            if (workers === undefined) {
              const outcomes = collectChunkOutcomes(batch, rules);
              // The outcomes hold text decoded from the bytes, not the bytes.
              chunkBuffers.give(batch.bytes);
              inFlight.push(Promise.resolve(new OutcomeList(outcomes)));
            } else if (workers.busy) {
              const encoded = processChunk(batch, rules, names, undefined, takeSpareResults());
              inFlight.push(Promise.resolve(new ChunkReader(encoded, batch.input, batch.bytes, names, readerOptions)));
            } else {
              inFlight.push(workers.process(batch, readerOptions));
            }
            await drain(workers === undefined ? 0 : workers.size * 2 + 1);
          }
        } catch (error) {
          // A read aborted by Ctrl-C failed because of the stop, not because of the input.
          if (!stopped()) {
            const problem = { origin: { input: source.path, line: 0 }, reason: "unreadable-file" as const, message: `${source.path}: cannot be read (${(error as Error).message})` };
            stats.countUnreadable(problem);
            notSent?.recordProblem(problem);
            warnOnce(problem.message);
          }
        }
        progress?.finishInput();
      }
      await drain(0);
      stats.csvNumberKeptAsText = numbersWatch?.found;
      // A run stopped early (Ctrl-C, a fatal response) did not read its inputs to the end.
      if (!isAborted(io.signal) && !delivery.isStopped()) {
        stats.inputsReadToEnd = true;
        progress?.finishReading();
      }
    } finally {
      // Workers hold memory that delivery does not need.
      await closeWorkers();
    }
    try {
      await finishDelivery(delivery, stats);
    } finally {
      clearInterval(progressTimer);
    }
    io.signal?.removeEventListener("abort", stopDelivery);
    output.flush();
    if (graph !== undefined) {
      stitcher.coverage.conflicts = graph.stats().conflicts;
      graph.close();
    }
    progress?.report();
    return stats;
  } finally {
    await closeWorkers();
  }
}

/**
 * Returns the entries to send, and counts those whose email the exclusion leaves out. Resent dead
 * letters are excluded too, because the patterns exist to keep these people's events out of Koala,
 * and are counted apart so that the summary can report them.
 */
function withoutExcluded(
  entries: readonly KoalaEntry[],
  exclusion: EmailExclusion,
  stats: RunStats,
  resentDeadLetter: boolean,
  notSent: NotSentRecorder | undefined,
  identifiedEmail: string | undefined,
): readonly KoalaEntry[] {
  const { sendable, excluded } = exclusion.split(entries, identifiedEmail);
  if (excluded.length > 0) {
    stats.countSkipped("excluded-email", excluded.length);
    notSent?.recordExcluded(excluded);
  }
  if (resentDeadLetter) {
    stats.resentDeadLettersExcluded += excluded.length;
  }
  return sendable;
}

/** Outcomes of one chunk in line order, read one at a time. */
interface OutcomeSource {
  next(): ReadOutcome | undefined;
  /** Returns the JSON text of the event of the outcome `next` returned last, or undefined after a problem. */
  eventText(): string | undefined;
  /** Frees what the chunk's outcomes were read from, once every one is read. */
  release(): void;
}

/** The outcomes of a chunk processed on this thread. */
class OutcomeList implements OutcomeSource {
  private index = 0;

  constructor(private readonly outcomes: readonly LineOutcome[]) {}

  next(): ReadOutcome | undefined {
    return this.outcomes[this.index++];
  }

  eventText(): string | undefined {
    const last = this.outcomes[this.index - 1];
    return last?.kind === "result" ? last.text : undefined;
  }

  release(): void {}
}

interface ProgressTracker {
  onOpen: (counter: { sizeBytes?: number; bytesRead: () => number }) => void;
  finishInput: () => void;
  /** Switches the line from reading to delivery, once the events of every input are handed to delivery. */
  finishReading: () => void;
  report: () => void;
}

/**
 * Tracks the bytes read across all inputs for the progress line. The total is the inputs' size on
 * disk, so the percentage counts compressed bytes for gzip files; it is unknown when stdin or a
 * pipe is read.
 */
async function startProgress(
  stats: RunStats,
  sources: readonly InputSource[],
  delivery: Delivery,
  onProgress: (snapshot: Readonly<ProgressSnapshot>) => void,
): Promise<ProgressTracker> {
  const totalBytes = await totalSizeOf(sources);
  const snapshot: ProgressSnapshot = { eventsRead: 0, entriesSent: 0, skipped: 0, failed: 0, bytesRead: 0, totalBytes, readingDone: false };
  let finishedInputsBytes = 0;
  let current: { sizeBytes?: number; bytesRead: () => number } | undefined;
  return {
    onOpen: (counter) => {
      current = counter;
    },
    finishInput: () => {
      finishedInputsBytes += current?.sizeBytes ?? current?.bytesRead() ?? 0;
      current = undefined;
    },
    finishReading: () => {
      snapshot.readingDone = true;
    },
    report: () => {
      const { entriesPending, requestsInFlight, koalaNotResponding } = delivery.progress();
      snapshot.entriesPending = entriesPending;
      snapshot.requestsInFlight = requestsInFlight;
      snapshot.koalaNotResponding = koalaNotResponding;
      snapshot.eventsRead = stats.eventsRead;
      snapshot.entriesSent = stats.entriesSent;
      snapshot.skipped = stats.skippedCount;
      snapshot.failed = stats.failedCount + stats.invalidCount + stats.unreadableCount;
      snapshot.bytesRead = finishedInputsBytes + (current?.bytesRead() ?? 0);
      onProgress(snapshot);
    },
  };
}

async function totalSizeOf(sources: readonly InputSource[]): Promise<number | undefined> {
  let total = 0;
  for (const source of sources) {
    if (source.readOnce !== undefined) {
      return undefined;
    }
    total += (await stat(source.path)).size;
  }
  return total;
}

// Indexed loops over each record's lists, because `for…of` allocated an iterator result per element
// on the main thread (about 25 MB for 200,000 events).
function recordVerdicts(stats: RunStats, result: RecordResult, verbose: ((message: string) => void) | undefined): void {
  const { matched, verdicts } = result;
  for (let index = 0; index < matched.length; index += 1) {
    stats.countMatched(matched[index] as string);
  }
  if (isResentDeadLetter(result)) {
    for (const entry of result.entries) {
      stats.countResentDeadLetter(entry.mappingName);
    }
    for (const entry of result.unidentified) {
      stats.countResentDeadLetter(entry.mappingName);
    }
    // A line that cannot be resent has an invalid verdict in place of its entry, counted below.
    if (result.entries.length + result.unidentified.length === 0) {
      stats.invalidDeadLetterLines += 1;
    }
  }
  if (result.skipped !== undefined) {
    stats.countSkipped(result.skipped);
    stats.filterFieldsSeen |= result.filterFieldsPresent ?? 0;
    if (result.skipped === "no-mapping-matched") {
      stats.countUnmatchedType(result.unmatchedType ?? "(unknown)");
    }
  }
  for (let index = 0; index < verdicts.length; index += 1) {
    const verdict = verdicts[index] as MappingVerdict;
    if (verdict.kind === "skipped") {
      stats.countSkipped(verdict.reason);
    } else {
      stats.countInvalid(verdict.mapping, verdict.reason, result.origin);
      verbose?.(formatInvalidLog(result.origin, verdict.mapping, verdict.reason));
    }
  }
}

/** Finishes delivery (stopped early if the run was interrupted) and copies its counts into the stats. */
async function finishDelivery(delivery: Delivery, stats: RunStats): Promise<void> {
  const result = await delivery.finish();
  stats.delivery = result;
  stats.splitDoneEarlier(result.earlierRecordsWithoutEntries);
  stats.entriesSent = result.delivered;
  stats.requestsSent = result.requestsSent;
  stats.requestsAccepted = result.requestsAccepted;
  if (result.duplicatesSkipped > 0) {
    stats.countSkipped("duplicate-message-id", result.duplicatesSkipped);
  }
}

/**
 * Counts and logs what the delivery stage reports; the stage itself prints nothing. `statePathGiven`
 * is whether --state named the checkpoint, and `maxAttempts` the run's --max-attempts, for log lines.
 */
function deliveryEvents(
  stats: RunStats,
  io: ReplayIo,
  dryRun: boolean,
  statePathGiven: boolean,
  notSent: NotSentRecorder | undefined,
  readEventText: EventTextSource,
  maxAttempts: number,
): DeliveryEvents {
  const warnedMappingPairs = new Set<string>();
  // A save that fails, as on a full disk, usually fails again at every later save. Only the first error is printed, and the summary counts them all.
  const checkpointErrorPaths = new Set<string>();
  return {
    onDelivered: (entries) => {
      for (const entry of entries) {
        stats.countDelivered(entry.mappingName);
      }
    },
    onDeadLetter: (event) => {
      const { origin, mappingName } = event.entry;
      const cause = failureCause(event);
      const reason = event.responseExcerpt === undefined || event.responseExcerpt === "" ? cause : `${cause}: ${event.responseExcerpt}`;
      stats.countFailed({ input: origin.input, line: origin.line, mapping: mappingName, reason, cause, status: event.status });
      io.verbose?.(formatDeadLetterLog({ ...event, reason }, maxAttempts));
    },
    onRetry: (event) => io.verbose?.(formatRetryLog(event, maxAttempts)),
    onDuplicateSkipped: notSent === undefined ? undefined : (entry) => notSent.recordDuplicate(entry),
    onLockWarning: (message) => io.warn(message),
    onNothingToResume: (statePath) => io.warn(describeNothingToResume(statePath, dryRun, statePathGiven)),
    onInputsNotRead: (statePath, inputs) => io.warn(formatInputsNotRead(statePath, inputs)),
    onRoundedMessageId: (entry) => {
      // Delivery reports it within submit, so the event being handled is the entry's.
      const text = readEventText();
      if (text !== undefined && !holdsRoundedNumber(JSON.parse(text) as unknown, entry.messageId)) {
        return;
      }
      stats.roundedMessageIds += 1;
      if (stats.roundedMessageIds === 1) {
        io.warn(describeRoundedMessageId(entry.origin.input, entry.origin.line, entry.messageId));
      }
    },
    onSharedMessageId: (first, second) => {
      const pair = JSON.stringify([first.mappingName, second.mappingName]);
      if (warnedMappingPairs.has(pair)) {
        return;
      }
      warnedMappingPairs.add(pair);
      const { origin } = second;
      io.warn(
        `${origin.input}:${origin.line}: the mappings "${first.mappingName}" and "${second.mappingName}" both made an entry with message_id ${JSON.stringify(second.messageId)}, and Koala records one entry per message_id, so it keeps only one of them. ` +
          `Give one of the mappings a message_id of its own, such as {"@template": "{{messageId}}-${messageIdSuffix(second.mappingName)}"}. Later events of these two mappings are not reported.`,
      );
    },
    onInputOfDuplicatesOnly: (input) =>
      io.warn(`${askIfCopiedInput(input, "entry")} Its entries were skipped as duplicates, so ${dryRun ? "no request of it was printed" : "none of it was sent again"}. Leave the copy out of the inputs.`),
    onEntrySettingsChanged: (statePath, changed) => io.warn(formatEntrySettingsChanged(statePath, changed)),
    onDestinationUnchecked: (statePath) =>
      io.warn(
        `the checkpoint ${statePath} was written by an earlier version of koala-replay, which did not record the endpoint and public key, so --resume cannot check that this run sends where that run did. If that run sent elsewhere, such as to the emulator for a trial, run with --restart in place of --resume to send every event here (Koala ignores entries whose message_id it already has).`,
      ),
    onNoIdentityRecordsLeft: (statePath, left) => {
      stats.noIdentityRecordsLeft = left.events;
      if (left.warnedBefore) {
        return;
      }
      const events = `${formatCount(left.events)} ${left.events === 1 ? "event" : "events"}`;
      io.warn(
        `earlier runs of the checkpoint ${statePath} skipped ${events} as no-identity (no email or profile_id), and --resume does not read them again. ` +
          `This run's identity graph links ${formatCount(left.idsNow)} userIds and anonymousIds to an email, and theirs linked ${formatCount(left.idsBefore)} (a different set), so it may give some of those events an email, because the inputs or the --identities file now hold other identify calls or aliases. ` +
          `To send them, run with --restart in place of --resume: it sends every event again, which is safe because Koala keeps the first entry per message_id.`,
      );
    },
    onOtherDestination: (statePath, difference) =>
      io.warn(
        `the checkpoint ${statePath} is of a run that sent ${difference}. This dry run prints what a resume to that run's destination would send, but send --resume with these options stops before sending anything. To send every event to this destination, run with --restart in place of --resume (Koala keeps the first entry per message_id), or give the run a checkpoint of its own with --state <other path>.`,
      ),
    onRejectedKeyReplaced: (statePath, recorded, current) =>
      io.warn(
        `Koala rejected the public key ${recorded.publicKeyMasked ?? "****"} of the run that wrote the checkpoint ${statePath}, and this run resumes it with another key (${current.publicKeyMasked ?? "****"}), taken as the corrected key of the same Koala project: the events that run delivered are not sent again. If this key is of another project, run with --restart in place of --resume to send every event to it (Koala keeps the first entry per message_id).`,
      ),
    onUnfinishedRunReplaced: (statePath, invalid) =>
      io.warn(
        invalid === undefined
          ? `--restart: the checkpoint ${statePath} of an earlier run that did not finish is replaced, and every event is sent again`
          : `--restart: the checkpoint ${statePath} ${invalid}; it is replaced, and every event is sent again`,
      ),
    onPartialDeadLetterLineCut: (path, bytes) =>
      io.warn(
        `the dead-letter file ${path} ended with ${formatCount(bytes)} ${bytes === 1 ? "byte" : "bytes"} of a line without its newline, left by a run that was killed while writing it. That piece of a line was cut off, and this resume sends its entry again (and writes its line whole if it fails again)`,
      ),
    onPartialDeadLetterLineNotCut: (path, bytes, message) =>
      io.warn(
        `the dead-letter file ${path} ends with ${formatCount(bytes)} ${bytes === 1 ? "byte" : "bytes"} of a line without its newline, left by a run that was killed while writing it, and cutting that piece off failed (${message}). ` +
          "This resume sends its entry again. If a dead letter is written to the file, the piece is first ended with a newline, and a resend of the file counts it as one unreadable line; if the file cannot be written at all, the run stops at the first dead letter (exit status 3). " +
          `To have the piece cut off, stop this run (Ctrl-C), make the file writable (chmod u+w ${path}) and resume again.`,
      ),
    onCheckpointError: (path, message) => {
      if (checkpointErrorPaths.has(path)) {
        return;
      }
      checkpointErrorPaths.add(path);
      io.warn(`the checkpoint could not be written to ${path} (${message}); a resumed run would send more again. Later failures to write it are not printed, and the summary counts them`);
    },
  };
}

/**
 * Explains a --resume that found no checkpoint, and where to look for the earlier run's: at the
 * path given with --state, or at the default path, which depends on the working folder and inputs.
 */
function describeNothingToResume(statePath: string, dryRun: boolean, statePathGiven: boolean): string {
  const outcome = dryRun ? "the dry run prints the requests of every event" : "every event is sent (Koala ignores entries whose message_id it already has)";
  if (!statePathGiven) {
    return (
      `--resume found no checkpoint at ${statePath}, so ${outcome}. The default checkpoint is kept in .koala-replay in the working folder and named after the inputs as given (files and folders, in any order), ` +
      "so it is found only from the folder of the earlier run and with the same inputs. Otherwise give the earlier run's checkpoint with --state <path>."
    );
  }
  const savedHere = dryRun ? "" : ` This run saves its checkpoint to ${statePath}, so a later --resume with the same --state continues it.`;
  return (
    `--resume found no checkpoint at ${statePath}, the path given with --state, so ${outcome}.${savedHere} ` +
    `To resume an earlier run, give --state the path of that run's checkpoint, as in the resume command it printed${isAbsolute(statePath) ? "" : ` (a relative path is taken from the working folder, ${process.cwd()})`}, ` +
    "or leave --state out if that run kept its checkpoint in the default place, .koala-replay in its working folder."
  );
}

/**
 * Describes why an entry was dead-lettered, for the summary and the report, before Koala's response
 * is added (`countFailed` puts the status in front). Without a response the network error follows,
 * because "retries-exhausted" alone does not say whether the attempts timed out or were refused.
 */
function failureCause(event: DeadLetterEvent): string {
  let reason: string = event.reason;
  if (event.status === undefined) {
    const causes = [event.lastRetryReason, event.errorCode].filter((cause) => cause !== undefined);
    if (causes.length > 0) {
      reason += ` (${causes.join(", ")})`;
    }
  }
  return reason;
}

/** Reads the signal through a call, so that TypeScript does not narrow `aborted` across awaits. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

