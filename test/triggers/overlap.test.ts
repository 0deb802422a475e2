import { describe, expect, test } from "vitest";
import { compileTrigger } from "../../src/triggers/index.js";
import { triggersMayOverlap } from "../../src/triggers/overlap.js";

describe("triggersMayOverlap", () => {
  test.each<[string, string]>([
    ['type = "track"', 'type = "identify"'],
    ['type = "track" and event = "Order Completed"', 'type = "identify"'],
    ['event = "A" or event = "B"', 'event = "C"'],
    ['type in ["track", "page"]', 'type = "identify" or type = "group"'],
    ['type = "track" and (event = "A" or event = "B")', 'type = "track" and event = "C"'],
    ['"track" = type', 'type = "screen"'],
  ])("%s and %s cannot match one event", (first, second) => {
    expect(triggersMayOverlap(first, second)).toBe(false);
    expect(triggersMayOverlap(second, first)).toBe(false);
  });

  test.each<[string, string]>([
    ['type = "track"', 'type = "track" and event = "Order Completed"'],
    ['type = "track"', 'event = "Order Completed"'],
    ['type = "track" or event = "X"', 'type = "identify"'],
    ['type != "track"', 'type = "identify"'],
    ['type = "track"', 'properties.total > 10'],
    ['type in ["track", "page"]', 'type = "page"'],
    ['type = "track" and event = "A"', 'type = "track" and event = "A" and properties.total > 10'],
  ])("%s and %s may match one event", (first, second) => {
    expect(triggersMayOverlap(first, second)).toBe(true);
    expect(triggersMayOverlap(second, first)).toBe(true);
  });

  test("never calls a pair disjoint when an event matches both", () => {
    const triggers = [
      'type = "track"',
      'type = "identify"',
      'event = "A"',
      'event = "B"',
      'type = "track" and event = "A"',
      'type = "track" and (event = "A" or event = "B")',
      'type in ["track", "identify"]',
      'event in ["A", "C"]',
      'type = "track" or event = "B"',
      'type != "track"',
      'properties.plan = "pro"',
      'properties.plan = "pro" or properties.plan = "team"',
      'properties.plan in ["team", "pro"] and type = "identify"',
    ];
    const events = ["track", "identify", "page"].flatMap((type) =>
      ["A", "B", "C", undefined].flatMap((event) => ["pro", "team", undefined].map((plan) => ({ type, event, properties: { plan } }))),
    );
    let disjointPairs = 0;
    for (const first of triggers) {
      for (const second of triggers) {
        const both = events.some((event) => compileTrigger(first, { dialect: "fql" }).matches(event) && compileTrigger(second, { dialect: "fql" }).matches(event));
        const mayOverlap = triggersMayOverlap(first, second);
        if (both) expect({ first, second, mayOverlap }).toEqual({ first, second, mayOverlap: true });
        if (!mayOverlap) disjointPairs += 1;
      }
    }
    // The check above is empty unless some pairs are found disjoint.
    expect(disjointPairs).toBeGreaterThan(10);
  });
});
