export type ComparisonOperator = "=" | "!=" | "<" | "<=" | ">" | ">=";
export type Keyword = "and" | "or" | "true" | "false" | "null" | "in";
export type Punctuation = "(" | ")" | "[" | "]" | ",";

interface TokenSpan {
  /** Offset of the first character of the token in the trigger text. */
  start: number;
  /** Offset just after the last character of the token. */
  end: number;
}

export type Token = TokenSpan &
  (
    | { kind: "path"; segments: string[]; segmentEscaped: boolean[] }
    | { kind: "string"; value: string }
    | { kind: "number"; value: number }
    | { kind: "keyword"; keyword: Keyword }
    | { kind: "operator"; operator: ComparisonOperator }
    | { kind: "not" }
    | { kind: "punctuation"; punctuation: Punctuation }
    | { kind: "end" }
  );

/** Describes a token for a "found …" message, quoting what the user wrote. */
export function describeToken(token: Token, text: string): string {
  switch (token.kind) {
    case "end":
      return "the end of the trigger";
    case "string":
      return `the string ${text.slice(token.start, token.end)}`;
    case "number":
      return `the number ${text.slice(token.start, token.end)}`;
    case "path":
      return `\`${text.slice(token.start, token.end)}\``;
    case "keyword":
    case "operator":
    case "not":
    case "punctuation":
      return `\`${text.slice(token.start, token.end)}\``;
    default: {
      const unreachable: never = token;
      return unreachable;
    }
  }
}
