import { describe, expect, test } from "vitest";
import { formatCount } from "../../src/reporting/count-format.js";

const enUs = new Intl.NumberFormat("en-US");

describe("formatCount", () => {
  test.each([0, -0, 7, 999, 1000, 9999, 12_345, 100_000, 999_999, 1_000_000, 74_766, 1_234_567_890, Number.MAX_SAFE_INTEGER, -1, -1000, -123_456_789, -Number.MAX_SAFE_INTEGER])(
    "integer %d as Intl en-US",
    (count) => {
      expect(formatCount(count)).toBe(enUs.format(count));
    },
  );

  test.each([1.5, 1234.5678, -0.25, 2 ** 60, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])("other number %d as Intl en-US", (value) => {
    expect(formatCount(value)).toBe(enUs.format(value));
  });

  test("every digit count", () => {
    for (let digits = 1; digits <= 16; digits += 1) {
      const count = Number("9876543210987654".slice(0, digits));
      expect(formatCount(count)).toBe(enUs.format(count));
    }
  });
});
