import type { SegmentEvent } from "../inputs/record.js";
import type { TriggerNode } from "./ast.js";
import { formatTrigger } from "./format.js";
import { compilePathReader, type ValueReader } from "./values.js";
import { visitNodes } from "./walk.js";

/** A `!contains(field, …)` or `!match(field, …)` condition of a trigger, and the reader of its field. */
export interface NegatedTextTest {
  /** The field tested, in canonical text (`traits.email`). */
  field: string;
  /** The whole negated condition, in canonical text. */
  condition: string;
  read: ValueReader;
}

/** A negated test whose field is not text in an event, and what the field is instead. */
export interface NegatedTestWithoutText {
  field: string;
  condition: string;
  /** `absent` for a missing field or null, else the JSON type of its value (`number`, `object`, …). */
  found: string;
}

/**
 * Lists the `!contains(…)` and `!match(…)` conditions of `root` whose first argument is a field.
 * As in Segment, such a condition needs text in the field, so it rejects an event where the field is
 * absent: `!contains(traits.email, "@example.com")` keeps no event without `traits.email`.
 * A parenthesized call, `!(contains(…))`, is plain negation in FQL and is left out.
 */
export function listNegatedTextTests(root: TriggerNode): NegatedTextTest[] {
  const tests: NegatedTextTest[] = [];
  visitNodes(root, (node) => {
    if (node.kind !== "not") return;
    const call = node.operand;
    if (call.kind !== "call" || call.parenthesized || (call.name !== "contains" && call.name !== "match")) return;
    const subject = call.args[0];
    if (subject?.kind !== "path") return;
    tests.push({ field: formatTrigger(subject), condition: formatTrigger(node), read: compilePathReader(subject.segments) });
  });
  return tests;
}

/** Lists the tests of `tests` whose field is not text in `event`, so that the test rejects it. */
export function findNegatedTestsWithoutText(tests: readonly NegatedTextTest[], event: SegmentEvent): NegatedTestWithoutText[] {
  const found: NegatedTestWithoutText[] = [];
  for (const { field, condition, read } of tests) {
    const value = read(event);
    if (typeof value === "string") continue;
    found.push({ field, condition, found: value === undefined || value === null ? "absent" : Array.isArray(value) ? "array" : typeof value });
  }
  return found;
}
