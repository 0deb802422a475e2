import { functionNames, type FunctionName, type TriggerNode } from "./ast.js";
import { describePlace, TriggerSyntaxError } from "./errors.js";
import { tokenize } from "./lexer.js";
import { describeToken, type Token } from "./tokens.js";

/**
 * Parses a trigger into its syntax tree with a recursive-descent parser. Precedence from tightest to
 * loosest: `!`, comparison and `in`, `and`, `or`. Whether a construct is allowed in a dialect, and
 * whether operands have the right kind, is checked afterwards by `checkTrigger`.
 */
export function parseTrigger(text: string): TriggerNode {
  const parser = new Parser(text);
  return parser.parseTrigger();
}

/**
 * Maximum nesting of parentheses, lists, calls and `!`, counted together. It keeps the recursive
 * parser, checker and compiler far from the call-stack limit on hostile input.
 */
const maxNestingDepth = 128;

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private depth = 0;

  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
  }

  parseTrigger(): TriggerNode {
    const root = this.parseOr();
    const next = this.peek();
    if (next.kind !== "end") {
      throw this.error(next, "`and`, `or` or the end of the trigger", unquotedTextHint(root, this.tokens, this.index, this.text) ?? trailingTokenHint(next, this.text));
    }
    return root;
  }

  private parseOr(): TriggerNode {
    return this.parseChain("or", () => this.parseAnd());
  }

  private parseAnd(): TriggerNode {
    return this.parseChain("and", () => this.parseComparison());
  }

  private parseChain(keyword: "and" | "or", parseOperand: () => TriggerNode): TriggerNode {
    const first = parseOperand();
    const operands = [first];
    const operatorOffsets: number[] = [];
    let next = this.peek();
    while (next.kind === "keyword" && next.keyword === keyword) {
      this.index++;
      operatorOffsets.push(next.start);
      operands.push(parseOperand());
      next = this.peek();
    }
    if (operands.length === 1) return first;
    const last = operands[operands.length - 1] as TriggerNode;
    return { kind: keyword, operands, operatorOffsets, start: first.start, end: last.end, parenthesized: false };
  }

  private parseComparison(): TriggerNode {
    const left = this.parseOperand("a condition");
    const next = this.peek();
    if (next.kind === "operator") {
      this.index++;
      const right = this.parseOperand(`a value after \`${next.operator}\``);
      return {
        kind: "comparison",
        operator: next.operator,
        left,
        right,
        operatorOffset: next.start,
        start: left.start,
        end: right.end,
        parenthesized: false,
      };
    }
    if (next.kind === "keyword" && next.keyword === "in") {
      this.index++;
      const right = this.parseOperand("a list after `in`");
      return { kind: "in", left, right, operatorOffset: next.start, start: left.start, end: right.end, parenthesized: false };
    }
    if (left.kind === "path" && !left.parenthesized && isValueStart(next)) {
      throw this.error(next, "a comparison operator (= != < <= > >=) or `in`", operatorHint(next, this.text));
    }
    return left;
  }

  /** Parses an operand of a comparison: a primary, or `!` directly before one. */
  private parseOperand(expected: string): TriggerNode {
    const next = this.peek();
    if (next.kind !== "not") return this.parsePrimary(expected);

    this.index++;
    this.enterNesting(next);
    const operand = this.parseOperand("a condition after `!`");
    this.depth--;
    return { kind: "not", operand, start: next.start, end: operand.end, parenthesized: false };
  }

  private enterNesting(token: Token): void {
    this.depth++;
    if (this.depth > maxNestingDepth) {
      throw this.error(token, `at most ${maxNestingDepth} nested parentheses, lists, calls and \`!\``, "deeper nesting");
    }
  }

  private parsePrimary(expected: string): TriggerNode {
    const token = this.peek();
    this.enterNesting(token);
    try {
      return this.parsePrimaryToken(token, expected);
    } finally {
      this.depth--;
    }
  }

  private parsePrimaryToken(token: Token, expected: string): TriggerNode {
    switch (token.kind) {
      case "string":
        this.index++;
        return { kind: "literal", value: token.value, start: token.start, end: token.end, parenthesized: false };
      case "number":
        this.index++;
        return { kind: "literal", value: token.value, start: token.start, end: token.end, parenthesized: false };
      case "keyword":
        return this.parseKeywordLiteral(token, expected);
      case "path":
        this.index++;
        if (this.peekIsPunctuation("(")) return this.parseCall(token);
        return {
          kind: "path",
          segments: token.segments,
          segmentEscaped: token.segmentEscaped,
          start: token.start,
          end: token.end,
          parenthesized: false,
        };
      case "punctuation":
        if (token.punctuation === "(") return this.parseGroup(token);
        if (token.punctuation === "[") return this.parseList(token);
        throw this.error(token, expected);
      case "operator":
      case "not":
      case "end":
        throw this.error(token, expected);
      default: {
        const unreachable: never = token;
        return unreachable;
      }
    }
  }

  private parseKeywordLiteral(token: Extract<Token, { kind: "keyword" }>, expected: string): TriggerNode {
    let value: boolean | null;
    switch (token.keyword) {
      case "true":
        value = true;
        break;
      case "false":
        value = false;
        break;
      case "null":
        value = null;
        break;
      case "and":
      case "or":
      case "in":
        throw this.error(token, expected, `\`${token.keyword}\` needs a condition on each side.`);
      default: {
        const unreachable: never = token.keyword;
        return unreachable;
      }
    }
    this.index++;
    return { kind: "literal", value, start: token.start, end: token.end, parenthesized: false };
  }

  private parseGroup(open: Token): TriggerNode {
    this.index++;
    if (this.peekIsPunctuation(")")) throw this.error(this.peek(), "a condition inside the parentheses");
    const inner = this.parseOr();
    this.expectPunctuation(")", `\`)\` to close the \`(\` at ${describePlace(this.text, open.start)}`);
    inner.parenthesized = true;
    return inner;
  }

  private parseList(open: Token): TriggerNode {
    this.index++;
    const elements: TriggerNode[] = [];
    if (!this.peekIsPunctuation("]")) {
      elements.push(this.parsePrimary("a list element"));
      while (this.peekIsPunctuation(",")) {
        this.index++;
        elements.push(this.parsePrimary("a list element after `,`"));
      }
    }
    const close = this.expectPunctuation("]", "`,` or `]` to close the list");
    return { kind: "list", elements, start: open.start, end: close.end, parenthesized: false };
  }

  private parseCall(name: Extract<Token, { kind: "path" }>): TriggerNode {
    const functionName = name.segments[0] as string;
    if (name.segments.length !== 1 || name.segmentEscaped[0] === true || !functionNames.has(functionName)) {
      throw this.error(
        name,
        "a function name",
        `The functions are ${[...functionNames].join(", ")}; a field is never followed by \`(\`.`,
      );
    }
    this.index++;
    const args: TriggerNode[] = [];
    if (!this.peekIsPunctuation(")")) {
      args.push(this.parseOr());
      while (this.peekIsPunctuation(",")) {
        this.index++;
        args.push(this.parseOr());
      }
    }
    const close = this.expectPunctuation(")", `\`,\` or \`)\` to close ${functionName}(`);
    return { kind: "call", name: functionName as FunctionName, args, start: name.start, end: close.end, parenthesized: false };
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private peekIsPunctuation(punctuation: string): boolean {
    const next = this.peek();
    return next.kind === "punctuation" && next.punctuation === punctuation;
  }

  private expectPunctuation(punctuation: string, expected: string): Token {
    const next = this.peek();
    if (next.kind !== "punctuation" || next.punctuation !== punctuation) throw this.error(next, expected);
    this.index++;
    return next;
  }

  private error(token: Token, expected: string, hint = ""): TriggerSyntaxError {
    return new TriggerSyntaxError(this.text, token.start, expected, describeToken(token, this.text), hint);
  }
}

function isValueStart(token: Token): boolean {
  return token.kind === "path" || token.kind === "string" || token.kind === "number" || token.kind === "not";
}

function operatorHint(token: Token, text: string): string {
  const word = text.slice(token.start, token.end);
  if (word === "exists") return "Test whether a field is present with `!= null`.";
  if (word === "contains" || word === "match") return `Call it as a function: ${word}(field, "text").`;
  if (word === "AND" || word === "OR" || word === "And" || word === "Or") return `Keywords are lowercase: write \`${word.toLowerCase()}\`.`;
  return "";
}

/**
 * Returns a hint to quote the value when a comparison ends in unquoted words, as in
 * `event = Order Completed`, where the parser stops at the second word. `next` is the index of the
 * token after the comparison.
 */
function unquotedTextHint(root: TriggerNode, tokens: readonly Token[], next: number, text: string): string | undefined {
  let last = root;
  while ((last.kind === "and" || last.kind === "or") && !last.parenthesized) {
    last = last.operands[last.operands.length - 1] as TriggerNode;
  }
  if (last.kind !== "comparison" || last.parenthesized || last.right.kind !== "path" || last.right.parenthesized) return undefined;

  let end = last.right.end;
  for (let index = next; index < tokens.length; index++) {
    const token = tokens[index] as Token;
    if (token.kind !== "path" && token.kind !== "number") break;
    end = token.end;
  }
  if (end === last.right.end) return undefined;
  const words = text.slice(last.right.start, end);
  return `To compare with the text, quote it: ${JSON.stringify(words)}.`;
}

function trailingTokenHint(token: Token, text: string): string {
  if (token.kind === "punctuation" && token.punctuation === ")") return "This `)` has no matching `(`.";
  const word = text.slice(token.start, token.end);
  if (token.kind === "path" && (word.toLowerCase() === "and" || word.toLowerCase() === "or")) {
    return `Keywords are lowercase: write \`${word.toLowerCase()}\`.`;
  }
  if (token.kind === "path" || token.kind === "string" || token.kind === "number" || token.kind === "not") {
    return "Join conditions with `and` or `or`.";
  }
  return "";
}
