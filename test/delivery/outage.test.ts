import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createDelivery } from "../../src/delivery/index.js";
import type { DeadLetterEvent, RequestSentEvent, RetryEvent } from "../../src/delivery/options.js";
import { type KoalaEmulator, startKoalaEmulator } from "../emulator/koala-emulator.js";
import { makeRecords, TEST_KEY, testOptions } from "./helpers.js";

let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

describe("delivery during a Koala outage", () => {
  it("requests out of attempts wait for the outage", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { batchStatus: 503 } });
    const retries: RetryEvent[] = [];
    const delivery = createDelivery(testOptions(emulator.url, { maxAttempts: 2, maxOutageMs: 300, maxBatchSize: 5, events: { onRetry: (event) => retries.push(event) } }));
    for (const entry of makeRecords(40, 10)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.fatal?.reason).toBe("unavailable");
    expect(result.fatal?.message).toContain("last error: HTTP 503");
    expect(result.fatal?.message).not.toContain(TEST_KEY);
    expect(result.fatal?.status).toBe(503);
    expect(result.fatal?.errorCode).toBeUndefined();
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.undelivered).toBe(40);
    // A test request that failed its 2nd attempt is held again rather than dead-lettered.
    expect(retries.some((retry) => retry.attempt >= 2 && retry.heldForOutage === true)).toBe(true);
  });

  it("refused outage records the error code", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY });
    const down = emulator;
    let accepted = 0;
    const delivery = createDelivery(
      testOptions(emulator.url, {
        maxOutageMs: 300,
        maxBatchSize: 1,
        concurrency: 2,
        adaptiveConcurrency: false,
        events: {
          onDelivered: () => {
            accepted += 1;
            if (accepted === 3) {
              void down.stopListening();
            }
          },
        },
      }),
    );
    for (const entry of makeRecords(40, 10)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.fatal?.reason).toBe("unavailable");
    expect(result.fatal?.status).toBeUndefined();
    expect(result.fatal?.errorCode).toBe("ECONNREFUSED");
    expect(result.fatal?.message).toContain("last error: ECONNREFUSED");
    expect(result.deadLetteredTotal).toBe(0);
  });

  it("outage holds requests but one test at a time", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { batchStatus: 503 } });
    const sent: RequestSentEvent[] = [];
    const retries: RetryEvent[] = [];
    const delivery = createDelivery(
      testOptions(emulator.url, {
        maxOutageMs: 1_500,
        maxAttempts: 100,
        retryBaseDelayMs: 20,
        retryMaxDelayMs: 200,
        concurrency: 8,
        adaptiveConcurrency: false,
        maxBatchSize: 5,
        events: { onRequestSent: (event) => sent.push(event), onRetry: (event) => retries.push(event) },
      }),
    );
    for (const entry of makeRecords(100, 20)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.fatal?.reason).toBe("unavailable");
    expect(result.undelivered).toBe(100);
    // The first requests go at full concurrency; once two persons failed, a test request at a time.
    // Each batch on a backoff of its own (20 to 200 ms, with full jitter) would have made hundreds
    // of requests in 1.5 s. The test requests wait at least 10, 20, 40, 80, 100, 100, … ms.
    const first = sent.findIndex((event) => event.attempt >= 2);
    expect(first).toBeGreaterThan(0);
    expect(emulator.stats.batchRequests).toBeLessThan(first + 30);
    for (const event of sent.slice(first + 8)) {
      expect(event.inFlight).toBe(1);
    }
    expect(retries.slice(2).every((retry) => retry.heldForOutage === true)).toBe(true);
  });

  it("held requests all go once Koala responds", async () => {
    const faults: { batchStatus?: number } = { batchStatus: 503 };
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults });
    const sent: RequestSentEvent[] = [];
    const delivery = createDelivery(
      testOptions(emulator.url, {
        maxOutageMs: 30_000,
        maxAttempts: 100,
        retryBaseDelayMs: 20,
        retryMaxDelayMs: 200,
        concurrency: 8,
        adaptiveConcurrency: false,
        maxBatchSize: 5,
        events: { onRequestSent: (event) => sent.push(event) },
      }),
    );
    for (const entry of makeRecords(100, 20)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const finished = delivery.finish();
    const deadline = Date.now() + 10_000;
    while (emulator.stats.batchRequests < 12 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const sentDuringOutage = sent.length;
    delete faults.batchStatus;
    const result = await finished;

    expect(result.fatal).toBeUndefined();
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.delivered).toBe(100);
    expect(emulator.accepted.size).toBe(100);
    // The test request that got through opened the gate, and the held requests went 8 at a time.
    expect(Math.max(...sent.slice(sentDuringOutage).map((event) => event.inFlight))).toBe(8);
  });

  it("failing entries cannot keep an outage going", async () => {
    // person0's entries get a 500 every time, and Koala is down for everyone at first. Tests that
    // only sent person0's batch would never see Koala come back, and the run would stop as an outage.
    const faults: { batchStatus?: number; serverErrorEntry?: (entry: Record<string, unknown>) => boolean } = {
      batchStatus: 503,
      serverErrorEntry: (entry) => entry["message_id"] === "message-2",
    };
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults });
    const delivery = createDelivery(
      testOptions(emulator.url, { maxOutageMs: 5_000, maxAttempts: 5, maxBatchSize: 1, concurrency: 1, adaptiveConcurrency: false }),
    );
    // person0's entry goes first, so that its batch is the first test request of the outage.
    for (const entry of makeRecords(2, 2).reverse()) {
      await delivery.submit(entry.origin, [entry]);
    }
    const finished = delivery.finish();
    const deadline = Date.now() + 10_000;
    while (emulator.stats.batchRequests < 4 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    delete faults.batchStatus;
    const result = await finished;

    expect(result.fatal).toBeUndefined();
    expect(result.delivered).toBe(1);
    expect(emulator.accepted.has("message-1")).toBe(true);
    expect(result.deadLettered["retries-exhausted"]).toBe(1);
  });

  it("failing entries of two persons", async () => {
    // Koala responds with 500 to the entries of two persons, every time, and accepts everyone
    // else's. Their failures look like an outage, and tests that only retried their held batches
    // would never send the entries of the other persons, in this run or in any resume of it.
    emulator = await startKoalaEmulator({
      publicKey: TEST_KEY,
      faults: { serverErrorEntry: (entry) => entry["message_id"] === "message-1" || entry["message_id"] === "message-2" },
    });
    const delivery = createDelivery(
      testOptions(emulator.url, { maxOutageMs: 3_000, maxAttempts: 3, maxBatchSize: 1, concurrency: 1, adaptiveConcurrency: false }),
    );
    for (const entry of makeRecords(20, 20)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(emulator.accepted.size).toBe(18);
    expect(result.delivered).toBe(18);
    expect(result.fatal).toBeUndefined();
    expect(result.deadLettered["retries-exhausted"]).toBe(2);
  });

  it("refused from the start stops as unreachable", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY });
    const url = emulator.url;
    await emulator.close();
    emulator = undefined;
    const delivery = createDelivery(
      testOptions(url, { maxOutageMs: 60_000, concurrency: 8, adaptiveConcurrency: false, retryBaseDelayMs: 200, retryMaxDelayMs: 2_000 }),
    );
    for (const entry of makeRecords(40, 10)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.fatal?.reason).toBe("unreachable");
    expect(result.fatal?.errorCode).toBe("ECONNREFUSED");
    // 8 first attempts at once, then one test request retried twice: the third refused attempt of a
    // request stops the run. One request may retry on its own backoff before the second failure
    // starts the outage. Tests that went to each held request in turn would take 8 more.
    expect(result.requestsSent).toBeLessThanOrEqual(12);
  });

  // A 503 of /batch alone, and a 500 of every path, GET /auth included: both outages end in time.
  it.each([
    ["503 outage", "batchStatus", 503, 300],
    ["500 outage", "downStatus", 500, 400],
  ] as const)("%s shorter than maxOutageMs is delivered", async (_name, fault, status, endsAfterMs) => {
    const faults: { batchStatus?: number; downStatus?: number } = { [fault]: status };
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults });
    setTimeout(() => delete faults[fault], endsAfterMs);
    const delivery = createDelivery(testOptions(emulator.url, { maxAttempts: 2, maxOutageMs: 10_000, maxBatchSize: 5 }));
    for (const entry of makeRecords(40, 10)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.fatal).toBeUndefined();
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.delivered).toBe(40);
    expect(emulator.accepted.size).toBe(40);
  });

  it("outage longer than maxOutageMs stops the run", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { batchStatus: 502 } });
    const startedAt = Date.now();
    const delivery = createDelivery(testOptions(emulator.url, { maxAttempts: 100, maxOutageMs: 300, maxBatchSize: 5 }));
    for (const entry of makeRecords(40, 10)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.fatal?.reason).toBe("unavailable");
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.undelivered).toBe(40);
  });

  it("stop comes on time during long backoff", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { batchStatus: 502 } });
    const startedAt = Date.now();
    const delivery = createDelivery(
      testOptions(emulator.url, { maxOutageMs: 300, retryBaseDelayMs: 10_000, retryMaxDelayMs: 10_000, random: () => 0.99, maxBatchSize: 5 }),
    );
    for (const entry of makeRecords(40, 10)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.fatal?.reason).toBe("unavailable");
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    expect(result.undelivered).toBe(40);
  });

  it("one person's 500s are dead-lettered", async () => {
    const server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      request.on("end", () => {
        const failing = body.includes("person3@example.com");
        response.writeHead(failing ? 500 : 200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const delivery = createDelivery(testOptions(url, { maxAttempts: 3, maxOutageMs: 1, maxBatchSize: 5 }));
      for (const entry of makeRecords(40, 10)) {
        await delivery.submit(entry.origin, [entry]);
      }
      const result = await delivery.finish();

      expect(result.fatal).toBeUndefined();
      expect(result.deadLetteredTotal).toBe(4);
      expect(result.deadLettered["retries-exhausted"]).toBe(4);
      expect(result.delivered).toBe(36);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("progress tells when the next retry starts", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { batchStatus: 503 } });
    const delivery = createDelivery(
      testOptions(emulator.url, { maxAttempts: 100, maxOutageMs: 60_000, retryBaseDelayMs: 3_000, retryMaxDelayMs: 3_000, concurrency: 1, adaptiveConcurrency: false }),
    );
    for (const entry of makeRecords(2, 2)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const finished = delivery.finish();
    let progress = delivery.progress();
    const deadline = Date.now() + 5_000;
    while (progress.koalaNotResponding?.nextRetryInMs === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      progress = delivery.progress();
    }
    await delivery.stop();
    await finished;

    expect(progress.requestsInFlight).toBe(0);
    expect(progress.koalaNotResponding?.forMs).toBeGreaterThanOrEqual(0);
    expect(progress.koalaNotResponding?.nextRetryInMs).toBeLessThanOrEqual(3_000);
    expect(progress.koalaNotResponding?.onlyErrors).toBe(true);
    expect(delivery.progress().koalaNotResponding).toBeUndefined();
  });

  it("entries that fail every batch are isolated", async () => {
    // Every person's batch contains an entry that gets a 500 every time, while GET /auth succeeds.
    // The failures of many persons look like an outage, but Koala is up. So each batch is split down
    // to the entries that fail alone, which are dead-lettered, and all the others are delivered.
    const poison = new Set(["message-3", "message-14", "message-25", "message-36", "message-47", "message-58"]);
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { serverErrorEntry: (entry) => poison.has(String(entry["message_id"])) } });
    const deadLetters: DeadLetterEvent[] = [];
    const delivery = createDelivery(
      testOptions(emulator.url, { maxOutageMs: 2_000, maxAttempts: 3, maxBatchSize: 10, events: { onDeadLetter: (event) => deadLetters.push(event) } }),
    );
    for (const entry of makeRecords(60, 6)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.fatal).toBeUndefined();
    expect(result.delivered).toBe(54);
    expect(result.deadLettered["retries-exhausted"]).toBe(6);
    expect(new Set(deadLetters.map((event) => event.entry.messageId))).toEqual(poison);
    expect(deadLetters.every((event) => event.status === 500)).toBe(true);
    expect(emulator.accepted.size).toBe(54);
    expect([...poison].some((messageId) => emulator?.accepted.has(messageId))).toBe(false);
    expect(emulator.stats.duplicateEntries).toBe(0);
    // Each batch of 10 contains one failing entry, which 3 or 4 splits find (10, 5, then 3 or 2, …).
    expect(result.requestsSplit).toBeGreaterThanOrEqual(18);
    expect(result.requestsSplit).toBeLessThanOrEqual(24);
  });

  it("500 splits a batch while others succeed", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { serverErrorEntry: (entry) => entry["message_id"] === "message-13" } });
    const delivery = createDelivery(testOptions(emulator.url, { maxAttempts: 2, maxBatchSize: 10 }));
    for (const entry of makeRecords(40, 4)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.delivered).toBe(39);
    expect(result.deadLetteredTotal).toBe(1);
    expect(emulator.accepted.size).toBe(39);
    expect(emulator.stats.duplicateEntries).toBe(0);
  });

  it("500 outage with GET /auth failing stops", async () => {
    // Koala returns 500 for every request, GET /auth included: an outage, not entries that make it fail.
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { downStatus: 500 } });
    const delivery = createDelivery(testOptions(emulator.url, { maxAttempts: 2, maxOutageMs: 500, maxBatchSize: 5 }));
    for (const entry of makeRecords(40, 10)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.fatal?.reason).toBe("unavailable");
    expect(result.fatal?.status).toBe(500);
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.undelivered).toBe(40);
    expect(result.requestsSplit).toBe(0);
    expect(emulator.accepted.size).toBe(0);
  });

  it("one person's outage is detected", async () => {
    // Only one person sends, so failures of several persons cannot show the outage; GET /auth does.
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { downStatus: 503 } });
    const delivery = createDelivery(testOptions(emulator.url, { maxAttempts: 3, maxOutageMs: 300, maxBatchSize: 5 }));
    for (const entry of makeRecords(20, 1)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.fatal?.reason).toBe("unavailable");
    expect(result.fatal?.message).toContain("of one person got 5xx or 408 responses, and GET /auth failed too");
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.undelivered).toBe(20);
  });

  it("one person's refused outage is detected", async () => {
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY });
    const down = emulator;
    const delivery = createDelivery(
      testOptions(emulator.url, {
        maxAttempts: 3,
        maxOutageMs: 300,
        maxBatchSize: 2,
        events: {
          onDelivered: () => {
            void down.stopListening();
          },
        },
      }),
    );
    for (const entry of makeRecords(10, 1)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.fatal?.reason).toBe("unavailable");
    expect(result.fatal?.errorCode).toBe("ECONNREFUSED");
    expect(result.fatal?.message).toContain("of one person failed with connection errors or timeouts, and GET /auth failed too");
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.delivered).toBeGreaterThan(0);
    expect(result.delivered + result.undelivered).toBe(10);
  });

  it("outage start keeps the concurrency limit", async () => {
    // The first 503 of an outage halves the limit before a second person's failure shows the outage.
    // It was Koala going down, not overload, so the held requests go again at the earlier limit.
    const faults: { batchStatus?: number } = {};
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults });
    let limit = 1;
    let limitBeforeOutage = 0;
    let limitWhenHeld: number | undefined;
    let delivered = 0;
    const delivery = createDelivery(
      testOptions(emulator.url, {
        maxOutageMs: 10_000,
        maxBatchSize: 1,
        concurrency: 8,
        events: {
          onConcurrencyChange: (value) => {
            limit = value;
          },
          onDelivered: () => {
            delivered += 1;
            if (delivered === 60) {
              limitBeforeOutage = limit;
              faults.batchStatus = 503;
              setTimeout(() => delete faults.batchStatus, 300);
            }
          },
          onRetry: (event) => {
            if (event.heldForOutage === true && limitWhenHeld === undefined) {
              limitWhenHeld = limit;
            }
          },
        },
      }),
    );
    for (const entry of makeRecords(200, 40)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.delivered).toBe(200);
    expect(limitBeforeOutage).toBeGreaterThan(2);
    expect(limitWhenHeld).toBeGreaterThanOrEqual(limitBeforeOutage);
  });

  it("failing entry retries within 5 s", async () => {
    // Koala is up and fails on this entry alone: the retries are not spaced out to a minute, which
    // would hold the person's later entries that long.
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults: { serverErrorEntry: () => true } });
    const retries: RetryEvent[] = [];
    const delivery = createDelivery(
      testOptions(emulator.url, {
        retryBaseDelayMs: 6_000,
        retryMaxDelayMs: 60_000,
        random: () => 0.99,
        events: {
          onRetry: (event) => {
            retries.push(event);
            void delivery.stop();
          },
        },
      }),
    );
    const [entry] = makeRecords(1, 1);
    await delivery.submit(entry!.origin, [entry!]);
    await delivery.finish();

    expect(retries).toHaveLength(1);
    expect(retries[0]?.status).toBe(500);
    expect(retries[0]?.delayMs).toBe(4_950);
  });
});
