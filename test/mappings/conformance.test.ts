import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { compileMapping, MappingRuntimeError, MappingValidationError } from "../../src/mappings/index.js";

interface ConformanceCase {
  mapping: unknown;
  event: Record<string, unknown>;
  expected: unknown;
  note: string;
  errorPhase?: "validation" | "runtime";
  anomaly?: boolean;
}

interface Anomaly {
  directive: string;
  mapping: unknown;
  event: unknown;
  referenceResult: unknown;
  saneExpected: unknown;
  whyBroken: string;
  recommendation: "diverge" | "match-reference" | "either";
}

const fixtures = new URL("../../fixtures/conformance/", import.meta.url);
const cases = JSON.parse(readFileSync(new URL("mapping.json", fixtures), "utf8")) as ConformanceCase[];
const anomalies = JSON.parse(readFileSync(new URL("mapping-anomalies.json", fixtures), "utf8")) as Anomaly[];

/**
 * Cases where Segment fails at run time on a problem that the mapping itself shows. koala-replay
 * reports these when the mapping is loaded, before any event is read, so the test expects
 * `compileMapping` to throw. Each entry gives the reason it can be known in advance.
 */
const reportedAtLoad: ReadonlyMap<string, string> = new Map([
  ['[@case] unknown operator on a string -> runtime error (from tests)', "the operator is a literal string"],
  ["[@case] operator is case-sensitive -> runtime error", "the operator is a literal string"],
  ['[@liquid] disabled tag "for" -> error', "the template is parsed when the mapping is compiled"],
  ["[@liquid] over 1000 characters -> error (from tests)", "the template's length is known"],
  ["[validation] invalid directive in an array inside @if then, runtime error", "arrays are validated like objects"],
]);

type Outcome = { kind: "output"; value: unknown } | { kind: "validation-error" | "runtime-error"; message: string };

function run(mapping: unknown, event: Record<string, unknown>): Outcome {
  let compiled;
  try {
    compiled = compileMapping(deepFreeze(structuredClone(mapping)));
  } catch (error) {
    if (error instanceof MappingValidationError) return { kind: "validation-error", message: error.message };
    throw error;
  }
  try {
    return { kind: "output", value: compiled.apply(deepFreeze(structuredClone(event))) };
  } catch (error) {
    if (error instanceof MappingRuntimeError) return { kind: "runtime-error", message: error.message };
    throw error;
  }
}

/** Freezes the mapping and the event, so that any attempt to modify them throws. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function isErrorValue(value: unknown): value is { error: string } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).join() === "error";
}

function findAnomaly(testCase: ConformanceCase): Anomaly {
  const anomaly = anomalies.find(
    (candidate) => isDeepStrictEqual(candidate.mapping, testCase.mapping) && isDeepStrictEqual(candidate.event, testCase.event),
  );
  if (anomaly === undefined) throw new Error(`no anomaly entry for case "${testCase.note}"`);
  return anomaly;
}

/** The results a case accepts, each an output value or an error of a given phase ("any" for anomalies, which name none). */
type Accepted = { kind: "output"; value: unknown } | { kind: "error"; phase: "validation" | "runtime" | "any" };

function accepted(testCase: ConformanceCase): Accepted[] {
  if (testCase.anomaly !== true) {
    if (!isErrorValue(testCase.expected)) return [{ kind: "output", value: testCase.expected }];
    const phase = reportedAtLoad.has(testCase.note) ? "validation" : (testCase.errorPhase ?? "any");
    return [{ kind: "error", phase }];
  }
  const anomaly = findAnomaly(testCase);
  const values =
    anomaly.recommendation === "diverge"
      ? [anomaly.saneExpected]
      : anomaly.recommendation === "match-reference"
        ? [anomaly.referenceResult]
        : [anomaly.saneExpected, anomaly.referenceResult];
  return values.map((value): Accepted => (isErrorValue(value) ? { kind: "error", phase: "any" } : { kind: "output", value }));
}

function matches(outcome: Outcome, accept: Accepted): boolean {
  if (accept.kind === "output") return outcome.kind === "output" && isDeepStrictEqual(outcome.value, accept.value);
  if (outcome.kind === "output") return false;
  if (accept.phase === "any") return true;
  return outcome.kind === `${accept.phase}-error`;
}

describe("mapping conformance", () => {
  it("covers every case", () => {
    expect(cases.length).toBe(292);
  });

  it.each(cases.map((testCase, index) => [index, testCase.note, testCase] as const))("case %i: %s", (_index, _note, testCase) => {
    const outcome = run(testCase.mapping, testCase.event);
    const accepts = accepted(testCase);
    const report = [
      `mapping:  ${JSON.stringify(testCase.mapping)}`,
      `event:    ${JSON.stringify(testCase.event)}`,
      `expected: ${JSON.stringify(accepts)}`,
      `actual:   ${JSON.stringify(outcome)}`,
    ].join("\n");
    expect(accepts.some((accept) => matches(outcome, accept)), report).toBe(true);
  });
});

describe("mapping anomalies outside the case list", () => {
  it("method names are not reachable through @path", () => {
    expect(run({ v: { "@path": "$.s.toString" } }, { s: "x" })).toEqual({ kind: "output", value: {} });
  });

  it("@replace leaves its mapping untouched", () => {
    const mapping = { v: { "@replace": { pattern: "a", value: { "@path": "$.s" } } } };
    const copy = structuredClone(mapping);
    expect(compileMapping(mapping).apply({ s: "banana" })).toEqual({ v: "bnn" });
    expect(mapping).toStrictEqual(copy);
  });

  it("every anomaly is used or tested", () => {
    const used = anomalies.filter((anomaly) =>
      cases.some((testCase) => isDeepStrictEqual(anomaly.mapping, testCase.mapping) && isDeepStrictEqual(anomaly.event, testCase.event)),
    );
    expect(anomalies.length - used.length).toBe(2);
  });
});
