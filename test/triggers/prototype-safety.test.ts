import { describe, expect, test } from "vitest";
import { compileTrigger } from "../../src/triggers/index.js";

const fql = { dialect: "fql" } as const;

describe("path lookup", () => {
  test.each([
    ["properties.name.length > 3", { properties: { name: "Nike" } }],
    ["properties.items.length = 2", { properties: { items: ["a", "b"] } }],
    ["properties.constructor != null", { properties: {} }],
    ["properties.toString != null", { properties: {} }],
    ["properties.__proto__ != null", { properties: {} }],
    ["properties.hasOwnProperty != null", { properties: {} }],
    ["traits.valueOf != null", { traits: { a: 1 } }],
    ["context.x.constructor.name = \"Object\"", { context: { x: {} } }],
  ])("%s does not reach inherited members", (trigger, event) => {
    expect(compileTrigger(trigger).matches(event)).toBe(false);
  });

  test("own keys named like prototype members are read", () => {
    const event = JSON.parse('{"properties": {"constructor": "c", "__proto__": "p", "length": 2}}') as Record<string, unknown>;
    expect(compileTrigger('properties.constructor = "c"').matches(event)).toBe(true);
    expect(compileTrigger('properties.__proto__ = "p"').matches(event)).toBe(true);
    expect(compileTrigger("properties.length = 2").matches(event)).toBe(true);
  });

  test("top-level prototype members are missing", () => {
    expect(compileTrigger("constructor != null", fql).matches({})).toBe(false);
    expect(compileTrigger("toString = null", fql).matches({})).toBe(true);
    expect(compileTrigger("__proto__ != null", fql).matches({})).toBe(false);
  });

  test("array indices are followed only in range", () => {
    const event = { properties: { items: [{ sku: "A" }, { sku: "B" }] } };
    expect(compileTrigger('properties.items.1.sku = "B"', fql).matches(event)).toBe(true);
    expect(compileTrigger("properties.items.2.sku = null", fql).matches(event)).toBe(true);
    expect(compileTrigger("properties.items.01 != null", fql).matches(event)).toBe(false);
    expect(compileTrigger("properties.items.length = 2", fql).matches(event)).toBe(false);
  });

  test("falsy intermediate values make the field missing", () => {
    for (const value of [0, "", false, null]) {
      const event = { properties: { a: value } };
      expect(compileTrigger("properties.a.b = 0").matches(event)).toBe(false);
      expect(compileTrigger("properties.a.b != null").matches(event)).toBe(false);
    }
  });

  test("pollution after compiling is ignored too", () => {
    const trigger = compileTrigger('properties.later = "yes"');
    const nested = compileTrigger('context.later.x = "yes"');
    const prototype = Object.prototype as Record<string, unknown>;
    prototype.later = "yes";
    try {
      expect(trigger.matches({ properties: {} })).toBe(false);
      expect(nested.matches({ context: {} })).toBe(false);
      expect(trigger.matches({ properties: { later: "yes" } })).toBe(true);
    } finally {
      delete prototype.later;
    }
  });

  test("objects without a prototype are read", () => {
    const properties = Object.create(null) as Record<string, unknown>;
    properties.plan = "pro";
    expect(compileTrigger('properties.plan = "pro"').matches({ properties })).toBe(true);
    expect(compileTrigger("properties.toString = null").matches({ properties })).toBe(true);
  });

  test("lookup ignores a polluted Object.prototype", () => {
    const prototype = Object.prototype as Record<string, unknown>;
    prototype.injected = "yes";
    try {
      expect(compileTrigger('properties.injected = "yes"').matches({ properties: {} })).toBe(false);
    } finally {
      delete prototype.injected;
    }
  });
});
