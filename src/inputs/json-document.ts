import { describeJsonType } from "./jsonl.js";
import type { InputItem } from "./record.js";

/**
 * Reads a whole JSON document as events: one event object, an array of events, or a `/v1/batch`
 * request body (`{"batch": [...]}`) as analytics.js sends it. For arrays and batches, a record's
 * `line` is the element's 1-based position in the array.
 */
export function eventsFromDocument(text: string, input: string): InputItem[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const line = lineOfPosition(text, message);
    return [
      {
        kind: "problem",
        origin: { input, line },
        reason: "malformed-json",
        message: `${input}:${line}: invalid JSON document (${message}); fix the file, or give one event per line (JSONL)`,
      },
    ];
  }

  if (Array.isArray(value)) {
    return value.map((element, index) => itemFromElement(element, input, index + 1));
  }
  if (isObject(value) && Array.isArray(value["batch"])) {
    return (value["batch"] as unknown[]).map((element, index) => itemFromElement(element, input, index + 1));
  }
  return [itemFromElement(value, input, 1)];
}

function itemFromElement(element: unknown, input: string, line: number): InputItem {
  if (isObject(element)) {
    return { kind: "record", origin: { input, line }, event: element };
  }
  return {
    kind: "problem",
    origin: { input, line },
    reason: "not-an-object",
    message: `${input}: element ${line} is ${describeJsonType(element)}, expected an event object`,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Finds the line of the offset that V8's JSON.parse message names ("… at position 12 …"), or 1. */
function lineOfPosition(text: string, message: string): number {
  const match = /position (\d+)/.exec(message);
  if (match === null) {
    return 1;
  }
  const offset = Number(match[1]);
  let line = 1;
  for (let index = text.indexOf("\n"); index !== -1 && index < offset; index = text.indexOf("\n", index + 1)) {
    line += 1;
  }
  return line;
}
