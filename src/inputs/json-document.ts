import { MAX_DOCUMENT_BYTES, type JsonSequencePart } from "./json-sequence.js";
import { describeJsonType } from "./jsonl.js";
import type { InputItem } from "./record.js";

/**
 * Gives the events of a JSON input their `line`: the line where the event's document starts, or
 * one more than the previous event's when that is higher. Every event of the input then has its
 * own, increasing number, which the checkpoint needs. For a single array that starts on line 1, the
 * numbers are the elements' 1-based positions in the array.
 */
export class JsonEventNumbers {
  private last = 0;

  next(documentLine: number): number {
    this.last = Math.max(documentLine, this.last + 1);
    return this.last;
  }
}

/**
 * Turns one part of a JSON input into events, or into the problem that kept it from being read.
 * A document is one event object, an array of events, or a `/v1/batch` request body
 * (`{"batch": [...]}`) as analytics.js sends it.
 */
export function itemsFromPart(part: JsonSequencePart, input: string, numbers: JsonEventNumbers): InputItem[] {
  switch (part.kind) {
    case "document":
      return itemsFromDocument(part.text, part.firstLine, input, numbers);
    case "not-closed":
      return [problem(input, part.firstLine, "malformed-json", `${input}:${part.firstLine}: ${describeNotClosed(part)}`)];
    case "too-large":
      return [problem(input, part.firstLine, "unreadable-file", `${input}:${part.firstLine}: ${describeTooLarge(part, input)}`)];
    default: {
      const unknownPart: never = part;
      throw new Error(`unknown part ${JSON.stringify(unknownPart)}`);
    }
  }
}

function itemsFromDocument(text: string, firstLine: number, input: string, numbers: JsonEventNumbers): InputItem[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return [malformedDocument(text, firstLine, input, (error as Error).message)];
  }

  const elements = Array.isArray(value) ? value : isObject(value) && Array.isArray(value["batch"]) ? (value["batch"] as unknown[]) : undefined;
  if (elements !== undefined) {
    return elements.map((element, index) => itemFromElement(element, index + 1, firstLine, input, numbers));
  }
  if (isObject(value)) {
    return [{ kind: "record", origin: { input, line: numbers.next(firstLine) }, event: value }];
  }
  const message = `${input}:${firstLine}: the JSON document that starts here is ${describeJsonType(value)}, expected an event object or an array of them`;
  return [problem(input, firstLine, "not-an-object", message)];
}

function itemFromElement(element: unknown, position: number, arrayLine: number, input: string, numbers: JsonEventNumbers): InputItem {
  const line = numbers.next(arrayLine);
  if (isObject(element)) {
    return { kind: "record", origin: { input, line }, event: element };
  }
  const message = `${input}: element ${position} of the array that starts at line ${arrayLine} is ${describeJsonType(element)}, expected an event object`;
  return problem(input, line, "not-an-object", message);
}

/**
 * Describes a document that JSON.parse rejected, at the line of the error, or text between
 * documents that is not a document. V8's message gives the position within the document, which is left out
 * because the line within the input replaces it.
 */
function malformedDocument(text: string, firstLine: number, input: string, parseMessage: string): InputItem {
  if (!/^[[{"]/.test(text)) {
    const message = `${input}:${firstLine}: unexpected text ${JSON.stringify(excerpt(text))} between JSON documents; remove it, because documents one after another are separated by whitespace only`;
    return problem(input, firstLine, "malformed-json", message);
  }
  const line = firstLine + linesBefore(text, parseMessage);
  const reason = parseMessage.replace(/ at position \d+( \(line \d+ column \d+\))?/, "");
  const message = `${input}:${line}: invalid JSON in the document that starts at line ${firstLine} (${reason}); fix the document, or give one event per line (JSONL)`;
  return problem(input, line, "malformed-json", message);
}

function describeNotClosed(part: Extract<JsonSequencePart, { kind: "not-closed" }>): string {
  const skipped = part.lastLine > part.firstLine ? `lines ${part.firstLine} to ${part.lastLine} were skipped` : "the line was skipped";
  if (part.ending.kind === "new-document") {
    return `the JSON document that starts here is cut short: another document starts at line ${part.ending.line} before this one is closed, so ${skipped}; complete or remove the broken document`;
  }
  return `the JSON document that starts here is not closed at the end of the input (line ${part.lastLine}), so ${skipped}; the file may be truncated, so export or download it again`;
}

function describeTooLarge(part: Extract<JsonSequencePart, { kind: "too-large" }>, input: string): string {
  const megabytes = (bytes: number): string => `${Math.round(bytes / (1024 * 1024))} MiB`;
  let end: string;
  switch (part.ending.kind) {
    case "closed":
      end = `it ends at line ${part.lastLine}`;
      break;
    case "new-document":
      end = `another document starts at line ${part.ending.line} before it is closed`;
      break;
    case "end-of-input":
      end = `it is not closed at the end of the input, line ${part.lastLine}`;
      break;
  }
  return `the JSON document that starts here is ${megabytes(part.bytes)} long, more than the ${megabytes(MAX_DOCUMENT_BYTES)} a document may have (${end}), so it was skipped without being held in memory; convert the file to JSONL, one event per line (for an array: jq -c '.[]' ${input})`;
}

function problem(input: string, line: number, reason: "malformed-json" | "not-an-object" | "unreadable-file", message: string): InputItem {
  return { kind: "problem", origin: { input, line }, reason, message };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Counts the line breaks before the offset that V8's JSON.parse message names ("… at position 12 …"), or 0. */
function linesBefore(text: string, message: string): number {
  const match = /position (\d+)/.exec(message);
  if (match === null) {
    return 0;
  }
  const offset = Number(match[1]);
  let lines = 0;
  for (let index = text.indexOf("\n"); index !== -1 && index < offset; index = text.indexOf("\n", index + 1)) {
    lines += 1;
  }
  return lines;
}

function excerpt(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
