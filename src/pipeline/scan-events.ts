import { describeTableOverride } from "../inputs/csv/table.js";
import { expandInputs, type SkippedFile } from "../inputs/expand-inputs.js";
import { forEachElement } from "../inputs/element-chunks.js";
import { itemFromElementBytes } from "../inputs/json-document.js";
import { parseJsonLine } from "../inputs/jsonl.js";
import { readInput, type ReadInputOptions } from "../inputs/read-input.js";
import type { InputItem, InputProblem, RecordOrigin, SegmentEvent } from "../inputs/record.js";
import { lostBytesInDecoding, notUtf8Problem } from "../inputs/utf8.js";
import { eventDepthProblem } from "./event-depth.js";

const NEWLINE = 0x0a;

/** Callbacks that `preview` and `inspect` receive for each piece of input, in input order. */
export interface ScanVisitor {
  /** Receives one event and its JSON text (undefined for JSON documents). Returns false to stop reading. */
  onEvent(event: SegmentEvent, origin: RecordOrigin, eventJson: string | undefined): boolean;
  onProblem(problem: InputProblem): void;
  onSkippedFile(file: SkippedFile): void;
  /** Receives a warning about an input, such as a `--csv-table` that overrides the table its name gives. */
  onWarning(message: string): void;
}

export interface ScanResult {
  filesRead: number;
  /** Whether the visitor stopped the scan before the end of the inputs. */
  stopped: boolean;
}

/**
 * Reads the inputs on the main thread and hands every event to the visitor, stopping as soon as it
 * returns false. Unlike `runReplay` it uses no worker threads: `preview` reads a few events, and
 * `inspect` needs each event object itself rather than its mapped result.
 */
export async function scanEvents(inputs: readonly string[], readOptions: ReadInputOptions, visitor: ScanVisitor): Promise<ScanResult> {
  const { sources, skipped } = await expandInputs(inputs);
  for (const file of skipped) {
    visitor.onSkippedFile(file);
  }
  for (const source of sources) {
    const override = describeTableOverride(source.path, readOptions.csv);
    if (override !== undefined) {
      visitor.onWarning(override);
    }
  }
  let filesRead = 0;
  for (const source of sources) {
    filesRead += 1;
    const keepReading = await scanSource(source.path, readOptions, visitor);
    if (!keepReading) {
      return { filesRead, stopped: true };
    }
  }
  return { filesRead, stopped: false };
}

async function scanSource(input: string, readOptions: ReadInputOptions, visitor: ScanVisitor): Promise<boolean> {
  try {
    for await (const batch of readInput(input, { ...readOptions, onWarning: (message) => visitor.onWarning(message) })) {
      let keepReading: boolean;
      switch (batch.kind) {
        case "lines":
          keepReading = scanLines(batch.input, batch.firstLine, batch.bytes, visitor);
          break;
        case "elements":
          keepReading = scanItems(itemsOfElements(batch.input, batch.bytes, batch.elements), visitor);
          break;
        case "items":
          keepReading = scanItems(batch.items, visitor);
          break;
      }
      if (!keepReading) {
        return false;
      }
    }
  } catch (error) {
    visitor.onProblem({ origin: { input, line: 0 }, reason: "unreadable-file", message: `${input}: cannot be read (${(error as Error).message})` });
  }
  return true;
}

/**
 * Hands the events of a chunk of JSON lines to the visitor. Lines are cut on bytes, as send cuts
 * them, so that a line whose bytes are not UTF-8 is reported as send reports it rather than read
 * with its letters replaced by U+FFFD.
 */
function scanLines(input: string, firstLine: number, bytes: Buffer, visitor: ScanVisitor): boolean {
  let start = 0;
  let line = firstLine;
  while (start < bytes.length) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) {
      end = bytes.length;
    }
    const text = bytes.toString("utf8", start, end);
    const origin = { input, line };
    if (lostBytesInDecoding(text, bytes, start, end)) {
      visitor.onProblem(notUtf8Problem(origin, "The line"));
    } else if (!scanLine(text, origin, visitor)) {
      return false;
    }
    line += 1;
    start = end + 1;
  }
  return true;
}

/** Hands the event of one line to the visitor, and returns false when the visitor stops the scan. */
function scanLine(text: string, origin: RecordOrigin, visitor: ScanVisitor): boolean {
  // As in send, a byte order mark is skipped only before line 1, and is not part of the event.
  const content = origin.line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const item = parseJsonLine(content, origin);
  const problem = item?.kind === "record" ? eventDepthProblem(item.event, item.origin, content) : item;
  if (problem !== undefined) {
    visitor.onProblem(problem);
    return true;
  }
  if (item?.kind === "record") {
    return visitor.onEvent(item.event, item.origin, content.endsWith("\r") ? content.slice(0, -1) : content);
  }
  return true;
}

function itemsOfElements(input: string, bytes: Buffer, elements: Int32Array): InputItem[] {
  const items: InputItem[] = [];
  forEachElement(elements, (element) => items.push(itemFromElementBytes(bytes, element.start, element.end, element, input).item));
  return items;
}

function scanItems(items: readonly InputItem[], visitor: ScanVisitor): boolean {
  for (const item of items) {
    const problem = item.kind === "problem" ? item : eventDepthProblem(item.event, item.origin);
    if (problem !== undefined) {
      visitor.onProblem(problem);
    } else if (item.kind === "record" && !visitor.onEvent(item.event, item.origin, undefined)) {
      return false;
    }
  }
  return true;
}
