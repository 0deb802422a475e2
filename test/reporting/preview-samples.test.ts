import { describe, expect, test } from "vitest";
import type { KoalaEntry, PersonFields } from "../../src/delivery/entry.js";
import type { RecordResult } from "../../src/pipeline/processor.js";
import type { EntryForecast } from "../../src/pipeline/send-forecast.js";
import { PreviewSamples } from "../../src/reporting/preview-samples.js";

/** Builds an entry whose email counts how often it is read, to tell which samples got their detail built. */
function countingEntry(index: number, reads: { count: number }): KoalaEntry {
  const person = {
    traits: {},
    get email(): string {
      reads.count += 1;
      return `staff-${index}@yourcompany.com`;
    },
  } as PersonFields;
  return {
    kind: "events",
    person,
    personKey: `p-${index}`,
    entryJson: "{}",
    messageId: `m-${index}`,
    mappingName: "Track Event",
    origin: { input: "events.jsonl", line: index + 1 },
    eventJson: "{}",
  };
}

describe("PreviewSamples excluded entries", () => {
  test("detail built only for kept samples", () => {
    const limit = 3;
    const samples = new PreviewSamples(["Track Event"], limit, () => [], false);
    const reads = { count: 0 };
    for (let index = 0; index < 50; index++) {
      const entry = countingEntry(index, reads);
      const result: RecordResult = { origin: entry.origin, entries: [], unidentified: [], unidentifiedNotBuilt: 0, entriesWithEmail: 1, matched: ["Track Event"], verdicts: [], identity: {} };
      // The matched email is read through the entry's counting getter, only when a detail is built.
      const excluded = {
        entry,
        pattern: "*@yourcompany.com",
        field: "email" as const,
        get email(): string {
          return entry.person.email ?? "";
        },
      };
      const forecast: EntryForecast = { sent: [], duplicates: [], unidentified: [], excluded: [excluded] };
      samples.add({ type: "track" }, false, result, forecast);
    }

    expect(samples.notSentCounts.get("excluded-email")).toBe(50);
    expect(samples.notSent.get("excluded-email")?.length).toBe(limit);
    expect(samples.notSent.get("excluded-email")?.[0]?.details).toEqual(['the request\'s email "staff-0@yourcompany.com" matches the email exclusion pattern "*@yourcompany.com"']);
    // One read per kept sample, for its detail; the details check above reads no email.
    expect(reads.count).toBe(limit);
  });
});
