import { escapeControlCharacters, stripStyles } from "./style.js";

/**
 * string-width, once `formatWithTextWidth` has loaded it. Loading it builds Unicode property sets and
 * an `Intl.Segmenter`: about 300 million instructions on Node 20 (valgrind), a fifth of a one-event
 * dry run, which a run whose text is all ASCII should not pay.
 */
let measureWideText: ((text: string) => number) | undefined;
/** Whether `displayWidth` has measured text that is not printable ASCII since `formatWithTextWidth` started. */
let wideTextMeasured = false;

/**
 * Runs `format`, which wraps text with `displayWidth`, and runs it again with string-width loaded when
 * it measured text that is not printable ASCII, so that such text is measured exactly.
 */
export async function formatWithTextWidth<T>(format: () => T): Promise<T> {
  wideTextMeasured = false;
  const text = format();
  if (!wideTextMeasured || measureWideText !== undefined) {
    return text;
  }
  measureWideText = (await import("string-width")).default;
  return format();
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Returns the terminal columns that `styled` takes, colour codes aside. Until `formatWithTextWidth`
 * has loaded string-width, each other character that is not printable ASCII counts two columns, the
 * most one takes, so that a line that wrapping fills is never wider than asked.
 */
export function displayWidth(styled: string): number {
  const text = styled.includes("\u001b") ? stripStyles(styled) : styled;
  if (PRINTABLE_ASCII.test(text)) {
    return text.length;
  }
  wideTextMeasured = true;
  if (measureWideText !== undefined) {
    return measureWideText(text);
  }
  let width = 0;
  for (const character of text) {
    width += PRINTABLE_ASCII.test(character) ? 1 : 2;
  }
  return width;
}

/** Pads `text` with spaces to `width` columns, as `padEnd` pads to a number of UTF-16 code units. */
export function padColumns(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - displayWidth(text)));
}

/** Columns left on a line below which a word too wide for any line starts on the next line instead. */
const MIN_PIECE_WIDTH = 12;

/**
 * Wraps `text` into lines of at most `width` terminal columns. The first line starts with
 * `firstIndent` and the others with `nextIndent`. Lines break at spaces. A word longer than a line
 * (a long path, say) is broken after its last `/` that fits. A word without a `/`, or a path segment,
 * that is wider than a line is kept whole on a line of its own, which is then wider than `width`.
 * The terminal wraps that line, and the name can still be selected and copied in one piece. A run of
 * spaces inside a line is kept, and one at a break is dropped. Columns are counted by
 * `displayWidth`, so a wide character such as 漢 counts two. Control characters, which a file name
 * may contain, are written as escapes such as `\u001b`: a raw one would drive the terminal, and
 * has no width to count.
 */
export function wrapText(text: string, width: number, firstIndent: string, nextIndent: string): string[] {
  const lines: string[] = [];
  let line = firstIndent;
  let lineHasWord = false;
  // Splitting on a captured separator keeps each run of spaces, at the odd positions.
  const tokens = escapeControlCharacters(text).split(/( +)/);
  for (let index = 0; index < tokens.length; index += 2) {
    const word = tokens[index] as string;
    const spaces = index === 0 ? "" : (tokens[index - 1] as string);
    if (word === "") {
      // Spaces at the start or the end of the text.
      if (lineHasWord || spaces === "") {
        line += spaces;
      }
      continue;
    }
    if (lineHasWord && displayWidth(line + spaces + word) <= width) {
      line += spaces + word;
      continue;
    }
    // A path wider than any line is broken anyway, so it starts on this line when enough room is
    // left for a piece that ends at a `/`.
    const nextWidth = width - displayWidth(nextIndent);
    const room = width - displayWidth(line + spaces);
    const startsHere = lineHasWord && displayWidth(word) > nextWidth && room >= MIN_PIECE_WIDTH && fitsBeforeBreak(word, room, nextWidth);
    if (lineHasWord && !startsHere) {
      lines.push(line);
      line = nextIndent;
      lineHasWord = false;
    } else if (index > 0) {
      line += spaces;
    }
    const pieces = breakWord(word, width - displayWidth(line), nextWidth);
    line += pieces[0] as string;
    lineHasWord = true;
    for (const piece of pieces.slice(1)) {
      lines.push(line);
      line = nextIndent + piece;
    }
  }
  lines.push(line);
  return lines.map((wrapped) => wrapped.trimEnd());
}

/**
 * Cuts `word` into pieces after a `/`, so that a path breaks only between its segments. Each piece
 * ends at the last `/` that fits in its line: `firstWidth` columns for the first piece and
 * `nextWidth` for the others. When no `/` fits, the piece runs to the next `/`, or to the end of
 * the word, and is wider than its line.
 */
function breakWord(word: string, firstWidth: number, nextWidth: number): string[] {
  const pieces: string[] = [];
  let rest = word;
  let available = firstWidth;
  while (displayWidth(rest) > available) {
    const cut = slashCut(rest, available);
    if (cut === undefined) {
      break;
    }
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
    available = nextWidth;
  }
  pieces.push(rest);
  return pieces;
}

/** Returns whether the first piece of `word`, as `breakWord` cuts it, fits in `firstWidth` columns and ends at a `/`. */
function fitsBeforeBreak(word: string, firstWidth: number, nextWidth: number): boolean {
  const first = breakWord(word, firstWidth, nextWidth)[0] as string;
  return first.length < word.length && displayWidth(first) <= firstWidth;
}

/**
 * Returns the index just after the last `/` of `text` within its first `width` columns, else just
 * after its first `/` beyond them, or undefined when no `/` leaves text on both sides of the cut.
 */
function slashCut(text: string, width: number): number | undefined {
  let columns = 0;
  let lastFitting: number | undefined;
  let index = 0;
  for (const character of text) {
    columns += displayWidth(character);
    index += character.length;
    const inside = index > 1 && index < text.length;
    if (character === "/" && inside) {
      if (columns > width) {
        return lastFitting ?? index;
      }
      lastFitting = index;
    }
  }
  return lastFitting;
}

/** A line that contains only a caret, which points at a character of the line above it. */
const CARET_LINE = /^ *\^ *$/;

/**
 * Wraps each line of `text` to `width` columns. A line keeps its leading spaces, and its
 * continuation lines are indented by those spaces, or by two when it has none, so that a
 * `warning: …` line reads as one item. Empty lines stay. A caret line and the line above it stay
 * whole, so that the caret stays under the character it points at. So does each line for which
 * `keepWhole` returns true, such as a command to copy into a shell.
 */
export function wrapMessage(text: string, width: number, keepWhole: (line: string) => boolean = () => false): string {
  const lines = text.split("\n");
  return lines
    .map((line, index) => {
      const indent = /^ */.exec(line)?.[0] ?? "";
      if (line.length === indent.length || keepWhole(line) || CARET_LINE.test(line) || CARET_LINE.test(lines[index + 1] ?? "")) {
        return escapeControlCharacters(line);
      }
      return wrapText(line.slice(indent.length), width, indent, indent === "" ? "  " : indent).join("\n");
    })
    .join("\n");
}

/**
 * Wraps `text` as `wrapText` does and applies `style` to each line apart from its indentation, so
 * that no colour code is cut by a line break. Returns the lines joined by newlines.
 */
export function wrapStyled(text: string, width: number, firstIndent: string, nextIndent: string, style: (text: string) => string): string {
  return wrapText(text, width, firstIndent, nextIndent)
    .map((line, index) => {
      const indent = index === 0 ? firstIndent : nextIndent;
      const content = line.slice(indent.length);
      return content === "" ? line : `${indent}${style(content)}`;
    })
    .join("\n");
}

/** Columns below which a note goes on the lines under a table row rather than beside it. */
const MIN_NOTE_WIDTH = 24;

/**
 * Appends `note` to a table row `head`, after `separator`, wrapped in the columns right of the row.
 * When fewer than `MIN_NOTE_WIDTH` columns are left, the note goes on the lines below, indented by
 * four spaces. `style` applies to the note only. `head` may contain colour codes, which
 * `displayWidth` does not count.
 */
export function appendNote(head: string, separator: string, rawNote: string, width: number, style: (text: string) => string): string[] {
  const note = escapeControlCharacters(rawNote);
  const column = displayWidth(head) + separator.length;
  const oneLine = `${head}${separator}${note}`;
  if (displayWidth(oneLine) <= width) {
    return [`${head}${separator}${style(note)}`];
  }
  if (width - column >= MIN_NOTE_WIDTH) {
    const indent = " ".repeat(column);
    const [first = "", ...rest] = wrapStyled(note, width, indent, indent, style).split("\n");
    return [`${head}${separator}${first.slice(column)}`, ...rest];
  }
  return [head, ...wrapStyled(note, width, "    ", "    ", style).split("\n")];
}
