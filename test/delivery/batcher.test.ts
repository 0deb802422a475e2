import { describe, expect, it } from "vitest";
import { type Batch, Batcher, splitBatch } from "../../src/delivery/batcher.js";
import type { RecordProgress } from "../../src/delivery/checkpoint.js";
import type { PersonFields } from "../../src/delivery/entry.js";
import { makeEntry } from "./helpers.js";

const LIMITS = { maxBatchSize: 30, maxBufferedPersons: 10_000, maxBufferedBytes: 8 * 1024 * 1024, flushAfterRecords: 2_000 };

/**
 * Returns a batcher whose closed batches are taken at once and their lanes released, as a dry run's
 * sender does, and the batches in the order they closed.
 */
function dryRunBatcher(): { batcher: Batcher; sent: Batch[] } {
  const sent: Batch[] = [];
  const batcher: Batcher = new Batcher(LIMITS, (lane) => {
    for (let batch = lane.queued.shift(); batch !== undefined; batch = lane.queued.shift()) {
      sent.push(batch);
    }
    batcher.releaseIfIdle(lane);
  });
  return { batcher, sent };
}

describe("Batcher", () => {
  it("keeps a person's lane across changed fields", () => {
    const { batcher, sent } = dryRunBatcher();
    const before: PersonFields = { email: "ada@example.com", traits: { plan: "pro" } };
    const after: PersonFields = { email: "ada@example.com", traits: { plan: "free" } };

    batcher.add(makeEntry(before, "m1", { input: "a", line: 1 }), undefined);
    batcher.add(makeEntry(after, "m2", { input: "a", line: 2 }), undefined);
    batcher.add(makeEntry(after, "m3", { input: "a", line: 3 }), undefined);
    batcher.closeAll();

    expect(sent.map((batch) => batch.entries.map((entry) => entry.messageId))).toEqual([["m1"], ["m2", "m3"]]);
    expect(sent[1]?.lane).toBe(sent[0]?.lane);
  });

  it("fills records only up to the last tracked one", () => {
    const { batcher, sent } = dryRunBatcher();
    const person: PersonFields = { email: "ada@example.com", traits: {} };
    const tracked = { remaining: 1 } as unknown as RecordProgress;

    batcher.add(makeEntry(person, "m1", { input: "a", line: 1 }), undefined);
    batcher.add(makeEntry(person, "m2", { input: "a", line: 2 }), tracked);
    batcher.add(makeEntry(person, "m3", { input: "a", line: 3 }), undefined);
    batcher.add(makeEntry({ email: "bob@example.com", traits: {} }, "m4", { input: "a", line: 4 }), undefined);
    batcher.closeAll();

    const [mixed, untracked] = sent;
    expect(mixed?.records).toEqual([undefined, tracked]);
    expect(mixed?.entries.map((_, index) => mixed.records[index])).toEqual([undefined, tracked, undefined]);
    expect(untracked?.records).toEqual([]);
  });

  it("splits records with their entries", () => {
    const { batcher, sent } = dryRunBatcher();
    const person: PersonFields = { email: "ada@example.com", traits: {} };
    const tracked = { remaining: 1 } as unknown as RecordProgress;

    batcher.add(makeEntry(person, "m1", { input: "a", line: 1 }), undefined);
    batcher.add(makeEntry(person, "m2", { input: "a", line: 2 }), undefined);
    batcher.add(makeEntry(person, "m3", { input: "a", line: 3 }), tracked);
    batcher.closeAll();
    const [first, second] = splitBatch(sent[0] as Batch);

    expect(first.entries.map((entry) => entry.messageId)).toEqual(["m1", "m2"]);
    expect(first.entries.map((_, index) => first.records[index])).toEqual([undefined, undefined]);
    expect(second.entries.map((entry) => entry.messageId)).toEqual(["m3"]);
    expect(second.entries.map((_, index) => second.records[index])).toEqual([tracked]);
  });
});
