import type { KoalaEntry } from "../delivery/entry.js";
import { skipReasonText } from "../pipeline/outcomes.js";
import { formatCount } from "./count-format.js";
import { highlightJsonLine } from "./json-highlight.js";
import type { NotSentReason, PreviewExample, PreviewSamples } from "./preview-samples.js";
import { escapeControlCharacters, type TextStyle } from "./style.js";
import { displayWidth, wrapStyled } from "./wrap-text.js";

/** The request an entry becomes, as `send` would make it. */
export interface PreviewRequest {
  method: string;
  url: string;
  body: unknown;
}

export type PreviewLayout = "stacked" | "side-by-side";

export interface PreviewTextOptions {
  style: TextStyle;
  layout: PreviewLayout;
  /** Width of the JSON of events and requests in columns; side-by-side splits it into two columns. */
  width: number;
  /** Columns that the text around the JSON (headings, reasons, notes) is wrapped to. */
  textWidth: number;
  limit: number;
  mappings: ReadonlyArray<{ name: string; action: string; trigger: string }>;
  requestOf: (entry: KoalaEntry) => PreviewRequest;
  /** Whether reading stopped before the end of the input, for the closing line. */
  stoppedEarly: boolean;
  /** Whether it stopped at --max-events rather than because every mapping had its examples. */
  maxEventsReached: boolean;
  /** Lines and files that could not be read. The first of them are printed as warnings. */
  unreadable: number;
  /** The sentence on whether the examples and counts include identity stitching. */
  stitchingNote: string;
}

/** Below this width per column, side-by-side JSON wraps so much that stacked reads better. */
export const MIN_SIDE_BY_SIDE_WIDTH = 140;

/** Compact JSON of a sample event is cut after this many characters; the location points to the whole event. */
const MAX_SAMPLE_EVENT_CHARS = 300;

/** Writes the preview: each mapping's examples, then a sample of the events that would not be sent. */
export function formatPreviewText(samples: PreviewSamples, options: PreviewTextOptions): string {
  const { style, textWidth } = options;
  const examplesOf = (count: number): string => `${formatCount(count)} of ${formatCount(options.limit)} ${options.limit === 1 ? "example" : "examples"}`;
  const blocks: string[] = [];
  for (const mapping of options.mappings) {
    const examples = samples.examplesByMapping.get(mapping.name) ?? [];
    blocks.push(wrapStyled(`━━ ${mapping.name} (${mapping.action}) · trigger ${mapping.trigger} · ${examplesOf(examples.length)}`, textWidth, "", "   ", style.bold));
    if (examples.length === 0) {
      blocks.push(wrapStyled("no event read would be sent by this mapping; see the sample of events not sent below", textWidth, "  ", "  ", style.yellow));
    }
    examples.forEach((example, index) => blocks.push(formatExample(example, index + 1, options)));
  }
  const resent = samples.resentDeadLetterExamples;
  if (resent.length > 0) {
    const heading = `━━ resent dead letters · lines of a dead-letter file, sent as written without a trigger · ${examplesOf(resent.length)}`;
    blocks.push(wrapStyled(heading, textWidth, "", "   ", style.bold));
    resent.forEach((example, index) => blocks.push(formatExample(example, index + 1, options)));
  }
  blocks.push(formatNotSent(samples, options));
  blocks.push(wrapStyled(options.stitchingNote, textWidth, "", "", plain));
  blocks.push(wrapStyled(closingLine(samples, options), textWidth, "", "", style.dim));
  return `${blocks.join("\n\n")}\n`;
}

const plain = (text: string): string => text;

function formatExample(example: PreviewExample, number: number, options: PreviewTextOptions): string {
  const { style } = options;
  const request = options.requestOf(example.entry);
  const derived = example.messageIdDerived ? " · messageId derived by koala-replay" : "";
  const heading = wrapStyled(`── example ${number} · ${example.origin.input}:${example.origin.line}${derived}`, options.textWidth, "", "   ", style.dim);
  const eventTitle = style.bold("event");
  const requestTitle = wrapStyled(`request  ${request.method} ${request.url}`, options.textWidth, "", "  ", style.bold);
  // JSON.stringify escapes C0 control characters but writes DEL and C1 ones as they are.
  const eventLines = JSON.stringify(example.event, null, 2).split("\n").map(escapeControlCharacters);
  const requestLines = JSON.stringify(request.body, null, 2).split("\n").map(escapeControlCharacters);
  if (options.layout === "side-by-side") {
    const columnWidth = Math.floor((options.width - 3) / 2);
    return [heading, sideBySide([eventTitle, ...eventLines], [requestTitle, ...requestLines], columnWidth, style)].join("\n");
  }
  const indent = (lines: string[]): string[] => wrapAtSpaces(lines, options.width - 2).map((line) => `  ${highlightJsonLine(line, style)}`);
  return [heading, eventTitle, ...indent(eventLines), requestTitle, ...indent(requestLines)].join("\n");
}

/** Sets two blocks of lines next to each other, wrapping each to its column and separating them with a bar. */
function sideBySide(left: string[], right: string[], columnWidth: number, style: TextStyle): string {
  // The titles are styled already; only the JSON lines after them are wrapped and highlighted.
  const prepare = (lines: string[]): string[] => [lines[0] ?? "", ...wrapLines(lines.slice(1), columnWidth)];
  const leftLines = prepare(left);
  const rightLines = prepare(right);
  const rows: string[] = [];
  for (let index = 0; index < Math.max(leftLines.length, rightLines.length); index += 1) {
    const leftText = leftLines[index] ?? "";
    const rightText = rightLines[index] ?? "";
    const leftShown = index === 0 ? leftText : highlightJsonLine(leftText, style);
    const rightShown = index === 0 ? rightText : highlightJsonLine(rightText, style);
    const padding = " ".repeat(Math.max(0, columnWidth - displayWidth(leftText)));
    rows.push(`${leftShown}${padding} ${style.dim("│")} ${rightShown}`.trimEnd());
  }
  return rows.join("\n");
}

function formatNotSent(samples: PreviewSamples, options: PreviewTextOptions): string {
  const { style, textWidth } = options;
  const lines = [style.bold("━━ Not sent (a sample per reason)")];
  if (samples.notSentCounts.size === 0) {
    lines.push(samples.eventsRead === 0 ? "  no event was read" : "  every event read would be sent");
    return lines.join("\n");
  }
  for (const [reason, count] of [...samples.notSentCounts.entries()].sort((left, right) => right[1] - left[1])) {
    lines.push("", wrapStyled(`${reasonTitle(reason)}: ${formatCount(count)} in the events read`, textWidth, "", "  ", style.yellow));
    for (const sample of samples.notSent.get(reason) ?? []) {
      const mapping = sample.mapping === undefined ? "" : ` · mapping "${sample.mapping}"`;
      // The type comes first, because it is what a trigger tests most often.
      const type = typeof sample.event["type"] === "string" ? ` · type ${escapeControlCharacters(sample.event["type"])}` : " · no type";
      lines.push(wrapStyled(`── ${sample.origin.input}:${sample.origin.line}${type}${mapping}`, textWidth, "", "   ", style.dim));
      for (const detail of sample.details) {
        lines.push(wrapStyled(detail, textWidth, "  ", "    ", plain));
      }
      // Cut at the width like the JSON of the examples, so that the JSON starts on the line of its label.
      lines.push(...wrapLines([`  event ${compactEvent(sample.event)}`], textWidth));
    }
  }
  return lines.join("\n");
}

function reasonTitle(reason: NotSentReason): string {
  return reason === "invalid" ? "invalid: the mapped request breaks a field rule" : `${reason}: ${skipReasonText[reason]}`;
}

function closingLine(samples: PreviewSamples, options: PreviewTextOptions): string {
  const unreadable =
    options.unreadable === 0 ? "" : ` (${formatCount(options.unreadable)} ${options.unreadable === 1 ? "line or file" : "lines or files"} could not be read: see the warnings)`;
  const read = `${formatCount(samples.eventsRead)} ${samples.eventsRead === 1 ? "event" : "events"} read${unreadable}`;
  const entries = samples.entriesWouldSend;
  const wouldSend = `${formatCount(entries)} ${entries === 1 ? "entry" : "entries"} would be sent from them.`;
  if (options.stoppedEarly && !options.maxEventsReached) {
    return `${read}; reading stopped once every mapping had ${formatCount(options.limit)} ${options.limit === 1 ? "example" : "examples"}. ${wouldSend}`;
  }
  if (options.maxEventsReached) {
    return `${read}; reading stopped at --max-events. Raise it to look further for the missing examples. ${wouldSend}`;
  }
  return `${read}: the whole input. ${wouldSend}`;
}

function compactEvent(event: unknown): string {
  const text = JSON.stringify(event);
  return text.length <= MAX_SAMPLE_EVENT_CHARS ? text : `${text.slice(0, cutPosition(text, MAX_SAMPLE_EVENT_CHARS))}…`;
}

/**
 * Cuts lines wider than `width` columns into several, keeping the indentation of a continued line.
 * Cuts fall between code points, so an emoji is never split into halves that print as U+FFFD.
 */
export function wrapLines(lines: readonly string[], width: number): string[] {
  return wrapWideLines(lines, width, cutAnywhere);
}

/**
 * Wraps lines wider than `width` columns at spaces, keeping the indentation of a continued line
 * plus two. A word that fits a line of its own, such as a long message_id, moves there whole, so
 * that it can be copied or searched for in a file. Only a word wider than that is cut.
 */
export function wrapAtSpaces(lines: readonly string[], width: number): string[] {
  return wrapLines(wrapWideLines(lines, width, cutAtSpaces), width);
}

/** Passes each line wider than `width` columns (20 at least) to `cut`, and keeps the others as they are. */
function wrapWideLines(lines: readonly string[], width: number, cut: (line: string, usable: number, wrapped: string[]) => void): string[] {
  const wrapped: string[] = [];
  const usable = Math.max(20, width);
  for (const line of lines) {
    if (displayWidth(line) <= usable) {
      wrapped.push(line);
    } else {
      cut(line, usable, wrapped);
    }
  }
  return wrapped;
}

/** Adds the pieces of `line` to `wrapped`, cut at any code point: the first starts the line, the others go under it, indented. */
function cutAnywhere(line: string, usable: number, wrapped: string[]): void {
  const indent = " ".repeat(Math.min(line.length - line.trimStart().length + 2, usable / 2));
  let prefix = "";
  let piece = "";
  let columns = 0;
  for (const character of line) {
    const characterWidth = displayWidth(character);
    if (columns + characterWidth > usable - prefix.length && piece !== "") {
      wrapped.push(`${prefix}${piece}`);
      prefix = indent;
      piece = "";
      columns = 0;
    }
    piece += character;
    columns += characterWidth;
  }
  wrapped.push(`${prefix}${piece}`);
}

/** Adds the pieces of `line` to `wrapped`, cut at spaces only, so a word may still be wider than `usable`. */
function cutAtSpaces(line: string, usable: number, wrapped: string[]): void {
  const text = line.trimStart();
  const firstIndent = line.slice(0, line.length - text.length);
  const nextIndent = " ".repeat(Math.min(firstIndent.length + 2, usable / 2));
  let current = firstIndent;
  let currentWidth = displayWidth(firstIndent);
  let empty = true;
  for (const word of text.split(" ")) {
    const wordWidth = displayWidth(word);
    if (!empty && currentWidth + 1 + wordWidth > usable) {
      wrapped.push(current);
      current = nextIndent;
      currentWidth = nextIndent.length;
      empty = true;
    }
    current += empty ? word : ` ${word}`;
    currentWidth += empty ? wordWidth : 1 + wordWidth;
    empty = false;
  }
  wrapped.push(current);
}

/** Returns `index`, or the index before it when a cut there would split a surrogate pair (an emoji, say). */
function cutPosition(text: string, index: number): number {
  const before = text.charCodeAt(index - 1);
  const after = text.charCodeAt(index);
  const splitsPair = before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
  return splitsPair ? index - 1 : index;
}
