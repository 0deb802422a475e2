import segmentSubscriptions from "@segment/destination-subscriptions";
import { describe, expect, test } from "vitest";
import type { SegmentEvent } from "../../src/inputs/record.js";
import { compileTrigger, TriggerSyntaxError, type CompiledTrigger } from "../../src/triggers/index.js";
import { SeededRandom } from "./support/random.js";

const { parseFql, validate } = segmentSubscriptions;

// Differential test of the subscription dialect against @segment/destination-subscriptions 3.37.0.
// Random triggers are built from conditions that carry tags for the constructs where koala-replay
// departs from Segment on purpose. A tag in `allowList`, or `pathThroughNonObject` for the event,
// must explain every disagreement. Any other disagreement fails and prints the trigger, the event
// and both results.

type Tag =
  | "null-on-type-or-event"
  | "not-equal-boolean"
  | "timestamp-ordering"
  | "number-text-beyond-decimals"
  | "ordering-with-non-number"
  | "single-quoted"
  | "backslash-in-string"
  | "contains-non-string"
  | "glob-pattern"
  | "function-on-type"
  | "misread-segment"
  | "escaped-separator"
  | "inherited-member"
  | "function-in-group"
  | "nested-group"
  | "mixed-and-or"
  | "operator-spacing"
  | "carriage-return";

type Departure = "evaluation" | "koala-rejects" | "segment-rejects";

/**
 * The deliberate departures from Segment, with what they change: the result on some events
 * (`evaluation`), or which side refuses the trigger. Segment "refuses" a trigger by returning an
 * error AST, after which it never matches.
 */
const allowList: Readonly<Record<Tag, { departure: Departure | Departure[]; reason: string }>> = {
  "null-on-type-or-event": {
    departure: "evaluation",
    reason: "Segment compares type and event with the text \"null\" (fql-anomalies.json: event = null, event != null)",
  },
  "not-equal-boolean": {
    departure: "evaluation",
    reason:
      "Segment compares `!= true` and `!= false` with the text \"true\" or \"false\", so a boolean field never equals them; koala-replay compares booleans",
  },
  "timestamp-ordering": {
    departure: "evaluation",
    reason: "koala-replay orders ISO-8601 timestamps as instants, as full FQL filters do; Segment's trigger parser needs a number",
  },
  "number-text-beyond-decimals": {
    departure: "evaluation",
    reason: "Segment orders against Number(text), so \"\" is 0 and \"0x10\" is 16; koala-replay warns that such text never matches",
  },
  "ordering-with-non-number": {
    departure: "koala-rejects",
    reason: "ordering with true, false or null is rejected; Segment compares with Number(true) or NaN",
  },
  "single-quoted": {
    departure: "evaluation",
    reason: "Segment keeps the single quotes in the value (fql-anomalies.json: type = 'track', alternative reading)",
  },
  "backslash-in-string": {
    departure: "evaluation",
    reason: "koala-replay reads \\\\ as one backslash; Segment keeps both (fql-anomalies.json: event = \"a\\\\b\")",
  },
  "contains-non-string": {
    departure: "koala-rejects",
    reason: "contains() needs a quoted string or a number; Segment searches for the text \"true\" or \"null\"",
  },
  "glob-pattern": {
    departure: "evaluation",
    reason:
      "match() patterns are globs (fql-anomalies.json: match(event, \"O*d\")), so `?`, `[…]`, `\\` and inner `*` are wildcards where Segment reads a prefix or a suffix; koala-replay warns about such patterns",
  },
  "function-on-type": {
    departure: "koala-rejects",
    reason: "Segment drops contains() and match() on type (fql-anomalies.json: contains(type, \"zzz\"))",
  },
  "misread-segment": {
    departure: "koala-rejects",
    reason: "Segment's lexer reads a path segment that starts with a digit or `-`, or a final and/or/null, as something else",
  },
  "escaped-separator": {
    departure: "koala-rejects",
    reason: "Segment splits field names at escaped `.`, `[` and `]`, so it would read another field",
  },
  "inherited-member": {
    departure: "evaluation",
    reason: "Segment's lookup reaches prototype members such as constructor and length (fql-anomalies.json: properties.name.length)",
  },
  "function-in-group": {
    departure: "evaluation",
    reason: "Segment ends a group at the `)` of a function call (fql-anomalies.json: contains() inside parentheses)",
  },
  "nested-group": {
    departure: "segment-rejects",
    reason: "Segment cannot parse nested parentheses (fql-anomalies.json: ((type = \"track\")))",
  },
  "mixed-and-or": {
    departure: "koala-rejects",
    reason: "Segment applies the last `and` or `or` to every condition (fql-anomalies.json, should-reject)",
  },
  "operator-spacing": {
    departure: "segment-rejects",
    reason: "Segment's lexer needs whitespace before `<` and `>` (fql-anomalies.json: properties.total>= 10)",
  },
  "carriage-return": {
    departure: ["evaluation", "segment-rejects"],
    reason: "Segment's lexer does not take \\r for whitespace, so text after it is dropped or fails to lex (fql-anomalies.json)",
  },
};

interface Condition {
  text: string;
  tags: Tag[];
  /** The event path the condition reads, as keys from the event's root. */
  path: string[];
}

interface Trigger {
  text: string;
  conditions: Condition[];
  tags: Tag[];
}

const stringFields = ["type", "event", "name", "userId"] as const;
const plainKeys = ["plan", "total", "a_b", "foo-bar", "A1", "x"];

/** Path segments with the key they read and the tags they bring. */
const oddSegments: ReadonlyArray<{ text: string; key: string; tags: Tag[]; lastOnly?: boolean; middleOnly?: boolean }> = [
  { text: "true", key: "true", tags: [] },
  { text: "false", key: "false", tags: [] },
  { text: "in", key: "in", tags: [] },
  { text: "and", key: "and", tags: [], middleOnly: true },
  { text: "or", key: "or", tags: ["misread-segment"], lastOnly: true },
  { text: "null", key: "null", tags: ["misread-segment"], lastOnly: true },
  { text: "1b", key: "1b", tags: ["misread-segment"] },
  { text: "-x", key: "-x", tags: ["misread-segment"] },
  { text: "\\1b", key: "1b", tags: [] },
  { text: "\\or", key: "or", tags: [] },
  { text: "\\$acct", key: "$acct", tags: [] },
  { text: "\\ sp", key: " sp", tags: [] },
  { text: "\\é", key: "é", tags: [] },
  { text: "\\0", key: "0", tags: [] },
  { text: "a\\.b", key: "a.b", tags: ["escaped-separator"] },
  { text: "x\\[0\\]", key: "x[0]", tags: ["escaped-separator"] },
  { text: "constructor", key: "constructor", tags: ["inherited-member"] },
  { text: "length", key: "length", tags: ["inherited-member"] },
];

function randomField(random: SeededRandom): { text: string; path: string[]; tags: Tag[] } {
  if (random.chance(0.3)) {
    const field = random.pick(stringFields);
    return { text: field, path: [field], tags: [] };
  }
  const root = random.pick(["properties", "traits", "context"]);
  const length = 1 + random.integer(2);
  const texts = [root];
  const path = [root];
  const tags: Tag[] = [];
  for (let index = 0; index < length; index++) {
    const last = index === length - 1;
    const odd = random.chance(0.25) ? random.pick(oddSegments) : undefined;
    if (odd !== undefined && !(odd.lastOnly === true && !last) && !(odd.middleOnly === true && last)) {
      texts.push(odd.text);
      path.push(odd.key);
      tags.push(...odd.tags);
    } else {
      const key = random.pick(plainKeys);
      texts.push(key);
      path.push(key);
    }
  }
  return { text: texts.join("."), path, tags };
}

const stringLiterals: ReadonlyArray<{ text: string; tags: Tag[] }> = [
  { text: '"pro"', tags: [] },
  { text: '""', tags: [] },
  { text: '"5"', tags: [] },
  { text: '"true"', tags: [] },
  { text: '"null"', tags: [] },
  { text: '"é 😀"', tags: [] },
  { text: '"a)b"', tags: [] },
  { text: "'pro'", tags: ["single-quoted"] },
  { text: '"a\\\\b"', tags: ["backslash-in-string"] },
];
const numberLiterals = ["0", "5", "-5", "2.5", "+5", "007", "-0", "10"];
const orderingTexts: ReadonlyArray<{ text: string; tags: Tag[] }> = [
  { text: '"5"', tags: [] },
  { text: '"-2.5"', tags: [] },
  { text: '".5"', tags: [] },
  { text: '"5."', tags: [] },
  { text: '"1e1"', tags: [] },
  { text: '"abc"', tags: [] },
  { text: '""', tags: ["number-text-beyond-decimals"] },
  { text: '" 5"', tags: ["number-text-beyond-decimals"] },
  { text: '"0x10"', tags: ["number-text-beyond-decimals"] },
  { text: '"Infinity"', tags: ["number-text-beyond-decimals"] },
  { text: '"2024-01-01"', tags: ["timestamp-ordering"] },
  { text: '"2024-01-01T12:00:00Z"', tags: ["timestamp-ordering"] },
];
const needles: ReadonlyArray<{ text: string; tags: Tag[] }> = [
  { text: '"pro"', tags: [] },
  { text: '"o"', tags: [] },
  { text: '""', tags: [] },
  { text: '"é"', tags: [] },
  { text: "5", tags: [] },
  { text: "2.50", tags: [] },
  { text: "-5", tags: [] },
  { text: "true", tags: ["contains-non-string"] },
  { text: "null", tags: ["contains-non-string"] },
];
const patterns: ReadonlyArray<{ text: string; tags: Tag[] }> = [
  { text: '"pr*"', tags: [] },
  { text: '"*o"', tags: [] },
  { text: '"*"', tags: [] },
  { text: '"5*"', tags: [] },
  { text: '"*é"', tags: [] },
  { text: '"😀*"', tags: [] },
  { text: '"**"', tags: ["glob-pattern"] },
  { text: '"*?"', tags: ["glob-pattern"] },
  { text: '"a?*"', tags: ["glob-pattern"] },
  { text: '"[ab]*"', tags: ["glob-pattern"] },
  { text: '"a\\*"', tags: ["glob-pattern"] },
  { text: '"*.*"', tags: ["glob-pattern"] },
];

function randomComparison(random: SeededRandom): Condition {
  const field = randomField(random);
  const isStringField = field.path.length === 1;
  const tags = [...field.tags];
  const operator = random.pick(["=", "!=", "=", "!=", "<", "<=", ">", ">="]);
  let value: string;
  if (operator === "=" || operator === "!=") {
    const roll = random.integer(4);
    if (roll === 0) {
      const literal = random.pick(stringLiterals);
      value = literal.text;
      tags.push(...literal.tags);
    } else if (roll === 1) {
      value = random.pick(numberLiterals);
    } else if (roll === 2) {
      value = random.pick(["true", "false"]);
      if (operator === "!=" && (!isStringField || field.text === "userId")) tags.push("not-equal-boolean");
    } else {
      value = "null";
      if (field.text === "type" || field.text === "event") tags.push("null-on-type-or-event");
    }
  } else {
    const roll = random.integer(10);
    if (roll < 5) {
      value = random.pick(numberLiterals);
    } else if (roll < 9) {
      const literal = random.pick(orderingTexts);
      value = literal.text;
      tags.push(...literal.tags);
    } else {
      value = random.pick(["true", "false", "null"]);
      tags.push("ordering-with-non-number");
    }
  }
  let before = random.pick([" ", " ", "\t", "\n", ""]);
  if (before === "" && (operator.startsWith("<") || operator.startsWith(">"))) tags.push("operator-spacing");
  const after = random.pick([" ", " ", "\t", "\n"]);
  return { text: `${field.text}${before}${operator}${after}${value}`, tags, path: field.path };
}

function randomCall(random: SeededRandom): Condition {
  const field = random.chance(0.05) ? { text: "type", path: ["type"], tags: [] } : randomField(random);
  const tags = [...field.tags];
  if (field.text === "type") tags.push("function-on-type");
  const negation = random.chance(0.3) ? "!" : "";
  const isContains = random.chance(0.5);
  const argument = isContains ? random.pick(needles) : random.pick(patterns);
  tags.push(...argument.tags);
  const space = random.pick([" ", "", "\t"]);
  return { text: `${negation}${isContains ? "contains" : "match"}(${field.text},${space}${argument.text})`, tags, path: field.path };
}

function randomCondition(random: SeededRandom): Condition {
  return random.chance(0.7) ? randomComparison(random) : randomCall(random);
}

function randomGroup(random: SeededRandom, joiner: "and" | "or", depth: number, trigger: Trigger): string {
  const size = 2 + random.integer(2);
  const inner = joiner === "and" ? "or" : "and";
  const parts: string[] = [];
  for (let index = 0; index < size; index++) {
    if (depth === 0 && random.chance(0.08)) {
      trigger.tags.push("nested-group");
      parts.push(randomGroup(random, inner, depth + 1, trigger));
      continue;
    }
    const condition = randomCondition(random);
    if (condition.text.includes("(")) trigger.tags.push("function-in-group");
    trigger.conditions.push(condition);
    parts.push(condition.text);
  }
  return `(${parts.join(` ${joiner} `)})`;
}

function randomTrigger(random: SeededRandom): Trigger {
  const trigger: Trigger = { text: "", conditions: [], tags: [] };
  const outer = random.pick(["and", "or"] as const);
  const inner = outer === "and" ? "or" : "and";
  const count = 1 + random.integer(3);
  const parts: string[] = [];
  for (let index = 0; index < count; index++) {
    if (random.chance(0.25)) {
      parts.push(randomGroup(random, inner, 0, trigger));
    } else {
      const condition = randomCondition(random);
      trigger.conditions.push(condition);
      parts.push(condition.text);
    }
  }
  let separators = parts.map(() => ` ${outer} `);
  if (count > 2 && random.chance(0.05)) {
    separators = separators.map((separator, index) => (index === 0 ? ` ${inner} ` : separator));
    trigger.tags.push("mixed-and-or");
  }
  if (random.chance(0.03)) {
    trigger.tags.push("carriage-return");
    separators = separators.map((separator) => separator.replace(/^ /, "\r\n"));
  }
  trigger.text = parts.map((part, index) => (index === 0 ? part : separators[index] + part)).join("");
  return trigger;
}

const eventValues: readonly unknown[] = [
  undefined, null, "pro", "", "5", "true", "false", "null", "é 😀", "a)b", "a\\b", "a\\\\b", "prod", "*o", "a?x", "[ab]x", "o",
  0, -0, 5, -5, 2.5, 10, 16, true, false, [], ["pro"], {}, "2024-06-01", "2023-06-01T00:00:00Z", " 5", "Infinity",
];

function randomValue(random: SeededRandom, depth: number): unknown {
  if (depth < 2 && random.chance(0.3)) {
    const object: Record<string, unknown> = {};
    for (const key of [...plainKeys, "true", "false", "in", "and", "or", "1b", "$acct", " sp", "é", "0", "a.b", "x[0]"]) {
      if (random.chance(0.3)) object[key] = randomValue(random, depth + 1);
    }
    if (random.chance(0.3)) object["a"] = { b: randomValue(random, depth + 1) };
    return object;
  }
  return random.pick(eventValues);
}

function randomEvent(random: SeededRandom): SegmentEvent {
  const event: SegmentEvent = {};
  for (const field of stringFields) {
    const value = field === "type" ? random.pick([undefined, "track", "identify", "null", 5]) : randomValue(random, 2);
    if (value !== undefined) event[field] = value;
  }
  for (const root of ["properties", "traits", "context"]) {
    if (random.chance(0.9)) event[root] = randomValue(random, 0);
  }
  return event;
}

/** Fills an event so that the path of a condition exists, since random events rarely reach deep paths. */
function reachPath(random: SeededRandom, event: SegmentEvent, path: readonly string[]): void {
  let container: Record<string, unknown> = event;
  path.forEach((key, index) => {
    if (index === path.length - 1) {
      container[key] = random.pick(eventValues);
      return;
    }
    const next = container[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) container[key] = {};
    container = container[key] as Record<string, unknown>;
  });
}

/**
 * Tells whether the path passes through a value that is not a plain object before its last key,
 * where Segment's lookup leaks a falsy value or reads a string's characters or an array's length
 * (fql-anomalies.json: properties.a.b = 0, properties.a.b != null, traits != null).
 */
function pathThroughNonObject(event: SegmentEvent, path: readonly string[]): boolean {
  let value: unknown = event;
  for (let index = 0; index < path.length - 1; index++) {
    value = (value as Record<string, unknown>)[path[index] as string];
    if (value === undefined) return false;
    if (typeof value !== "object" || value === null || Array.isArray(value)) return true;
    if (!Object.hasOwn(value, path[index + 1] as string)) return false;
  }
  return false;
}

type Outcome = { kind: "compiled"; trigger: CompiledTrigger } | { kind: "rejected"; message: string };

function compileOurs(text: string): Outcome {
  try {
    return { kind: "compiled", trigger: compileTrigger(text) };
  } catch (error) {
    if (!(error instanceof TriggerSyntaxError)) throw error;
    return { kind: "rejected", message: error.message };
  }
}

function departs(tag: Tag, departure: Departure): boolean {
  const listed = allowList[tag].departure;
  return Array.isArray(listed) ? listed.includes(departure) : listed === departure;
}

function hasTag(trigger: Trigger, departure: Departure): boolean {
  const tags = [...trigger.tags, ...trigger.conditions.flatMap((condition) => condition.tags)];
  return tags.some((tag) => departs(tag, departure));
}

/** Tells whether one condition alone gives different results here, and whether that is explained. */
function conditionDisagreement(condition: Condition, event: SegmentEvent): "agrees" | "explained" | "unexplained" {
  const ast = parseFql(condition.text);
  const ours = compileOurs(condition.text);
  if (ours.kind === "rejected" || "error" in ast) return "explained";
  if (validate(ast, event) === ours.trigger.matches(event)) return "agrees";
  const explained = condition.tags.some((tag) => departs(tag, "evaluation")) || pathThroughNonObject(event, condition.path);
  return explained ? "explained" : "unexplained";
}

function describeCase(trigger: Trigger, event: SegmentEvent | undefined, segment: string, ours: string): string {
  const tags = [...new Set([...trigger.tags, ...trigger.conditions.flatMap((condition) => condition.tags)])];
  return [
    `trigger:  ${JSON.stringify(trigger.text)}`,
    `tags:     ${tags.join(", ") || "none"}`,
    ...(event === undefined ? [] : [`event:    ${JSON.stringify(event)}`]),
    `expected: ${segment} (Segment)`,
    `actual:   ${ours} (koala-replay)`,
  ].join("\n");
}

describe("subscription dialect against @segment/destination-subscriptions", () => {
  test("random triggers and events agree outside the allow-list", () => {
    const random = new SeededRandom(20261205);
    const problems: string[] = [];
    const counts = { triggers: 0, compared: 0, agreed: 0, explained: 0, rejectedByUs: 0, rejectedBySegment: 0 };

    for (let round = 0; round < 3_000; round++) {
      const trigger = randomTrigger(random);
      counts.triggers++;
      const ast = parseFql(trigger.text);
      const ours = compileOurs(trigger.text);
      if ("error" in ast || ours.kind === "rejected") {
        if ("error" in ast && ours.kind === "rejected") continue;
        if (ours.kind === "rejected") {
          counts.rejectedByUs++;
          if (!hasTag(trigger, "koala-rejects")) problems.push(describeCase(trigger, undefined, "parsed", `rejected: ${ours.message}`));
        } else {
          counts.rejectedBySegment++;
          if (!hasTag(trigger, "segment-rejects")) problems.push(describeCase(trigger, undefined, "an error", "compiled"));
        }
        continue;
      }

      // A glob pattern that Segment reads as a prefix or a suffix must come with a warning, and only then.
      const globWarning = ours.trigger.warnings.some((warning) => warning.includes("is a glob pattern here"));
      if (globWarning !== trigger.conditions.some((condition) => condition.tags.includes("glob-pattern"))) {
        problems.push(describeCase(trigger, undefined, "compiled", `compiled with the warnings ${JSON.stringify(ours.trigger.warnings)}`));
      }

      for (let sample = 0; sample < 6; sample++) {
        const event = randomEvent(random);
        if (sample % 2 === 0) reachPath(random, event, random.pick(trigger.conditions).path);
        const expected = validate(ast, event);
        const actual = ours.trigger.matches(event);
        counts.compared++;
        if (expected === actual) {
          counts.agreed++;
          continue;
        }
        const verdicts = trigger.conditions.map((condition) => conditionDisagreement(condition, event));
        const structural = trigger.tags.some((tag) => departs(tag, "evaluation"));
        if (structural || (verdicts.includes("explained") && !verdicts.includes("unexplained"))) {
          counts.explained++;
          continue;
        }
        problems.push(describeCase(trigger, event, String(expected), String(actual)));
      }
    }

    expect(problems.slice(0, 5).join("\n\n"), `${problems.length} unexplained disagreements`).toBe("");
    // The comparison means something only if most triggers compile on both sides and most results agree.
    expect(counts.compared).toBeGreaterThan(7_000);
    expect(counts.agreed).toBeGreaterThan(counts.compared * 0.9);
  });
});

describe("path segments that Segment's lexer reads correctly", () => {
  test.each([
    ["properties.true = 1", { properties: { true: 1 } }],
    ["traits.false != null", { traits: { false: "x" } }],
    ["context.in = \"v\"", { context: { in: "v" } }],
    ["properties.and.x = 1", { properties: { and: { x: 1 } } }],
    ["properties.null.x = 1", { properties: { null: { x: 1 } } }],
    ["properties.or=\"v\"", { properties: { or: "v" } }],
  ])("%s compiles and matches as in Segment", (text, event) => {
    const ast = parseFql(text);
    expect(ast).not.toHaveProperty("error");
    expect(validate(ast, event)).toBe(true);
    expect(compileTrigger(text).matches(event)).toBe(true);
  });
});

describe("path segments that Segment's lexer misreads", () => {
  test.each([
    ["properties.1b = \"v\"", "`1b`"],
    ["properties.-x != null", "`-x`"],
    ["traits.a.2nd = 1", "`2nd`"],
    ["properties.a\\.b = \"v\"", "`a.b`"],
    ["context.x\\[0\\] != null", "`x[0]`"],
    ["properties.or = 1", "`or`"],
  ])("%s is rejected", (text, found) => {
    const outcome = compileOurs(text);
    expect(outcome.kind).toBe("rejected");
    expect(outcome.kind === "rejected" ? outcome.message : "").toContain(`found ${found}`);
  });

  test("an escaped first character is read as a name", () => {
    const event = { properties: { "1b": "v" } };
    const ast = parseFql("properties.\\1b = \"v\"");
    expect(validate(ast, event)).toBe(true);
    expect(compileTrigger("properties.\\1b = \"v\"").matches(event)).toBe(true);
  });
});

describe("ordering with decimal text", () => {
  test.each([
    ['properties.total > "1e1"', 16, true],
    ['properties.total > "1e1"', 10, false],
    ['properties.total < ".5"', 0.25, true],
    ['properties.total >= "5."', 5, true],
    ['properties.total <= "-2.5E0"', -3, true],
  ])("%s on %s", (text, total, expected) => {
    const event = { properties: { total } };
    expect(validate(parseFql(text), event)).toBe(expected);
    const trigger = compileTrigger(text);
    expect(trigger.matches(event)).toBe(expected);
    expect(trigger.warnings).toEqual([]);
  });
});

describe("match() patterns that Segment reads as text", () => {
  test.each(['"O*d"', '"*Order*"', '"Order"', '"a?*"', '"[SALE]*"', '"a\\*"', '"**"'])("%s warns", (pattern) => {
    const trigger = compileTrigger(`match(event, ${pattern})`);
    expect(trigger.warnings).toHaveLength(1);
    expect(trigger.warnings[0]).toContain(`${pattern} is a glob pattern here`);
  });

  test.each(['"*"', '"Order*"', '"*Completed"', '"é 😀*"'])("%s does not warn", (pattern) => {
    expect(compileTrigger(`match(event, ${pattern})`).warnings).toEqual([]);
  });

  test("fql dialect does not warn", () => {
    expect(compileTrigger('match(event, "O?d*")', { dialect: "fql" }).warnings).toEqual([]);
  });
});
