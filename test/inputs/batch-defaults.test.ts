import { describe, expect, test } from "vitest";
import { applyBatchDefaults } from "../../src/inputs/batch-defaults.js";

describe("applyBatchDefaults", () => {
  test("event without context gets a copy", () => {
    const defaults = { context: { traits: { email: "a@example.com" } } };
    const first: Record<string, unknown> = { type: "track" };
    const second: Record<string, unknown> = { type: "track" };

    applyBatchDefaults(first, defaults);
    applyBatchDefaults(second, defaults);
    (first["context"] as { traits: { email: string } }).traits.email = "changed@example.com";

    expect(second["context"]).toEqual({ traits: { email: "a@example.com" } });
    expect(defaults.context.traits.email).toBe("a@example.com");
  });

  test("merge is deep and the event wins", () => {
    const event: Record<string, unknown> = { context: { traits: { email: "own@example.com", name: "Own" }, ip: "10.0.0.2" }, integrations: { Koala: true } };

    applyBatchDefaults(event, { context: { traits: { email: "batch@example.com", plan: "pro" }, library: { name: "analytics-node" } }, integrations: { All: false, Koala: false } });

    expect(event["context"]).toEqual({ traits: { email: "own@example.com", name: "Own", plan: "pro" }, ip: "10.0.0.2", library: { name: "analytics-node" } });
    expect(event["integrations"]).toEqual({ Koala: true, All: false });
  });

  test.each([
    ["null", null],
    ["a string", "text"],
    ["an array", ["a"]],
  ])("event context that is %s kept", (_kind, own) => {
    const event: Record<string, unknown> = { context: own };

    applyBatchDefaults(event, { context: { ip: "10.0.0.1" } });

    expect(event["context"]).toEqual(own);
  });

  test("arrays are not merged", () => {
    const event: Record<string, unknown> = { context: { tags: ["own"] } };

    applyBatchDefaults(event, { context: { tags: ["batch", "more"] } });

    expect(event["context"]).toEqual({ tags: ["own"] });
  });

  test("__proto__ key stays an own property", () => {
    const defaults = JSON.parse('{"context": {"__proto__": {"polluted": true}}}') as { context: Record<string, unknown> };
    const event: Record<string, unknown> = JSON.parse('{"context": {"traits": {}}}') as Record<string, unknown>;

    applyBatchDefaults(event, defaults);

    const context = event["context"] as Record<string, unknown>;
    expect(Object.hasOwn(context, "__proto__")).toBe(true);
    expect((context as { polluted?: boolean }).polluted).toBeUndefined();
    expect(JSON.stringify(context)).toBe('{"traits":{},"__proto__":{"polluted":true}}');
  });
});
