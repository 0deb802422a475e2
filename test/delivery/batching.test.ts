import { afterEach, describe, expect, it } from "vitest";
import { createDelivery } from "../../src/delivery/index.js";
import type { KoalaEntry } from "../../src/delivery/entry.js";
import { type EmulatorFaults, type KoalaEmulator, startKoalaEmulator } from "../emulator/koala-emulator.js";
import { LineCollector, makeEntry, makeRecords, TEST_KEY, testOptions } from "./helpers.js";

let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function deliverAll(
  entries: readonly KoalaEntry[],
  overrides: Parameters<typeof testOptions>[1] = {},
  faults: EmulatorFaults = {},
) {
  emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults });
  const delivery = createDelivery(testOptions(emulator.url, overrides));
  for (const entry of entries) {
    await delivery.submit(entry.origin, [entry]);
  }
  const result = await delivery.finish();
  return { result, emulator };
}

function batchBodies(server: KoalaEmulator): Record<string, unknown>[] {
  return server.requests.filter((request) => request.status === 200).map((request) => JSON.parse(request.body) as Record<string, unknown>);
}

describe("batching", () => {
  it("packs one person's entries together", async () => {
    const person = { email: "ada@example.com", traits: { plan: "pro" } };
    const entries = Array.from({ length: 10 }, (_, index) => makeEntry(person, `m${index}`, { input: "a", line: index + 1 }));
    const { result, emulator: server } = await deliverAll(entries);

    expect(result.delivered).toBe(10);
    expect(result.requestsSent).toBe(1);
    expect(server.accepted.size).toBe(10);
    expect(batchBodies(server)[0]).toMatchObject({ email: "ada@example.com", traits: { plan: "pro" } });
  });

  it("separates different top-level fields", async () => {
    const entries = [
      makeEntry({ email: "ada@example.com", traits: { plan: "pro" } }, "m1", { input: "a", line: 1 }),
      makeEntry({ email: "ada@example.com", traits: { plan: "free" } }, "m2", { input: "a", line: 2 }),
      makeEntry({ email: "ada@example.com", traits: { plan: "free" }, ip: "10.0.0.1" }, "m3", { input: "a", line: 3 }),
      makeEntry({ email: "ada@example.com", traits: { plan: "free" }, ip: "10.0.0.1" }, "m4", { input: "a", line: 4 }),
    ];
    const { result, emulator: server } = await deliverAll(entries);

    expect(result.requestsSent).toBe(3);
    const bodies = batchBodies(server);
    expect(bodies.map((body) => (body.events as unknown[]).length)).toEqual([1, 1, 2]);
    expect(bodies[2]).toMatchObject({ ip: "10.0.0.1", traits: { plan: "free" } });
  });

  it("keeps body key order", async () => {
    const person = { profile_id: "p-1", email: "ada@example.com", traits: { a: 1 }, ip: "10.0.0.1" };
    const entries = [makeEntry(person, "m1", { input: "a", line: 1 }, "identifies"), makeEntry(person, "m2", { input: "a", line: 2 })];
    const { emulator: server } = await deliverAll(entries);

    expect(Object.keys(batchBodies(server)[0] ?? {})).toEqual(["profile_id", "email", "traits", "ip", "events", "identifies"]);
  });

  it("sends at most 30 entries per kind", async () => {
    const person = { email: "ada@example.com", traits: {} };
    const entries = Array.from({ length: 95 }, (_, index) =>
      makeEntry(person, `m${index}`, { input: "a", line: index + 1 }, index % 2 === 0 ? "events" : "identifies"),
    );
    const { result, emulator: server } = await deliverAll(entries);

    expect(server.accepted.size).toBe(95);
    for (const body of batchBodies(server)) {
      expect(((body.events as unknown[] | undefined) ?? []).length).toBeLessThanOrEqual(30);
      expect(((body.identifies as unknown[] | undefined) ?? []).length).toBeLessThanOrEqual(30);
    }
    // The first request closes at 30 events (59 entries); the remaining 36 go in a second one.
    expect(result.entriesPerRequest.max).toBe(59);
    expect(result.requestsSent).toBe(2);
  });

  it("honours a smaller maxBatchSize", async () => {
    const person = { email: "ada@example.com", traits: {} };
    const entries = Array.from({ length: 10 }, (_, index) => makeEntry(person, `m${index}`, { input: "a", line: index + 1 }));
    const { result } = await deliverAll(entries, { maxBatchSize: 3 });

    expect(result.requestsSent).toBe(4);
    expect(result.entriesPerRequest.max).toBe(3);
  });

  it("keeps each person's order without overlap", async () => {
    const entries = makeRecords(3_000, 7);
    // Slow responses keep requests open long enough for the emulator to see any overlap.
    const { result, emulator: server } = await deliverAll(
      entries,
      { maxBatchSize: 5, concurrency: 8, adaptiveConcurrency: false },
      { slowRate: 1, slowDelayMs: 5 },
    );

    expect(result.delivered).toBe(3_000);
    expect(server.stats.maxConcurrentPerPerson).toBe(1);
    expect(server.stats.maxConcurrent).toBeGreaterThan(1);

    const lastLineByPerson = new Map<string, number>();
    for (const request of server.requests) {
      const body = JSON.parse(request.body) as { email: string; events?: { message_id: string }[]; identifies?: { message_id: string }[] };
      for (const entry of [...(body.events ?? []), ...(body.identifies ?? [])]) {
        const line = Number(entry.message_id.slice("message-".length));
        expect(line).toBeGreaterThan(lastLineByPerson.get(body.email) ?? 0);
      }
      const lines = [...(body.events ?? []), ...(body.identifies ?? [])].map((entry) => Number(entry.message_id.slice(8)));
      lastLineByPerson.set(body.email, Math.max(...lines));
    }
  });

  it("flushes by age in records read", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY });
    const delivery = createDelivery(testOptions(emulator.url, { flushAfterRecords: 3 }));
    const person = { email: "ada@example.com", traits: {} };
    await delivery.submit({ input: "a", line: 1 }, [makeEntry(person, "m1", { input: "a", line: 1 })]);
    await delivery.submit({ input: "a", line: 2 }, []);
    await waitFor(() => false, 50);
    expect(emulator.requests.length).toBe(0);

    await delivery.submit({ input: "a", line: 3 }, []);
    await delivery.submit({ input: "a", line: 4 }, []);
    await waitFor(() => emulator?.accepted.size === 1, 2_000);
    expect(emulator.accepted.has("m1")).toBe(true);
    await delivery.finish();
  });

  it("flushes the oldest person past maxBufferedPersons", async () => {
    const entries = makeRecords(40, 4);
    const { result } = await deliverAll(entries, { maxBufferedPersons: 1 });

    // A new person arrives with each record, so every batch contains one entry.
    expect(result.requestsSent).toBe(40);
  });

  it("sends a duplicate messageId once", async () => {
    const person = { email: "ada@example.com", traits: {} };
    const entries = [
      makeEntry(person, "m1", { input: "a", line: 1 }),
      makeEntry(person, "m1", { input: "a", line: 2 }),
      makeEntry(person, "m2", { input: "a", line: 3 }),
    ];
    const { result, emulator: server } = await deliverAll(entries);

    expect(result.delivered).toBe(2);
    expect(result.duplicatesSkipped).toBe(1);
    expect(server.stats.duplicateEntries).toBe(0);
  });

  it.each([Infinity, 40])("dry run prints real batches (traits change every %s)", async (traitChangeEvery) => {
    const entries = makeRecords(500, 13, "events.jsonl", traitChangeEvery);
    const options = { flushAfterRecords: 20, maxBatchSize: 7 };
    const { emulator: server } = await deliverAll(entries, options);
    const realBodies = server.requests.map((request) => request.body).sort();

    const output = new LineCollector();
    const dryRun = createDelivery(testOptions("https://api2.getkoala.com", { ...options, dryRun: true, output }));
    for (const entry of entries) {
      await dryRun.submit(entry.origin, [entry]);
    }
    const dryResult = await dryRun.finish();
    const lines = output.lines.map((line) => JSON.parse(line) as { method: string; url: string; body: unknown });

    expect(dryResult.requestsSent).toBe(realBodies.length);
    expect(lines.map((line) => JSON.stringify(line.body)).sort()).toEqual(realBodies);
    expect(lines[0]?.method).toBe("POST");
    expect(lines[0]?.url).toBe("https://api2.getkoala.com/web/projects/pk_t****/batch");
    expect(output.text).not.toContain(TEST_KEY);
  });

  it("dry run without a key uses a placeholder", async () => {
    const output = new LineCollector();
    const entry = makeEntry({ email: "ada@example.com", traits: {} }, "m1", { input: "a", line: 1 });
    const delivery = createDelivery({ ...testOptions("https://api2.getkoala.com", { dryRun: true, output }), publicKey: undefined });
    await delivery.submit(entry.origin, [entry]);
    await delivery.finish();

    expect(output.lines).toHaveLength(1);
    expect(JSON.parse(output.lines[0] ?? "{}")).toEqual({
      method: "POST",
      url: "https://api2.getkoala.com/web/projects/<public-key>/batch",
      body: { email: "ada@example.com", traits: {}, events: [{ type: "track", event: "Clicked", message_id: "m1" }] },
    });
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
