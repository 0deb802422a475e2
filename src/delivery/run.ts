import { resolve } from "node:path";
import type { ResolvedIds } from "../identity/identity-graph.js";
import { isRoundedLargeNumber } from "../inputs/message-id.js";
import type { RecordOrigin } from "../inputs/record.js";
import { type Batch, Batcher, type PersonLane } from "./batcher.js";
import { Checkpoint } from "./checkpoint.js";
import { cutOffPartialLastLine, type DeadLetterDetails, deadLetterKey, DeadLetterWriter, readDeadLetterKeysAfter } from "./dead-letter.js";
import { describeDestination } from "./destination.js";
import { MessageIdSet } from "./dedupe.js";
import { DuplicateOnlyInputs } from "./duplicate-inputs.js";
import { entrySize, type KoalaEntry } from "./entry.js";
import type { Delivery, DeliveryProgress, DeliveryResult, EarlierDeadLetters, FatalCause, ResolvedDeliveryOptions } from "./options.js";
import type { RetryReason } from "./outcome.js";
import type { RepeatFilter } from "./repeat-filter.js";
import { Sender } from "./sender.js";

/** Fatal reasons that mean Koala rejected the public key, once GET /auth confirmed them. */
const KEY_REJECTIONS: ReadonlySet<FatalCause["reason"]> = new Set(["unauthorized", "forbidden", "not-found"]);

/** The result's counters as they grow, plus what the entries-per-request figures are computed from. */
interface Counts
  extends Pick<
    DeliveryResult,
    | "submitted"
    | "delivered"
    | "deadLettered"
    | "deadLetteredTotal"
    | "duplicatesSkipped"
    | "alreadyDone"
    | "requestsSent"
    | "requestsAccepted"
    | "retries"
    | "retriesTotal"
  > {
  requestsSplit: number;
  entriesSent: number;
  maxEntriesPerRequest: number;
}

/** One delivery run: takes records, keeps the counts, the checkpoint and the dead-letter file. */
export class DeliveryRun implements Delivery {
  private readonly checkpoint: Checkpoint;
  /** As `DeliveryResult.earlierRecordsWithoutEntries`, counted before this run finishes any record. */
  private readonly earlierRecordsWithoutEntries: number | undefined;
  private readonly deadLetters: DeadLetterWriter | undefined;
  private readonly seenMessageIds = new MessageIdSet();
  /** The message_ids that may repeat. An entry with another one need not go into `seenMessageIds`. */
  private repeats: RepeatFilter | undefined;
  private readonly duplicateOnlyInputs: DuplicateOnlyInputs;
  private readonly batcher: Batcher;
  private readonly sender: Sender;
  private readonly counts: Counts = {
    submitted: 0,
    delivered: 0,
    deadLettered: {},
    deadLetteredTotal: 0,
    duplicatesSkipped: 0,
    alreadyDone: 0,
    requestsSent: 0,
    requestsAccepted: 0,
    requestsSplit: 0,
    entriesSent: 0,
    maxEntriesPerRequest: 0,
    retries: {},
    retriesTotal: 0,
  };
  /** Entries taken and neither delivered nor dead-lettered yet. */
  private outstandingEntries = 0;
  /** Characters of entry JSON taken and not yet delivered or dead-lettered, for backpressure. */
  private outstandingBytes = 0;
  private roomWaiters: (() => void)[] = [];
  private fatalCause: FatalCause | undefined;
  private stopped = false;
  private finished: Promise<DeliveryResult> | undefined;
  private stopping: Promise<void> | undefined;
  private lastSaveAtMs = 0;
  private checkpointErrors = 0;
  /** Problems with the dead-letter file that did not stop the run, each reported by an event. */
  private deadLetterFileErrors = 0;
  private saveTimer: NodeJS.Timeout | undefined;
  /**
   * Saves the checkpoint when the process exits before `finish`, as on a second Ctrl-C, so that a
   * resume does not send again what was delivered since the last timed save. Saving is synchronous,
   * as an exit listener must be.
   */
  private readonly saveOnExit = (): void => this.saveCheckpoint();

  constructor(private readonly options: ResolvedDeliveryOptions) {
    this.checkpoint = new Checkpoint(options.statePath, options.inputs, options.cwd, {
      resume: options.resume,
      restart: options.restart,
      entrySettingsHash: options.entrySettingsHash,
      entrySettingHashes: options.entrySettingHashes,
      destination: describeDestination(options.endpoint, options.publicKey),
      resumePath: options.resumeStatePath,
    });
    if (options.statePath !== undefined) {
      process.once("exit", this.saveOnExit);
    }
    if (options.resumeStatePath !== undefined && !this.checkpoint.resumed) {
      options.events.onNothingToResume?.(options.resumeStatePath);
    }
    if (this.checkpoint.inputsNotRead.length > 0 && options.resumeStatePath !== undefined) {
      options.events.onInputsNotRead?.(options.resumeStatePath, this.checkpoint.inputsNotRead);
    }
    if (this.checkpoint.replacesUnfinishedRun && options.statePath !== undefined) {
      options.events.onUnfinishedRunReplaced?.(options.statePath, this.checkpoint.replacedInvalidStateFile);
    }
    if (this.checkpoint.destinationMismatch !== undefined && options.resumeStatePath !== undefined) {
      options.events.onOtherDestination?.(options.resumeStatePath, this.checkpoint.destinationMismatch.difference);
    }
    if (this.checkpoint.rejectedKeyReplaced !== undefined && options.resumeStatePath !== undefined) {
      options.events.onRejectedKeyReplaced?.(options.resumeStatePath, this.checkpoint.rejectedKeyReplaced, describeDestination(options.endpoint, options.publicKey));
    }
    if (this.checkpoint.destinationUnchecked && options.resumeStatePath !== undefined) {
      options.events.onDestinationUnchecked?.(options.resumeStatePath);
    }
    if (this.checkpoint.entrySettingsChanged && options.resumeStatePath !== undefined) {
      options.events.onEntrySettingsChanged?.(options.resumeStatePath, this.checkpoint.changedEntrySettings);
    }
    this.earlierRecordsWithoutEntries = this.checkpoint.resumed ? this.checkpoint.countEarlierRecordsWithoutEntries() : undefined;
    this.deadLetters = options.deadLetterPath === undefined ? undefined : this.openDeadLetters(options.deadLetterPath);
    this.duplicateOnlyInputs = new DuplicateOnlyInputs((input) => options.events.onInputOfDuplicatesOnly?.(input));
    this.sender = new Sender(
      options,
      {
        delivered: (batch) => this.onDelivered(batch),
        deadLettered: (batch, details) => this.onDeadLettered(batch, details),
        retried: (reason) => this.onRetried(reason),
        requestSent: (batch) => this.onRequestSent(batch),
        split: () => {
          this.counts.requestsSplit += 1;
        },
        fatal: (cause) => this.onFatal(cause),
        settled: () => this.releaseRoomWaiters(),
      },
      (lane) => this.batcher.releaseIfIdle(lane),
    );
    this.batcher = new Batcher(options, (lane: PersonLane) => this.sender.schedule(lane));
  }

  get statePath(): string | undefined {
    return this.options.statePath;
  }

  /**
   * Creates the dead-letter writer. A resume fails again the entries of the records that its
   * checkpoint does not cover, and those that the earlier run dead-lettered after its last save are
   * in the file already, so the writer skips them.
   */
  private openDeadLetters(path: string): DeadLetterWriter {
    const resumed = this.checkpoint.resumedDeadLetterFile;
    const absolutePath = resolve(this.options.cwd, path);
    if (resumed === undefined || resumed.path !== absolutePath) {
      return new DeadLetterWriter(path, this.options.publicKey);
    }
    const cut = cutOffPartialLastLine(absolutePath, resumed.bytes);
    if (cut.outcome === "cut") {
      this.options.events.onPartialDeadLetterLineCut?.(path, cut.bytes);
    } else if (cut.outcome === "failed") {
      this.deadLetterFileErrors += 1;
      this.options.events.onPartialDeadLetterLineNotCut?.(path, cut.bytes, cut.error.message);
    }
    const keys = readDeadLetterKeysAfter(absolutePath, resumed.bytes);
    const uncutPieceStart = cut.outcome === "failed" ? cut.pieceStart : undefined;
    return new DeadLetterWriter(path, this.options.publicKey, { keys, fromByte: resumed.bytes, uncutPieceStart });
  }

  /**
   * The pipeline should not map or submit a record for which this returns true. A done record that
   * is submitted anyway is harmless: its entries are counted in `alreadyDone` and not sent.
   */
  isDone(origin: RecordOrigin): boolean {
    return this.options.resume && this.checkpoint.isDone(origin);
  }

  rememberDone(entries: readonly KoalaEntry[]): void {
    for (const entry of entries) {
      this.isFirstOfMessageId(entry);
    }
  }

  useIdentityGraph(resolved: ResolvedIds): void {
    const left = this.checkpoint.useIdentityGraph(resolved);
    const statePath = this.options.statePath ?? this.options.resumeStatePath;
    if (left !== undefined && statePath !== undefined) {
      this.options.events.onNoIdentityRecordsLeft?.(statePath, left);
    }
  }

  useRepeatFilter(repeats: RepeatFilter): void {
    this.repeats = repeats.isOff ? undefined : repeats;
  }

  noteUnidentified(origin: RecordOrigin): void {
    this.checkpoint.noteUnidentified(origin);
  }

  isStopped(): boolean {
    return this.stopped || this.fatalCause !== undefined;
  }

  submit(origin: RecordOrigin, entries: readonly KoalaEntry[]): Promise<void> | void {
    if (this.isStopped() || this.finished !== undefined) {
      return;
    }
    if (this.isDone(origin)) {
      this.counts.alreadyDone += entries.length;
    } else {
      this.take(origin, entries);
      // Records without entries are done at once; a long run of them must reach the checkpoint too.
      this.scheduleCheckpoint();
    }
    this.batcher.advance();
    if (this.outstandingBytes > this.options.maxBufferedBytes || this.sender.waitingForOutput) {
      return new Promise((resolve) => this.roomWaiters.push(resolve));
    }
  }

  progress(): DeliveryProgress {
    const koalaNotResponding = this.sender.koalaNotResponding(Date.now());
    return {
      entriesPending: this.outstandingEntries,
      requestsInFlight: this.sender.inFlightCount,
      ...(koalaNotResponding === undefined ? {} : { koalaNotResponding }),
    };
  }

  finish(): Promise<DeliveryResult> {
    this.finished ??= this.runToEnd();
    return this.finished;
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    this.stopped = true;
    this.releaseRoomWaiters();
    await this.sender.drainInFlight(this.options.stopGraceMs);
    await this.sender.close();
    // The save below is the last, so the exit listener has nothing left to save.
    process.off("exit", this.saveOnExit);
    this.saveCheckpoint();
    this.closeDeadLetters();
  }

  private take(origin: RecordOrigin, entries: readonly KoalaEntry[]): void {
    if (entries.length > 1) {
      this.reportSharedMessageIds(entries);
    }
    const record = this.checkpoint.begin(origin, entries.length);
    this.counts.submitted += entries.length;
    for (let index = 0; index < entries.length; index += 1) {
      const entry = entries[index] as KoalaEntry;
      if (record !== undefined && this.checkpoint.isEntrySettledEarlier(record, entry)) {
        // An earlier run of the state delivered it or wrote its dead letter while other entries of the record were on their way.
        // Its message_id joins the duplicate check, as those of records done earlier do, so a later copy is skipped.
        this.isFirstOfMessageId(entry);
        this.counts.alreadyDone += 1;
        this.checkpoint.completeEntry(record);
        continue;
      }
      const fresh = this.isFirstOfMessageId(entry);
      this.duplicateOnlyInputs.note(origin.input, !fresh);
      if (!fresh) {
        // Sent once already in this run; the record is done as far as this entry goes.
        this.counts.duplicatesSkipped += 1;
        this.options.events.onDuplicateSkipped?.(entry);
        if (isRoundedLargeNumber(entry.messageId)) {
          this.options.events.onRoundedMessageId?.(entry);
        }
        if (record !== undefined) {
          this.checkpoint.completeEntry(record);
        }
        continue;
      }
      this.outstandingEntries += 1;
      this.outstandingBytes += entrySize(entry);
      this.batcher.add(entry, record);
    }
  }

  /**
   * Returns whether the entry is the first with its mapping name and messageId. Adds them to the
   * duplicate check unless the repeat filter rules the messageId out.
   */
  private isFirstOfMessageId(entry: KoalaEntry): boolean {
    if (this.repeats !== undefined && !this.repeats.mayRepeat(entry.messageId)) {
      return true;
    }
    return entry.messageIdHash === undefined ? this.seenMessageIds.add(entry.mappingName, entry.messageId) : this.seenMessageIds.addHash(entry.messageIdHash);
  }

  /** Reports entries of one record that several mappings gave the same kind and `message_id`, of which Koala keeps one. */
  private reportSharedMessageIds(entries: readonly KoalaEntry[]): void {
    for (let later = 1; later < entries.length; later += 1) {
      const second = entries[later] as KoalaEntry;
      for (let earlier = 0; earlier < later; earlier += 1) {
        const first = entries[earlier] as KoalaEntry;
        if (first.messageId === second.messageId && first.kind === second.kind && first.mappingName !== second.mappingName) {
          this.options.events.onSharedMessageId?.(first, second);
        }
      }
    }
  }

  private closeDeadLetters(): void {
    try {
      this.deadLetters?.close();
    } catch (error) {
      // The lines were written; only the final fsync failed, which the caller hears about.
      this.deadLetterFileErrors += 1;
      this.options.events.onCheckpointError?.(this.deadLetters?.path ?? "", (error as Error).message);
    }
  }

  private async runToEnd(): Promise<DeliveryResult> {
    if (!this.isStopped()) {
      this.batcher.closeAll();
    }
    await this.sender.whenIdle();
    if (this.stopped || this.fatalCause !== undefined) {
      await this.sender.drainInFlight(this.options.stopGraceMs);
    }
    await this.sender.close();
    if (this.saveTimer !== undefined) {
      clearTimeout(this.saveTimer);
    }
    if (!this.isStopped() && this.outstandingEntries === 0) {
      this.checkpoint.markFinished();
    }
    if (this.isStopped()) {
      this.duplicateOnlyInputs.abandon();
    } else {
      this.duplicateOnlyInputs.finish();
    }
    process.off("exit", this.saveOnExit);
    this.saveCheckpoint();
    this.closeDeadLetters();
    return this.result();
  }

  private onDelivered(batch: Batch): void {
    this.checkpoint.noteDelivered();
    this.counts.delivered += batch.entries.length;
    this.counts.requestsAccepted += 1;
    this.options.events.onDelivered?.(batch.entries);
    this.settle(batch);
  }

  /**
   * Writes the dead letters of a batch and settles each entry once its line is written. A write that
   * fails part-way then leaves settled exactly the entries whose lines are in the file, and the rest
   * unfinished for a resume, so that the checkpoint and the file agree on every entry.
   */
  private onDeadLettered(batch: Batch, details: DeadLetterDetails): void {
    for (let index = 0; index < batch.entries.length; index += 1) {
      const entry = batch.entries[index] as KoalaEntry;
      // Written before the entry counts as done, so the checkpoint never covers a lost entry.
      if (!this.writeDeadLetter(entry, details)) {
        break;
      }
      const record = batch.records[index];
      if (record !== undefined) {
        this.checkpoint.completeDeadLetteredEntry(record, deadLetterKey(entry.mappingName, entry.messageId));
      }
      this.outstandingEntries -= 1;
      this.outstandingBytes -= entrySize(entry);
      this.counts.deadLettered[details.reason] = (this.counts.deadLettered[details.reason] ?? 0) + 1;
      this.counts.deadLetteredTotal += 1;
      this.options.events.onDeadLetter?.({
        entry,
        reason: details.reason,
        attempts: details.attempts,
        ...(details.lastRetryReason === undefined ? {} : { lastRetryReason: details.lastRetryReason }),
        ...(details.errorCode === undefined ? {} : { errorCode: details.errorCode }),
        ...(details.status === undefined ? {} : { status: details.status }),
        ...(details.responseExcerpt === undefined ? {} : { responseExcerpt: details.responseExcerpt }),
      });
    }
    this.scheduleCheckpoint();
  }

  /**
   * Writes one dead-letter line. When that fails (disk full, permissions) the run ends, because
   * entries that fail later could not be recorded either; the batch stays unfinished for a resume.
   */
  private writeDeadLetter(entry: KoalaEntry, details: DeadLetterDetails): boolean {
    try {
      this.deadLetters?.write(entry, details);
      return true;
    } catch (error) {
      const path = this.deadLetters?.path ?? "";
      this.sender.halt();
      this.onFatal({
        reason: "dead-letter-write-failed",
        message: `Cannot write the dead-letter file ${path}: ${(error as Error).message}. Free space or fix its permissions.`,
      });
      return false;
    }
  }

  private settle(batch: Batch): void {
    for (const [index, record] of batch.records.entries()) {
      if (record !== undefined) {
        this.checkpoint.completeDeliveredEntry(record, batch.entries[index] as KoalaEntry);
      }
    }
    this.outstandingEntries -= batch.entries.length;
    this.outstandingBytes -= batch.bytes;
    this.scheduleCheckpoint();
  }

  private onRetried(reason: RetryReason): void {
    this.counts.retries[reason] = (this.counts.retries[reason] ?? 0) + 1;
    this.counts.retriesTotal += 1;
  }

  private onRequestSent(batch: Batch): void {
    this.counts.requestsSent += 1;
    this.counts.entriesSent += batch.entries.length;
    if (batch.entries.length > this.counts.maxEntriesPerRequest) {
      this.counts.maxEntriesPerRequest = batch.entries.length;
    }
  }

  private onFatal(cause: FatalCause): void {
    if (this.fatalCause !== undefined) {
      return;
    }
    this.fatalCause = cause;
    if (KEY_REJECTIONS.has(cause.reason) && cause.probeStatus !== undefined) {
      this.checkpoint.notePublicKeyRejected();
    }
    this.options.events.onFatal?.(cause);
    this.releaseRoomWaiters();
    // Saved at once, so the run can be resumed with the right key even if the process ends now.
    this.saveCheckpoint();
  }

  private releaseRoomWaiters(): void {
    if (this.roomWaiters.length === 0) {
      return;
    }
    if ((this.outstandingBytes > this.options.maxBufferedBytes || this.sender.waitingForOutput) && !this.isStopped()) {
      return;
    }
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of waiters) {
      resolve();
    }
  }

  /** Saves at most once per `checkpointIntervalMs`, and once more after the last change. */
  private scheduleCheckpoint(): void {
    if (this.options.statePath === undefined || this.saveTimer !== undefined) {
      return;
    }
    const sinceLastMs = Date.now() - this.lastSaveAtMs;
    if (sinceLastMs >= this.options.checkpointIntervalMs) {
      this.saveCheckpoint();
      return;
    }
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.saveCheckpoint();
    }, this.options.checkpointIntervalMs - sinceLastMs);
    this.saveTimer.unref();
  }

  private saveCheckpoint(): void {
    if (this.options.statePath === undefined) {
      return;
    }
    try {
      // Dead letters reach the disk before a checkpoint that counts their records as done.
      this.deadLetters?.sync();
      const deadLetterFile = this.deadLetters === undefined ? undefined : { path: resolve(this.options.cwd, this.deadLetters.path), bytes: this.deadLetters.checkpointBytes };
      if (this.checkpoint.save(deadLetterFile, this.counts.deadLetteredTotal)) {
        this.options.events.onCheckpointSaved?.(this.options.statePath);
      }
    } catch (error) {
      // Delivery stays correct without a fresh checkpoint: a resume only resends more entries.
      this.checkpointErrors += 1;
      this.options.events.onCheckpointError?.(this.options.statePath, (error as Error).message);
    }
    this.lastSaveAtMs = Date.now();
  }

  private earlierDeadLetters(): EarlierDeadLetters {
    const entries = this.checkpoint.earlierDeadLetteredEntries;
    const path = this.checkpoint.resumedDeadLetterFile?.path;
    const files = this.checkpoint.earlierDeadLetterFiles;
    return { entries, ...(path === undefined ? {} : { path }), ...(files === undefined ? {} : { files }) };
  }

  private result(): DeliveryResult {
    const { counts } = this;
    return {
      dryRun: this.options.dryRun,
      submitted: counts.submitted,
      delivered: counts.delivered,
      deadLettered: { ...counts.deadLettered },
      deadLetteredTotal: counts.deadLetteredTotal,
      duplicatesSkipped: counts.duplicatesSkipped,
      ...(this.seenMessageIds.window === undefined ? {} : { duplicateWindow: this.seenMessageIds.window }),
      inputsOfDuplicatesOnly: [...this.duplicateOnlyInputs.inputs],
      alreadyDone: counts.alreadyDone,
      ...(this.earlierRecordsWithoutEntries === undefined ? {} : { earlierRecordsWithoutEntries: this.earlierRecordsWithoutEntries }),
      ...(this.checkpoint.resumed ? { earlierDeadLetters: this.earlierDeadLetters() } : {}),
      undelivered: this.outstandingEntries,
      requestsSent: counts.requestsSent,
      requestsAccepted: counts.requestsAccepted,
      requestsSplit: counts.requestsSplit,
      entriesPerRequest: {
        mean: counts.requestsSent === 0 ? 0 : counts.entriesSent / counts.requestsSent,
        max: counts.maxEntriesPerRequest,
      },
      retries: { ...counts.retries },
      retriesTotal: counts.retriesTotal,
      ...(this.fatalCause === undefined ? {} : { fatal: this.fatalCause }),
      checkpointErrors: this.checkpointErrors,
      ...(this.deadLetterFileErrors === 0 ? {} : { deadLetterFileErrors: this.deadLetterFileErrors }),
      stopped: this.stopped,
      ...(this.deadLetters === undefined || this.deadLetters.count === 0
        ? {}
        : { deadLetterPath: this.deadLetters.path, deadLetterFileHadEarlierLines: this.deadLetters.hadEarlierLines }),
      ...(this.options.statePath === undefined ? {} : { statePath: this.options.statePath }),
    };
  }
}
