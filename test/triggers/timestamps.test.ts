import { describe, expect, test } from "vitest";
import { compileTrigger, timeWindowTrigger } from "../../src/triggers/index.js";

const fql = { dialect: "fql" } as const;

describe("timestamp ordering", () => {
  test.each([
    ['timestamp >= "2024-01-01"', "2024-01-01T00:00:00.000Z", true],
    ['timestamp >= "2024-01-01"', "2023-12-31T23:59:59.999Z", false],
    ['timestamp >= "2024-01-01T00:00:00Z"', "2024-01-01T01:00:00+01:00", true],
    ['timestamp > "2024-01-01T00:00:00Z"', "2024-01-01T01:00:00+01:00", false],
    ['timestamp < "2024-01-01T00:00:00Z"', "2023-12-31T20:00:00-05:00", false],
    ['timestamp < "2024-01-01T00:00:00Z"', "2023-12-31T18:59:59-05:00", true],
    ['timestamp <= "2024-03-01"', "2024-02-29T12:00:00Z", true],
    ['timestamp >= "2024-01-01"', "2024-01-01T00:00:00.5", true],
    ['timestamp >= "2024-01-01"', "not a date", false],
    ['timestamp >= "2024-01-01"', "2024-02-30T00:00:00Z", false],
    ['timestamp >= "2024-01-01"', "1704067200000", false],
  ])("%s on %s", (trigger, timestamp, expected) => {
    expect(compileTrigger(trigger, fql).matches({ timestamp })).toBe(expected);
  });

  test("instants compare, not text", () => {
    // As text "2024-01-01T10:00:00+05:00" sorts after "2024-01-01T06:00:00Z", but it is one hour earlier.
    const trigger = compileTrigger('properties.at < "2024-01-01T06:00:00Z"');
    expect(trigger.matches({ properties: { at: "2024-01-01T10:00:00+05:00" } })).toBe(true);
  });

  test("numbers and timestamps do not mix", () => {
    expect(compileTrigger('timestamp > "2024-01-01"', fql).matches({ timestamp: 1_800_000_000_000 })).toBe(false);
    expect(compileTrigger("properties.total > 5").matches({ properties: { total: "2024-01-01" } })).toBe(false);
  });

  test("two event fields compare as instants", () => {
    const trigger = compileTrigger("receivedAt > timestamp", fql);
    expect(trigger.matches({ timestamp: "2024-01-01T00:00:00Z", receivedAt: "2024-01-01T00:00:01Z" })).toBe(true);
    expect(trigger.matches({ timestamp: "2024-01-01T00:00:00Z", receivedAt: "2023-01-01T00:00:01Z" })).toBe(false);
  });
});

describe("timeWindowTrigger", () => {
  test("builds both bounds", () => {
    expect(timeWindowTrigger({ since: "2024-01-01", until: "2024-02-01" })).toBe('timestamp >= "2024-01-01" and timestamp < "2024-02-01"');
  });

  test("window keeps since and drops until", () => {
    const window = compileTrigger(timeWindowTrigger({ since: "2024-01-01", until: "2024-02-01" }), fql);
    expect(window.matches({ timestamp: "2024-01-01T00:00:00Z" })).toBe(true);
    expect(window.matches({ timestamp: "2024-01-31T23:59:59.999Z" })).toBe(true);
    expect(window.matches({ timestamp: "2024-02-01T00:00:00Z" })).toBe(false);
    expect(window.matches({ timestamp: "2023-12-31T23:59:59Z" })).toBe(false);
    expect(window.matches({})).toBe(false);
  });

  test("one bound alone", () => {
    expect(timeWindowTrigger({ since: "2024-01-01T12:00:00Z" })).toBe('timestamp >= "2024-01-01T12:00:00Z"');
    expect(timeWindowTrigger({ until: "2024-01-01" })).toBe('timestamp < "2024-01-01"');
  });

  test.each(["90d", "2 weeks", "6 months ago"])("duration %j: compute the date", (since) => {
    expect(() => timeWindowTrigger({ since })).toThrow("Durations are not taken, so that a resumed run keeps the same window");
  });

  test.each(["2024-13-01", "2024-02-30", "yesterday", "01/02/2024", "2024-01-01T25:00:00Z", ""])("invalid date %j", (since) => {
    expect(() => timeWindowTrigger({ since })).toThrow(`Invalid since date ${JSON.stringify(since)}`);
    expect(() => timeWindowTrigger({ since })).not.toThrow("Durations");
  });

  test("empty window", () => {
    expect(() => timeWindowTrigger({ since: "2024-02-01", until: "2024-01-01" })).toThrow("is not before until");
  });

  test("no bounds", () => {
    expect(() => timeWindowTrigger({})).toThrow("needs a since date");
  });
});
