import { isUtf8 } from "node:buffer";
import type { InputProblem, RecordOrigin } from "./record.js";

/**
 * Checks whether `text`, decoded from `bytes` between `start` and `end`, had bytes that are not UTF-8,
 * which decoding replaced with U+FFFD. Only text that contains U+FFFD is checked, because a file
 * may contain that character as valid UTF-8.
 */
export function lostBytesInDecoding(text: string, bytes: Buffer, start: number, end: number): boolean {
  return text.includes("\uFFFD") && !isUtf8(bytes.subarray(start, end));
}

/**
 * Describes a line, row or array element (`subject`, such as "The row") whose bytes are not UTF-8,
 * usually of a file saved as Windows-1252 or Latin-1. Sent, its text would be wrong for good, because
 * Koala keeps the first entry of each message_id and ignores a corrected copy. The caller adds the
 * input and the line.
 */
export function describeInvalidUtf8(subject: string): string {
  return (
    `${subject} contains bytes that are not UTF-8 text, so it is skipped rather than sent with its letters replaced by �. ` +
    "Save the file as UTF-8, for example with iconv -f WINDOWS-1252 -t UTF-8, and send it again."
  );
}

/** Builds the `not-utf8` problem of a line, element or document (`subject`) at `origin`. */
export function notUtf8Problem(origin: RecordOrigin, subject: string): InputProblem {
  return { origin, reason: "not-utf8", message: `${origin.input}:${origin.line}: ${describeInvalidUtf8(subject)}` };
}
