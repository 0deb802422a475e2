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
  const event = value as Record<string, unknown>;
  if (isBatchWithoutArray(event)) {
    return { kind: "problem", origin, reason: "not-an-object", message: `${origin.input}:${origin.line}: ${describeBatchWithoutArray(event)}` };
  }
  return { kind: "record", origin, event };
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
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * Tests whether an object is a `/v1/batch` request body whose `batch` is not an array. An object
 * with a `type` is taken for an event that has a field named `batch`.
 */
export function isBatchWithoutArray(value: Record<string, unknown>): boolean {
  const batch = value["batch"];
  return batch !== undefined && !Array.isArray(batch) && value["type"] === undefined;
}

export function describeBatchWithoutArray(value: Record<string, unknown>): string {
  return `"batch" is ${describeJsonType(value["batch"])} in this request body, but batch must be an array of events, so the body was not read; put its events in an array ("batch": [{…}, {…}])`;
}
