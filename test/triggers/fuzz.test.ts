import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { SegmentEvent } from "../../src/inputs/record.js";
import { compileTrigger, TriggerSyntaxError, type TriggerDialect } from "../../src/triggers/index.js";
import { SeededRandom } from "./support/random.js";

const seeds: string[] = [
  ...(JSON.parse(readFileSync(new URL("../../fixtures/conformance/fql.json", import.meta.url), "utf8")) as { trigger: string }[]).map((entry) => entry.trigger),
  ...(JSON.parse(readFileSync(new URL("../../fixtures/conformance/fql-examples.json", import.meta.url), "utf8")) as { examples: { fql: string }[] }).examples.map((entry) => entry.fql),
];
const fragments = [
  "(", ")", "[", "]", ",", "!", "=", "!=", "<", "<=", ">", ">=", "==", '"', "'", "\\", ".", "*", "?", " ", "\n", "\r\n", "\t",
  "and", "or", "in", "true", "false", "null", "AND", "type", "event", "properties.x", "traits.a.b", "context", "anonymousId",
  "contains(", "match(", "lowercase(", "length(", "typeof(", '"a"', "'b'", "5", "-1.5", "1e3", "é", "名", "😀", "constructor", "__proto__",
];
const sampleEvents: SegmentEvent[] = [
  {},
  { type: "track", event: "Order Completed", properties: { x: 5, a: { b: "c" } }, traits: { a: { b: true } } },
  { type: "identify", userId: "u-1", traits: { a: [1, 2] }, context: { app: { build: "1" } }, timestamp: "2024-01-01T00:00:00Z" },
  { type: "track", properties: null, traits: "text", event: ["list"], userId: 7 },
];

function mutate(random: SeededRandom, text: string): string {
  const position = random.integer(text.length + 1);
  switch (random.integer(5)) {
    case 0:
      return text.slice(0, position) + text.slice(position + 1 + random.integer(3));
    case 1:
      return text.slice(0, position) + random.pick(fragments) + text.slice(position);
    case 2: {
      const start = random.integer(text.length + 1);
      return text.slice(0, position) + text.slice(start, start + random.integer(8)) + text.slice(position);
    }
    case 3:
      return text.slice(0, position);
    default:
      return text.slice(0, position) + random.pick(fragments) + text.slice(position + 1);
  }
}

function randomText(random: SeededRandom): string {
  const count = 1 + random.integer(12);
  return Array.from({ length: count }, () => random.pick(fragments)).join(random.chance(0.5) ? " " : "");
}

/** Compiles one input and checks every outcome other than a well-formed result or TriggerSyntaxError. */
function checkInput(text: string, dialect: TriggerDialect): "compiled" | "rejected" {
  let compiled;
  try {
    compiled = compileTrigger(text, { dialect });
  } catch (error) {
    if (!(error instanceof TriggerSyntaxError)) {
      expect.fail(`${JSON.stringify(text)} (${dialect}) threw ${String(error)} instead of a TriggerSyntaxError`);
    }
    expect(error.position.offset, `offset for ${JSON.stringify(text)}`).toBeGreaterThanOrEqual(0);
    expect(error.position.offset, `offset for ${JSON.stringify(text)}`).toBeLessThanOrEqual(text.length);
    expect(error.position.line, `line for ${JSON.stringify(text)}`).toBe(text.slice(0, error.position.offset).split("\n").length);
    return "rejected";
  }
  for (const event of sampleEvents) {
    expect(typeof compiled.matches(event)).toBe("boolean");
    compiled.explain(event);
  }
  // The canonical text compiles again, to itself and to the same decisions.
  const again = compileTrigger(compiled.normalized, { dialect });
  expect(again.normalized, `normalized form of ${JSON.stringify(text)}`).toBe(compiled.normalized);
  for (const event of sampleEvents) {
    expect(again.matches(event), `normalized ${JSON.stringify(compiled.normalized)} on ${JSON.stringify(event)}`).toBe(compiled.matches(event));
  }
  return "compiled";
}

describe("trigger fuzzing", () => {
  test.each([
    ["parentheses", `${"(".repeat(5_000)}type = "track"${")".repeat(5_000)}`],
    ["negations", `${"!".repeat(5_000)}contains(event, "a")`],
    ["lists", `event in ${"[".repeat(5_000)}`],
    ["calls", `${"lowercase(".repeat(5_000)}event${")".repeat(5_000)} = "a"`],
  ])("deep nesting of %s is rejected", (_name, text) => {
    for (const dialect of ["subscription", "fql"] as const) expect(checkInput(text, dialect)).toBe("rejected");
  });

  test("nesting within the limit compiles", () => {
    expect(checkInput(`${"(".repeat(60)}type = "track"${")".repeat(60)}`, "subscription")).toBe("compiled");
  });

  test.each(["subscription", "fql"] as const)("mutated and random triggers in %s", (dialect) => {
    const random = new SeededRandom(dialect === "fql" ? 7 : 11);
    const deadline = Date.now() + 4_000;
    const outcomes = { compiled: 0, rejected: 0 };
    for (let round = 0; round < 20_000 && Date.now() < deadline; round++) {
      let text = random.chance(0.2) ? randomText(random) : random.pick(seeds);
      const mutations = random.integer(4);
      for (let step = 0; step < mutations; step++) text = mutate(random, text);
      outcomes[checkInput(text, dialect)]++;
    }
    expect(outcomes.compiled + outcomes.rejected).toBeGreaterThan(2_000);
    expect(outcomes.compiled).toBeGreaterThan(200);
    expect(outcomes.rejected).toBeGreaterThan(200);
  });
});
