import { describe, expect, test } from "vitest";
import { describeValue } from "../../src/mappings/value-types.js";
import { addToTally, splitFoundValue } from "../../src/reporting/tally.js";

describe("addToTally", () => {
  test("new keys past the limit", () => {
    const counts = new Map<string, number>();
    for (let index = 0; index < 10; index += 1) {
      addToTally(counts, `key ${index % 5}`, "other", 3);
    }

    expect([...counts]).toEqual([
      ["key 0", 2],
      ["key 1", 2],
      ["key 2", 2],
      ["other", 4],
    ]);
  });

  test("known key past the limit", () => {
    const counts = new Map<string, number>();
    addToTally(counts, "first", "other", 1);
    expect(addToTally(counts, "second", "other", 1)).toBe("other");
    expect(addToTally(counts, "first", "other", 1, 5)).toBe("first");

    expect(counts.get("first")).toBe(6);
    expect(counts.get("other")).toBe(1);
  });
});

describe("splitFoundValue", () => {
  test.each([
    "yesterday",
    "x".repeat(41),
    12,
    true,
    null,
    undefined,
    [1],
    [1, 2],
    { a: 1 },
  ])("takes off the value that describeValue wrote for %j", (value) => {
    const reason = `sent_at: must be a string, found ${describeValue(value)}`;

    expect(splitFoundValue(reason)).toEqual({ reason: "sent_at: must be a string", found: describeValue(value) });
  });

  test("leaves a reason whole when what follows ', found ' is not a described value", () => {
    const reason = '@path: invalid computed path "a, found b": unexpected character';

    expect(splitFoundValue(reason)).toEqual({ reason });
  });

  test("takes off a computed path with its position", () => {
    const reason = '@path: invalid computed path: empty key between two dots, found string "$.a, found b..c" at position 13';

    expect(splitFoundValue(reason)).toEqual({
      reason: "@path: invalid computed path: empty key between two dots",
      found: 'string "$.a, found b..c" at position 13',
    });
  });

  test("takes off a computed template's placeholder", () => {
    const reason = '@template: invalid placeholder in the computed template: empty key between two dots, found placeholder "{{a..b}}" at position 4';

    expect(splitFoundValue(reason)).toEqual({
      reason: "@template: invalid placeholder in the computed template: empty key between two dots",
      found: 'placeholder "{{a..b}}" at position 4',
    });
  });

  test("leaves a reason that quotes no value whole", () => {
    const reason = "event: is required but the mapping gave no value (or null, or an empty string)";

    expect(splitFoundValue(reason)).toEqual({ reason });
  });
});
