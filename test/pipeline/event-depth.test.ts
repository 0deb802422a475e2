import { describe, expect, test } from "vitest";
import { isNestedTooDeeply, MAX_EVENT_DEPTH } from "../../src/pipeline/event-depth.js";

function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 1; level < levels; level += 1) {
    value = { a: value };
  }
  return value;
}

describe("event depth", () => {
  test.each([
    ["at the limit", MAX_EVENT_DEPTH, false],
    ["one level over", MAX_EVENT_DEPTH + 1, true],
  ])("%s", (_name, levels, tooDeep) => {
    const event = nested(levels);
    const text = JSON.stringify(event);

    expect(isNestedTooDeeply(event, text)).toBe(tooDeep);
    expect(isNestedTooDeeply(event)).toBe(tooDeep);
  });

  test("many shallow brackets", () => {
    // Over the limit in brackets, inside strings and out, but two levels deep.
    const event = { list: Array.from({ length: 1_500 }, (_, index) => ({ index, note: "{[" })) };
    const text = JSON.stringify(event);

    expect(text.length).toBeGreaterThan(2 * MAX_EVENT_DEPTH);
    expect(isNestedTooDeeply(event, text)).toBe(false);
  });

  test("brackets in strings only", () => {
    const event = { note: "[".repeat(5_000) };

    expect(isNestedTooDeeply(event, JSON.stringify(event))).toBe(false);
  });
});
