import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createDelivery } from "../../src/delivery/index.js";
import type { RetryEvent } from "../../src/delivery/options.js";
import { type KoalaEmulator, startKoalaEmulator } from "../emulator/koala-emulator.js";
import { makeRecords, TEST_KEY, testOptions } from "./helpers.js";

let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

describe("delivery under faults", () => {
  it("delivers every entry exactly once", async () => {
    emulator = await startKoalaEmulator({
      publicKey: TEST_KEY,
      seed: 42,
      faults: {
        serverErrorRate: 0.1,
        rateLimitEvery: 20,
        retryAfterSeconds: 1,
        dropRate: 0.02,
        slowRate: 0.05,
        slowDelayMs: 30,
      },
    });
    const retries: RetryEvent[] = [];
    const pauses: number[] = [];
    const delivery = createDelivery(
      testOptions(emulator.url, {
        maxBatchSize: 10,
        concurrency: 8,
        maxAttempts: 20,
        retryAfterCapMs: 100,
        events: { onRetry: (event) => retries.push(event), onPause: (delayMs) => pauses.push(delayMs) },
      }),
    );
    const entries = makeRecords(2_000, 50);
    for (const entry of entries) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.fatal).toBeUndefined();
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.delivered).toBe(2_000);
    expect(result.submitted).toBe(2_000);
    expect(result.undelivered).toBe(0);
    expect(emulator.accepted.size).toBe(2_000);
    for (const entry of entries) {
      expect(emulator.accepted.get(entry.messageId)?.person.email).toBe(entry.person.email);
    }

    const statuses = emulator.stats.statusCounts;
    expect(statuses["429"]).toBeGreaterThan(0);
    expect(statuses.dropped).toBeGreaterThan(0);
    expect((statuses["500"] ?? 0) + (statuses["502"] ?? 0) + (statuses["503"] ?? 0) + (statuses["504"] ?? 0)).toBeGreaterThan(0);
    expect(result.retriesTotal).toBe(retries.length);
    expect(result.retries["rate-limited"]).toBe(statuses["429"]);
    expect(result.retries["connection-reset"]).toBe(statuses.dropped);
    // Retry-After: 1 is capped at 100 ms by retryAfterCapMs.
    expect(pauses.every((delayMs) => delayMs === 100)).toBe(true);
    expect(result.requestsSent).toBe(emulator.stats.batchRequests);
    expect(emulator.stats.maxConcurrentPerPerson).toBe(1);
  });

  it("429 pauses every sender", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { rateLimitEvery: 10, retryAfterSeconds: 1 } });
    const delivery = createDelivery(
      testOptions(emulator.url, { maxBatchSize: 1, concurrency: 4, adaptiveConcurrency: false, retryAfterCapMs: 300 }),
    );
    const entries = makeRecords(30, 30);
    for (const entry of entries) {
      await delivery.submit(entry.origin, [entry]);
    }
    await delivery.finish();

    const requests = emulator.requests;
    const limited = requests.findIndex((request) => request.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    const limitedAt = requests[limited]?.endedAtMs ?? 0;
    // Requests already in flight may still arrive; a request started after the 429 waits the pause.
    const startedSoonAfter = requests.filter(
      (request) => request.startedAtMs > limitedAt + 20 && request.startedAtMs < limitedAt + 250,
    );
    expect(startedSoonAfter).toEqual([]);
    expect(emulator.accepted.size).toBe(30);
  });

  it("maxRps spaces request starts", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY });
    const delivery = createDelivery(testOptions(emulator.url, { maxRps: 20, maxBatchSize: 1, adaptiveConcurrency: false }));
    const entries = makeRecords(10, 10);
    const startedAt = Date.now();
    for (const entry of entries) {
      await delivery.submit(entry.origin, [entry]);
    }
    await delivery.finish();

    // Ten starts 50 ms apart span at least 450 ms.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(440);
    // A slowed process can bring two arrivals close together, but not bunch the whole run. So the
    // span of the arrivals and their count in any 100 ms (2 fit) are checked, not each gap.
    const starts = emulator.requests.map((request) => request.startedAtMs).sort((left, right) => left - right);
    expect(starts).toHaveLength(10);
    expect((starts[9] ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(380);
    const busiestWindow = Math.max(...starts.map((start) => starts.filter((other) => other >= start && other < start + 100).length));
    expect(busiestWindow).toBeLessThanOrEqual(4);
  });

  it("adaptive concurrency backs off on 429", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { rateLimitEvery: 15, retryAfterSeconds: 1, slowRate: 1, slowDelayMs: 5 } });
    const limits: number[] = [];
    const delivery = createDelivery(
      testOptions(emulator.url, { maxBatchSize: 1, concurrency: 16, retryAfterCapMs: 20, events: { onConcurrencyChange: (limit) => limits.push(limit) } }),
    );
    const entries = makeRecords(300, 100);
    for (const entry of entries) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.delivered).toBe(300);
    expect(Math.max(...limits)).toBeGreaterThan(2);
    const decreases = limits.filter((limit, index) => index > 0 && limit < (limits[index - 1] ?? 0));
    expect(decreases.length).toBeGreaterThan(0);
    expect(Math.max(...limits)).toBeLessThanOrEqual(16);
  });

  it("retries requests that time out", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, seed: 3, faults: { slowRate: 0.2, slowDelayMs: 400 } });
    const delivery = createDelivery(testOptions(emulator.url, { timeoutMs: 100, maxBatchSize: 5, maxAttempts: 20 }));
    const entries = makeRecords(300, 30);
    for (const entry of entries) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.retries.timeout).toBeGreaterThan(0);
    expect(result.delivered).toBe(300);
    expect(result.deadLetteredTotal).toBe(0);
    expect(emulator.accepted.size).toBe(300);
  });

  it("429 with Retry-After 0 backs off", async () => {
    // A server that throttles for a moment and requests no wait. Retried at once, each request would
    // spend its attempts within milliseconds and go to the dead-letter file.
    let throttledUntilMs: number | undefined;
    const server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        throttledUntilMs ??= Date.now() + 400;
        response.statusCode = Date.now() < throttledUntilMs ? 429 : 200;
        response.setHeader("retry-after", "0");
        response.end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const delivery = createDelivery(testOptions(url, { maxBatchSize: 5, retryBaseDelayMs: 50, retryMaxDelayMs: 1_000 }));
      for (const entry of makeRecords(50, 10)) {
        await delivery.submit(entry.origin, [entry]);
      }
      const result = await delivery.finish();

      expect(result.retries["rate-limited"]).toBeGreaterThan(0);
      expect(result.deadLetteredTotal).toBe(0);
      expect(result.delivered).toBe(50);
    } finally {
      server.close();
    }
  });

  it("stops as unreachable when every connection is refused", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY });
    const url = emulator.url;
    await emulator.close();
    emulator = undefined;
    const delivery = createDelivery(testOptions(url, { maxAttempts: 3 }));
    const [entry] = makeRecords(1, 1);
    if (entry === undefined) throw new Error("no entry");
    await delivery.submit(entry.origin, [entry]);
    const result = await delivery.finish();

    expect(result.retries["connection-refused"]).toBe(2);
    expect(result.fatal?.reason).toBe("unreachable");
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.undelivered).toBe(1);
  });
});
