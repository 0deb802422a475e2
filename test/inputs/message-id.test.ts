import { describe, expect, test } from "vitest";
import { isRoundedLargeNumber } from "../../src/inputs/message-id.js";

describe("isRoundedLargeNumber", () => {
  test.each([
    [String(JSON.parse("12345678901234567890")), true],
    [String(JSON.parse("-12345678901234567890")), true],
    [String(JSON.parse("123456789012345678901234")), true],
    [String(2 ** 53), true],
    [String(2 ** 53 - 1), false],
    ["12345", false],
    ["12345678901234567891", false],
    ["ajs-next-1709251202725", false],
    ["1.5", false],
    ["", false],
  ])("%s", (messageId, expected) => {
    expect(isRoundedLargeNumber(messageId)).toBe(expected);
  });
});
