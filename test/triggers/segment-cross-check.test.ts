import segmentSubscriptions from "@segment/destination-subscriptions";
import { describe, expect, test } from "vitest";
import type { SegmentEvent } from "../../src/inputs/record.js";
import { compileTrigger } from "../../src/triggers/index.js";
import { SeededRandom } from "./support/random.js";

const { parseFql, validate } = segmentSubscriptions;

// Random triggers from the part of Segment's trigger subset that @segment/destination-subscriptions
// evaluates correctly. Left out on purpose, because Segment gets them wrong: `!= true` and
// `!= false` (always true there), null on type and event, match() patterns without a leading or
// trailing `*`, functions inside parentheses, and `and` mixed with `or` without parentheses.

const stringLiterals = ['"pro"', '"free"', '"Order Completed"', '"A"', '""', '"5"', '"true"', '"null"'];
const numberLiterals = ["0", "5", "-5", "10", "2.5", "123"];
const nestedFields = ["properties.plan", "properties.total", "properties.cart.total", "traits.plan", "traits.logins", "context.app.build"];
const topFields = ["type", "event", "name", "userId"];
const nullableFields = ["name", "userId", ...nestedFields];
const functionFields = ["event", "name", "userId", "properties.plan", "traits.plan", "context.app.name"];
const needles = ['"Order"', '"pro"', '"o"', '"5"', "5", '""'];
const patterns = ['"Order*"', '"*Completed"', '"pr*"', '"*o"', '"*"', '"5*"'];

function randomComparison(random: SeededRandom): string {
  switch (random.integer(6)) {
    case 0:
      return `${random.pick([...topFields, ...nestedFields])} ${random.pick(["=", "!="])} ${random.pick(stringLiterals)}`;
    case 1:
      return `${random.pick([...topFields, ...nestedFields])} ${random.pick(["=", "!="])} ${random.pick(numberLiterals)}`;
    case 2:
      return `${random.pick(nestedFields)} ${random.pick(["<", "<=", ">", ">="])} ${random.pick(numberLiterals)}`;
    case 3:
      return `${random.pick([...nestedFields, "userId"])} = ${random.pick(["true", "false"])}`;
    case 4:
      return `${random.pick(nullableFields)} ${random.pick(["=", "!="])} null`;
    default:
      return random.chance(0.5)
        ? `${random.chance(0.3) ? "!" : ""}contains(${random.pick(functionFields)}, ${random.pick(needles)})`
        : `${random.chance(0.3) ? "!" : ""}match(${random.pick(functionFields)}, ${random.pick(patterns)})`;
  }
}

function randomTrigger(random: SeededRandom): string {
  const outer = random.pick(["and", "or"]);
  const inner = outer === "and" ? "or" : "and";
  const count = 1 + random.integer(4);
  const items: string[] = [];
  for (let index = 0; index < count; index++) {
    if (random.chance(0.25)) {
      // A parenthesised group holds comparisons only, because Segment ends a group at the `)` of a call.
      const groupSize = 2 + random.integer(2);
      const comparisons = Array.from({ length: groupSize }, () => randomComparison(random)).filter((text) => !text.includes("("));
      items.push(comparisons.length > 0 ? `(${comparisons.join(` ${inner} `)})` : randomComparison(random));
    } else {
      items.push(randomComparison(random));
    }
  }
  return items.join(` ${outer} `);
}

function randomValue(random: SeededRandom): unknown {
  return random.pick([undefined, null, "pro", "free", "Order Completed", "A", "", "5", "true", "null", 0, 5, -5, 10, 2.5, 123, true, false, "Pro", "New Order"]);
}

function randomObject(random: SeededRandom, keys: readonly string[]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const key of keys) {
    const value = randomValue(random);
    if (value !== undefined) object[key] = value;
  }
  return object;
}

function randomEvent(random: SeededRandom): SegmentEvent {
  const event: SegmentEvent = {};
  for (const field of topFields) {
    const value = field === "type" ? random.pick([undefined, "track", "identify", "page", "5", "true"]) : randomValue(random);
    if (value !== undefined) event[field] = value;
  }
  // Intermediate objects are present or missing, never falsy values, where Segment's lookup leaks.
  const properties = randomObject(random, ["plan", "total"]);
  if (random.chance(0.5)) properties.cart = randomObject(random, ["total"]);
  if (random.chance(0.9)) event.properties = properties;
  if (random.chance(0.7)) event.traits = randomObject(random, ["plan", "logins"]);
  if (random.chance(0.7)) event.context = { app: randomObject(random, ["build", "name"]) };
  return event;
}

describe("cross-check with @segment/destination-subscriptions", () => {
  test("random subset triggers agree", () => {
    const random = new SeededRandom(20240101);
    let comparisons = 0;
    let matched = 0;
    for (let round = 0; round < 1500; round++) {
      const trigger = randomTrigger(random);
      const ast = parseFql(trigger);
      expect(ast, `Segment could not parse ${JSON.stringify(trigger)}`).not.toHaveProperty("error");
      const compiled = compileTrigger(trigger);
      for (let sample = 0; sample < 8; sample++) {
        const event = randomEvent(random);
        const segment = validate(ast, event);
        const ours = compiled.matches(event);
        expect(ours, `trigger ${JSON.stringify(trigger)} on event ${JSON.stringify(event)}: Segment ${segment}, koala-replay ${ours}`).toBe(segment);
        comparisons++;
        if (ours) matched++;
      }
    }
    expect(comparisons).toBe(12_000);
    // Both outcomes must be common, or the agreement says little.
    expect(matched).toBeGreaterThan(comparisons * 0.15);
    expect(matched).toBeLessThan(comparisons * 0.85);
  });
});
