import type { IdentityCoverage, IdentityGraphStats } from "../identity/index.js";
import type { DeliveryResult } from "../delivery/index.js";
import type { InputProblem, RecordOrigin } from "../inputs/record.js";
import type { SkippedFile } from "../inputs/expand-inputs.js";
import type { SkipReason } from "../pipeline/outcomes.js";
import type { NumberKeptAsText } from "../pipeline/csv-numbers-check.js";
import { BoundedReasonCounts } from "./reason-counts.js";
import { FilteredOutFields } from "./filter-fields.js";
import { addToTally, splitFoundValue } from "./tally.js";

/** At most this many unreadable lines and failures are kept with their details; all are counted. */
const MAX_EXAMPLES = 20;

/**
 * Distinct invalid reasons and unmatched event types counted apart. Past this many, the counts go to
 * the `OTHER_…` keys, so that memory and the report stay small whatever the input.
 */
export const MAX_REASONS = 100;
export const OTHER_REASONS = `other reasons (past the first ${MAX_REASONS} distinct ones)`;
export const OTHER_TYPES = `(other types, past the first ${MAX_REASONS})`;

/** The outcome of writing the `--not-sent` file. */
export interface NotSentFileResult {
  path: string;
  lines: number;
  linesLost: number;
  /** The message of the write that failed, such as `ENOSPC: no space left on device, write`; absent when every line was written. */
  error?: string;
}

/** The first event of an invalid reason: its input line, and the value it had when the reason quotes one. */
export interface FirstInvalid {
  origin: RecordOrigin;
  found?: string;
}

/** Reason of failures once the distinct responses of one status and cause fill `MAX_REASONS_PER_GROUP`. */
export const OTHER_RESPONSES = "other responses, which the dead-letter file keeps for each entry";

export interface FailureRecord {
  input: string;
  line: number;
  mapping: string;
  /** Reason the entry failed, with an excerpt of Koala's response when there was one. */
  reason: string;
  /** The reason without the response excerpt, which groups failures whose responses differ. */
  cause?: string;
  status?: number;
}

/** An event that a mapping matched but could not map into a valid entry. */
export interface InvalidRecord {
  input: string;
  line: number;
  mapping: string;
  reason: string;
}

/**
 * Counts of a run. Entries are counted per event and mapping; `eventsRead`, `filtered-out` and
 * `no-mapping-matched` per event. The run owns one and passes it to the stages that count.
 */
export class RunStats {
  readonly startedAt = Date.now();
  filesRead = 0;
  /**
   * Entries skipped as duplicates whose messageId is a JSON number past 2^53 in their event. They may
   * be different events whose ids rounded to one. They are also counted under duplicate-message-id.
   */
  roundedMessageIds = 0;
  /** Inputs read as CSV, whose cells are text unless --csv-numbers converts them. */
  csvFilesRead = 0;
  /** The first CSV cell kept as text that a trigger compares with a number, when --csv-numbers would have changed a match. */
  csvNumberKeptAsText: NumberKeptAsText | undefined;
  readonly filesSkipped: SkippedFile[] = [];
  eventsRead = 0;
  /** Whether every input was read to its end, which a run stopped early (Ctrl-C, a fatal response) may not have done. */
  inputsReadToEnd = false;
  /** Events whose trigger each mapping matched. Resent dead letters are not among them. */
  readonly matchedByMapping = new Map<string, number>();
  /**
   * Lines of a dead-letter file given as input, by the mapping that made their entry. They are sent
   * again as written, without a trigger, and then counted as sent, skipped or failed like any entry.
   */
  readonly resentDeadLettersByMapping = new Map<string, number>();
  /** Lines of a dead-letter file given as input that carry no entry to resend; each is also counted as invalid. */
  invalidDeadLetterLines = 0;
  /**
   * Entries of dead-letter lines given as input that were not resent, because their email matches an
   * email exclusion pattern. Each is also counted as skipped under excluded-email.
   */
  resentDeadLettersExcluded = 0;
  entriesSent = 0;
  /** Entries delivered (or printed, in a dry run) per mapping. */
  readonly deliveredByMapping = new Map<string, number>();
  requestsSent = 0;
  /** Requests Koala accepted (requests printed, in a dry run). */
  requestsAccepted = 0;
  readonly skippedByReason = new Map<SkipReason, number>();
  readonly invalidByReason = new Map<string, number>();
  /**
   * The first input line of each key of `invalidByReason`, for the summary to point at. Reasons are
   * counted without the value they found, which is kept here for the first event.
   */
  readonly invalidFirstAt = new Map<string, FirstInvalid>();
  readonly invalidExamples: InvalidRecord[] = [];
  unreadableCount = 0;
  readonly unreadableExamples: InputProblem[] = [];
  readonly unreadableByReason = new Map<string, number>();
  failedCount = 0;
  private readonly failedReasons = new BoundedReasonCounts();
  /** Failed entries by reason, with at most `MAX_REASONS_PER_GROUP` responses for each status and cause. */
  readonly failedByReason = this.failedReasons.counts;
  readonly failedExamples: FailureRecord[] = [];
  /** Identity stitching: coverage of entries before and after, and the graph's size. */
  identity: { coverage: IdentityCoverage; firstPassMs: number; graph: IdentityGraphStats | undefined; stitch: boolean } | undefined;
  /**
   * Records that earlier runs of the resumed checkpoint skipped as no-identity, when this run's identity
   * graph resolves other ids than theirs, so some of them might now be sent: a resume does not read them again.
   */
  noIdentityRecordsLeft: number | undefined;
  /** What the delivery stage reported at the end: retries, dead letters, a fatal answer, the state file. */
  delivery: DeliveryResult | undefined;
  /** Bit i is set once an event excluded by the filter had field i of `listFilterFields`. */
  filterFieldsSeen = 0;
  /** Field paths of the first events the filter excluded, so that the summary can suggest the field a misspelt name meant. */
  readonly filteredOutFields = new FilteredOutFields();
  /** The `--not-sent` file once it is closed: its path as given, the lines written, those lost to a failed write, and that write's error. */
  notSentFile: NotSentFileResult | undefined;
  /** Types of the events that no mapping matched, to explain a run that sends nothing. */
  readonly unmatchedTypes = new Map<string, number>();

  countMatched(mapping: string): void {
    increment(this.matchedByMapping, mapping);
  }

  countResentDeadLetter(mapping: string): void {
    increment(this.resentDeadLettersByMapping, mapping);
  }

  countDelivered(mapping: string): void {
    this.entriesSent += 1;
    increment(this.deliveredByMapping, mapping);
  }

  countSkipped(reason: SkipReason, count = 1): void {
    increment(this.skippedByReason, reason, count);
  }

  /**
   * Splits the events that a resume skipped as done by earlier runs, all counted "already-delivered"
   * while reading, into those whose entries earlier runs delivered or dead-lettered and those they
   * skipped or found invalid (`earlierWithoutEntries`, from the checkpoint). The checkpoint counts
   * these per input, not per line, so the split is exact only when this run read every input to its
   * end. Otherwise, or without the count, the events are counted "done-earlier".
   */
  splitDoneEarlier(earlierWithoutEntries: number | undefined): void {
    const done = this.skippedByReason.get("already-delivered") ?? 0;
    if (done === 0) {
      return;
    }
    this.skippedByReason.delete("already-delivered");
    if (earlierWithoutEntries === undefined || !this.inputsReadToEnd || earlierWithoutEntries > done) {
      this.countSkipped("done-earlier", done);
      return;
    }
    if (done > earlierWithoutEntries) {
      this.countSkipped("already-delivered", done - earlierWithoutEntries);
    }
    if (earlierWithoutEntries > 0) {
      this.countSkipped("skipped-earlier", earlierWithoutEntries);
    }
  }

  countInvalid(mapping: string, reason: string, origin?: RecordOrigin): void {
    const split = splitFoundValue(reason);
    const key = addToTally(this.invalidByReason, `${mapping}: ${split.reason}`, OTHER_REASONS, MAX_REASONS);
    if (origin === undefined) {
      return;
    }
    if (!this.invalidFirstAt.has(key)) {
      this.invalidFirstAt.set(key, key === OTHER_REASONS || split.found === undefined ? { origin } : { origin, found: split.found });
    }
    if (this.invalidExamples.length < MAX_EXAMPLES) {
      this.invalidExamples.push({ input: origin.input, line: origin.line, mapping, reason });
    }
  }

  countUnreadable(problem: InputProblem): void {
    this.unreadableCount += 1;
    increment(this.unreadableByReason, problem.reason);
    if (this.unreadableExamples.length < MAX_EXAMPLES) {
      // Without the line's text, which can be megabytes long.
      this.unreadableExamples.push({ origin: problem.origin, reason: problem.reason, message: problem.message });
    }
  }

  countFailed(failure: FailureRecord): void {
    this.failedCount += 1;
    const status = failure.status === undefined ? "" : `HTTP ${failure.status}: `;
    // Without a cause, the reasons of one status form the group, so they too stay a few rows.
    const group = `${status}${failure.cause ?? ""}`;
    const otherKey = failure.cause === undefined ? `${status}${OTHER_RESPONSES}` : `${group}: ${OTHER_RESPONSES}`;
    this.failedReasons.add(group, `${status}${failure.reason}`, otherKey);
    if (this.failedExamples.length < MAX_EXAMPLES) {
      // The cause only groups the counts, and the reason contains it.
      const { cause: _cause, ...example } = failure;
      this.failedExamples.push(example);
    }
  }

  /** Adds the field paths of an event the filter excluded, as `FilteredOutFields.add` takes them, once `filterFieldsSeen` counts the event. */
  sampleFilteredOut(readEventText: () => string | undefined, allFieldBits: number): void {
    this.filteredOutFields.add(this.filterFieldsSeen, allFieldBits, () => {
      const text = readEventText();
      return text === undefined ? undefined : (JSON.parse(text) as unknown);
    });
  }

  countUnmatchedType(type: string): void {
    addToTally(this.unmatchedTypes, type, OTHER_TYPES, MAX_REASONS);
  }

  get skippedCount(): number {
    return sum(this.skippedByReason);
  }

  get invalidCount(): number {
    return sum(this.invalidByReason);
  }
}

function increment<K>(map: Map<K, number>, key: K, count = 1): void {
  map.set(key, (map.get(key) ?? 0) + count);
}

function sum(map: Map<unknown, number>): number {
  let total = 0;
  for (const count of map.values()) {
    total += count;
  }
  return total;
}
