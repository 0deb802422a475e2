import { describe, expect, test } from "vitest";
import { formatRetryLog } from "../../src/reporting/verbose-log.js";

describe("verbose line of a request held for an outage", () => {
  test("held retry names the next test", () => {
    const line = formatRetryLog({ attempt: 3, reason: "connection-refused", delayMs: 2_400, heldForOutage: true, entries: 2, errorCode: "ECONNREFUSED" });

    expect(line).toBe(
      "retry: attempt 3 for 2 entries failed (connection-refused, ECONNREFUSED); Koala is not responding, so the request is held until Koala responds to a test request (next test in 2.4 s)",
    );
  });

  test("held retry while a test is in flight", () => {
    const line = formatRetryLog({ attempt: 1, reason: "server-error", delayMs: 0, heldForOutage: true, entries: 1, status: 503 });

    expect(line).toBe("retry: attempt 1 for 1 entry failed (server-error, HTTP 503); Koala is not responding, so the request is held until Koala responds to a test request");
  });
});
