import { describe, expect, test } from "vitest";
import { compileTrigger } from "../../src/triggers/index.js";

function numbersAsText(trigger: string, event: Record<string, unknown>): Array<{ field: string; value: string }> {
  return compileTrigger(trigger, { dialect: "fql" }).findNumbersAsText(event);
}

describe("findNumbersAsText", () => {
  test("ordering with a number", () => {
    expect(numbersAsText("properties.total > 0", { properties: { total: "12" } })).toEqual([{ field: "properties.total", value: "12" }]);
  });

  test("equality with a number", () => {
    expect(numbersAsText("properties.count = 3", { properties: { count: "3" } })).toEqual([{ field: "properties.count", value: "3" }]);
  });

  test("ordering with a numeric string", () => {
    expect(numbersAsText('properties.total >= "10"', { properties: { total: "1,200" } })).toEqual([{ field: "properties.total", value: "1,200" }]);
  });

  test("nested and negated conditions", () => {
    const event = { properties: { a: "1", b: "2" } };

    expect(numbersAsText('!(properties.a > 0) or (type = "track" and properties.b < 5)', event)).toEqual([
      { field: "properties.a", value: "1" },
      { field: "properties.b", value: "2" },
    ]);
  });

  test.each<[string, string, Record<string, unknown>]>([
    ["value is a number", "properties.total > 0", { properties: { total: 12 } }],
    ["text is not a number", "properties.total > 0", { properties: { total: "twelve" } }],
    ["field is missing", "properties.total > 0", {}],
    ["string field compares as text", "userId = 5", { userId: "5" }],
    ["string literal equality", 'properties.total = "12"', { properties: { total: "12" } }],
    ["timestamp literal", 'properties.at > "2024-01-01"', { properties: { at: "2024" } }],
  ])("%s: none", (_name, trigger, event) => {
    expect(numbersAsText(trigger, event)).toEqual([]);
  });
});

describe("numberFields", () => {
  test("lists fields compared with a number", () => {
    const trigger = compileTrigger('properties.total > 0 and properties.plan = "pro" and (traits.age >= "18" or properties.total < 5)', { dialect: "fql" });

    expect(trigger.numberFields).toEqual(["properties.total", "traits.age"]);
  });

  test("leaves out fields compared as text", () => {
    expect(compileTrigger('type = "track" and userId = 5 and event = "Order Completed"', { dialect: "fql" }).numberFields).toEqual([]);
  });
});
