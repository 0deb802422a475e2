import type { SegmentEvent } from "../inputs/record.js";
import type { TriggerNode } from "./ast.js";
import { stringFields } from "./fields.js";
import { formatTrigger } from "./format.js";
import { compilePathReader, isDecimalNumberText, parseTimestamp } from "./values.js";
import { visitNodes } from "./walk.js";

/** A field that a trigger compares with a number, and the text that spells a number in its place. */
export interface NumberAsText {
  field: string;
  value: string;
}

/** A field that a trigger compares with a number, and the reader of its value. */
export interface NumberComparison {
  field: string;
  read: (event: SegmentEvent) => unknown;
}

/** Digits with an optional sign, thousands separators and fraction: `12`, `-3.5`, `1,200`. */
const NUMBER_LIKE_TEXT = /^\s*[+-]?\d[\d,]*(?:\.\d+)?\s*$/;

/**
 * Lists the fields that `root` compares with a number, each once, in trigger order. Text in such a
 * field never matches, because a number compares only with a number. type, event, name and userId
 * are left out, because they compare a number literal as its text.
 */
export function listNumberComparisons(root: TriggerNode): NumberComparison[] {
  const comparisons = new Map<string, NumberComparison>();
  visitNodes(root, (node) => {
    if (node.kind !== "comparison" || node.left.kind !== "path" || node.right.kind !== "literal" || !comparesAsNumber(node.operator, node.right.value)) {
      return;
    }
    if (node.left.segments.length === 1 && stringFields.has(node.left.segments[0] as string)) {
      return;
    }
    const field = formatTrigger(node.left);
    if (!comparisons.has(field)) {
      comparisons.set(field, { field, read: compilePathReader(node.left.segments) });
    }
  });
  return [...comparisons.values()];
}

/**
 * Lists the fields of `comparisons` that hold text spelling a number in `event`. Such a comparison
 * never matches, which explains a CSV event read without --csv-numbers. Each field is listed once,
 * in trigger order.
 */
export function findNumbersAsText(comparisons: readonly NumberComparison[], event: SegmentEvent): NumberAsText[] {
  const found: NumberAsText[] = [];
  for (const { field, read } of comparisons) {
    const value = read(event);
    if (typeof value === "string" && NUMBER_LIKE_TEXT.test(value)) {
      found.push({ field, value });
    }
  }
  return found;
}

/** Checks whether a comparison with this literal needs a number on the other side, as compileComparison decides. */
function comparesAsNumber(operator: string, literal: unknown): boolean {
  if (typeof literal === "number") return true;
  const ordering = operator !== "=" && operator !== "!=";
  // An ordering with a string that spells a number, but not a timestamp, compares as that number.
  return ordering && typeof literal === "string" && Number.isNaN(parseTimestamp(literal)) && isDecimalNumberText(literal);
}
