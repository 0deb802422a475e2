import type { TextStyle } from "./style.js";

/** A JSON token: a string (a key when a colon follows), a literal or a number. */
const JSON_TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

/**
 * Colours one line of pretty-printed JSON: keys cyan, strings green, numbers and literals yellow.
 * A string cut by line wrapping stays uncoloured, because its closing quote is on the next line.
 */
export function highlightJsonLine(line: string, style: TextStyle): string {
  if (!style.enabled) {
    return line;
  }
  return line.replace(JSON_TOKEN, (match: string, text: string | undefined, colon: string | undefined, literal: string | undefined) => {
    if (text !== undefined) {
      return colon !== undefined ? `${style.cyan(text)}${colon}` : style.green(text);
    }
    return literal !== undefined ? style.yellow(literal) : style.yellow(match);
  });
}
