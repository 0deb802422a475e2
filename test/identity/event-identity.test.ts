import { describe, expect, it } from "vitest";
import { normalizeEmail, normalizeId, parseTime, readEventEmail } from "../../src/identity/index.js";

describe("parseTime", () => {
  it.each([
    ["ISO with Z", "2024-03-01T09:00:00.000Z", Date.UTC(2024, 2, 1, 9)],
    ["ISO with offset", "2024-03-01T14:30:00+05:30", Date.UTC(2024, 2, 1, 9)],
    ["nanoseconds", "2023-11-22T18:14:15.699123456Z", Date.UTC(2023, 10, 22, 18, 14, 15, 699)],
    ["warehouse without zone is UTC", "2022-05-13 13:20:28", Date.UTC(2022, 4, 13, 13, 20, 28)],
    ["epoch seconds text", "1706780000", 1_706_780_000_000],
    ["epoch milliseconds text", "1706780000123", 1_706_780_000_123],
    ["epoch seconds number", 1_706_780_000, 1_706_780_000_000],
  ] as const)("%s", (_name, value, expected) => {
    expect(parseTime(value)).toBe(expected);
  });

  it.each([["yesterday"], [""], [null], [Number.NaN], [{}]])("rejects %j", (value) => {
    expect(parseTime(value)).toBeUndefined();
  });
});

describe("normalizeId", () => {
  it.each([
    ["abc", "abc"],
    [42, "42"],
    ["  ", undefined],
    [null, undefined],
    [true, undefined],
    [Number.POSITIVE_INFINITY, undefined],
    [Number.MAX_SAFE_INTEGER, "9007199254740991"],
    [-Number.MAX_SAFE_INTEGER, "-9007199254740991"],
    [1.5, "1.5"],
    // JSON.parse reads 1234567890123456789 and 1234567890123456790 as one number.
    [1234567890123456789, undefined],
    [Number.MAX_SAFE_INTEGER + 1, undefined],
    [-1e21, undefined],
  ] as const)("%j", (value, expected) => {
    expect(normalizeId(value)).toBe(expected);
  });
});

describe("normalizeEmail", () => {
  it.each([
    [" Ada@Example.com ", "Ada@Example.com"],
    ["no-at-sign", null],
    ["@example.com", null],
    ["ada@", null],
    [42, null],
  ] as const)("%j", (value, expected) => {
    expect(normalizeEmail(value)).toBe(expected);
  });
});

describe("readEventEmail", () => {
  it("identify prefers traits.email over top-level email", () => {
    expect(readEventEmail({ type: "identify", email: "top@example.com", traits: { email: "traits@example.com" } })).toBe(
      "traits@example.com",
    );
  });

  it("track prefers top-level email over properties.email", () => {
    expect(readEventEmail({ type: "track", email: "top@example.com", properties: { email: "props@example.com" } })).toBe(
      "top@example.com",
    );
  });

  it("track prefers context.traits.email over properties.email", () => {
    expect(
      readEventEmail({ type: "track", properties: { email: "invitee@example.com" }, context: { traits: { email: "sender@example.com" } } }),
    ).toBe("sender@example.com");
  });

  it("identify ignores properties.email", () => {
    expect(readEventEmail({ type: "identify", properties: { email: "props@example.com" } })).toBeUndefined();
  });

  it("skips an invalid field for a valid later one", () => {
    expect(readEventEmail({ type: "track", context: { traits: { email: "n/a" } }, properties: { email: "props@example.com" } })).toBe(
      "props@example.com",
    );
  });

  it("null when only invalid fields", () => {
    expect(readEventEmail({ type: "track", properties: { email: "n/a" } })).toBeNull();
  });

  it("undefined without email fields", () => {
    expect(readEventEmail({ type: "track", properties: {} })).toBeUndefined();
  });
});
