/**
 * Paths into an event, as `@path`, `@arrayPath` and template placeholders write them: `$.a.b`,
 * `a.b`, `.a.b`, `$.a[0]`, `$.a.0`, `$['a b']`, `$.a["b c"]`. `$`, `$.`, `.` and the empty string
 * are the event itself. A bracket that does not start with a quote or a digit is part of the key
 * name, as in Segment (`$.a[b]` reads the key `a[b]`).
 *
 * Differences from Segment's `get` (actions-core 3.170.0), each of which only changes results that
 * Segment gets wrong: a quoted key keeps its dots (`['b.c']` is one key), `..` is rejected instead of
 * collapsed, `$` and `$['a b']` start at the event, and lookups see only own properties of objects
 * and indices of arrays, so `length`, `__proto__`, methods and a string's characters are never
 * reachable, and a path through `0`, `""` or `false` finds nothing instead of returning that value.
 */

/** One step of a path: an object key, and the array index it denotes (-1 when it is not an index). */
export interface PathSegment {
  key: string;
  index: number;
}

/**
 * A parsed path, or why it is invalid. The reason never quotes the path, so that invalid paths computed
 * from events group under one reason. `position` is the 0-based index in the path where the problem starts.
 */
export type ParsedPath = { ok: true; segments: PathSegment[] } | { ok: false; reason: string; position: number };

/** Formats the problem of an invalid path for a message that quotes the path before it. */
export function describePathProblem(parsed: { reason: string; position: number }): string {
  return `${parsed.reason} at position ${parsed.position}`;
}

/** Reads the value at a compiled path, or undefined when any step is missing. */
export type PathGetter = (root: unknown) => unknown;

const canonicalIndex = /^(?:0|[1-9][0-9]{0,8})$/;

function segmentOf(key: string): PathSegment {
  return { key, index: canonicalIndex.test(key) ? Number(key) : -1 };
}

function isDigit(character: string | undefined): boolean {
  return character !== undefined && character >= "0" && character <= "9";
}

function startsBracket(text: string, position: number): boolean {
  const next = text[position + 1];
  return text[position] === "[" && (next === "'" || next === '"' || isDigit(next));
}

interface BracketResult {
  key?: string;
  end: number;
  reason?: string;
}

function readBracket(text: string, start: number): BracketResult {
  const opener = text[start + 1] ?? "";
  if (opener === "'" || opener === '"') {
    const close = text.indexOf(`${opener}]`, start + 2);
    if (close === -1) {
      return { end: start, reason: `the quoted key is not closed with ${opener}]` };
    }
    return { key: text.slice(start + 2, close), end: close + 2 };
  }
  let position = start + 1;
  while (isDigit(text[position])) position++;
  if (text[position] !== "]") {
    return { end: start, reason: "the index must be digits followed by ]" };
  }
  return { key: text.slice(start + 1, position), end: position + 1 };
}

/** Parses a path. Rejects `..` (JSONPath's recursive descent, which Segment silently ignores) and unclosed brackets. */
export function parsePath(text: string): ParsedPath {
  if (text === "" || text === "." || text === "$" || text === "$.") {
    return { ok: true, segments: [] };
  }
  let rest = text;
  if (rest.startsWith("$.")) rest = rest.slice(2);
  else if (rest.startsWith("$[")) rest = rest.slice(1);
  // A single leading dot starts at the event, as in Segment and in jq: `.a.b` is `$.a.b`.
  else if (rest.startsWith(".") && rest[1] !== ".") rest = rest.slice(1);
  // Positions are counted in `rest` and reported in `text`, which may start with the `$` or `$.` taken off.
  const offset = text.length - rest.length;
  if (rest.startsWith(".")) {
    return { ok: false, reason: "recursive descent (..) is not supported, so name each key, as in $.a.b", position: offset };
  }

  const segments: PathSegment[] = [];
  let position = 0;
  while (position < rest.length) {
    if (startsBracket(rest, position)) {
      const bracket = readBracket(rest, position);
      if (bracket.key === undefined) return { ok: false, reason: bracket.reason ?? "invalid bracket", position: offset + position };
      segments.push(segmentOf(bracket.key));
      position = bracket.end;
    } else {
      const start = position;
      while (position < rest.length && rest[position] !== "." && !startsBracket(rest, position)) position++;
      segments.push(segmentOf(rest.slice(start, position)));
    }

    if (rest[position] === ".") {
      position++;
      if (rest[position] === ".") {
        return { ok: false, reason: "empty key between two dots", position: offset + position };
      }
    }
  }
  return { ok: true, segments };
}

function step(current: unknown, segment: PathSegment): unknown {
  if (typeof current !== "object" || current === null) return undefined;
  if (Array.isArray(current)) {
    return segment.index >= 0 && segment.index < current.length ? current[segment.index] : undefined;
  }
  return Object.hasOwn(current, segment.key) ? (current as Record<string, unknown>)[segment.key] : undefined;
}

/** Builds a getter for parsed segments. Paths of one to three keys, the common case, get unrolled getters. */
export function compilePathGetter(segments: readonly PathSegment[]): PathGetter {
  const [first, second, third] = segments;
  switch (segments.length) {
    case 0:
      return (root) => root;
    case 1:
      return (root) => step(root, first!);
    case 2:
      return (root) => step(step(root, first!), second!);
    case 3:
      return (root) => step(step(step(root, first!), second!), third!);
    default:
      return (root) => {
        let current = root;
        for (const segment of segments) {
          current = step(current, segment);
          if (current === undefined) return undefined;
        }
        return current;
      };
  }
}
