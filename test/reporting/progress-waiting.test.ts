import { describe, expect, test } from "vitest";
import { formatProgressText, type ProgressSnapshot } from "../../src/reporting/progress-text.js";

const delivering: ProgressSnapshot = {
  eventsRead: 3_274,
  entriesSent: 1_059,
  skipped: 0,
  failed: 0,
  bytesRead: 1000,
  totalBytes: 1000,
  readingDone: true,
  entriesPending: 2_215,
  requestsInFlight: 0,
};

describe("progress line while Koala does not respond", () => {
  test("retry wait replaces the estimate", () => {
    const text = formatProgressText({ ...delivering, koalaNotResponding: { forMs: 65_000, nextRetryInMs: 11_200 } }, 120_000, false);

    expect(text).toContain("waiting for Koala (no response for 1 min 5 s, retry in 12 s)");
    expect(text).not.toMatch(/left$|s left ·/);
    expect(text).toContain("0 requests in flight");
  });

  test("requests in flight show the time without answer", () => {
    const text = formatProgressText({ ...delivering, requestsInFlight: 2, koalaNotResponding: { forMs: 40_000, nextRetryInMs: undefined } }, 120_000, false);

    expect(text).toContain("no response from Koala for 40 s");
    expect(text).not.toContain(" left ·");
  });

  test("5xx answers say only errors", () => {
    const waiting = formatProgressText({ ...delivering, koalaNotResponding: { forMs: 65_000, nextRetryInMs: 11_200, onlyErrors: true } }, 120_000, false);
    const inFlight = formatProgressText({ ...delivering, requestsInFlight: 1, koalaNotResponding: { forMs: 40_000, nextRetryInMs: undefined, onlyErrors: true } }, 120_000, false);

    expect(waiting).toContain("waiting for Koala (only errors for 1 min 5 s, retry in 12 s)");
    expect(inFlight).toContain("only errors from Koala for 40 s");
    expect(inFlight).not.toContain("no response");
  });

  test("retry under one second says 1 s", () => {
    const text = formatProgressText({ ...delivering, koalaNotResponding: { forMs: 5_000, nextRetryInMs: 30 } }, 120_000, false);

    expect(text).toContain("retry in 1 s)");
  });

  test("first second of failures keeps the estimate", () => {
    const text = formatProgressText({ ...delivering, koalaNotResponding: { forMs: 200, nextRetryInMs: 400 } }, 120_000, false);

    expect(text).toContain("min");
    expect(text).toMatch(/~.* left/);
    expect(text).not.toContain("waiting for Koala");
  });

  test("reading phase replaces the estimate too", () => {
    const reading: ProgressSnapshot = { ...delivering, bytesRead: 500, readingDone: false, koalaNotResponding: { forMs: 3_000, nextRetryInMs: 2_000 } };
    const text = formatProgressText(reading, 60_000, false);

    expect(text).toContain("waiting for Koala");
    expect(text).not.toMatch(/~.* left/);
  });

  test("narrow line keeps the short wait", () => {
    const snapshot = { ...delivering, koalaNotResponding: { forMs: 65_000, nextRetryInMs: 11_200 } };
    const text = formatProgressText(snapshot, 120_000, false, 70);

    expect(text.length).toBeLessThanOrEqual(70);
    expect(text).toContain("waiting for Koala (retry in 12 s)");
  });
});
