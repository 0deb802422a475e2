import { describe, expect, test } from "vitest";
import { parseTimestamp } from "../../src/triggers/values.js";
import { SeededRandom } from "./support/random.js";

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

describe("parseTimestamp", () => {
  test("agrees with Date.parse on zoned timestamps", () => {
    const random = new SeededRandom(99);
    for (let round = 0; round < 5_000; round++) {
      const year = 1970 + random.integer(100);
      const month = 1 + random.integer(12);
      const day = 1 + random.integer(28);
      const time = `${pad(random.integer(24), 2)}:${pad(random.integer(60), 2)}:${pad(random.integer(60), 2)}`;
      const fraction = random.chance(0.5) ? `.${pad(random.integer(1000), 3)}` : "";
      const zone = random.chance(0.5) ? "Z" : `${random.pick(["+", "-"])}${pad(random.integer(15), 2)}:${pad(random.pick([0, 30, 45]), 2)}`;
      const text = `${year}-${pad(month, 2)}-${pad(day, 2)}T${time}${fraction}${zone}`;
      expect(parseTimestamp(text), text).toBe(Date.parse(text));
    }
  });

  test.each([
    ["2024-01-31", Date.parse("2024-01-31T00:00:00Z")],
    ["2024-02-29", Date.parse("2024-02-29T00:00:00Z")],
    ["2024-01-31 12:30", Date.parse("2024-01-31T12:30:00Z")],
    ["2024-01-31T12:30:15", Date.parse("2024-01-31T12:30:15Z")],
    ["2024-01-31T12:30:15.123456789Z", Date.parse("2024-01-31T12:30:15.123Z")],
    ["2024-01-31T12:30:15.5Z", Date.parse("2024-01-31T12:30:15.500Z")],
    ["2024-01-31T12:30:15+0530", Date.parse("2024-01-31T12:30:15+05:30")],
    ["0050-06-01", Date.parse("0050-06-01T00:00:00Z")],
  ])("%s", (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  test.each([
    "2023-02-29",
    "2024-04-31",
    "2024-00-10",
    "2024-1-10",
    "2024-01-31T24:00:00Z",
    "2024-01-31T12:60Z",
    "2024-01-31T12:30:15.Z",
    "2024-01-31T12:30:15+5",
    "2024-01-31T12:30:15 Z",
    "2024-01-31T12",
    "2024-01-31X12:00",
    "1706700000",
    "",
  ])("%s is not a timestamp", (text) => {
    expect(parseTimestamp(text)).toBeNaN();
  });
});
