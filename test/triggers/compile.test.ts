import segmentSubscriptions from "@segment/destination-subscriptions";
import { describe, expect, test } from "vitest";
import { compileTrigger } from "../../src/triggers/index.js";

const fql = { dialect: "fql" } as const;

describe("normalized", () => {
  test.each([
    ["type='track'", 'type = "track"'],
    ['  type = "track"\n and (event = "A" or event = "B")', 'type = "track" and (event = "A" or event = "B")'],
    ['((type = "track"))', 'type = "track"'],
    ['properties.product\\ 1.price > 5', "properties.product\\ 1.price > 5"],
    ['event = \'say "hi"\'', 'event = \'say "hi"\''],
    ['event = "a\\\\b"', 'event = "a\\\\b"'],
    ["properties.total = 007", "properties.total = 7"],
    ["!contains(event,'x')", '!contains(event, "x")'],
  ])("%s", (source, normalized) => {
    expect(compileTrigger(source).normalized).toBe(normalized);
  });

  test("mixed and/or gets parentheses", () => {
    const trigger = compileTrigger('type = "a" or type = "b" and event = "c"', fql);
    expect(trigger.normalized).toBe('type = "a" or (type = "b" and event = "c")');
  });

  test("escaped keyword field stays a field", () => {
    const trigger = compileTrigger("properties.\\and = 1");
    expect(trigger.normalized).toBe("properties.\\and = 1");
    expect(trigger.matches({ properties: { and: 1 } })).toBe(true);
  });

  test.each(["properties.\\1b = 1", "properties.\\-x = 1", "properties.items.\\0 = 1"])("escaped leading %s compiles again", (source) => {
    const trigger = compileTrigger(source);
    const again = compileTrigger(trigger.normalized);

    expect(trigger.normalized).toBe(source);
    expect(again.normalized).toBe(source);
  });

  test("fql array index keeps its reading", () => {
    const trigger = compileTrigger("properties.items.0.price > 5", fql);
    const again = compileTrigger(trigger.normalized, fql);

    expect(again.matches({ properties: { items: [{ price: 6 }] } })).toBe(true);
  });
});

describe("warnings", () => {
  test("mixing and/or without parentheses", () => {
    const trigger = compileTrigger('type = "a" or type = "b" and event = "c"', fql);
    expect(trigger.warnings).toHaveLength(1);
    expect(trigger.warnings[0]).toContain("`and` binds tighter than `or`");
    expect(trigger.matches({ type: "a" })).toBe(true);
    expect(trigger.matches({ type: "b", event: "x" })).toBe(false);
  });

  test("parentheses silence the warning", () => {
    expect(compileTrigger('type = "a" or (type = "b" and event = "c")', fql).warnings).toEqual([]);
  });

  test("ordering against text", () => {
    const trigger = compileTrigger('properties.total < "abc"');
    expect(trigger.warnings[0]).toContain("never matches");
  });

  test("field differing only in case", () => {
    expect(compileTrigger('userid = "u"', fql).warnings[0]).toContain("`userId`");
  });
});

describe("!= true and != false", () => {
  const values: readonly unknown[] = [true, false, "true", "false", 1, 0, null, undefined];

  test.each([["true"], ["false"]])("!= %s warns in the subset", (text) => {
    const warnings = compileTrigger(`properties.flag != ${text}`).warnings;

    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`Segment's trigger parser compares it with the text "${text}"`);
    expect(warnings[0]).toContain(`write \`!= "${text}"\``);
  });

  test.each([["true"], ["false"]])("suggested != \"%s\" selects as Segment does", (text) => {
    const ast = segmentSubscriptions.parseFql(`properties.flag != ${text}`);
    const suggested = compileTrigger(`properties.flag != "${text}"`);

    for (const value of values) {
      const event = { type: "track", properties: value === undefined ? {} : { flag: value } };
      expect(suggested.matches(event), `flag ${JSON.stringify(value)}`).toBe(segmentSubscriptions.validate(ast, event));
    }
  });

  test("no warning for = true, != text, or full FQL", () => {
    expect(compileTrigger("properties.flag = true").warnings).toEqual([]);
    expect(compileTrigger('properties.flag != "true"').warnings).toEqual([]);
    expect(compileTrigger("properties.flag != true", fql).warnings).toEqual([]);
  });
});

describe("ordering against a timestamp", () => {
  const event = { type: "track", properties: { signed_up: "2024-06-01T00:00:00Z" } };

  test.each([[">"], [">="], ["<"], ["<="]])("%s warns in the subset", (operator) => {
    const text = `properties.signed_up ${operator} "2024-01-01"`;
    const warnings = compileTrigger(text).warnings;

    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`\`${operator} "2024-01-01"\` compares timestamps as instants here`);
    expect(warnings[0]).toContain("matched no event");
  });

  test("Segment matches no event", () => {
    const text = 'properties.signed_up > "2024-01-01"';
    const ast = segmentSubscriptions.parseFql(text);

    expect(segmentSubscriptions.validate(ast, event)).toBe(false);
    expect(compileTrigger(text).matches(event)).toBe(true);
  });

  test("line of a multi-line trigger", () => {
    const warnings = compileTrigger('type = "track"\nand properties.signed_up < "2024-01-01T00:00:00Z"').warnings;
    expect(warnings[0]).toContain("(line 2)");
  });

  test("no warning for numbers, number text or full FQL", () => {
    expect(compileTrigger("properties.total > 5").warnings).toEqual([]);
    expect(compileTrigger('properties.total > "5"').warnings).toEqual([]);
    expect(compileTrigger('timestamp >= "2024-01-01"', fql).warnings).toEqual([]);
  });
});

describe("traits of a type without them", () => {
  test("track trigger reading traits.email", () => {
    const trigger = compileTrigger('type = "track" and !contains(traits.email, "@example.com")');
    expect(trigger.warnings).toEqual([
      "`traits.email` reads the top-level traits, which Segment's track calls do not have: they carry the user's traits in context.traits. Write `context.traits.email` to read them there.",
    ]);
  });

  test.each([
    ['(type = "track" or type = "page") and traits.plan = "pro"', "track and page calls"],
    ['type = "screen" and traits.plan = "pro" and traits.plan != "x"', "screen calls"],
    ['event = "Signed Up" and type = "track" and\n  match(traits.email, "*@example.com")', "track calls"],
  ])("%s", (source, calls) => {
    const warnings = compileTrigger(source).warnings;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`which Segment's ${calls} do not have`);
  });

  test("line of the field in a trigger of several lines", () => {
    const warnings = compileTrigger('type = "track"\n  and traits.plan = "pro"').warnings;
    expect(warnings[0]).toContain("`traits.plan` (line 2)");
  });

  test.each([
    'type = "identify" and traits.plan = "pro"',
    '(type = "track" or type = "group") and traits.plan = "pro"',
    'traits.plan = "pro"',
    'type = "track" or traits.plan = "pro"',
    'type = "track" and context.traits.plan = "pro"',
  ])("no warning: %s", (source) => {
    expect(compileTrigger(source).warnings).toEqual([]);
  });

  test("the fql dialect warns too", () => {
    const warnings = compileTrigger('type = "track" and !(lowercase(traits.email) = "a@example.com")', fql).warnings;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("`context.traits.email`");
  });
});

describe("explain", () => {
  test("lists failing conditions of an and", () => {
    const trigger = compileTrigger('type = "track" and event = "A" and properties.total > 5');
    expect(trigger.explain({ type: "track", event: "B", properties: { total: 1 } })).toEqual(['event = "A"', "properties.total > 5"]);
    expect(trigger.explain({ type: "track", event: "A", properties: { total: 9 } })).toEqual([]);
  });

  test("lists every branch of a failing or", () => {
    const trigger = compileTrigger('type = "track" or (type = "page" and name = "Home")');
    expect(trigger.explain({ type: "identify" })).toEqual(['type = "track"', 'type = "page" and name = "Home"']);
  });

  test("single condition", () => {
    expect(compileTrigger('type = "track"').explain({ type: "page" })).toEqual(['type = "track"']);
  });
});

describe("fql dialect", () => {
  const event = {
    type: "track",
    event: "Order Completed",
    anonymousId: "anon-1",
    userId: "",
    properties: { tags: ["a", "b"], enabled: true, name: "Nike Air", total: 12, kana: "ア", emoji: "😀" },
    integrations: { Koala: false },
  };

  test.each([
    ['anonymousId = "anon-1"', true],
    ["integrations.Koala = false", true],
    ['event in ["Order Completed", "Cart Viewed"]', true],
    ['"b" in properties.tags', true],
    ['"c" in properties.tags', false],
    ['!(type in ["track", "identify"])', false],
    ["properties.enabled", true],
    ["properties.missing", false],
    ["!properties.enabled", false],
    ['lowercase(event) = "order completed"', true],
    ['uppercase(properties.name) = "NIKE AIR"', true],
    ['snakecase(event) = "order_completed"', true],
    ["length(userId) < 1", true],
    ["length(properties.tags) = 2", true],
    ["length(groupId) = 0", true],
    // UTF-16 code units, as tsub-js counts them, where Segment's FQL reference says bytes (3 for "ア").
    ["length(properties.kana) = 1", true],
    ["length(properties.emoji) = 2", true],
    ['typeof(properties.tags) = "array"', true],
    ['typeof(properties.total) = "number"', true],
    ['typeof(groupId) = "null"', true],
    // Segment's FQL reference names the types "list" and "bool", and tsub-js, which analytics.js runs, returns "boolean".
    ['typeof(properties.tags) = "list"', true],
    ['typeof(properties.enabled) = "bool"', true],
    ['typeof(properties.enabled) = "boolean"', true],
    ['typeof(properties.enabled) != "bool"', false],
    ['"list" = typeof(properties.tags)', true],
    ['typeof(properties.tags) in ["bool", "list"]', true],
    ['typeof(properties.name) in ["bool", "list"]', false],
    ['match(event, "Order ?ompleted")', true],
    ['match(event, "[A-Z]rder*")', true],
    ['match(event, "[^O]rder*")', false],
    ['match(event, "Order\\\\*")', false],
    ['"track" = type', true],
    ["10 < properties.total", true],
    ['contains(lowercase(properties.name), "nike")', true],
    ['!(contains(properties.missing, "x"))', true],
    ['!contains(properties.missing, "x")', false],
    ['type = "track" or type = "page" and event = "x"', true],
  ])("%s", (trigger, expected) => {
    expect(compileTrigger(trigger, fql).matches(event)).toBe(expected);
  });

  test("all matches every event", () => {
    expect(compileTrigger("all", fql).matches({})).toBe(true);
  });
});
