import { parseJsonLine } from "../inputs/jsonl.js";
import type { InputProblem } from "../inputs/record.js";
import { processEvent, type ProcessorRules, type RecordResult } from "./processor.js";

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** A processed event with the byte range of its line within the chunk. */
export interface LineResult {
  kind: "result";
  result: RecordResult;
  lineStart: number;
  lineEnd: number;
}

/** Results of a chunk of JSONL lines, in line order: an event's result or a line's problem. */
export type LineOutcome = LineResult | { kind: "problem"; problem: InputProblem };

/**
 * Parses and processes a chunk of JSONL lines, on the main thread or in a worker. Lines are cut on
 * bytes, so that each result records its line's byte range and the event's text can be recovered from
 * the chunk later (for a dead letter) without being carried along.
 */
export function processLines(input: string, firstLine: number, bytes: Buffer, rules: ProcessorRules): LineOutcome[] {
  const outcomes: LineOutcome[] = [];
  let start = 0;
  let lineNumber = firstLine;
  while (start < bytes.length) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) {
      end = bytes.length;
    }
    const contentEnd = end > start && bytes[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
    let line = bytes.toString("utf8", start, contentEnd);
    if (lineNumber === 1 && line.startsWith("\uFEFF")) {
      line = line.slice(1);
    }
    const origin = { input, line: lineNumber };
    outcomes.push(...processLine(line, origin, rules, start, contentEnd));
    lineNumber += 1;
    start = end + 1;
  }
  return outcomes;
}

function processLine(line: string, origin: { input: string; line: number }, rules: ProcessorRules, lineStart: number, lineEnd: number): LineOutcome[] {
  try {
    const item = parseJsonLine(line, origin);
    if (item?.kind === "problem") {
      return [{ kind: "problem", problem: item }];
    }
    if (item?.kind === "record") {
      return [{ kind: "result", result: processEvent(item.event, origin, line, rules), lineStart, lineEnd }];
    }
    return [];
  } catch (error) {
    // A value nested tens of thousands of levels deep overflows the stack in recursive code. Only
    // that line is lost, and the rest of the file is read.
    if (!(error instanceof RangeError)) {
      throw error;
    }
    const message = `${origin.input}:${origin.line}: the event is nested too deeply to process (${error.message}); flatten or remove the line`;
    return [{ kind: "problem", problem: { origin, reason: "malformed-json", message } }];
  }
}
