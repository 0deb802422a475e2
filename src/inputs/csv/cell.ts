/**
 * Decoding of a cell's text into an event value. Every rule here is listed in docs/csv.md. A rule
 * belongs here only when it cannot turn a string that was meant as text into something else.
 */

/** Tests whether a cell is wrapped in single quotes inside the CSV field (`'abc'`, `''`), as some exporters write every cell. */
export function isSingleQuoted(cell: string): boolean {
  return cell.length >= 2 && cell.charCodeAt(0) === 0x27 && cell.charCodeAt(cell.length - 1) === 0x27;
}

/**
 * Decides from the first data row whether the file wraps its cells in single quotes: every
 * non-empty cell must be wrapped, and at least one cell must be. Deciding once per file keeps a
 * lone `'quoted'` value in an ordinary file intact.
 */
export function detectSingleQuotedCells(firstRow: readonly string[]): boolean {
  let wrappedCount = 0;
  for (const cell of firstRow) {
    if (cell === "") continue;
    if (!isSingleQuoted(cell)) return false;
    wrappedCount += 1;
  }
  return wrappedCount > 0;
}

/** Removes the single quotes around every wrapped cell, in place. Inner quotes are kept as written. */
export function unwrapSingleQuotedCells(cells: string[]): void {
  for (let index = 0; index < cells.length; index += 1) {
    const cell = cells[index]!;
    if (isSingleQuoted(cell)) cells[index] = cell.slice(1, -1);
  }
}

/**
 * Decodes a cell that becomes a property, trait or context value; `undefined` means absent.
 * - An empty cell is absent, because warehouses export a missing value that way.
 * - A cell that starts with `{` and ends with `}`, or starts with `[` and ends with `]`, and is valid
 *   JSON becomes that object or array. Invalid JSON stays text, since `[time] hour` is a fine string.
 * - With `convertNumbers`, a plain decimal number becomes a number (see `parseDecimal`).
 * - Anything else stays the text as written, spaces included.
 */
export function decodeValueCell(cell: string, convertNumbers: boolean): unknown {
  if (cell === "") return undefined;
  if (looksLikeJsonContainer(cell)) {
    const parsed = parseJsonOrUndefined(cell);
    if (parsed !== undefined) return parsed;
    return cell;
  }
  if (convertNumbers) {
    const number = parseDecimal(cell);
    if (number !== undefined) return number;
  }
  return cell;
}

export function looksLikeJsonContainer(cell: string): boolean {
  const first = cell.charCodeAt(0);
  const last = cell.charCodeAt(cell.length - 1);
  return (first === 0x7b && last === 0x7d) || (first === 0x5b && last === 0x5d);
}

export function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Optional minus, no leading zero (so `02134` stays a zip code), optional fraction and exponent. */
const DECIMAL_PATTERN = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Parses a plain decimal number, or returns undefined when the text is not one or would not survive
 * the conversion: an integer beyond 2^53 (a 19-digit id) stays text, so it keeps every digit, and so
 * does a number too large or too small for a double (`1e999`, `1e-999`), which would become
 * Infinity or 0.
 */
export function parseDecimal(text: string): number | undefined {
  if (!DECIMAL_PATTERN.test(text)) return undefined;
  const number = Number(text);
  if (!Number.isFinite(number)) return undefined;
  if (Number.isInteger(number) && !Number.isSafeInteger(number)) return undefined;
  if (number === 0 && /[1-9]/.test(text.split(/[eE]/)[0]!)) return undefined;
  return number;
}
