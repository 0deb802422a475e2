import { compilePathGetter, describePathProblem, parsePath, type PathGetter } from "./path.js";

/**
 * Text templates of `@template`: `{{path}}` and `{{{path}}}` are replaced by the value at the path,
 * trimmed of spaces, in the syntax of `@path` (a leading `$.` is accepted). Both forms insert the value
 * as it is, without HTML escaping. A value inserted by a placeholder is never scanned for placeholders
 * again. Segment (actions-core 3.170.0) scans the output of `{{{…}}}` a second time, which lets event
 * data that contains `{{x}}` read other fields.
 */

export type TemplatePart = string | PathGetter;

/** A placeholder whose path is invalid: its text with the braces, and the problem's 0-based index in that text. */
export interface PlaceholderProblem {
  placeholder: string;
  reason: string;
  position: number;
}

export type ParsedTemplate = { ok: true; parts: TemplatePart[] } | ({ ok: false } & PlaceholderProblem);

/** Formats the problem of an invalid template for a message that does not quote the template. */
export function describeTemplateProblem(problem: PlaceholderProblem): string {
  return `placeholder ${problem.placeholder}: ${describePathProblem(problem)}`;
}

const triplePlaceholder = /\{\{\{([^}]+)\}\}\}/g;
const doublePlaceholder = /\{\{([^}]+)\}\}/g;

function placeholderGetter(placeholder: string, inner: string): PathGetter | PlaceholderProblem {
  const path = inner.trim();
  const parsed = parsePath(path);
  if (parsed.ok) return compilePathGetter(parsed.segments);
  const braces = (placeholder.length - inner.length) / 2;
  const leadingSpaces = inner.length - inner.trimStart().length;
  return { placeholder, reason: parsed.reason, position: braces + leadingSpaces + parsed.position };
}

/**
 * Splits `text` at the placeholders of `pattern`, passing the literal pieces in between to `literal`
 * with their offset in `text`.
 */
function splitAt(
  text: string,
  pattern: RegExp,
  parts: TemplatePart[],
  literal: (piece: string, offset: number) => PlaceholderProblem | undefined,
): PlaceholderProblem | undefined {
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const problem = literal(text.slice(last, match.index), last);
    if (problem !== undefined) return problem;
    const getter = placeholderGetter(match[0], match[1] ?? "");
    if (typeof getter !== "function") return getter;
    parts.push(getter);
    last = match.index + match[0].length;
  }
  return literal(text.slice(last), last);
}

/** Calls `visit` with each literal piece of a template and its offset, as `parseTemplate` splits it. */
function visitLiterals(text: string, visit: (piece: string, offset: number) => void): void {
  const parts: TemplatePart[] = [];
  splitAt(text, triplePlaceholder, parts, (between, betweenOffset) =>
    splitAt(between, doublePlaceholder, parts, (piece, pieceOffset) => {
      visit(piece, betweenOffset + pieceOffset);
      return undefined;
    }),
  );
}

/**
 * Returns the 0-based positions of the `{{` in a template that start no placeholder, because no `}}`
 * closes them or the text up to the next `}}` is empty or contains `}`. Such braces are rendered as text.
 */
export function findStrayOpeningBraces(text: string): number[] {
  return findInLiterals(text, "{{");
}

/**
 * Returns the 0-based positions of the `}}` in a template that end no placeholder, as in "{id}}",
 * whose braces are rendered as text.
 */
export function findStrayClosingBraces(text: string): number[] {
  return findInLiterals(text, "}}");
}

/** Returns the 0-based positions in `text` of each `braces` found in the literal pieces of the template. */
function findInLiterals(text: string, braces: "{{" | "}}"): number[] {
  const positions: number[] = [];
  visitLiterals(text, (piece, offset) => {
    for (let at = piece.indexOf(braces); at !== -1; at = piece.indexOf(braces, at + 2)) {
      positions.push(offset + at);
    }
  });
  return positions;
}

/** Checks whether a template has at least one placeholder, so that its text can differ between events. */
export function hasPlaceholder(text: string): boolean {
  const parsed = parseTemplate(text);
  return !parsed.ok || parsed.parts.some((part) => typeof part !== "string");
}

/** Parses a template once: triple-brace placeholders first, then double-brace ones in the text between them. */
export function parseTemplate(text: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  const pushLiteral = (piece: string): undefined => {
    if (piece !== "") parts.push(piece);
    return undefined;
  };
  const problem = splitAt(text, triplePlaceholder, parts, (between) => splitAt(between, doublePlaceholder, parts, pushLiteral));
  if (problem !== undefined) return { ok: false, ...problem };
  return { ok: true, parts };
}

/**
 * Converts a value to template text as JavaScript's `String` does for JSON values (null and missing
 * give "", arrays join with commas, objects give "[object Object]"), without calling any method found
 * on the event, which could be a key named `toString`.
 */
export function templateText(value: unknown): string {
  if (value === null || value === undefined) return "";
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "boolean":
      return String(value);
    case "object":
      if (!Array.isArray(value)) return "[object Object]";
      return value.map((item) => templateText(item)).join(",");
    default:
      return "";
  }
}

export function renderTemplate(parts: readonly TemplatePart[], payload: unknown): string {
  let output = "";
  for (const part of parts) {
    output += typeof part === "string" ? part : templateText(part(payload));
  }
  return output;
}
