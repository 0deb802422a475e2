import type { SegmentEvent } from "../inputs/record.js";
import type { TriggerNode } from "./ast.js";
import { compileCondition } from "./compiler.js";
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
  node: TriggerNode;
}

/** A negated test whose field is not text in an event, and what the field is instead. */
export interface NegatedTestWithoutText {
  field: string;
  condition: string;
  /** `absent` for a missing field, `null` for null, else the JSON type of its value (`number`, `object`, …). */
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
    tests.push({ field: formatTrigger(subject), condition: formatTrigger(node), read: compilePathReader(subject.segments), node });
  });
  return tests;
}

/**
 * Lists the tests of `tests` whose field is not text in `event` and that take part in rejecting it.
 * A test in an operand that matches, as in `type = "x" and (a = 1 or !contains(b, "y"))` with a = 1,
 * does not reject the event, so it is left out.
 */
export function findNegatedTestsWithoutText(tests: readonly NegatedTextTest[], root: TriggerNode, event: SegmentEvent): NegatedTestWithoutText[] {
  const rejecting = new Set<TriggerNode>();
  collectRejectingConditions(root, event, rejecting);
  const found: NegatedTestWithoutText[] = [];
  for (const { field, condition, read, node } of tests) {
    if (!rejecting.has(node)) continue;
    const value = read(event);
    if (typeof value === "string") continue;
    found.push({ field, condition, found: describeFound(value) });
  }
  return found;
}

function describeFound(value: unknown): string {
  if (value === undefined) return "absent";
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

/**
 * Adds to `into` the conditions that make `node` reject `event`: `node` itself, or for a failing
 * `and` or `or`, the rejecting conditions of each failing operand. Compiles each node it visits, which
 * is fine for explaining one event but too slow for a run.
 */
function collectRejectingConditions(node: TriggerNode, event: SegmentEvent, into: Set<TriggerNode>): void {
  if (compileCondition(node)(event)) return;
  if (node.kind === "and" || node.kind === "or") {
    for (const operand of node.operands) collectRejectingConditions(operand, event, into);
    return;
  }
  into.add(node);
}
