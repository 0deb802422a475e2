/**
 * string-width, once `formatWithTextWidth` has loaded it. Loading it builds Unicode property sets and
 * an `Intl.Segmenter`: about 300 million instructions on Node 20 (valgrind), a fifth of a one-event
 * dry run, which a run whose text is all ASCII should not pay.
 */
let measureWideText: ((text: string) => number) | undefined;
/** Whether `textWidth` has measured text that is not printable ASCII since `formatWithTextWidth` started. */
let wideTextMeasured = false;

/**
 * Runs `format`, which wraps text with `textWidth`, and runs it again with string-width loaded when
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
 * Returns the terminal columns that `text` takes. Until `formatWithTextWidth` has loaded
 * string-width, each character that is not printable ASCII counts two columns, the most one takes, so that a
 * wrapped line is never wider than asked.
 */
export function textWidth(text: string): number {
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

/** Columns left on a line below which a word too wide for any line starts on the next line instead. */
const MIN_PIECE_WIDTH = 12;

/**
 * Wraps `text` into lines of at most `width` terminal columns. The first line starts with
 * `firstIndent` and the others with `nextIndent`. Lines break at spaces. A word longer than a line
 * (a long path, say) is broken after its last `/` that fits, or else at the width, so that nothing
 * is cut off. A run of spaces inside a line is kept, and one at a break is dropped. Columns are
 * counted by `textWidth`, so a wide character such as 漢 counts two.
 */
export function wrapText(text: string, width: number, firstIndent: string, nextIndent: string): string[] {
  const lines: string[] = [];
  let line = firstIndent;
  let lineHasWord = false;
  // Splitting on a captured separator keeps each run of spaces, at the odd positions.
  const tokens = text.split(/( +)/);
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
    if (lineHasWord && textWidth(line + spaces + word) <= width) {
      line += spaces + word;
      continue;
    }
    // A word wider than any line is broken anyway, so it starts on this line when enough room is
    // left for a piece that ends at a `/`.
    const nextWidth = width - textWidth(nextIndent);
    const room = width - textWidth(line + spaces);
    const startsHere = lineHasWord && textWidth(word) > nextWidth && room >= MIN_PIECE_WIDTH && (breakWord(word, room, nextWidth)[0] as string).endsWith("/");
    if (lineHasWord && !startsHere) {
      lines.push(line);
      line = nextIndent;
      lineHasWord = false;
    } else if (index > 0) {
      line += spaces;
    }
    const pieces = breakWord(word, width - textWidth(line), nextWidth);
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
 * Cuts `word` into pieces: the first at most `firstWidth` columns wide, the others at most
 * `nextWidth`. Each cut comes after the last `/` that fits, when there is one, or else at the width.
 */
function breakWord(word: string, firstWidth: number, nextWidth: number): string[] {
  const pieces: string[] = [];
  let rest = word;
  let available = Math.max(1, firstWidth);
  while (textWidth(rest) > available) {
    const characters = Array.from(rest);
    let fitting = 0;
    let columns = 0;
    while (fitting < characters.length && columns + textWidth(characters[fitting] as string) <= available) {
      columns += textWidth(characters[fitting] as string);
      fitting += 1;
    }
    // At least one character, so that a character wider than the line still moves on.
    const head = characters.slice(0, Math.max(1, fitting)).join("");
    const slash = head.lastIndexOf("/");
    const cut = slash > 0 && slash < head.length - 1 ? head.slice(0, slash + 1) : head;
    pieces.push(cut);
    rest = rest.slice(cut.length);
    available = Math.max(1, nextWidth);
  }
  pieces.push(rest);
  return pieces;
}
