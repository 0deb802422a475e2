import { describe, expect, it } from "vitest";
import type { ActionId } from "../../src/koala/fields.js";
import { validatePayload } from "../../src/mappings/index.js";
import { segmentPreparePayload } from "./segment-reference.js";

const complete = { event: "Signed Up", sent_at: "2024-01-31T12:00:00.000Z", message_id: "m-1" };
const identify = { traits: { plan: "pro" }, sent_at: "2024-01-31T12:00:00Z", message_id: "m-1" };

/** Payloads that exercise removal, coercion and checks, each checked against Segment's own steps. */
const payloads: [string, ActionId, Record<string, unknown>][] = [
  ["complete track", "trackEvent", complete],
  ["number event name", "trackEvent", { ...complete, event: 42 }],
  ["boolean event name", "trackEvent", { ...complete, event: true }],
  ["one-element array event name", "trackEvent", { ...complete, event: ["Signed Up"] }],
  ["two-element array event name", "trackEvent", { ...complete, event: ["a", "b"] }],
  ["object event name", "trackEvent", { ...complete, event: { name: "x" } }],
  ["null event name", "trackEvent", { ...complete, event: null }],
  ["empty event name", "trackEvent", { ...complete, event: "" }],
  ["missing message_id", "trackEvent", { event: "x", sent_at: complete.sent_at }],
  ["numeric message_id", "trackEvent", { ...complete, message_id: 7 }],
  ["epoch sent_at", "trackEvent", { ...complete, sent_at: 1706702400 }],
  ["date-only sent_at", "trackEvent", { ...complete, sent_at: "2024-01-31" }],
  ["sent_at without zone", "trackEvent", { ...complete, sent_at: "2024-01-31T12:00:00" }],
  ["sent_at with space and offset", "trackEvent", { ...complete, sent_at: "2024-01-31 12:00:00+01:00" }],
  ["sent_at on 30 February", "trackEvent", { ...complete, sent_at: "2024-02-30T00:00:00Z" }],
  ["sent_at leap day", "trackEvent", { ...complete, sent_at: "2024-02-29T00:00:00Z" }],
  ["sent_at nanoseconds", "trackEvent", { ...complete, sent_at: "2024-01-31T12:00:00.123456789Z" }],
  ["array properties", "trackEvent", { ...complete, properties: [1] }],
  ["string properties", "trackEvent", { ...complete, properties: "x" }],
  ["null properties", "trackEvent", { ...complete, properties: null }],
  ["empty email", "trackEvent", { ...complete, email: "" }],
  ["unknown key", "trackEvent", { ...complete, extra: 1 }],
  ["complete identify", "identifyVisitor", identify],
  ["identify without traits", "identifyVisitor", { sent_at: identify.sent_at, message_id: "m" }],
  ["identify with null traits", "identifyVisitor", { ...identify, traits: null }],
  ["identify with array traits", "identifyVisitor", { ...identify, traits: [] }],
  ["identify with numeric ip", "identifyVisitor", { ...identify, device_ip: 10 }],
];

describe("validatePayload against Segment's checks", () => {
  it.each(payloads)("%s", (_label, action, original) => {
    const payload = structuredClone(original);
    const problem = validatePayload(action, payload);
    const reference = segmentPreparePayload(action, original);
    expect(problem === undefined, `Segment: ${JSON.stringify(reference)}; koala-replay: ${JSON.stringify(problem)}`).toBe(reference !== undefined);
    if (reference !== undefined) expect(payload).toStrictEqual(reference);
  });
});

describe("validatePayload problems", () => {
  it("names a missing required field", () => {
    const problem = validatePayload("trackEvent", { event: "x", sent_at: complete.sent_at });
    expect(problem?.field).toBe("message_id");
    expect(problem?.reason).toBe("missing-required");
  });

  it("names a type mismatch", () => {
    const problem = validatePayload("trackEvent", { ...complete, properties: "x" });
    expect(problem?.reason).toBe("wrong-type");
    expect(problem?.message).toBe('properties: must be an object, found string "x"');
  });

  it("names an invalid date-time", () => {
    const problem = validatePayload("trackEvent", { ...complete, sent_at: "yesterday" });
    expect(problem?.reason).toBe("invalid-date-time");
    expect(problem?.found).toBe('string "yesterday"');
  });

  it.each<[string, unknown, string]>([
    ["number", 120.5, "number 120.5"],
    ["boolean", true, "boolean true"],
  ])("names the JSON type of a %s date-time", (_name, value, found) => {
    const problem = validatePayload("trackEvent", { ...complete, sent_at: value });
    expect(problem?.reason).toBe("invalid-date-time");
    expect(problem?.found).toBe(found);
    expect(problem?.message).toBe(`sent_at: must be an ISO-8601 date-time such as 2024-01-31T12:00:00Z, found ${found}`);
  });

  it("coerces numbers to strings", () => {
    const payload: Record<string, unknown> = { ...complete, event: 42 };
    expect(validatePayload("trackEvent", payload)).toBeUndefined();
    expect(payload.event).toBe("42");
  });

  it("requires traits on Identify Visitor", () => {
    expect(validatePayload("identifyVisitor", { sent_at: identify.sent_at, message_id: "m" })?.field).toBe("traits");
  });
});
