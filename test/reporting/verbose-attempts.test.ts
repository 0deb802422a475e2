import { describe, expect, test } from "vitest";
import { formatDeadLetterLog, formatRetryLog } from "../../src/reporting/verbose-log.js";

// Every attempt counts toward --max-attempts, but a request that runs out of attempts during an
// outage is held, and is dead-lettered only at a failure after Koala responds again. Its log lines
// state this, because its count of attempts is then above the limit.

const deadLetter = {
  entry: { origin: { input: "a.jsonl", line: 7 }, mappingName: "Track Event", messageId: "m-7" },
  reason: "retries-exhausted",
  status: 503,
};

describe("verbose lines and --max-attempts", () => {
  test("dead letter within the limit", () => {
    const line = formatDeadLetterLog({ ...deadLetter, attempts: 2 }, 2);

    expect(line).toBe('dead letter: a.jsonl:7 (mapping "Track Event", messageId m-7) after 2 attempts: retries-exhausted, HTTP 503');
  });

  test("dead letter over the limit", () => {
    const line = formatDeadLetterLog({ ...deadLetter, attempts: 4 }, 2);

    expect(line).toBe(
      'dead letter: a.jsonl:7 (mapping "Track Event", messageId m-7) after 4 attempts (more than --max-attempts 2, because the request was held through an outage): retries-exhausted, HTTP 503',
    );
  });

  test("held retry with attempts used up", () => {
    const line = formatRetryLog({ attempt: 2, reason: "server-error", delayMs: 1_200, heldForOutage: true, entries: 1, status: 503 }, 2);

    expect(line).toBe(
      "retry: attempt 2 for 1 entry failed (server-error, HTTP 503); Koala is not responding, so the request is held until Koala responds to a test request (next test in 1.2 s); the 2 attempts of --max-attempts are used up, so once Koala responds it is dead-lettered at its next failure",
    );
  });

  test("held retry with attempts left", () => {
    const line = formatRetryLog({ attempt: 1, reason: "server-error", delayMs: 0, heldForOutage: true, entries: 1, status: 503 }, 2);

    expect(line).toBe("retry: attempt 1 for 1 entry failed (server-error, HTTP 503); Koala is not responding, so the request is held until Koala responds to a test request");
  });

  test("retry outside an outage", () => {
    const line = formatRetryLog({ attempt: 1, reason: "server-error", delayMs: 250, entries: 1, status: 503 }, 2);

    expect(line).toBe("retry: attempt 1 for 1 entry failed (server-error, HTTP 503); next attempt in 250 ms");
  });
});
