import type { SegmentEvent } from "../inputs/record.js";
import type { NodeOfKind, TriggerNode } from "./ast.js";
import { compileComparison, isTypeofCall } from "./comparison.js";
import { compileGlob } from "./glob.js";
import { canonicalTypeName, compilePathReader, toSnakeCase, typeName, valuesEqual, type ValueReader } from "./values.js";

export type EventPredicate = (event: SegmentEvent) => boolean;

/**
 * Compiles a checked syntax tree into closures. Nothing is parsed again per event, and the common
 * shapes (a field against a literal) read the field and compare it without allocating.
 */
export function compileCondition(node: TriggerNode): EventPredicate {
  switch (node.kind) {
    case "or":
      return compileOr(node.operands.map(compileCondition));
    case "and":
      return compileAnd(node.operands.map(compileCondition));
    case "not":
      return compileNot(node);
    case "comparison":
      return compileComparison(node);
    case "in":
      return compileIn(node);
    case "call":
      return compilePredicateCall(node, false);
    case "path": {
      // A bare field used as a condition is true only when its value is exactly true.
      const read = compilePathReader(node.segments);
      return (event) => read(event) === true;
    }
    case "literal": {
      const constant = node.value === true;
      return () => constant;
    }
    case "list":
      throw new Error("internal error: a list reached the compiler as a condition");
    default: {
      const unreachable: never = node;
      return unreachable;
    }
  }
}

function compileOr(operands: EventPredicate[]): EventPredicate {
  if (operands.length === 2) {
    const [first, second] = operands as [EventPredicate, EventPredicate];
    return (event) => first(event) || second(event);
  }
  return (event) => {
    for (const operand of operands) if (operand(event)) return true;
    return false;
  };
}

function compileAnd(operands: EventPredicate[]): EventPredicate {
  if (operands.length === 2) {
    const [first, second] = operands as [EventPredicate, EventPredicate];
    return (event) => first(event) && second(event);
  }
  return (event) => {
    for (const operand of operands) if (!operand(event)) return false;
    return true;
  };
}

/**
 * `!` directly before contains() or match() negates the test but still needs a string, as in Segment:
 * `!contains(event, "x")` is false for an event without `event`. Elsewhere `!` is plain negation.
 */
function compileNot(node: NodeOfKind<"not">): EventPredicate {
  const operand = node.operand;
  if (operand.kind === "call" && !operand.parenthesized && (operand.name === "contains" || operand.name === "match")) {
    return compilePredicateCall(operand, true);
  }
  const inner = compileCondition(operand);
  return (event) => !inner(event);
}

function compilePredicateCall(node: NodeOfKind<"call">, negated: boolean): EventPredicate {
  const read = compileValue(node.args[0] as TriggerNode);
  const argument = node.args[1] as TriggerNode;

  let test: (text: string) => boolean;
  if (node.name === "match") {
    test = compileGlob((argument as NodeOfKind<"literal">).value as string);
  } else if (argument.kind === "literal") {
    // A number needle is searched for as its decimal text, as Segment does: contains(event, 5).
    const needle = typeof argument.value === "number" ? String(argument.value) : argument.value;
    if (typeof needle !== "string") return () => false;
    test = (text) => text.includes(needle);
  } else {
    const readNeedle = compileValue(argument);
    return (event) => {
      const value = read(event);
      const needle = readNeedle(event);
      return typeof value === "string" && typeof needle === "string" && value.includes(needle) !== negated;
    };
  }
  return (event) => {
    const value = read(event);
    return typeof value === "string" && test(value) !== negated;
  };
}

export function compileValue(node: TriggerNode): ValueReader {
  switch (node.kind) {
    case "path":
      return compilePathReader(node.segments);
    case "literal":
    case "list": {
      const constant = literalOf(node);
      return () => constant;
    }
    case "call":
      return compileValueCall(node);
    default:
      throw new Error(`internal error: a ${node.kind} node reached the compiler as a value`);
  }
}

function literalOf(node: TriggerNode): unknown {
  if (node.kind === "literal") return node.value;
  if (node.kind === "list") return node.elements.map(literalOf);
  throw new Error(`internal error: a ${node.kind} node is not a literal`);
}

function compileValueCall(node: NodeOfKind<"call">): ValueReader {
  const read = compileValue(node.args[0] as TriggerNode);
  switch (node.name) {
    case "lowercase":
      return (event) => {
        const value = read(event);
        return typeof value === "string" ? value.toLowerCase() : undefined;
      };
    case "uppercase":
      return (event) => {
        const value = read(event);
        return typeof value === "string" ? value.toUpperCase() : undefined;
      };
    case "snakecase":
      return (event) => {
        const value = read(event);
        return typeof value === "string" ? toSnakeCase(value) : undefined;
      };
    case "length":
      // A missing or null value has length 0, so length(userId) > 0 also tests presence.
      return (event) => {
        const value = read(event);
        if (value === undefined || value === null) return 0;
        if (typeof value === "string" || Array.isArray(value)) return value.length;
        return undefined;
      };
    case "typeof":
      return (event) => typeName(read(event));
    case "contains":
    case "match":
      throw new Error(`internal error: ${node.name}() reached the compiler as a value`);
    default: {
      const unreachable: never = node.name;
      return unreachable;
    }
  }
}

function compileIn(node: NodeOfKind<"in">): EventPredicate {
  const readNeedle = compileValue(node.left);
  if (node.right.kind === "list") {
    let elements = literalOf(node.right) as unknown[];
    if (isTypeofCall(node.left)) {
      elements = elements.map((element) => (typeof element === "string" ? (canonicalTypeName(element) ?? element) : element));
    }
    const primitives = new Set(elements.filter((element) => typeof element !== "object" || element === null));
    const composites = elements.filter((element) => typeof element === "object" && element !== null);
    return (event) => {
      const needle = readNeedle(event);
      const key = needle === undefined ? null : needle;
      if (primitives.has(key)) return true;
      return composites.length > 0 && composites.some((element) => valuesEqual(element, key));
    };
  }
  const readList = compileValue(node.right);
  return (event) => {
    const list = readList(event);
    if (!Array.isArray(list)) return false;
    const needle = readNeedle(event);
    return list.some((element) => valuesEqual(element, needle));
  };
}
