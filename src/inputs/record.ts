/**
 * A Segment event as read from an archive: any JSON object. Every field is optional in practice,
 * and types are unreliable (a `userId` can be a number, `version` a string or a number).
 */
export type SegmentEvent = { [key: string]: unknown };

/** Source of a record: the input as the user named it (`-` for stdin) and its 1-based line. */
export interface RecordOrigin {
  input: string;
  /**
   * Line of a JSONL file, row of a CSV file (counting the header as line 1), or, in a JSON file, the
   * line where the event's document starts. The elements of an array that starts on line 1 get
   * their positions in it instead (see `JsonEventNumbers`).
   */
  line: number;
}

export interface InputRecord {
  event: SegmentEvent;
  origin: RecordOrigin;
}

/** Reason a piece of input could not become an event. */
export type UnreadableReason =
  | "malformed-json"
  | "not-an-object"
  | "truncated-gzip"
  | "unreadable-file"
  | "not-an-archive"
  | "malformed-csv-row"
  | "unknown-csv-table"
  | "line-too-long"
  | "not-utf8";

export interface InputProblem {
  origin: RecordOrigin;
  reason: UnreadableReason;
  /** Description of what went wrong and what to do about it, for the person running the replay. */
  message: string;
  /** The line's text, for `send --not-sent`, when a JSONL line or a JSON array element was read whole. */
  raw?: string;
  /** The line's bytes in base64, in place of `raw`, for a line that is not UTF-8 text. */
  rawBase64?: string;
}

/**
 * Returns the problem's message with its file and line in front, unless the message already starts
 * with the file's name.
 */
export function locateProblem(problem: InputProblem): string {
  return problem.message.startsWith(problem.origin.input) ? problem.message : `${problem.origin.input}:${problem.origin.line}: ${problem.message}`;
}

export type InputItem =
  | ({ kind: "record" } & InputRecord)
  | ({ kind: "problem" } & InputProblem);
