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
    // Checked only here, on the error path: a line that contains carriage returns is likely a whole file with CR line endings.
    const carriageReturns = countCarriageReturns(line);
    const message =
      carriageReturns > 0
        ? `${origin.input}:${origin.line}: invalid JSON (${(error as Error).message}), and the line contains ${carriageReturns} carriage ${carriageReturns === 1 ? "return" : "returns"} (CR) without a line feed; ${describeCarriageReturnLines(origin.input)}`
        : `${origin.input}:${origin.line}: invalid JSON (${(error as Error).message}); fix or remove the line and run again`;
    return { kind: "problem", origin, reason: "malformed-json", message };
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
  // Ordinary lines have no `batch` key, so they cost one property lookup here.
  if (event["type"] === undefined) {
    if (event["batch"] !== undefined) {
      return requestBodyLineProblem(event, origin);
    }
    const wrapped = describeWrappedEvents(event, "the line", origin.input);
    if (wrapped !== undefined) {
      return { kind: "problem", origin, reason: "not-an-object", message: `${origin.input}:${origin.line}: ${wrapped}` };
    }
  }
  return { kind: "record", origin, event };
}

/**
 * Describes an object without a type whose array under some key contains objects with a type, such
 * as `{"events": [...]}` from an export script, or returns undefined. Read as it is, the object
 * would be one event without a type, and the events in it would be lost without a word.
 */
export function describeWrappedEvents(value: Record<string, unknown>, subject: string, input: string): string | undefined {
  for (const [key, member] of Object.entries(value)) {
    if (!Array.isArray(member) || member.length === 0) continue;
    const first: unknown = member[0];
    if (typeof first !== "object" || first === null || typeof (first as Record<string, unknown>)["type"] !== "string") continue;
    const objects = member.length === 1 ? "1 object" : `${member.length} objects`;
    const path = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}[]` : `.[${JSON.stringify(key)}][]`;
    return (
      `${subject} has no type, but its ${JSON.stringify(key)} array holds ${objects} with a type, which look like events wrapped in an object, so none of them was read; ` +
      `write them one per line with jq -c '${path}' ${input} > events.jsonl, and replay events.jsonl`
    );
  }
  return undefined;
}

/**
 * Reports a line that is a `/v1/batch` request body, or returns undefined when its batch is empty.
 * Its events are not read, because the checkpoint of a JSONL input counts lines, and a line whose
 * events were sent in part could not be resumed. `--format json` reads the same file as JSON
 * documents one after another, which gives every event of a body a number of its own.
 */
function requestBodyLineProblem(body: Record<string, unknown>, origin: RecordOrigin): InputItem | undefined {
  const where = `${origin.input}:${origin.line}`;
  const batch = body["batch"];
  if (!Array.isArray(batch)) {
    return { kind: "problem", origin, reason: "not-an-object", message: `${where}: ${describeBatchWithoutArray(body)}` };
  }
  if (batch.length === 0) {
    // No events, as when --format json reads it.
    return undefined;
  }
  const events = batch.length === 1 ? "1 event" : `${batch.length} events`;
  const message =
    `${where}: the line is a /v1/batch request body with ${events}, which JSON lines input does not expand, so none of them was read; ` +
    `read the file with --format json, which expands request bodies with their context and integrations ` +
    `(and use --restart, not --resume, to go on from a checkpoint written without it)`;
  return { kind: "problem", origin, reason: "not-an-object", message };
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
 * Describes an input whose lines end in CR alone (as on classic Mac OS), which JSON Lines does not
 * allow, so that its events were read as one line, with the command that converts it.
 */
export function describeCarriageReturnLines(input: string): string {
  const convert =
    input === "-" ? "pipe it through tr '\\r' '\\n'" : input.endsWith(".gz") ? `convert it with gunzip -c ${input} | tr '\\r' '\\n' > fixed.jsonl` : `convert it with tr '\\r' '\\n' < ${input} > fixed.jsonl`;
  return `the input seems to use CR line endings, which JSON Lines does not allow, so its events were read as one line and none of them was sent; ${convert}, and give the result`;
}

function countCarriageReturns(text: string): number {
  let count = 0;
  for (let index = text.indexOf("\r"); index !== -1; index = text.indexOf("\r", index + 1)) {
    count += 1;
  }
  return count;
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
