import type { LiteralValue, NodeOfKind, TriggerNode } from "./ast.js";
import { compileValue, type EventPredicate } from "./compiler.js";
import { stringFields } from "./fields.js";
import type { ComparisonOperator } from "./tokens.js";
import { canonicalTypeName, isDecimalNumberText, parseTimestamp, valuesEqual, type ValueReader } from "./values.js";

/** Compiles `=`, `!=`, `<`, `<=`, `>` and `>=`, with a fast path for a field compared with a literal. */
export function compileComparison(node: NodeOfKind<"comparison">): EventPredicate {
  const { left, right, operator } = node;
  if (right.kind === "literal" && left.kind !== "literal") return compileAgainstLiteral(left, operator, right.value);
  if (left.kind === "literal" && right.kind !== "literal") return compileAgainstLiteral(right, mirror(operator), left.value);

  const readLeft = compileValue(left);
  const readRight = compileValue(right);
  if (operator === "=") return (event) => valuesEqual(readLeft(event), readRight(event));
  if (operator === "!=") return (event) => !valuesEqual(readLeft(event), readRight(event));
  const holds = orderingTest(operator);
  return (event) => {
    const a = orderingKey(readLeft(event));
    const b = orderingKey(readRight(event));
    return a !== undefined && b !== undefined && a.kind === b.kind && holds(a.value, b.value);
  };
}

/** Swaps the sides of a comparison: `5 < x` is `x > 5`. */
function mirror(operator: ComparisonOperator): ComparisonOperator {
  switch (operator) {
    case "<":
      return ">";
    case "<=":
      return ">=";
    case ">":
      return "<";
    case ">=":
      return "<=";
    case "=":
    case "!=":
      return operator;
    default: {
      const unreachable: never = operator;
      return unreachable;
    }
  }
}

function compileAgainstLiteral(subject: TriggerNode, operator: ComparisonOperator, literal: LiteralValue | unknown[]): EventPredicate {
  const read = compileValue(subject);
  if (Array.isArray(literal) || (typeof literal === "object" && literal !== null)) {
    return operator === "=" ? (event) => valuesEqual(read(event), literal) : (event) => !valuesEqual(read(event), literal);
  }
  if (operator === "=" || operator === "!=") {
    const expected = isTypeofCall(subject) && typeof literal === "string" ? (canonicalTypeName(literal) ?? literal) : literal;
    return compileEquality(read, operator === "=", coerceForStringField(subject, expected as LiteralValue));
  }
  return compileOrdering(read, operator, literal as LiteralValue);
}

/**
 * Segment reads a number or boolean compared with type, event or name as its text, and a number
 * compared with userId as its text, because those fields are strings: `userId = 123` matches "123".
 */
function coerceForStringField(subject: TriggerNode, literal: LiteralValue): LiteralValue {
  if (subject.kind !== "path" || subject.segments.length !== 1 || literal === null) return literal;
  const field = subject.segments[0] as string;
  if (!stringFields.has(field)) return literal;
  if (typeof literal === "number") return String(literal);
  if (typeof literal === "boolean" && field !== "userId") return String(literal);
  return literal;
}

function compileEquality(read: ValueReader, equal: boolean, literal: LiteralValue): EventPredicate {
  if (literal === null) {
    // `= null` means missing or null, `!= null` means present.
    return equal ? (event) => read(event) == null : (event) => read(event) != null;
  }
  if (typeof literal === "number") {
    // As in Segment, `!=` with a number needs a number: a missing field is neither equal nor unequal.
    return equal
      ? (event) => read(event) === literal
      : (event) => {
          const value = read(event);
          return typeof value === "number" && value !== literal;
        };
  }
  return equal ? (event) => read(event) === literal : (event) => read(event) !== literal;
}

/**
 * Ordering needs numbers on both sides, or an ISO-8601 timestamp string on both sides, which compare
 * as instants. A string literal that spells a number compares as that number, as in Segment.
 */
function compileOrdering(read: ValueReader, operator: ComparisonOperator, literal: LiteralValue): EventPredicate {
  const holds = orderingTest(operator);
  if (typeof literal === "number") {
    return (event) => {
      const value = read(event);
      return typeof value === "number" && holds(value, literal);
    };
  }
  if (typeof literal !== "string") return () => false;

  const instant = parseTimestamp(literal);
  if (!Number.isNaN(instant)) {
    return (event) => {
      const value = read(event);
      if (typeof value !== "string") return false;
      const valueInstant = parseTimestamp(value);
      return !Number.isNaN(valueInstant) && holds(valueInstant, instant);
    };
  }
  if (isDecimalNumberText(literal)) return compileOrdering(read, operator, Number(literal));
  return () => false;
}

type OrderingKey = { kind: "number" | "instant"; value: number };

function orderingKey(value: unknown): OrderingKey | undefined {
  if (typeof value === "number") return { kind: "number", value };
  if (typeof value !== "string") return undefined;
  const instant = parseTimestamp(value);
  return Number.isNaN(instant) ? undefined : { kind: "instant", value: instant };
}

function orderingTest(operator: ComparisonOperator): (a: number, b: number) => boolean {
  switch (operator) {
    case "<":
      return (a, b) => a < b;
    case "<=":
      return (a, b) => a <= b;
    case ">":
      return (a, b) => a > b;
    case ">=":
      return (a, b) => a >= b;
    case "=":
      return (a, b) => a === b;
    case "!=":
      return (a, b) => a !== b;
    default: {
      const unreachable: never = operator;
      return unreachable;
    }
  }
}

/** Tests whether a node is a call of `typeof()`, whose result is compared with a type name. */
export function isTypeofCall(node: TriggerNode): boolean {
  return node.kind === "call" && node.name === "typeof";
}
