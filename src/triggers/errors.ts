/** A place in the trigger text: `offset` counts UTF-16 code units from 0, `line` and `column` count from 1. */
export interface TriggerPosition {
  offset: number;
  line: number;
  column: number;
}

/**
 * A trigger that cannot be compiled. The message names the line and column, what the parser expected
 * and what it found, and repeats the offending line with a caret under the position.
 */
export class TriggerSyntaxError extends Error {
  override readonly name = "TriggerSyntaxError";
  readonly position: TriggerPosition;
  readonly expected: string;
  readonly found: string;
  readonly trigger: string;
  /** Advice on how to fix the trigger, or an empty string when there is none. */
  readonly hint: string;

  constructor(trigger: string, offset: number, expected: string, found: string, hint = "") {
    const position = positionAt(trigger, offset);
    super(formatSyntaxMessage(trigger, position, expected, found, hint));
    this.position = position;
    this.expected = expected;
    this.found = found;
    this.trigger = trigger;
    this.hint = hint;
  }
}

export function positionAt(text: string, offset: number): TriggerPosition {
  const clamped = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < clamped; index++) {
    if (text.charCodeAt(index) === 10) {
      line++;
      lineStart = index + 1;
    }
  }
  return { offset: clamped, line, column: clamped - lineStart + 1 };
}

function formatSyntaxMessage(
  trigger: string,
  position: TriggerPosition,
  expected: string,
  found: string,
  hint: string,
): string {
  const summary = `Invalid trigger at line ${position.line}, column ${position.column}: expected ${expected}, found ${found}.`;
  const lines = [summary, ...caretLines(trigger, position)];
  if (hint !== "") lines.push(hint);
  return lines.join("\n");
}

/**
 * Names a place in the trigger as the error summary does: `column 28` in a one-line trigger, else
 * `line 2, column 5`. Columns count from 1.
 */
export function describePlace(text: string, offset: number): string {
  const position = positionAt(text, offset);
  return text.includes("\n") ? `line ${position.line}, column ${position.column}` : `column ${position.column}`;
}

/** Returns the line of `text` that contains the position and a caret line under the position. */
export function caretLines(text: string, position: TriggerPosition): string[] {
  const lineStart = position.offset - (position.column - 1);
  let lineEnd = text.indexOf("\n", lineStart);
  if (lineEnd === -1) lineEnd = text.length;

  // Tabs, carriage returns and other control characters are shown as spaces, so that none drives
  // the terminal and the caret stays under the right character.
  const sourceLine = text.slice(lineStart, lineEnd).replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
  return [`  ${sourceLine}`, `  ${" ".repeat(position.column - 1)}^`];
}

/** One trigger that failed to compile, from `compileTriggers`. */
export interface TriggerProblem {
  /** Index of the trigger in the list passed to `compileTriggers`. */
  index: number;
  source: string;
  error: TriggerSyntaxError;
}
