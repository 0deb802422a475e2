import type { TriggerNode } from "./ast.js";
import { parseTrigger } from "./parser.js";

/**
 * Text values that a trigger requires of fields, by field path: every event the trigger matches
 * contains one of the values in each field named. Fields the trigger does not pin this way are absent.
 */
type RequiredTexts = Map<string, ReadonlySet<string>>;

/**
 * Tells whether some event may match both triggers. Returns false only when a field must hold
 * one text for the first trigger and another for the second, as `type = "track"` and
 * `type = "identify"` require. Any other pair may overlap, so the result leans towards true.
 */
export function triggersMayOverlap(first: string, second: string): boolean {
  const firstTexts = requiredTexts(parseTrigger(first));
  const secondTexts = requiredTexts(parseTrigger(second));
  for (const [field, values] of firstTexts) {
    const others = secondTexts.get(field);
    if (others !== undefined && ![...values].some((value) => others.has(value))) {
      return false;
    }
  }
  return true;
}

function requiredTexts(node: TriggerNode): RequiredTexts {
  switch (node.kind) {
    case "comparison": {
      if (node.operator !== "=") return new Map();
      const pinned = pinnedText(node.left, node.right) ?? pinnedText(node.right, node.left);
      return pinned === undefined ? new Map() : new Map([[pinned.field, new Set([pinned.text])]]);
    }
    case "in": {
      if (node.left.kind !== "path" || node.right.kind !== "list" || node.right.elements.length === 0) return new Map();
      const texts: string[] = [];
      for (const element of node.right.elements) {
        // A list with anything but text pins nothing, so that the result stays on the side of "may overlap".
        if (element.kind !== "literal" || typeof element.value !== "string") return new Map();
        texts.push(element.value);
      }
      return new Map([[fieldKey(node.left.segments), new Set(texts)]]);
    }
    case "and":
      return node.operands.map(requiredTexts).reduce(bothRequired);
    case "or":
      return node.operands.map(requiredTexts).reduce(eitherRequired);
    default:
      return new Map();
  }
}

/** Returns the field and the text that `path = literal` pins it to, or undefined when it pins none. */
function pinnedText(path: TriggerNode, literal: TriggerNode): { field: string; text: string } | undefined {
  if (path.kind !== "path" || literal.kind !== "literal" || typeof literal.value !== "string") return undefined;
  return { field: fieldKey(path.segments), text: literal.value };
}

function fieldKey(segments: readonly string[]): string {
  return JSON.stringify(segments);
}

/** Returns the texts that both conditions of an `and` allow: for a field that both pin, the values in both. */
function bothRequired(left: RequiredTexts, right: RequiredTexts): RequiredTexts {
  const result = new Map(left);
  for (const [field, values] of right) {
    const earlier = result.get(field);
    result.set(field, earlier === undefined ? values : new Set([...values].filter((value) => earlier.has(value))));
  }
  return result;
}

/** Returns the texts that either condition of an `or` allows: only the fields that both pin stay pinned. */
function eitherRequired(left: RequiredTexts, right: RequiredTexts): RequiredTexts {
  const result: RequiredTexts = new Map();
  for (const [field, values] of left) {
    const others = right.get(field);
    if (others !== undefined) result.set(field, new Set([...values, ...others]));
  }
  return result;
}
