import { describe, expect, it } from "vitest";
import { computeBackoffDelay, parseRetryAfter } from "../../src/delivery/backoff.js";
import { type AttemptOutcome, classifyOutcome, type OutcomeContext, type Verdict } from "../../src/delivery/outcome.js";

const limits = { maxAttempts: 5, maxRetryTimeMs: 60_000, retryAfterCapMs: 10_000, baseDelayMs: 100, maxDelayMs: 5_000 };

function context(overrides: Partial<OutcomeContext> = {}): OutcomeContext {
  return { attempt: 1, elapsedMs: 0, entryCount: 3, nowMs: Date.UTC(2026, 0, 1), limits, random: () => 0.5, ...overrides };
}

function response(status: number, retryAfter?: string): AttemptOutcome {
  return { kind: "response", status, retryAfter };
}

function summary(verdict: Verdict): string {
  switch (verdict.action) {
    case "delivered":
    case "split":
      return verdict.action;
    case "retry":
      return `retry:${verdict.reason}${verdict.pauseAllSenders ? ":pause" : ""}`;
    case "give-up":
      return `give-up:${verdict.reason}`;
    case "fatal":
      return `fatal:${verdict.reason}${verdict.confirmWithProbe ? ":probe" : ""}`;
  }
}

describe("classifyOutcome", () => {
  const cases: [string, AttemptOutcome, string][] = [
    ["200", response(200), "delivered"],
    ["202", response(202), "delivered"],
    ["204", response(204), "delivered"],
    ["200 with a web page", { kind: "response", status: 200, webPage: true }, "fatal:web-page"],
    ["101", response(101), "give-up:unexpected-status"],
    ["301", response(301), "fatal:redirected"],
    ["308", response(308), "fatal:redirected"],
    ["400", response(400), "split"],
    ["413", response(413), "split"],
    ["422", response(422), "split"],
    ["401", response(401), "fatal:unauthorized:probe"],
    ["403", response(403), "fatal:forbidden:probe"],
    ["404", response(404), "fatal:not-found:probe"],
    ["405", response(405), "fatal:method-not-allowed"],
    ["407", response(407), "fatal:proxy-authentication-required"],
    ["408", response(408), "retry:request-timeout"],
    ["409", response(409), "give-up:client-error"],
    ["410", response(410), "give-up:client-error"],
    ["411", response(411), "fatal:request-form-rejected"],
    ["414", response(414), "fatal:request-form-rejected"],
    ["415", response(415), "fatal:request-form-rejected"],
    ["426", response(426), "fatal:request-form-rejected"],
    ["431", response(431), "fatal:request-form-rejected"],
    ["429", response(429), "retry:rate-limited:pause"],
    ["500", response(500), "retry:server-error"],
    ["501", response(501), "fatal:not-implemented"],
    ["502", response(502), "retry:server-error"],
    ["503", response(503), "retry:server-error"],
    ["504", response(504), "retry:server-error"],
    ["505", response(505), "fatal:http-version-not-supported"],
    ["599", response(599), "retry:server-error"],
    ["600", response(600), "give-up:unexpected-status"],
    ["ECONNRESET", { kind: "network-error", code: "ECONNRESET" }, "retry:connection-reset"],
    ["UND_ERR_SOCKET", { kind: "network-error", code: "UND_ERR_SOCKET" }, "retry:connection-reset"],
    ["UND_ERR_CLOSED", { kind: "network-error", code: "UND_ERR_CLOSED" }, "retry:connection-reset"],
    ["EPIPE", { kind: "network-error", code: "EPIPE" }, "retry:connection-reset"],
    ["ECONNREFUSED", { kind: "network-error", code: "ECONNREFUSED" }, "retry:connection-refused"],
    ["UND_ERR_HEADERS_TIMEOUT", { kind: "network-error", code: "UND_ERR_HEADERS_TIMEOUT" }, "retry:timeout"],
    ["UND_ERR_BODY_TIMEOUT", { kind: "network-error", code: "UND_ERR_BODY_TIMEOUT" }, "retry:timeout"],
    ["UND_ERR_CONNECT_TIMEOUT", { kind: "network-error", code: "UND_ERR_CONNECT_TIMEOUT" }, "retry:timeout"],
    ["ETIMEDOUT", { kind: "network-error", code: "ETIMEDOUT" }, "retry:timeout"],
    ["EHOSTUNREACH", { kind: "network-error", code: "EHOSTUNREACH" }, "retry:network-unreachable"],
    ["EAI_AGAIN", { kind: "network-error", code: "EAI_AGAIN" }, "retry:network-unreachable"],
    ["ENOTFOUND", { kind: "network-error", code: "ENOTFOUND" }, "fatal:host-not-found"],
    ["unknown code", { kind: "network-error", code: "ESOMETHING" }, "retry:network-error"],
  ];

  it.each(cases)("%s", (_name, outcome, expected) => {
    expect(summary(classifyOutcome(outcome, context()))).toBe(expected);
  });

  it("400 on one entry gives up", () => {
    expect(summary(classifyOutcome(response(400), context({ entryCount: 1 })))).toBe("give-up:rejected-by-api");
  });

  it("retry stops at max attempts", () => {
    const verdict = classifyOutcome(response(503), context({ attempt: 5 }));
    expect(verdict).toEqual({ action: "give-up", reason: "retries-exhausted", lastRetryReason: "server-error" });
  });

  it("retry stops past total retry time", () => {
    const verdict = classifyOutcome(response(500), context({ elapsedMs: 59_990 }));
    expect(verdict).toEqual({ action: "give-up", reason: "retry-time-exhausted", lastRetryReason: "server-error" });
  });

  it("429 honours Retry-After seconds", () => {
    const verdict = classifyOutcome(response(429, "3"), context());
    expect(verdict).toEqual({ action: "retry", reason: "rate-limited", delayMs: 3_000, pauseAllSenders: true });
  });

  it("Retry-After is capped", () => {
    const verdict = classifyOutcome(response(503, "3600"), context());
    expect(verdict).toMatchObject({ action: "retry", delayMs: 10_000, pauseAllSenders: false });
  });

  it.each([
    ["0", "0"],
    ["a date already past", "Wed, 31 Dec 2025 23:00:00 GMT"],
  ])("Retry-After %s backs off", (_label, retryAfter) => {
    const verdict = classifyOutcome(response(429, retryAfter), context({ attempt: 3 }));
    expect(verdict).toEqual({ action: "retry", reason: "rate-limited", delayMs: 200, pauseAllSenders: true });
  });

  it("Retry-After shorter than the backoff waits the backoff", () => {
    const verdict = classifyOutcome(response(503, "1"), context({ attempt: 3, limits: { ...limits, baseDelayMs: 1_000 } }));
    expect(verdict).toEqual({ action: "retry", reason: "server-error", delayMs: 2_000, pauseAllSenders: false });
  });

  it("invalid Retry-After falls back to backoff", () => {
    const verdict = classifyOutcome(response(429, "soon"), context({ attempt: 2 }));
    expect(verdict).toMatchObject({ action: "retry", delayMs: 100 });
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);

  it("reads delay-seconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
  });

  it("reads an HTTP date", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 12:00:30 GMT", now)).toBe(30_000);
  });

  it("past HTTP date gives zero", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 11:00:00 GMT", now)).toBe(0);
  });

  it("rejects missing and invalid values", () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("later", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
  });
});

describe("computeBackoffDelay", () => {
  const backoff = { baseDelayMs: 100, maxDelayMs: 5_000 };

  it("stays within the doubling ceiling", () => {
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      const ceiling = Math.min(5_000, 100 * 2 ** (attempt - 1));
      expect(computeBackoffDelay(attempt, backoff, () => 0)).toBe(0);
      expect(computeBackoffDelay(attempt, backoff, () => 0.999999)).toBe(Math.floor(0.999999 * ceiling));
    }
  });

  it("never exceeds the cap for huge attempts", () => {
    expect(computeBackoffDelay(5_000, backoff, () => 0.999999)).toBeLessThan(5_000);
  });

  it("spreads delays with full jitter", () => {
    let state = 1;
    const random = (): number => {
      state = (state * 48271) % 2147483647;
      return state / 2147483647;
    };
    const delays = Array.from({ length: 1_000 }, () => computeBackoffDelay(4, backoff, random));
    expect(Math.min(...delays)).toBeLessThan(100);
    expect(Math.max(...delays)).toBeGreaterThan(700);
    expect(Math.max(...delays)).toBeLessThan(800);
  });
});

describe("classifyOutcome on refused connections", () => {
  const refused: AttemptOutcome = { kind: "network-error", code: "ECONNREFUSED" };

  it.each<[string, Partial<OutcomeContext>, string]>([
    ["first attempt, API never answered", { attempt: 1, answeredBefore: false }, "retry:connection-refused"],
    ["second attempt, API never answered", { attempt: 2, answeredBefore: false }, "retry:connection-refused"],
    ["third attempt, API never answered", { attempt: 3, answeredBefore: false }, "fatal:unreachable"],
    ["third attempt, API answered before", { attempt: 3, answeredBefore: true }, "retry:connection-refused"],
    ["last attempt, API answered before", { attempt: 5, answeredBefore: true }, "give-up:retries-exhausted"],
  ])("%s", (_name, overrides, expected) => {
    expect(summary(classifyOutcome(refused, context(overrides)))).toBe(expected);
  });
});
