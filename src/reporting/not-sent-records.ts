import type { KoalaEntry } from "../delivery/entry.js";
import type { InputProblem } from "../inputs/record.js";
import { skipReasonText, type SkipReason } from "../pipeline/outcomes.js";
import type { ExcludedEntry } from "../pipeline/email-exclusion.js";
import type { RecordResult } from "../pipeline/processor.js";
import type { NotSentRecord } from "./not-sent-file.js";
import { splitFoundValue } from "./tally.js";

/** Returns the JSON text of the event being handled, or undefined when it is not at hand. */
export type EventTextSource = () => string | undefined;

/**
 * Turns the outcomes that `RunStats` counts as skipped, invalid or unreadable into records of the
 * not-sent file, one record per count, so that the file and the report agree. The run calls it at
 * the same places as the counts. `eventText` returns the text of the event being handled, because
 * delivery reports duplicates without it. Each event's records carry its `eventNumber`, which the
 * file joins into one line.
 */
export class NotSentRecorder {
  constructor(
    private readonly write: (record: NotSentRecord) => void,
    private readonly eventText: EventTextSource,
  ) {}

  /** The event being handled: the run calls `recordVerdicts` first for each event, then the others for the same event. */
  private eventNumber = 0;

  /** Starts the records of the next event with the skip of the whole event and each mapping's skipped or invalid verdict. */
  recordVerdicts(result: RecordResult): void {
    this.eventNumber += 1;
    if (result.skipped !== undefined) {
      this.recordSkipped(result, result.skipped);
    }
    for (const verdict of result.verdicts) {
      if (verdict.kind === "skipped") {
        this.recordSkipped(result, verdict.reason, verdict.mapping);
        continue;
      }
      const { reason } = splitFoundValue(verdict.reason);
      const record: NotSentRecord = { origin: result.origin, category: "invalid", reason: `${verdict.mapping}: ${reason}`, message: verdict.reason, mapping: verdict.mapping };
      this.withEvent(record);
    }
  }

  /**
   * Records the `count` entries of a result that have no email or profile_id after stitching. They
   * are its unstitched `unidentified` entries, named by mapping, then those it did not build, which
   * name none.
   */
  recordUnidentified(result: RecordResult, count: number): void {
    const built = count - result.unidentifiedNotBuilt;
    for (let index = 0; index < count; index += 1) {
      const entry = index < built ? result.unidentified[index] : undefined;
      this.recordSkipped(result, "no-identity", entry?.mappingName);
    }
  }

  /** Records an entry skipped because an earlier entry of the run had its mapping and messageId. */
  recordDuplicate(entry: KoalaEntry): void {
    const reason = "duplicate-message-id";
    this.withEvent({ origin: entry.origin, category: "skipped", reason, message: `${skipReasonText[reason]} (${entry.messageId})`, mapping: entry.mappingName });
  }

  /** Records entries whose email matches an email exclusion pattern, naming the field and the pattern. */
  recordExcluded(excluded: readonly ExcludedEntry[]): void {
    const reason = "excluded-email";
    for (const { entry, field, pattern } of excluded) {
      const where = field === "identity" ? "the email linked to the event's userId or anonymousId" : field;
      this.withEvent({ origin: entry.origin, category: "skipped", reason, message: `${skipReasonText[reason]} (${where} matches ${pattern})`, mapping: entry.mappingName });
    }
  }

  /** Records a line or file that could not be read, with the line's text when the reader kept it. */
  recordProblem(problem: InputProblem): void {
    const record: NotSentRecord = { origin: problem.origin, category: "unreadable", reason: problem.reason, message: problem.message };
    if (problem.raw !== undefined) {
      record.raw = problem.raw;
    }
    if (problem.rawBase64 !== undefined) {
      record.rawBase64 = problem.rawBase64;
    }
    this.write(record);
  }

  private recordSkipped(result: RecordResult, reason: SkipReason, mapping?: string): void {
    const record: NotSentRecord = { origin: result.origin, category: "skipped", reason, message: skipReasonText[reason] };
    if (mapping !== undefined) {
      record.mapping = mapping;
    }
    this.withEvent(record);
  }

  private withEvent(record: NotSentRecord): void {
    record.eventNumber = this.eventNumber;
    const text = this.eventText();
    if (text !== undefined) {
      record.eventJson = text;
    }
    this.write(record);
  }
}
