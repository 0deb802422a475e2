import { describePlace, TriggerSyntaxError } from "./errors.js";
import type { Keyword, Token } from "./tokens.js";

const keywords: ReadonlySet<string> = new Set<Keyword>(["and", "or", "true", "false", "null", "in"]);

/**
 * Splits a trigger into tokens. Tokens need no whitespace between them (`type="track"or(x=1)` lexes),
 * so the lexer never depends on what follows a keyword or a closing quote.
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let offset = 0;
  while (true) {
    offset = skipWhitespace(text, offset);
    if (offset >= text.length) {
      tokens.push({ kind: "end", start: text.length, end: text.length });
      return tokens;
    }
    const token = readToken(text, offset);
    tokens.push(token);
    offset = token.end;
  }
}

function skipWhitespace(text: string, offset: number): number {
  let index = offset;
  while (index < text.length && isWhitespace(text.charCodeAt(index))) index++;
  return index;
}

function isWhitespace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

function readToken(text: string, start: number): Token {
  const character = text[start] as string;
  const next = text[start + 1];
  switch (character) {
    case "(":
    case ")":
    case "[":
    case "]":
    case ",":
      return { kind: "punctuation", punctuation: character, start, end: start + 1 };
    case '"':
    case "'":
      return readString(text, start);
    case "=":
      if (next === "=") {
        throw new TriggerSyntaxError(text, start, "a comparison operator", "`==`", "Write `=` to test equality.");
      }
      return { kind: "operator", operator: "=", start, end: start + 1 };
    case "!":
      return readExclamation(text, start);
    case "<":
    case ">":
      if (next === "=") return { kind: "operator", operator: `${character}=`, start, end: start + 2 };
      return { kind: "operator", operator: character, start, end: start + 1 };
    case "&":
    case "|":
      throw new TriggerSyntaxError(
        text,
        start,
        "a condition, `and` or `or`",
        `\`${character}\``,
        "Combine conditions with the words `and` and `or`.",
      );
    default:
      break;
  }
  if (isDigit(character) || ((character === "-" || character === "+") && next !== undefined && isDigit(next))) {
    return readNumber(text, start);
  }
  if (isNameStart(character) || character === "\\") return readPath(text, start);
  if (character === ".") {
    throw new TriggerSyntaxError(text, start, "a condition or a value", "`.`", "A number starts with a digit: write 0.5, not .5.");
  }
  const codePoint = String.fromCodePoint(text.codePointAt(start) ?? 0);
  throw new TriggerSyntaxError(text, start, "a condition or a value", `the character \`${codePoint}\``, nonAsciiHint(text, start));
}

function nonAsciiHint(text: string, index: number): string {
  if (index >= text.length || text.charCodeAt(index) <= 127) return "";
  return "Field names are ASCII letters, digits, `_` and `-`: escape any other character with a backslash, as in properties.\\é.";
}

function readExclamation(text: string, start: number): Token {
  const next = text[start + 1];
  if (next === "=") return { kind: "operator", operator: "!=", start, end: start + 2 };
  if (next === undefined || isWhitespaceCharacter(next)) {
    throw new TriggerSyntaxError(
      text,
      start + 1,
      "a condition directly after `!`",
      next === undefined ? "the end of the trigger" : "whitespace",
      "Write `!` directly before what it negates, as in !contains(event, \"Test\").",
    );
  }
  return { kind: "not", start, end: start + 1 };
}

function isWhitespaceCharacter(character: string): boolean {
  return isWhitespace(character.charCodeAt(0));
}

/**
 * Reads a quoted string. Strings end at the first matching quote, so a quote is embedded by using
 * the other quote style. The only escape is `\\` for one backslash. A backslash before a quote is
 * rejected because Segment's parser ends the string there while a reader expects an escaped quote.
 * Any other backslash is kept with the character after it, so `match()` patterns such as 'a\*' reach
 * the glob compiler unchanged.
 */
function readString(text: string, start: number): Token {
  const quote = text[start] as string;
  let value = "";
  let index = start + 1;
  while (index < text.length) {
    const character = text[index] as string;
    if (character === quote) return { kind: "string", value, start, end: index + 1 };
    if (character === "\\") {
      const escaped = text[index + 1];
      if (escaped === "\\") {
        value += "\\";
        index += 2;
        continue;
      }
      if (escaped === '"' || escaped === "'") {
        const other = escaped === '"' ? "'" : '"';
        throw new TriggerSyntaxError(
          text,
          index,
          "a string without escaped quotes",
          `\`\\${escaped}\``,
          `Strings have no escaped quotes: to include ${escaped}, quote the string with ${other} instead.`,
        );
      }
    }
    value += character;
    index++;
  }
  throw new TriggerSyntaxError(text, text.length, `a closing ${quote} for the string that starts at ${describePlace(text, start)}`, "the end of the trigger");
}

function readNumber(text: string, start: number): Token {
  let index = start;
  if (text[index] === "-" || text[index] === "+") index++;
  while (index < text.length && isDigit(text[index] as string)) index++;
  if (text[index] === ".") {
    index++;
    const fractionStart = index;
    while (index < text.length && isDigit(text[index] as string)) index++;
    if (index === fractionStart) {
      throw new TriggerSyntaxError(text, index, "a digit after the decimal point", describeCharacter(text, index), "Write 1.0 or 1, not 1.");
    }
  }
  const following = text[index];
  if (following !== undefined && (isNameCharacter(following) || following === "." || following === "\\")) {
    throw new TriggerSyntaxError(
      text,
      index,
      "the end of the number",
      describeCharacter(text, index),
      "Numbers are plain decimals such as 1000 or -2.5, without exponents, separators or units.",
    );
  }
  return { kind: "number", value: Number(text.slice(start, index)), start, end: index };
}

/**
 * Reads a field path such as `properties.product\ 1.price`. A backslash makes the next character part
 * of the name, whatever it is. A single unescaped segment that spells a keyword becomes a keyword token.
 */
function readPath(text: string, start: number): Token {
  const segments: string[] = [];
  const segmentEscaped: boolean[] = [];
  let index = start;
  while (true) {
    let segment = "";
    let escaped = false;
    const segmentStart = index;
    while (index < text.length) {
      const character = text[index] as string;
      if (character === "\\") {
        const codePoint = text.codePointAt(index + 1);
        if (codePoint === undefined) {
          throw new TriggerSyntaxError(text, index + 1, "a character after `\\`", "the end of the trigger");
        }
        const escapedCharacter = String.fromCodePoint(codePoint);
        segment += escapedCharacter;
        escaped = true;
        index += 1 + escapedCharacter.length;
      } else if (isNameCharacter(character)) {
        segment += character;
        index++;
      } else {
        break;
      }
    }
    if (index === segmentStart) {
      throw new TriggerSyntaxError(text, index, "a field name after `.`", describeCharacter(text, index), nonAsciiHint(text, index));
    }
    segments.push(segment);
    segmentEscaped.push(escaped);
    if (text[index] !== ".") break;
    index++;
  }

  const only = segments[0] as string;
  if (segments.length === 1 && segmentEscaped[0] === false && keywords.has(only)) {
    return { kind: "keyword", keyword: only as Keyword, start, end: index };
  }
  return { kind: "path", segments, segmentEscaped, start, end: index };
}

function describeCharacter(text: string, index: number): string {
  if (index >= text.length) return "the end of the trigger";
  const codePoint = String.fromCodePoint(text.codePointAt(index) ?? 0);
  if (isWhitespaceCharacter(codePoint)) return "whitespace";
  return `\`${codePoint}\``;
}

function isDigit(character: string): boolean {
  return character >= "0" && character <= "9";
}

function isNameStart(character: string): boolean {
  return (character >= "a" && character <= "z") || (character >= "A" && character <= "Z") || character === "_";
}

function isNameCharacter(character: string): boolean {
  return isNameStart(character) || isDigit(character) || character === "-";
}
