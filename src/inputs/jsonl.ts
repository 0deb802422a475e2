import type { InputItem, RecordOrigin } from "./record.js";

/**
 * Parses one JSONL line into an event, or into a problem that says what is wrong with the line and
 * where. Blank lines are not events and return undefined.
 */
export function parseJsonLine(text: string, origin: RecordOrigin): InputItem | undefined {
  const line = text.endsWith("\r") ? text.slice(0, -1) : text;
  if (line.trim() === "") {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return {
      kind: "problem",
      origin,
      reason: "malformed-json",
      message: `${origin.input}:${origin.line}: invalid JSON (${(error as Error).message}); fix or remove the line and run again`,
    };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      kind: "problem",
      origin,
      reason: "not-an-object",
      message: `${origin.input}:${origin.line}: expected a JSON object (one event per line), found ${describeJsonType(value)}`,
    };
  }
  return { kind: "record", origin, event: value as Record<string, unknown> };
}

/** Calls `visit` for every line of `text`, numbered from `firstLine`. */
export function forEachLine(text: string, firstLine: number, visit: (line: string, lineNumber: number) => void): void {
  let start = 0;
  let lineNumber = firstLine;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) {
      end = text.length;
    }
    visit(text.slice(start, end), lineNumber);
    lineNumber += 1;
    start = end + 1;
  }
}

export function describeJsonType(value: unknown): string {
  if (value === null) {
    return "null";
  }
  if (Array.isArray(value)) {
    return "an array";
  }
  return `a ${typeof value}`;
}
