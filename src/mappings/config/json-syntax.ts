import { childPointer } from "../pointer.js";

/**
 * Positions in a config's JSON text. `findJsonSyntaxError` finds where a text that `JSON.parse`
 * rejects stops being valid, because Node 20's messages give no position for some errors (an
 * unexpected token, for one). `locateJsonPointers` finds where each member and element starts, so
 * that config problems can name a line and column beside their JSON pointer.
 */
export interface JsonSyntaxError {
  offset: number;
  message: string;
}

const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const maxDepth = 1000;

/** Stops the scan at the first error. */
class JsonScanStop extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** A key given twice in one object: JSON.parse keeps the value of its last occurrence. */
export interface DuplicateJsonKey {
  /** JSON pointer of the member. */
  pointer: string;
  firstOffset: number;
  /** Offset of the later occurrence. */
  offset: number;
}

class JsonScanner {
  position = 0;
  /** Offset of each member's key and each element's value, by JSON pointer. */
  readonly positions = new Map<string, number>();
  readonly duplicateKeys: DuplicateJsonKey[] = [];

  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new JsonScanStop(this.position, message);
  }

  skipWhitespace(): void {
    while (" \t\n\r".includes(this.text[this.position] ?? "x")) this.position++;
  }

  describeHere(): string {
    const character = this.text[this.position];
    return character === undefined ? "the end of the file" : JSON.stringify(character);
  }

  expect(character: string, description: string): void {
    this.skipWhitespace();
    if (this.text[this.position] !== character) this.fail(`expected ${description}, found ${this.describeHere()}`);
    this.position++;
  }

  /**
   * Expects the comma after a member or element that ended at `valueEnd`. When the text found there
   * starts with one of `nextStarts`, it is probably the next member, so the message names the line
   * that the comma is missing from: usually the end of the line before.
   */
  expectComma(closing: "}" | "]", valueEnd: number, nextStarts: string): void {
    if (this.text[this.position] === ",") {
      this.position++;
      return;
    }
    const found = `expected a comma or ${closing}, found ${this.describeHere()}`;
    const next = this.text[this.position];
    if (next === undefined || !nextStarts.includes(next)) this.fail(found);
    const { line } = lineAndColumn(this.text, valueEnd);
    const { line: nextLine } = lineAndColumn(this.text, this.position);
    const where = line === nextLine ? "before it" : `at the end of line ${line}`;
    this.fail(`${found}. A comma is probably missing ${where}`);
  }

  value(depth: number, pointer: string): void {
    if (depth > maxDepth) this.fail(`nesting deeper than ${maxDepth} levels`);
    this.skipWhitespace();
    if (!this.positions.has(pointer)) this.positions.set(pointer, this.position);
    const character = this.text[this.position];
    if (character === "{") return this.object(depth, pointer);
    if (character === "[") return this.array(depth, pointer);
    if (character === '"') return this.string();
    for (const literal of ["true", "false", "null"]) {
      if (this.text.startsWith(literal, this.position)) {
        this.position += literal.length;
        return;
      }
    }
    numberPattern.lastIndex = this.position;
    if (numberPattern.test(this.text)) {
      this.position = numberPattern.lastIndex;
      return;
    }
    this.fail(`expected a JSON value, found ${this.describeHere()}`);
  }

  object(depth: number, pointer: string): void {
    this.position++;
    this.skipWhitespace();
    if (this.text[this.position] === "}") {
      this.position++;
      return;
    }
    const keyOffsets = new Map<string, number>();
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.position] === "}") this.fail("trailing comma before }");
      if (this.text[this.position] !== '"') this.fail(`expected a double-quoted key, found ${this.describeHere()}`);
      const keyStart = this.position;
      this.string();
      const key = JSON.parse(this.text.slice(keyStart, this.position)) as string;
      const memberPointer = childPointer(pointer, key);
      const firstOffset = keyOffsets.get(key);
      if (firstOffset === undefined) keyOffsets.set(key, keyStart);
      else this.duplicateKeys.push({ pointer: memberPointer, firstOffset, offset: keyStart });
      this.positions.set(memberPointer, keyStart);
      this.expect(":", "a colon after the key");
      this.value(depth + 1, memberPointer);
      const valueEnd = this.position;
      this.skipWhitespace();
      if (this.text[this.position] === "}") {
        this.position++;
        return;
      }
      this.expectComma("}", valueEnd, '"');
    }
  }

  array(depth: number, pointer: string): void {
    this.position++;
    this.skipWhitespace();
    if (this.text[this.position] === "]") {
      this.position++;
      return;
    }
    for (let index = 0; ; index++) {
      this.skipWhitespace();
      if (this.text[this.position] === "]") this.fail("trailing comma before ]");
      this.value(depth + 1, childPointer(pointer, index));
      const valueEnd = this.position;
      this.skipWhitespace();
      if (this.text[this.position] === "]") {
        this.position++;
        return;
      }
      this.expectComma("]", valueEnd, '"{[-0123456789tfn');
    }
  }

  string(): void {
    this.position++;
    for (;;) {
      const character = this.text[this.position];
      if (character === undefined) this.fail("unterminated string");
      if (character === '"') {
        this.position++;
        return;
      }
      if (character < " ") this.fail("control character in a string. Write it as an escape such as \\n");
      if (character === "\\") {
        const escape = this.text[this.position + 1] ?? "";
        if (escape === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.position + 2, this.position + 6))) this.fail("invalid \\u escape");
          this.position += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(escape) || escape === "") this.fail(`invalid escape \\${escape}`);
        this.position += 2;
        continue;
      }
      this.position++;
    }
  }

  document(): void {
    this.value(0, "");
    this.skipWhitespace();
    if (this.position < this.text.length) this.fail(`unexpected ${this.describeHere()} after the JSON value`);
  }
}

export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  try {
    new JsonScanner(text).document();
    return undefined;
  } catch (error) {
    if (error instanceof JsonScanStop) return { offset: error.offset, message: error.message };
    throw error;
  }
}

/**
 * Returns the offset of every member (its key) and element in a valid JSON text, by JSON pointer. A
 * duplicate key gets the position of its last occurrence, whose value `JSON.parse` keeps. Returns an
 * empty map for a text it cannot scan.
 */
export function locateJsonPointers(text: string): ReadonlyMap<string, number> {
  const scanner = new JsonScanner(text);
  try {
    scanner.document();
  } catch (error) {
    if (error instanceof JsonScanStop) return new Map();
    throw error;
  }
  return scanner.positions;
}

/** Lists the keys given more than once in an object of a valid JSON text, in the order of their repeats. */
export function findDuplicateKeys(text: string): DuplicateJsonKey[] {
  const scanner = new JsonScanner(text);
  try {
    scanner.document();
  } catch (error) {
    if (error instanceof JsonScanStop) return [];
    throw error;
  }
  return scanner.duplicateKeys;
}

/** Converts an offset into a 1-based line and column. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset && index < text.length; index++) {
    if (text[index] === "\n") {
      line++;
      lineStart = index + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
