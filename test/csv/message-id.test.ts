import { describe, expect, it } from "vitest";
import { canonicalJson, deriveMessageId } from "../../src/inputs/message-id.js";

describe("deriveMessageId", () => {
  it("same content gives the same id", () => {
    const first = deriveMessageId({ type: "track", event: "A", properties: { x: 1 } });
    const second = deriveMessageId({ type: "track", event: "A", properties: { x: 1 } });
    expect(first).toBe(second);
  });

  it("key order does not matter", () => {
    const first = deriveMessageId({ type: "track", properties: { a: 1, b: { c: 2, d: 3 } } });
    const second = deriveMessageId({ properties: { b: { d: 3, c: 2 }, a: 1 }, type: "track" });
    expect(first).toBe(second);
  });

  it("different content gives a different id", () => {
    const first = deriveMessageId({ type: "track", properties: { x: 1 } });
    const second = deriveMessageId({ type: "track", properties: { x: "1" } });
    expect(first).not.toBe(second);
  });

  it("has the prefix and 32 hex digits", () => {
    expect(deriveMessageId({ type: "identify" })).toMatch(/^replay-[0-9a-f]{32}$/);
    expect(deriveMessageId({ type: "identify" }, "csv-")).toMatch(/^csv-[0-9a-f]{32}$/);
  });

  it("is the SHA-256 of the canonical JSON", async () => {
    const { createHash } = await import("node:crypto");
    const expected = createHash("sha256").update('{"a":[1,{"b":2,"c":null}],"type":"track"}').digest("hex");
    expect(deriveMessageId({ type: "track", a: [1, { c: null, b: 2 }] }, "")).toBe(expected.slice(0, 32));
  });
});

describe("canonicalJson", () => {
  it("sorts keys at every depth", () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: "x" } })).toBe('{"a":{"c":"x","d":[{"y":2,"z":1}]},"b":1}');
  });

  it("leaves out undefined members like JSON.stringify", () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson([undefined, 1])).toBe("[null,1]");
  });

  it("matches JSON.stringify for scalars", () => {
    for (const value of ["a\"b", 1.5, true, null, "é\u2028"]) {
      expect(canonicalJson(value)).toBe(JSON.stringify(value));
    }
  });
});
