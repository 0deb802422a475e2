import { formatCount } from "../reporting/count-format.js";
import { applyBatchDefaults } from "./batch-defaults.js";
import { BATCH_DEFAULT_KEYS, MAX_DOCUMENT_BYTES, type ElementPlace, type JsonSequencePart, type StreamedBatch } from "./json-sequence.js";
import { describeBatchWithoutArray, describeJsonType, describeWrappedEvents, isBatchWithoutArray } from "./jsonl.js";
import type { InputItem } from "./record.js";
import { lostBytesInDecoding, notUtf8Problem } from "./utf8.js";

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
 * (`{"batch": [...]}`) as analytics.js sends it. The elements of a top-level array, or of a
 * request body's batch array, come one by one, and each takes the next event number, broken or not.
 * An element of a batch array that the body's `context` or `integrations` came before gets them,
 * as `applyBatchDefaults` merges them. `onDefaultsAfterBatch` receives the warning about a body
 * whose `context` or `integrations` came after its array, with the number of events that lack them.
 */
export function itemsFromPart(part: JsonSequencePart, input: string, numbers: JsonEventNumbers, onDefaultsAfterBatch?: (message: string, events: number) => void): InputItem[] {
  switch (part.kind) {
    case "document":
      return itemsFromDocument(part, input, numbers, onDefaultsAfterBatch);
    case "element": {
      const element = { eventLine: numbers.next(part.place.documentLine), firstLine: part.firstLine, place: part.place };
      const { item } = itemFromElementBytes(part.bytes, 0, part.bytes.length, element, input);
      if (part.defaults !== undefined && item.kind === "record") {
        applyBatchDefaults(item.event, part.defaults);
      }
      return [item];
    }
    case "not-closed":
      if (part.place !== undefined) {
        numbers.next(part.place.documentLine);
      }
      return [problem(input, part.firstLine, "malformed-json", `${input}:${part.firstLine}: ${describeNotClosed(part)}`)];
    case "too-large":
      if (part.place !== undefined) {
        numbers.next(part.place.documentLine);
      }
      return [problem(input, part.firstLine, "unreadable-file", `${input}:${part.firstLine}: ${describeTooLarge(part, input)}`)];
    case "array-not-closed":
      return [problem(input, part.arrayLine, "malformed-json", `${input}:${part.arrayLine}: ${describeArrayNotClosed(part)}`)];
    case "array-syntax":
      return [problem(input, part.line, "malformed-json", `${input}:${part.line}: ${describeArraySyntax(part)}`)];
    default: {
      const unknownPart: never = part;
      throw new Error(`unknown part ${JSON.stringify(unknownPart)}`);
    }
  }
}

function itemsFromDocument(part: Extract<JsonSequencePart, { kind: "document" }>, input: string, numbers: JsonEventNumbers, onDefaultsAfterBatch?: (message: string, events: number) => void): InputItem[] {
  const { text, firstLine } = part;
  // The elements of a streamed batch array were checked one by one, and nothing outside the array is sent.
  if (part.notUtf8 === true && part.batch === undefined) {
    return [{ kind: "problem", ...notUtf8Problem({ input, line: firstLine }, "The JSON document that starts here") }];
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return [malformedDocument(part, input, (error as Error).message)];
  }

  if (part.batch !== undefined && isObject(value)) {
    const warning = describeDefaultsAfterBatch(value, part.batch, input, firstLine);
    if (warning !== undefined) {
      onDefaultsAfterBatch?.(warning.message, warning.events);
    }
  }
  // A request body whose batch array was streamed has an empty one here, so it adds no event.
  const elements = Array.isArray(value) ? value : isObject(value) && Array.isArray(value["batch"]) ? (value["batch"] as unknown[]) : undefined;
  if (elements !== undefined) {
    return elements.map((element, index) => itemFromElement(element, { eventLine: numbers.next(firstLine), firstLine, place: { position: index + 1, arrayLine: firstLine, documentLine: firstLine } }, input));
  }
  if (isObject(value) && isBatchWithoutArray(value)) {
    numbers.next(firstLine);
    return [problem(input, firstLine, "not-an-object", `${input}:${firstLine}: ${describeBatchWithoutArray(value)}`)];
  }
  const wrapped = isObject(value) && value["type"] === undefined ? describeWrappedEvents(value, "the JSON document that starts here", input) : undefined;
  if (wrapped !== undefined) {
    numbers.next(firstLine);
    return [problem(input, firstLine, "not-an-object", `${input}:${firstLine}: ${wrapped}`)];
  }
  if (isObject(value)) {
    return [{ kind: "record", origin: { input, line: numbers.next(firstLine) }, event: value }];
  }
  const message = `${input}:${firstLine}: the JSON document that starts here is ${describeJsonType(value)}, expected an event object or an array of them`;
  return [problem(input, firstLine, "not-an-object", message)];
}

/**
 * Describes the `context` and `integrations` of a request body that came after its batch array, so
 * that its elements, streamed before the body ended, were read without them. Returns undefined when
 * the body has none that were not applied.
 */
function describeDefaultsAfterBatch(body: Record<string, unknown>, batch: StreamedBatch, input: string, firstLine: number): { message: string; events: number } | undefined {
  const missed = BATCH_DEFAULT_KEYS.filter((key) => isObject(body[key]) && Object.keys(body[key]).length > 0)
    .map((key) => ({ key, elements: batch.elements - (batch.applied ?? []).filter((array) => array.keys.includes(key)).reduce((sum, array) => sum + array.elements, 0) }))
    .filter((entry) => entry.elements > 0);
  if (missed.length === 0) {
    return undefined;
  }
  const keys = missed.map((entry) => `"${entry.key}"`).join(" and ");
  const elements = Math.max(...missed.map((entry) => entry.elements));
  const message =
    `${input}:${firstLine}: the batch body that starts here has its top-level ${keys} after its batch array, so ${missed.length === 1 ? "it was" : "they were"} not applied to its ${formatCount(elements)} ${elements === 1 ? "event" : "events"}, ` +
    `as Segment applies ${missed.length === 1 ? "it" : "them"} to every event of a batch (an email in context.traits and context.library.name matter here). ` +
    `Put the keys before "batch", for example with jq -c '{context, integrations} + .' ${input} > fixed.json, and replay fixed.json`;
  return { message, events: elements };
}

/**
 * An element of a JSON array and its numbers: `eventLine` from `JsonEventNumbers`, which every
 * element takes, broken or not, and `firstLine`, where the element starts, or, for an array parsed
 * whole, where the array starts.
 */
export interface NumberedElement {
  eventLine: number;
  firstLine: number;
  place: ElementPlace;
}

/**
 * Decodes the array element between `start` and `end` of `bytes` and parses it as `itemFromElementText`
 * does, or returns its `not-utf8` problem. Returns the decoded text too, which the entries of its event carry.
 */
export function itemFromElementBytes(bytes: Buffer, start: number, end: number, element: NumberedElement, input: string): { item: InputItem; text: string } {
  const text = bytes.toString("utf8", start, end);
  if (lostBytesInDecoding(text, bytes, start, end)) {
    return { item: { kind: "problem", ...notUtf8Problem({ input, line: element.firstLine }, describeElement(element.place)) }, text };
  }
  return { item: itemFromElementText(text, element, input), text };
}

/**
 * Parses the text of an array element into its event, or into the problem that kept it from being
 * read. Worker threads call it too, so it must give the same result on any thread.
 */
export function itemFromElementText(text: string, element: NumberedElement, input: string): InputItem {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return malformedElement(text, element, input, (error as Error).message);
  }
  return itemFromElement(value, element, input);
}

function itemFromElement(value: unknown, element: NumberedElement, input: string): InputItem {
  if (isObject(value) && Array.isArray(value["batch"]) && value["type"] === undefined) {
    return requestBodyElementProblem(value["batch"].length, element, input);
  }
  if (isObject(value)) {
    return { kind: "record", origin: { input, line: element.eventLine }, event: value };
  }
  const message = `${input}:${element.firstLine}: ${describeElement(element.place)} is ${describeJsonType(value)}, expected an event object`;
  return problem(input, element.firstLine, "not-an-object", message);
}

/**
 * Reports an array element that is a `/v1/batch` request body. Its events are not read, because an
 * element counts as one event in the checkpoint. Written as documents one after another, the same
 * bodies are expanded with their context and integrations.
 */
function requestBodyElementProblem(events: number, element: NumberedElement, input: string): InputItem {
  const count = events === 1 ? "1 event" : `${formatCount(events)} events`;
  const message =
    `${input}:${element.firstLine}: ${describeElement(element.place)} is a /v1/batch request body with ${count}, which an array of request bodies does not expand, so none of them was read; ` +
    `write the bodies one after another with jq -c '.[]' ${input} > bodies.json, and replay bodies.json with --format json`;
  return problem(input, element.firstLine, "not-an-object", message);
}

/**
 * Describes a document that JSON.parse rejected, at the line of the error, or text between
 * documents that is not a document. V8's message gives the position within the document, which is left out
 * because the line within the input replaces it.
 */
function malformedDocument(part: Extract<JsonSequencePart, { kind: "document" }>, input: string, parseMessage: string): InputItem {
  const { text, firstLine, batch } = part;
  if (!/^[[{"]/.test(text)) {
    const message = `${input}:${firstLine}: unexpected text ${JSON.stringify(excerpt(text))} between JSON documents; remove it, because documents one after another are separated by whitespace only`;
    return problem(input, firstLine, "malformed-json", message);
  }
  const line = firstLine + linesBefore(text, parseMessage) + (batch === undefined ? 0 : linesCutBefore(text, parseMessage, batch));
  const reason = describeParseError(parseMessage);
  if (batch !== undefined) {
    const message = `${input}:${line}: invalid JSON in the batch body that starts at line ${firstLine}, outside its batch array (${reason}); the ${formatCount(batch.elements)} elements of the batch array were read, but fix the body`;
    return problem(input, line, "malformed-json", message);
  }
  const message = `${input}:${line}: invalid JSON in the document that starts at line ${firstLine} (${reason}); fix the document, or give one event per line (JSONL)`;
  return problem(input, line, "malformed-json", message);
}

/** Describes an element that JSON.parse rejected, at the line where it starts, with the line of the error. */
function malformedElement(text: string, element: NumberedElement, input: string, parseMessage: string): InputItem {
  const errorLine = element.firstLine + linesBefore(text, parseMessage);
  const where = errorLine === element.firstLine ? "" : `, at line ${errorLine}`;
  const message = `${input}:${element.firstLine}: invalid JSON in ${describeElement(element.place)} (${describeParseError(parseMessage)}${where}), so the element was skipped; fix or remove it`;
  return problem(input, element.firstLine, "malformed-json", message);
}

/** Names an element of a JSON array by its position and the line where the array starts. */
function describeElement(place: ElementPlace): string {
  return `element ${formatCount(place.position)} of the array that starts at line ${place.arrayLine}`;
}

/** Removes V8's position within the parsed text from a JSON.parse message, because the line within the input replaces it. */
function describeParseError(parseMessage: string): string {
  return parseMessage.replace(/ at position \d+( \(line \d+ column \d+\))?/, "");
}

function describeNotClosed(part: Extract<JsonSequencePart, { kind: "not-closed" }>): string {
  const skipped = part.lastLine > part.firstLine ? `lines ${part.firstLine} to ${part.lastLine} were skipped` : "the line was skipped";
  const value = part.place === undefined ? "the JSON document that starts here" : describeElement(part.place);
  switch (part.ending.kind) {
    case "next-element":
      return `${value} is cut short: the next element starts at line ${part.ending.line} before this one is closed, so ${skipped}; complete or remove the broken element`;
    case "new-document":
      if (part.batch !== undefined) {
        return `the batch body that starts here is cut short: another document starts at line ${part.ending.line} before it is closed, after the ${formatCount(part.batch.elements)} elements of its batch array were read; complete or remove the rest of the body`;
      }
      return `${value} is cut short: another document starts at line ${part.ending.line} before this one is closed, so ${skipped}; complete or remove the broken ${part.place === undefined ? "document" : "element"}`;
    case "end-of-input":
      if (part.batch !== undefined) {
        return `the batch body that starts here is not closed at the end of the input (line ${part.lastLine}), after the ${formatCount(part.batch.elements)} elements of its batch array were read; the file may be truncated, so export or download it again`;
      }
      return `${value} is not closed at the end of the input (line ${part.lastLine}), so ${skipped}; the file may be truncated, so export or download it again`;
    default: {
      const unknownEnding: never = part.ending;
      throw new Error(`unknown ending ${JSON.stringify(unknownEnding)}`);
    }
  }
}

function describeArrayNotClosed(part: Extract<JsonSequencePart, { kind: "array-not-closed" }>): string {
  const array = part.inBatch ? "the batch array that starts here" : "the array that starts here";
  const read = `the ${formatCount(part.elements)} complete elements before the break were read`;
  switch (part.ending.kind) {
    case "end-of-input":
      return `${array} is not closed at the end of the input (line ${part.lastLine}), and ${read}; the file may be truncated, so export or download it again`;
    case "new-document":
    case "next-element":
      return `${array} is cut short: another document starts at line ${part.ending.line} before it is closed, and ${read}; complete or remove the rest of the array`;
    default: {
      const unknownEnding: never = part.ending;
      throw new Error(`unknown ending ${JSON.stringify(unknownEnding)}`);
    }
  }
}

function describeArraySyntax(part: Extract<JsonSequencePart, { kind: "array-syntax" }>): string {
  const array = `the array that starts at line ${part.arrayLine}`;
  switch (part.problem.kind) {
    case "missing-comma":
      return `a comma is missing before element ${formatCount(part.problem.position)} of ${array}; the element was read, but add the comma`;
    case "unexpected-comma":
      return `unexpected comma in ${array}, where an element is missing; remove the comma`;
    case "trailing-comma":
      return `unexpected comma after the last element of ${array}; remove the comma`;
    case "unexpected-character":
      return `unexpected ${JSON.stringify(part.problem.character)} between the elements of ${array}; remove it`;
    default: {
      const unknownProblem: never = part.problem;
      throw new Error(`unknown problem ${JSON.stringify(unknownProblem)}`);
    }
  }
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
    case "next-element":
      end = `the next element starts at line ${part.ending.line} before it is closed`;
      break;
    case "end-of-input":
      end = `it is not closed at the end of the input, line ${part.lastLine}`;
      break;
  }
  if (part.place !== undefined) {
    return `${describeElement(part.place)} is ${megabytes(part.bytes)} long, more than the ${megabytes(MAX_DOCUMENT_BYTES)} an element may have (${end}), so it was skipped without being held in memory; remove or shorten the element`;
  }
  const batchRead = part.batch === undefined ? "" : `, apart from the ${formatCount(part.batch.elements)} elements of its batch array, which were read`;
  return `the JSON document that starts here is ${megabytes(part.bytes)} long, more than the ${megabytes(MAX_DOCUMENT_BYTES)} a document may have (${end}), so it was skipped without being held in memory${batchRead}; convert the file to JSONL, one event per line (for an array: jq -c '.[]' ${input})`;
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

/**
 * Counts the line breaks of the batch arrays cut out of a request body before the offset that V8's
 * JSON.parse message names, since the body's text no longer contains them.
 */
function linesCutBefore(text: string, message: string, batch: StreamedBatch): number {
  const match = /position (\d+)/.exec(message);
  if (match === null) {
    return 0;
  }
  const errorByteOffset = Buffer.byteLength(text.slice(0, Number(match[1])));
  return batch.cuts.filter((cut) => cut.byteOffset <= errorByteOffset).reduce((lines, cut) => lines + cut.lines, 0);
}

function excerpt(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
