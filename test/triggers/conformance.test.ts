import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { SegmentEvent } from "../../src/inputs/record.js";
import { compileTrigger, TriggerSyntaxError, type CompiledTrigger } from "../../src/triggers/index.js";

// Cases recorded from @segment/destination-subscriptions 3.37.0, with the anomalies where
// koala-replay must diverge from it. The fixture README describes the rules applied here.
interface ConformanceCase {
  trigger: string;
  event: SegmentEvent;
  expected: boolean;
  note: string;
  anomaly?: boolean;
  parseError?: string;
}

interface SaneEntry {
  event: SegmentEvent;
  expected: boolean;
  reference: boolean;
}

interface Anomaly {
  trigger: string;
  kind: "should-reject" | "mis-evaluated" | "wrongly-rejected";
  whyBroken: string;
  saneExpected:
    | SaneEntry[]
    | { error: string; alternative?: string; ifAcceptedWithConventionalSemantics?: SaneEntry[] };
}

interface Example {
  fql: string;
  dialect: "fql" | "subscription";
  event?: string;
  expected?: boolean | "invalid";
  note?: string;
}

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/conformance/${name}`, import.meta.url), "utf8")) as T;
}

const cases = readFixture<ConformanceCase[]>("fql.json");
const anomalies = readFixture<Anomaly[]>("fql-anomalies.json");
const examples = readFixture<{ docEvent: SegmentEvent; examples: Example[] }>("fql-examples.json");
const anomalyByTrigger = new Map(anomalies.map((anomaly) => [anomaly.trigger, anomaly]));

/**
 * Recorded expectations that contradict glob semantics, with the value a glob gives. `*` matches any
 * run of characters, so "O*d" matches "Oh*d" (O, then "h*", then d) and "*Order*" matches "*Order!".
 * Each is still asserted, so a change in the glob matcher fails here.
 */
const globCorrections: ReadonlyMap<string, boolean> = new Map([
  [correctionKey('match(event, "O*d")', { type: "track", event: "Oh*d", properties: {} }), true],
  [correctionKey('match(event, "*Order*")', { type: "track", event: "*Order!", properties: {} }), true],
]);

function correctionKey(trigger: string, event: SegmentEvent): string {
  return `${trigger} ${JSON.stringify(event)}`;
}

function saneValue(trigger: string, entry: SaneEntry): boolean {
  return globCorrections.get(correctionKey(trigger, entry.event)) ?? entry.expected;
}

/** Compiles a trigger and returns the syntax error instead of throwing it. Any other error fails the test. */
function tryCompile(trigger: string, dialect: "subscription" | "fql" = "subscription"): CompiledTrigger | TriggerSyntaxError {
  try {
    return compileTrigger(trigger, { dialect });
  } catch (error) {
    if (error instanceof TriggerSyntaxError) return error;
    throw error;
  }
}

function expectPositionedRejection(trigger: string, outcome: CompiledTrigger | TriggerSyntaxError): void {
  if (!(outcome instanceof TriggerSyntaxError)) {
    expect.fail(`expected ${JSON.stringify(trigger)} to be rejected, but it compiled to ${JSON.stringify(outcome.normalized)}`);
  }
  expect(outcome.position.offset, `error offset for ${JSON.stringify(trigger)}`).toBeGreaterThanOrEqual(0);
  expect(outcome.position.offset, `error offset for ${JSON.stringify(trigger)}`).toBeLessThanOrEqual(trigger.length);
  expect(outcome.message).toContain(`line ${outcome.position.line}, column ${outcome.position.column}`);
}

function expectMatch(trigger: CompiledTrigger | TriggerSyntaxError, source: string, event: SegmentEvent, expected: boolean): void {
  if (trigger instanceof TriggerSyntaxError) {
    expect.fail(`expected ${JSON.stringify(source)} to compile, but it was rejected:\n${trigger.message}`);
  }
  const actual = trigger.matches(event);
  expect(actual, `trigger ${JSON.stringify(source)} on event ${JSON.stringify(event)}: expected ${expected}, got ${actual}`).toBe(expected);
}

function sameEvent(a: SegmentEvent, b: SegmentEvent): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Applies an anomaly's rule to one event, or to all of its recorded events when `event` is undefined. */
function checkAnomaly(anomaly: Anomaly, event?: SegmentEvent): void {
  const outcome = tryCompile(anomaly.trigger);
  const sane = anomaly.saneExpected;
  if (anomaly.kind !== "should-reject") {
    const entries = sane as SaneEntry[];
    const selected = event === undefined ? entries : entries.filter((entry) => sameEvent(entry.event, event));
    if (selected.length === 0) expect.fail(`no saneExpected entry for event ${JSON.stringify(event)} of ${JSON.stringify(anomaly.trigger)}`);
    for (const entry of selected) expectMatch(outcome, anomaly.trigger, entry.event, saneValue(anomaly.trigger, entry));
    return;
  }

  const rule = sane as Exclude<Anomaly["saneExpected"], SaneEntry[]>;
  if (outcome instanceof TriggerSyntaxError) {
    expectPositionedRejection(anomaly.trigger, outcome);
    return;
  }
  if (rule.ifAcceptedWithConventionalSemantics !== undefined) {
    for (const entry of rule.ifAcceptedWithConventionalSemantics) expectMatch(outcome, anomaly.trigger, entry.event, entry.expected);
    return;
  }
  if (rule.alternative !== undefined) {
    // The alternative reading strips single quotes, so the trigger must behave as its double-quoted form.
    const doubleQuoted = anomaly.trigger.replace(/'/g, '"');
    expect(outcome.normalized).toBe(compileTrigger(doubleQuoted).normalized);
    if (event !== undefined) expectMatch(outcome, anomaly.trigger, event, compileTrigger(doubleQuoted).matches(event));
    return;
  }
  expectPositionedRejection(anomaly.trigger, outcome);
}

function caseName(testCase: ConformanceCase): string {
  return `${JSON.stringify(testCase.trigger)} on ${JSON.stringify(testCase.event)}`;
}

describe("fql.json", () => {
  test.each(cases.map((testCase) => [caseName(testCase), testCase] as const))("%s", (_name, testCase) => {
    if (testCase.anomaly === true) {
      const anomaly = anomalyByTrigger.get(testCase.trigger);
      if (anomaly === undefined) expect.fail(`no anomaly recorded for ${JSON.stringify(testCase.trigger)}`);
      checkAnomaly(anomaly, testCase.event);
      return;
    }
    const outcome = tryCompile(testCase.trigger);
    if (testCase.parseError !== undefined) {
      expectPositionedRejection(testCase.trigger, outcome);
      return;
    }
    expectMatch(outcome, testCase.trigger, testCase.event, testCase.expected);
  });
});

describe("fql-anomalies.json", () => {
  test.each(anomalies.map((anomaly) => [`${anomaly.kind} ${JSON.stringify(anomaly.trigger)}`, anomaly] as const))("%s", (_name, anomaly) => {
    checkAnomaly(anomaly);
  });
});

describe("fql-examples.json", () => {
  const checked = examples.examples.filter((example) => example.expected !== undefined);

  test.each(checked.map((example) => [`${example.dialect} ${JSON.stringify(example.fql)}`, example] as const))("%s", (_name, example) => {
    const outcome = tryCompile(example.fql, example.dialect);
    if (example.expected === "invalid") {
      expectPositionedRejection(example.fql, outcome);
      return;
    }
    const event = example.event === "docEvent" ? examples.docEvent : {};
    expectMatch(outcome, example.fql, event, example.expected as boolean);
  });

  // Examples without a recorded result must compile in their dialect, except these, which are rejected
  // on purpose: the pattern must be the quoted second argument of match(), a string needs its closing
  // quote, and a function that returns a value is not a condition on its own.
  const rejected = new Set([
    "type = 'track' and ( event = 'Click' or match( 'Button *', event ) )",
    'uppercase("United States)',
    "lowercase(properties.propertyValue1)",
    "lowercase(properties.prop1)",
  ]);
  const unchecked = examples.examples.filter((example) => example.expected === undefined);
  test.each(unchecked.map((example) => [`${example.dialect} ${JSON.stringify(example.fql)}`, example] as const))("%s", (_name, example) => {
    const outcome = tryCompile(example.fql, example.dialect);
    if (rejected.has(example.fql)) {
      expectPositionedRejection(example.fql, outcome);
      return;
    }
    if (outcome instanceof TriggerSyntaxError) expect.fail(`expected ${JSON.stringify(example.fql)} to compile:\n${outcome.message}`);
  });
});
