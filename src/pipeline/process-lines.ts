import { forEachElement } from "../inputs/element-chunks.js";
import { itemFromElementBytes } from "../inputs/json-document.js";
import { parseJsonLine } from "../inputs/jsonl.js";
import type { RawChunk } from "../inputs/read-input.js";
import type { InputItem, InputProblem, RecordOrigin } from "../inputs/record.js";
import { lostBytesInDecoding, notUtf8Problem } from "../inputs/utf8.js";
import { eventDepthProblem } from "./event-depth.js";
import { processEvent, type ProcessorRules, type RecordResult } from "./processor.js";

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** A processed event with its line's text and the byte range of its line within the chunk. */
export interface LineResult {
  kind: "result";
  result: RecordResult;
  /** The line as parsed, which is the `eventJson` of the entries mapped from it (not of a resent dead letter's). */
  text: string;
  lineStart: number;
  lineEnd: number;
}

/** An event's result or a line's problem, as the main thread handles them. */
export type ReadOutcome = { kind: "result"; result: RecordResult } | { kind: "problem"; problem: InputProblem };

/** Results of a chunk of JSONL lines or array elements, in input order: an event's result or a line's problem. */
export type LineOutcome = LineResult | { kind: "problem"; problem: InputProblem };

/**
 * Parses and processes a chunk of JSONL lines, on the main thread or in a worker, and passes each
 * outcome to `visit` in line order as soon as it is known, so that nothing of an event outlives its
 * line. Lines are cut on bytes, so that each result records its line's byte range and the event's
 * text can be recovered from the chunk later (for a dead letter) without being carried along.
 */
export function processLines(input: string, firstLine: number, bytes: Buffer, rules: ProcessorRules, visit: (outcome: LineOutcome) => void): void {
  let start = 0;
  let lineNumber = firstLine;
  while (start < bytes.length) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) {
      end = bytes.length;
    }
    const contentEnd = end > start && bytes[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
    // A byte order mark before the first line is not part of the event, nor of its byte range.
    const contentStart = lineNumber === 1 && startsWithByteOrderMark(bytes, start) ? start + 3 : start;
    const line = bytes.toString("utf8", contentStart, contentEnd);
    const origin = { input, line: lineNumber };
    const outcome = lostBytesInDecoding(line, bytes, contentStart, contentEnd)
      ? ({ kind: "problem", problem: { ...notUtf8Problem(origin, "The line"), rawBase64: bytes.toString("base64", contentStart, contentEnd) } } as const)
      : processLine(line, origin, rules, contentStart, contentEnd);
    if (outcome !== undefined) {
      visit(outcome);
    }
    lineNumber += 1;
    start = end + 1;
  }
}

/**
 * Parses and processes the elements of JSON arrays in a chunk as `processLines` does lines. The
 * results are those of the items of `itemsFromPart`. In particular, the entries of an element carry
 * its event as `JSON.stringify` writes it, with any `messageId` filled in, not the element's text.
 */
export function processElements(input: string, bytes: Buffer, elements: Int32Array, rules: ProcessorRules, visit: (outcome: LineOutcome) => void): void {
  forEachElement(elements, (element) => {
    const outcome = catchingStackOverflow({ input, line: element.eventLine }, () => {
      const { item, text } = itemFromElementBytes(bytes, element.start, element.end, element, input);
      return processItem(item, text, undefined, rules, element.start, element.end);
    });
    if (outcome !== undefined) {
      visit(outcome);
    }
  });
}

/** Processes a chunk of either kind, passing each outcome to `visit` in input order. */
export function processRawChunk(chunk: RawChunk, rules: ProcessorRules, visit: (outcome: LineOutcome) => void): void {
  if (chunk.kind === "lines") {
    processLines(chunk.input, chunk.firstLine, chunk.bytes, rules, visit);
  } else {
    processElements(chunk.input, chunk.bytes, chunk.elements, rules, visit);
  }
}

function startsWithByteOrderMark(bytes: Buffer, start: number): boolean {
  return bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf;
}

/** Returns the outcomes of a chunk of either kind as an array, for callers that handle them together. */
export function collectChunkOutcomes(chunk: RawChunk, rules: ProcessorRules): LineOutcome[] {
  const outcomes: LineOutcome[] = [];
  processRawChunk(chunk, rules, (outcome) => outcomes.push(outcome));
  return outcomes;
}

/** Returns the outcomes of a chunk of JSONL lines as an array, for callers that handle them together. */
export function collectLineOutcomes(input: string, firstLine: number, bytes: Buffer, rules: ProcessorRules): LineOutcome[] {
  const outcomes: LineOutcome[] = [];
  processLines(input, firstLine, bytes, rules, (outcome) => outcomes.push(outcome));
  return outcomes;
}

function processLine(line: string, origin: RecordOrigin, rules: ProcessorRules, lineStart: number, lineEnd: number): LineOutcome | undefined {
  return catchingStackOverflow(origin, () => {
    const item = parseJsonLine(line, origin);
    return item === undefined ? undefined : processItem(item, line, line, rules, lineStart, lineEnd);
  });
}

/**
 * Processes a parsed line or element. `text` is its JSON text, and `eventJson` the text that its
 * entries carry as their event, or undefined for the event as `JSON.stringify` writes it.
 */
function processItem(item: InputItem, text: string, eventJson: string | undefined, rules: ProcessorRules, lineStart: number, lineEnd: number): LineOutcome {
  if (item.kind === "problem") {
    // The text of a line that is not UTF-8 has its bytes replaced, so it is not the line.
    return { kind: "problem", problem: item.reason === "not-utf8" ? item : { ...item, raw: text } };
  }
  const tooDeep = eventDepthProblem(item.event, item.origin, text);
  if (tooDeep !== undefined) {
    return { kind: "problem", problem: { ...tooDeep, raw: text } };
  }
  return { kind: "result", result: processEvent(item.event, item.origin, eventJson, rules), text, lineStart, lineEnd };
}

function catchingStackOverflow(origin: RecordOrigin, process: () => LineOutcome | undefined): LineOutcome | undefined {
  try {
    return process();
  } catch (error) {
    // Events within the depth limit should not overflow the stack in recursive code. Should one
    // still do so, only that line is lost, and the rest of the file is read.
    if (!(error instanceof RangeError)) {
      throw error;
    }
    const message = `${origin.input}:${origin.line}: the event is nested too deeply to process (${error.message}); flatten or remove the line`;
    return { kind: "problem", problem: { origin, reason: "malformed-json", message } };
  }
}
