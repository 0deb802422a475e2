import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createDelivery } from "../../src/delivery/index.js";
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
    const delivery = createDelivery(testOptions(emulator.url, { maxAttempts: 2, maxOutageMs: 300, maxBatchSize: 5 }));
    for (const entry of makeRecords(40, 10)) {
      await delivery.submit(entry.origin, [entry]);
    }
    const result = await delivery.finish();

    expect(result.fatal?.reason).toBe("unavailable");
    expect(result.fatal?.message).toContain("last error: HTTP 503");
    expect(result.fatal?.message).not.toContain(TEST_KEY);
    expect(result.deadLetteredTotal).toBe(0);
    expect(result.undelivered).toBe(40);
    // 10 persons' batches, each tried more than its 2 attempts.
    expect(emulator.stats.batchRequests).toBeGreaterThan(10 * 2);
  });

  it("outage shorter than maxOutageMs is delivered", async () => {
    const faults: { batchStatus?: number } = { batchStatus: 503 };
    emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults });
    setTimeout(() => delete faults.batchStatus, 300);
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
    expect(delivery.progress().koalaNotResponding).toBeUndefined();
  });
});
