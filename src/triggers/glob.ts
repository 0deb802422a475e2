/**
 * Compiles a `match()` pattern into a test of whole strings. `*` matches any run of characters, `?`
 * one character, `[a-z]` and `[abc]` one character from a set, `[^…]` or `[!…]` one character outside
 * it, and `\` makes the next character literal. Throws a GlobSyntaxError with the offset of a bad
 * bracket expression.
 */
export function compileGlob(pattern: string): (text: string) => boolean {
  const source = globToRegExpSource(pattern);

  // Patterns without wildcards or with a single leading or trailing `*` are common and need no RegExp.
  const plain = literalText(pattern);
  if (plain !== undefined) return (text) => text === plain;
  if (pattern.endsWith("*") && !pattern.endsWith("\\*")) {
    const prefix = literalText(pattern.slice(0, -1));
    if (prefix !== undefined) return (text) => text.startsWith(prefix);
  }
  if (pattern.startsWith("*")) {
    const suffix = literalText(pattern.slice(1));
    if (suffix !== undefined) return (text) => text.endsWith(suffix);
  }
  const expression = new RegExp(`^${source}$`, "su");
  return (text) => expression.test(text);
}

export class GlobSyntaxError extends Error {
  override readonly name = "GlobSyntaxError";
  constructor(
    message: string,
    /** Offset in the pattern text. */
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Returns the text a pattern matches when it has no wildcard, without its escapes, or undefined. */
function literalText(pattern: string): string | undefined {
  let text = "";
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index] as string;
    if (character === "*" || character === "?" || character === "[") return undefined;
    if (character === "\\" && index + 1 < pattern.length) {
      index++;
      text += pattern[index];
    } else {
      text += character;
    }
  }
  return text;
}

function globToRegExpSource(pattern: string): string {
  let source = "";
  let index = 0;
  while (index < pattern.length) {
    const character = pattern[index] as string;
    if (character === "*") {
      source += ".*";
    } else if (character === "?") {
      source += ".";
    } else if (character === "[") {
      const bracket = readBracket(pattern, index);
      source += bracket.source;
      index = bracket.end;
      continue;
    } else if (character === "\\" && index + 1 < pattern.length) {
      index++;
      source += escapeForRegExp(pattern[index] as string);
    } else {
      source += escapeForRegExp(character);
    }
    index++;
  }
  return source;
}

function readBracket(pattern: string, start: number): { source: string; end: number } {
  let index = start + 1;
  let negated = false;
  if (pattern[index] === "^" || pattern[index] === "!") {
    negated = true;
    index++;
  }
  let body = "";
  let first = true;
  while (index < pattern.length && (pattern[index] !== "]" || first)) {
    first = false;
    let character = pattern[index] as string;
    if (character === "\\" && index + 1 < pattern.length) {
      index++;
      character = pattern[index] as string;
    }
    if (pattern[index + 1] === "-" && index + 2 < pattern.length && pattern[index + 2] !== "]") {
      const last = pattern[index + 2] as string;
      if (last < character) throw new GlobSyntaxError(`the reversed range ${character}-${last}`, index);
      body += `${escapeInClass(character)}-${escapeInClass(last)}`;
      index += 3;
      continue;
    }
    body += escapeInClass(character);
    index++;
  }
  if (index >= pattern.length) throw new GlobSyntaxError("a `[` without a closing `]`", start);
  return { source: `[${negated ? "^" : ""}${body}]`, end: index + 1 };
}

function escapeForRegExp(character: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(character) ? `\\${character}` : character;
}

function escapeInClass(character: string): string {
  return /[\\^\]\[-]/.test(character) ? `\\${character}` : character;
}
