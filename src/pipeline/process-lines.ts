import { forEachLine, parseJsonLine } from "../inputs/jsonl.js";
import type { InputProblem } from "../inputs/record.js";
import { processEvent, type ProcessorRules, type RecordResult } from "./processor.js";

/** Results of a chunk of JSONL lines, in line order: an event's result or a line's problem. */
export type LineOutcome = { kind: "result"; result: RecordResult } | { kind: "problem"; problem: InputProblem };

/** Parses and processes a chunk of JSONL lines. Runs on the main thread or in a worker. */
export function processLines(input: string, firstLine: number, text: string, rules: ProcessorRules): LineOutcome[] {
  const outcomes: LineOutcome[] = [];
  forEachLine(text, firstLine, (line, lineNumber) => {
    const origin = { input, line: lineNumber };
    const item = parseJsonLine(line, origin);
    if (item === undefined) {
      return;
    }
    if (item.kind === "problem") {
      outcomes.push({ kind: "problem", problem: item });
      return;
    }
    outcomes.push({ kind: "result", result: processEvent(item.event, origin, line.endsWith("\r") ? line.slice(0, -1) : line, rules) });
  });
  return outcomes;
}
