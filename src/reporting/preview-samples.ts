import type { KoalaEntry } from "../delivery/entry.js";
import type { RecordOrigin, SegmentEvent } from "../inputs/record.js";
import type { SkipReason } from "../pipeline/outcomes.js";
import type { RecordResult } from "../pipeline/processor.js";
import { isResentDeadLetter } from "../pipeline/resent-dead-letter.js";
import type { EntryForecast } from "../pipeline/send-forecast.js";

/** An event and the request one mapping makes of it. */
export interface PreviewExample {
  origin: RecordOrigin;
  event: SegmentEvent;
  /** Whether koala-replay derived the event's `messageId`, because the archive had none. */
  messageIdDerived: boolean;
  entry: KoalaEntry;
}

/** Reason an event, or one mapping's entry for it, would not be sent. */
export type NotSentReason = SkipReason | "invalid";

export interface NotSentSample {
  origin: RecordOrigin;
  event: SegmentEvent;
  reason: NotSentReason;
  /** The mapping concerned, or undefined when no mapping matched. */
  mapping: string | undefined;
  /** Failure details: the trigger conditions that rejected the event, or the invalid field. */
  details: readonly string[];
}

/** Returns the trigger conditions that reject the event for one mapping (see `TriggerExplainer`). */
export type ExplainRejection = (mappingName: string, event: SegmentEvent) => readonly string[];

/**
 * Collects what `preview` shows: the first `limit` examples of each mapping and up to `limit`
 * events per reason for not sending. It is complete once every mapping has its examples; the
 * samples of events not sent never keep the scan going.
 */
export class PreviewSamples {
  readonly examplesByMapping = new Map<string, PreviewExample[]>();
  /**
   * The first `limit` lines of a dead-letter file given as input that a send would deliver. No trigger
   * matched them, so they are not examples of their mapping, and reading does not stop for them.
   */
  readonly resentDeadLetterExamples: PreviewExample[] = [];
  readonly notSent = new Map<NotSentReason, NotSentSample[]>();
  /** Events seen per reason for not sending, beyond the samples kept. */
  readonly notSentCounts = new Map<NotSentReason, number>();
  eventsRead = 0;
  /** Entries of the events read that a send would deliver, stitched and deduplicated as send does. */
  entriesWouldSend = 0;
  private readonly limit: number;
  private readonly mappingNames: readonly string[];
  private readonly explain: ExplainRejection;
  /** Whether entries without an email were looked up in the identity graph, which the no-identity detail mentions. */
  private readonly stitched: boolean;
  private mappingsComplete = 0;

  constructor(mappingNames: readonly string[], limit: number, explain: ExplainRejection, stitched: boolean) {
    this.mappingNames = mappingNames;
    this.limit = limit;
    this.explain = explain;
    this.stitched = stitched;
    for (const name of mappingNames) {
      this.examplesByMapping.set(name, []);
    }
  }

  /** Whether every mapping has `limit` examples, so reading can stop. */
  get complete(): boolean {
    return this.mappingsComplete === this.mappingNames.length;
  }

  /** Counts one event, and keeps it as an example or as a sample of an entry that a send would not deliver, as the forecast sorted them. */
  add(event: SegmentEvent, messageIdDerived: boolean, result: RecordResult, forecast: EntryForecast): void {
    this.eventsRead += 1;
    const origin = result.origin;
    if (result.skipped !== undefined) {
      const reason = result.skipped;
      this.addNotSent(reason, () => ({ origin, event, reason, mapping: undefined, details: this.skipDetails(reason, event) }));
    }
    for (const verdict of result.verdicts) {
      if (verdict.kind === "invalid") {
        this.addNotSent("invalid", () => ({ origin, event, reason: "invalid", mapping: verdict.mapping, details: [verdict.reason] }));
      } else {
        this.addNotSent(verdict.reason, () => ({ origin, event, reason: verdict.reason, mapping: verdict.mapping, details: this.skipDetails(verdict.reason, event) }));
      }
    }
    this.entriesWouldSend += forecast.sent.length;
    const resent = isResentDeadLetter(result);
    for (const entry of forecast.sent) {
      if (resent) {
        this.addResentDeadLetter({ origin, event, messageIdDerived: false, entry });
      } else {
        this.addExample({ origin, event, messageIdDerived, entry });
      }
    }
    for (const entry of forecast.duplicates) {
      this.addNotSent("duplicate-message-id", () => ({ origin, event, reason: "duplicate-message-id", mapping: entry.mappingName, details: this.skipDetails("duplicate-message-id", event) }));
    }
    for (const entry of forecast.unidentified) {
      this.addNotSent("no-identity", () => ({ origin, event, reason: "no-identity", mapping: entry.mappingName, details: this.skipDetails("no-identity", event) }));
    }
    for (const excluded of forecast.excluded) {
      const details = (): string[] => [describeExcludedEmail(excluded.email, excluded.field, excluded.pattern)];
      this.addNotSent("excluded-email", () => ({ origin, event, reason: "excluded-email", mapping: excluded.entry.mappingName, details: details() }));
    }
  }

  private addExample(example: PreviewExample): void {
    const examples = this.examplesByMapping.get(example.entry.mappingName);
    if (examples === undefined || examples.length >= this.limit) {
      return;
    }
    examples.push(example);
    if (examples.length === this.limit) {
      this.mappingsComplete += 1;
    }
  }

  private addResentDeadLetter(example: PreviewExample): void {
    if (this.resentDeadLetterExamples.length < this.limit) {
      this.resentDeadLetterExamples.push(example);
    }
  }

  /** Counts one event not sent, and builds its sample only when it is kept, because explaining a trigger costs time. */
  private addNotSent(reason: NotSentReason, buildSample: () => NotSentSample): void {
    this.notSentCounts.set(reason, (this.notSentCounts.get(reason) ?? 0) + 1);
    const samples = this.notSent.get(reason) ?? [];
    if (samples.length < this.limit) {
      samples.push(buildSample());
      this.notSent.set(reason, samples);
    }
  }

  private skipDetails(reason: SkipReason, event: SegmentEvent): string[] {
    switch (reason) {
      case "no-mapping-matched":
        return this.mappingNames.map((name) => `${name}: ${this.explain(name, event).join(" and ") || "(no failing condition reported)"}`);
      case "browser-event":
        return ["recorded by analytics.js (context.library.name), which Koala's browser pixel records itself; see --browser-events"];
      case "no-identity":
        return this.stitched
          ? ["the request has no email and no profile_id, and no email is linked to its userId or anonymousId, so Koala cannot attach it to a person"]
          : ["the request has no email and no profile_id, so Koala cannot attach it to a person"];
      case "filtered-out":
        return ["excluded by --filter, --since or --until"];
      case "duplicate-message-id":
        return ["an earlier entry of the same mapping had its messageId, so send skips it as a duplicate"];
      case "already-delivered":
        return ["an earlier run delivered or dead-lettered it"];
      case "skipped-earlier":
        return ["an earlier run skipped it or found it invalid"];
      case "done-earlier":
        return ["an earlier run delivered, dead-lettered or skipped it"];
      case "unreadable-earlier":
        return ["an earlier run reported the line as unreadable"];
      case "excluded-email":
        return ["the request's email matches an email exclusion pattern"];
      default: {
        const unknownReason: never = reason;
        return [String(unknownReason)];
      }
    }
  }
}

function describeExcludedEmail(email: string, field: "email" | "traits.email" | "identity", pattern: string): string {
  const where = field === "identity" ? "email that the event's userId or anonymousId is linked to" : `request's ${field}`;
  return `the ${where} ${JSON.stringify(email)} matches the email exclusion pattern ${JSON.stringify(pattern)}`;
}
