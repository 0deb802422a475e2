import { MAX_TABLE_SLOTS, MessageIdSet } from "../delivery/dedupe.js";
import { DuplicateOnlyInputs } from "../delivery/duplicate-inputs.js";
import type { KoalaEntry } from "../delivery/entry.js";
import type { SkippedFile } from "../inputs/expand-inputs.js";
import { deriveMessageId } from "../inputs/message-id.js";
import type { InputProblem, RecordOrigin, SegmentEvent } from "../inputs/record.js";
import type { SkipReason } from "../pipeline/outcomes.js";
import type { RecordResult } from "../pipeline/processor.js";
import { isResentDeadLetter } from "../pipeline/resent-dead-letter.js";
import type { EntryForecast } from "../pipeline/send-forecast.js";
import type { RequestEstimator } from "./request-estimator.js";
import { MAX_REASONS, OTHER_REASONS } from "./run-stats.js";
import { addToTally, splitFoundValue } from "./tally.js";
import { EventProfile, increment, recordAt } from "./event-profile.js";

export { MAX_DISTINCT_VALUES, MISSING_VALUE, OTHER_VALUES, type IdentityCoverage } from "./event-profile.js";

/** Unreadable lines listed with their location; the rest are only counted. */
const MAX_UNREADABLE_EXAMPLES = 10;

/** Counts of what one mapping would do with the events of an archive. */
export interface MappingTally {
  name: string;
  action: string;
  trigger: string;
  /** Events whose trigger matched. */
  matched: number;
  /** Entries a send would deliver: mapped, valid and with an email or profile_id. */
  wouldSend: number;
  skippedByReason: Map<SkipReason, number>;
  invalidByReason: Map<string, number>;
}

/** Events whose messageId an earlier event of the inputs had, which `send` reads but skips. */
export interface DuplicateEvents {
  count: number;
  /** The first event that repeated a messageId. */
  firstAt: RecordOrigin | undefined;
  /** Inputs all of whose events (one or more) repeat an earlier messageId, in the order read: often a copy of another input. */
  inputsOfDuplicatesOnly: string[];
  /** Repeats whose messageId is a JSON number past 2^53, which may be other events whose ids rounded to one, and the first of them. */
  rounded: { count: number; firstAt: RecordOrigin | undefined; messageId: string | undefined };
  /**
   * Set once the inputs had more distinct messageIds than the check remembers: repeats were caught
   * among at least this many recent ids, and a repeat further apart was not counted (see `MessageIdSet`).
   */
  window?: number;
}

/** Counts of what an archive contains, filled one event at a time by `inspect`. */
export class ArchiveInventory {
  filesRead = 0;
  readonly filesSkipped: SkippedFile[] = [];
  unreadableCount = 0;
  readonly unreadableByReason = new Map<string, number>();
  /** The first unreadable lines, with their file, line and message. */
  readonly unreadableExamples: InputProblem[] = [];
  /**
   * The first CSV files of a table koala-replay does not recognise, kept apart from
   * `unreadableExamples` so that they are named even when other problems fill those.
   */
  readonly unknownCsvTableFiles: string[] = [];
  /** The events read, all of them, and their count. */
  readonly profile = new EventProfile();
  /**
   * The events that pass `--filter`, `--since` and `--until`, when any of them is given; undefined
   * otherwise. Their counts differ from `profile` by `filteredOut`.
   */
  readonly passingProfile: EventProfile | undefined;
  readonly mappings: MappingTally[];
  /** Lines of a dead-letter file given as input: `matched` counts the lines read, valid or not, which no trigger decides on. */
  readonly resentDeadLetters: MappingTally = {
    name: "resent dead letters",
    action: "as written in the dead-letter file",
    trigger: "(none)",
    matched: 0,
    wouldSend: 0,
    skippedByReason: new Map(),
    invalidByReason: new Map(),
  };
  /** Lines of a dead-letter file given as input that carry an entry to resend, and lines that do not (edited or from another version). */
  readonly resentDeadLetterLines = { valid: 0, invalid: 0 };
  readonly duplicates: DuplicateEvents = { count: 0, firstAt: undefined, inputsOfDuplicatesOnly: [], rounded: { count: 0, firstAt: undefined, messageId: undefined } };
  noMappingMatched = 0;
  /** Events excluded by `--filter`, `--since` or `--until` before any mapping saw them. */
  filteredOut = 0;
  readonly estimator: RequestEstimator;
  private readonly tallyByName: Map<string, MappingTally>;
  private readonly eventMessageIds: MessageIdSet;
  private readonly duplicateOnlyInputs = new DuplicateOnlyInputs((input) => this.duplicates.inputsOfDuplicatesOnly.push(input));

  /**
   * `filtered` keeps `passingProfile` apart, for a run with `--filter`, `--since` or `--until`.
   * `maxMessageIdSlots` sizes the check of repeated messageIds as `MessageIdSet` takes it; tests make it small.
   */
  constructor(
    mappings: ReadonlyArray<{ name: string; action: string; trigger: string }>,
    estimator: RequestEstimator,
    maxMessageIdSlots = MAX_TABLE_SLOTS,
    filtered = false,
  ) {
    this.passingProfile = filtered ? new EventProfile() : undefined;
    this.eventMessageIds = new MessageIdSet(undefined, maxMessageIdSlots);
    this.mappings = mappings.map((mapping) => ({ ...mapping, matched: 0, wouldSend: 0, skippedByReason: new Map(), invalidByReason: new Map() }));
    this.tallyByName = new Map(this.mappings.map((tally) => [tally.name, tally]));
    this.estimator = estimator;
  }

  countUnreadable(problem: InputProblem): void {
    this.unreadableCount += 1;
    increment(this.unreadableByReason, problem.reason);
    if (this.unreadableExamples.length < MAX_UNREADABLE_EXAMPLES) {
      // Without the line's text, which can be megabytes long.
      this.unreadableExamples.push({ origin: problem.origin, reason: problem.reason, message: problem.message });
    }
    if (problem.reason === "unknown-csv-table" && this.unknownCsvTableFiles.length < MAX_UNREADABLE_EXAMPLES) {
      this.unknownCsvTableFiles.push(problem.origin.input);
    }
  }

  /**
   * Counts one event, what the mappings made of it and what a send would do with their entries. A
   * line of a dead-letter file is counted by the event it carries, and by the person fields that
   * its entry is resent with, rather than by the fields of the line itself.
   */
  add(event: SegmentEvent, result: RecordResult, forecast: EntryForecast): void {
    this.countDuplicate(event, result.origin);
    const counted = isResentDeadLetter(result) ? deadLetterContent(event) : { event, person: undefined };
    this.profile.add(counted.event, counted.person);
    if (result.skipped !== "filtered-out") {
      this.passingProfile?.add(counted.event, counted.person);
    }
    this.countMappings(result, forecast);
  }

  get eventsRead(): number {
    return this.profile.eventsRead;
  }

  /** Closes the count of the last input, once every event is added. */
  finish(): void {
    this.duplicateOnlyInputs.finish();
    const window = this.eventMessageIds.window;
    if (window !== undefined) {
      this.duplicates.window = window;
    }
  }

  /** Counts an event whose messageId an earlier event had. An event without one gets the messageId send derives for it. */
  private countDuplicate(event: SegmentEvent, origin: RecordOrigin): void {
    const fresh = this.eventMessageIds.add("", messageIdOf(event));
    this.duplicateOnlyInputs.note(origin.input, !fresh);
    if (fresh) {
      return;
    }
    this.duplicates.count += 1;
    this.duplicates.firstAt ??= origin;
    const messageId = event["messageId"];
    if (typeof messageId === "number" && Number.isInteger(messageId) && !Number.isSafeInteger(messageId)) {
      const rounded = this.duplicates.rounded;
      rounded.count += 1;
      rounded.firstAt ??= origin;
      rounded.messageId ??= String(messageId);
    }
  }

  private countMappings(result: RecordResult, forecast: EntryForecast): void {
    if (result.skipped === "no-mapping-matched") {
      this.noMappingMatched += 1;
    } else if (result.skipped === "filtered-out") {
      this.filteredOut += 1;
    }
    for (const name of result.matched) {
      const tally = this.tallyByName.get(name);
      if (tally !== undefined) {
        tally.matched += 1;
      }
    }
    // A dead-letter line names the mapping that made its entry, which may not be in this config.
    const resent = isResentDeadLetter(result);
    if (resent) {
      this.resentDeadLetters.matched += 1;
      // A line that cannot be resent has an invalid verdict in place of its entry.
      if (result.verdicts.some((verdict) => verdict.kind === "invalid")) {
        this.resentDeadLetterLines.invalid += 1;
      } else {
        this.resentDeadLetterLines.valid += 1;
      }
    }
    const tallyOf = (mapping: string): MappingTally | undefined => (resent ? this.resentDeadLetters : this.tallyByName.get(mapping));
    for (const verdict of result.verdicts) {
      const tally = tallyOf(verdict.mapping);
      if (tally === undefined) {
        continue;
      }
      if (verdict.kind === "skipped") {
        increment(tally.skippedByReason, verdict.reason);
      } else {
        // Counted without the bad value it quotes, and with at most MAX_REASONS distinct reasons, as
        // the summary of a send counts it, because a reason may still quote event data.
        addToTally(tally.invalidByReason, splitFoundValue(verdict.reason).reason, OTHER_REASONS, MAX_REASONS);
      }
    }
    for (const entry of forecast.sent) {
      const tally = tallyOf(entry.mappingName);
      if (tally !== undefined) {
        tally.wouldSend += 1;
      }
    }
    // Every record goes to the estimator, also one without entries, as send hands every record to delivery.
    void this.estimator.addRecord(result.origin, forecast.sent);
    countSkippedEntries(forecast.duplicates, "duplicate-message-id", tallyOf);
    countSkippedEntries(forecast.unidentified, "no-identity", tallyOf);
    countSkippedEntries(forecast.excluded.map((excluded) => excluded.entry), "excluded-email", tallyOf);
  }
}

function countSkippedEntries(entries: readonly KoalaEntry[], reason: SkipReason, tallyOf: (mapping: string) => MappingTally | undefined): void {
  for (const entry of entries) {
    const tally = tallyOf(entry.mappingName);
    if (tally !== undefined) {
      increment(tally.skippedByReason, reason);
    }
  }
}

function messageIdOf(event: SegmentEvent): string {
  const messageId = event["messageId"];
  if (typeof messageId === "string" && messageId !== "") {
    return messageId;
  }
  if (typeof messageId === "number") {
    return String(messageId);
  }
  return deriveMessageId(event);
}

/**
 * Returns what a dead-letter line carries: the event its entry was mapped from (an empty event when
 * the line has none), and the person fields the entry is resent with (undefined when the line has none).
 */
function deadLetterContent(line: SegmentEvent): { event: SegmentEvent; person: Record<string, unknown> | undefined } {
  return { event: recordAt(line, "event") ?? {}, person: recordAt(line, "person") };
}

