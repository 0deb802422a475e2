import type { SegmentEvent } from "../inputs/record.js";
import type { TriggerNode } from "./ast.js";
import { stringFields } from "./fields.js";
import { formatTrigger } from "./format.js";
import { compilePathReader, parseTimestamp } from "./values.js";
import { visitNodes } from "./walk.js";

/** A field that a trigger compares with a number, and the text that spells a number in its place. */
export interface NumberAsText {
  field: string;
  value: string;
}

/** Digits with an optional sign, thousands separators and fraction: `12`, `-3.5`, `1,200`. */
const NUMBER_LIKE_TEXT = /^\s*[+-]?\d[\d,]*(?:\.\d+)?\s*$/;

/**
 * Lists the fields that `root` compares with a number but that hold text spelling a number in
 * `event`. Such a comparison never matches, because a number compares only with a number, which
 * explains a CSV event read without --csv-numbers. Each field is listed once, in trigger order.
 */
export function findNumbersAsText(root: TriggerNode, event: SegmentEvent): NumberAsText[] {
  const found = new Map<string, string>();
  visitNodes(root, (node) => {
    if (node.kind !== "comparison" || node.left.kind !== "path" || node.right.kind !== "literal" || !comparesAsNumber(node.operator, node.right.value)) {
      return;
    }
    // type, event, name and userId compare a number literal as its text, so text matches there.
    if (node.left.segments.length === 1 && stringFields.has(node.left.segments[0] as string)) {
      return;
    }
    const value = compilePathReader(node.left.segments)(event);
    const field = formatTrigger(node.left);
    if (typeof value === "string" && NUMBER_LIKE_TEXT.test(value) && !found.has(field)) {
      found.set(field, value);
    }
  });
  return [...found].map(([field, value]) => ({ field, value }));
}

/** Checks whether a comparison with this literal needs a number on the other side, as compileComparison decides. */
function comparesAsNumber(operator: string, literal: unknown): boolean {
  if (typeof literal === "number") return true;
  const ordering = operator !== "=" && operator !== "!=";
  // An ordering with a string that spells a number, but not a timestamp, compares as that number.
  return ordering && typeof literal === "string" && Number.isNaN(parseTimestamp(literal)) && /^[+-]?\d+(?:\.\d+)?$/.test(literal);
}
