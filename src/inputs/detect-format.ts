import { opensBatchBody } from "./json-sequence.js";

/** Layout of an input's bytes, once any gzip layer has been removed. */
export type InputFormat = "jsonl" | "json" | "csv";

const BYTE_ORDER_MARK = "\ufeff";

/**
 * Detects the format of an input from its first bytes (pass at least the first 64 KiB, or the whole
 * input when it is shorter), never from its file name, because CSV files come named `.txt` or
 * without an extension. The rule, after a UTF-8 byte order mark and leading whitespace:
 * - `[` starts a JSON document (an array of events).
 * - `{` starts a JSON document when the first line opens the `batch` array of a `/v1/batch`
 *   request body, compact on one line as analytics.js sends it, or with its events on the next
 *   lines. Otherwise `{` starts JSON lines in three cases. The first line is a complete JSON
 *   value. Or the first line does not end within `firstBytes`, since compact events can be long
 *   while a pretty-printed document breaks its first line after the brace. Or the next non-blank
 *   line starts with `{` too (JSON lines whose first line is corrupt). Otherwise `{` starts one
 *   pretty-printed document.
 * - Anything else is CSV, unless it looks like JSON lines whose first line is not an event: the first
 *   line is `null`, `true`, `false` or a number, or the next non-blank line is a complete JSON
 *   object. A CSV header is neither, and a CSV row that starts with an unquoted object is invalid.
 *   An empty or blank input is `jsonl`, which reads as zero events.
 * A single compact JSON document on one line, other than a request body, is therefore `jsonl`,
 * which reads it as one line.
 */
export function detectFormat(firstBytes: Buffer): InputFormat {
  const text = stripByteOrderMark(firstBytes.toString("utf8"));
  const start = text.search(/\S/);
  if (start === -1) return "jsonl";

  const firstCharacter = text[start];
  if (firstCharacter === "[") return "json";
  const lineEnd = text.indexOf("\n", start);
  if (firstCharacter !== "{") return startsJsonLines(text, start, lineEnd) ? "jsonl" : "csv";

  if (opensBatchBody(Buffer.from(text.slice(start, lineEnd === -1 ? undefined : lineEnd)))) return "json";
  if (lineEnd === -1) return "jsonl";
  if (isJson(text.slice(start, lineEnd))) return "jsonl";
  return nextLineStartsObject(text, lineEnd) ? "jsonl" : "json";
}

/**
 * Tests whether more bytes could change what `detectFormat` returns for `firstBytes`. A pipe can
 * deliver its first bytes in pieces as small as `{"bat`, which alone would read as JSON lines. So a
 * reader of a pipe reads on while this returns true, up to the 64 KiB that detection needs at most.
 */
export function formatNeedsMoreBytes(firstBytes: Buffer): boolean {
  const text = stripByteOrderMark(firstBytes.toString("utf8"));
  const start = text.search(/\S/);
  if (start === -1) return true;
  if (text[start] === "[") return false;

  const lineEnd = text.indexOf("\n", start);
  if (lineEnd === -1) return text[start] !== "{" || !opensBatchBody(Buffer.from(text.slice(start)));
  const firstLine = text.slice(start, lineEnd);
  if (text[start] === "{") {
    // A complete JSON value or an opened batch array decides at once. Otherwise the next line's first character does.
    return !opensBatchBody(Buffer.from(firstLine)) && !isJson(firstLine) && nextNonBlank(text, lineEnd) === -1;
  }
  if (/^(null|true|false|-?\d[\d.eE+-]*)$/.test(firstLine.trim()) && isJson(firstLine.trim())) return false;

  // A next line that starts with `{` decides only once it is complete, because `startsJsonLines` parses it.
  const nextStart = nextNonBlank(text, lineEnd);
  return nextStart === -1 || (text[nextStart] === "{" && text.indexOf("\n", nextStart) === -1);
}

/** Returns the index of the first non-blank character after `previousLineEnd`, or -1. */
function nextNonBlank(text: string, previousLineEnd: number): number {
  const offset = text.slice(previousLineEnd + 1).search(/\S/);
  return offset === -1 ? -1 : previousLineEnd + 1 + offset;
}

/**
 * Tests whether text whose first line does not start with `{` is JSON lines all the same. It is when
 * the first line is JSON other than a string, which could be a one-column CSV header such as
 * `"email"`. It is too when the next non-blank line is a complete JSON object.
 */
function startsJsonLines(text: string, start: number, lineEnd: number): boolean {
  const firstLine = text.slice(start, lineEnd === -1 ? undefined : lineEnd).trim();
  if (/^(null|true|false|-?\d[\d.eE+-]*)$/.test(firstLine) && isJson(firstLine)) {
    return true;
  }
  if (lineEnd === -1 || !nextLineStartsObject(text, lineEnd)) {
    return false;
  }
  const nextStart = lineEnd + 1 + text.slice(lineEnd + 1).search(/\S/);
  const nextEnd = text.indexOf("\n", nextStart);
  return isJson(text.slice(nextStart, nextEnd === -1 ? undefined : nextEnd));
}

/** Tests whether the line after `previousLineEnd` starts with `{`, which a pretty-printed object's second line never does. */
function nextLineStartsObject(text: string, previousLineEnd: number): boolean {
  const nextStart = text.slice(previousLineEnd + 1).search(/\S/);
  return nextStart !== -1 && text[previousLineEnd + 1 + nextStart] === "{";
}

function stripByteOrderMark(text: string): string {
  return text.startsWith(BYTE_ORDER_MARK) ? text.slice(BYTE_ORDER_MARK.length) : text;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
