import type { NodeOfKind, TriggerDialect, TriggerNode } from "./ast.js";
import { TriggerSyntaxError } from "./errors.js";
import { compileGlob, GlobSyntaxError } from "./glob.js";
import { objectFields, specFields, stringFields, subscriptionRoots } from "./fields.js";
import { lineNote } from "./line-note.js";
import { findTraitsOfOtherTypes } from "./traits-by-type.js";
import { canonicalTypeName, isDecimalNumberText, parseTimestamp } from "./values.js";
import { closestMatch } from "../mappings/suggest.js";

const SUBSCRIPTION_FUNCTIONS_HINT =
  "Only contains() and match() exist in Segment's trigger subset, which mapping triggers use. Other functions work in --filter, which reads full FQL and applies to every mapping.";

/**
 * Checks a parsed trigger: conditions where conditions belong and values where values belong, the
 * function arities and patterns, and the extra rules of the subscription dialect. Throws a
 * TriggerSyntaxError for the first problem and returns the warnings.
 */
export function checkTrigger(root: TriggerNode, text: string, dialect: TriggerDialect): string[] {
  const checker = new Checker(text, dialect);
  checker.checkCondition(root);
  return [...checker.warnings, ...findTraitsOfOtherTypes(root, text)];
}

class Checker {
  readonly warnings: string[] = [];

  constructor(
    private readonly text: string,
    private readonly dialect: TriggerDialect,
  ) {}

  checkCondition(node: TriggerNode): void {
    switch (node.kind) {
      case "or":
      case "and":
        this.checkChain(node);
        return;
      case "not":
        this.checkNot(node);
        return;
      case "comparison":
      case "in":
        this.checkComparison(node);
        return;
      case "call":
        if (node.name !== "contains" && node.name !== "match") {
          throw this.error(node.start, "a condition", `${node.name}(…), which returns a value`, `Compare it, as in ${node.name}(event) = "…".`);
        }
        this.checkCall(node);
        return;
      case "path":
        if (this.dialect === "subscription") {
          throw this.error(node.end, "a comparison operator after the field", this.found(node.end), "A trigger compares fields, as in type = \"track\".");
        }
        this.checkPath(node);
        return;
      case "literal":
        if (this.dialect === "fql" && typeof node.value === "boolean") return;
        throw this.error(node.start, "a condition", `the value ${this.source(node)}`);
      case "list":
        throw this.error(node.start, "a condition", "a list");
      default: {
        const unreachable: never = node;
        return unreachable;
      }
    }
  }

  private checkChain(node: NodeOfKind<"or" | "and">): void {
    if (node.kind === "or") {
      node.operands.forEach((operand) => {
        if (operand.kind !== "and" || operand.parenthesized) return;
        const offset = operand.operatorOffsets[0] as number;
        if (this.dialect === "subscription") {
          throw this.error(
            offset,
            "parentheses around conditions joined by `and` next to `or`",
            "`and` mixed with `or`",
            "Segment's trigger parser applies the last `and` or `or` to every condition, so add parentheses to say which conditions belong together, as in (a and b) or c.",
          );
        }
        this.warnings.push(
          `\`and\` binds tighter than \`or\`${lineNote(this.text, offset)}: the trigger is read as ${this.source(operand)} in parentheses; add parentheses to make the grouping explicit.`,
        );
      });
    }
    for (const operand of node.operands) this.checkCondition(operand);
  }

  private checkNot(node: NodeOfKind<"not">): void {
    const operand = node.operand;
    const negatesPredicate = operand.kind === "call" && !operand.parenthesized && (operand.name === "contains" || operand.name === "match");
    if (this.dialect === "subscription" && !negatesPredicate) {
      throw this.error(
        node.start,
        "`!` directly before contains( or match(",
        operand.parenthesized ? "`!(`" : `\`!\` before ${this.found(operand.start)}`,
        "Segment's trigger parser ignores `!` anywhere else, so the trigger would match the opposite events there. Negate the comparison instead, as in type != \"track\".",
      );
    }
    this.checkCondition(operand);
  }

  private checkComparison(node: NodeOfKind<"comparison" | "in">): void {
    const { left, right } = node;
    const operator = node.kind === "in" ? "in" : node.operator;
    if (left.kind === "not" && !left.parenthesized) {
      // The parser binds `!` tighter than a comparison, so `!type = "track"` compares `!type`.
      throw this.error(left.start, "a field on the left of the comparison", `\`!\` before ${this.found(left.operand.start)}`, this.negationHint(node, left));
    }
    if (this.dialect === "subscription") {
      if (node.kind === "in") {
        throw this.error(node.operatorOffset, "a comparison operator (= != < <= > >=)", "`in`", "`in` lists are full FQL, which mapping triggers cannot use: join comparisons with `or`, or give the condition with --filter, which applies to every mapping.");
      }
      if (left.kind !== "path") {
        const hint = left.kind === "call" ? SUBSCRIPTION_FUNCTIONS_HINT : "";
        throw this.error(left.start, "a field on the left of the comparison", this.found(left.start), hint);
      }
      if (right.kind !== "literal") {
        throw this.error(right.start, "a quoted string, a number, true, false or null", this.found(right.start), this.literalHint(right));
      }
    }
    this.checkValue(left);
    this.checkValue(right);
    if (operator === "=" || operator === "!=" || operator === "in") {
      this.checkTypeNames(left, right);
      if (operator !== "in") this.checkTypeNames(right, left);
    }

    if (left.kind === "path" && right.kind === "path" && this.looksLikeUnquotedText(right)) {
      throw this.error(right.start, "a quoted string, a number, true, false or null", this.found(right.start), this.literalHint(right));
    }
    if (node.kind === "in") {
      if (right.kind === "literal") throw this.error(right.start, "a list or a field after `in`", `the value ${this.source(right)}`);
      return;
    }
    this.checkObjectComparison(left, right, operator);
    this.checkObjectComparison(right, left, operator);
    if (operator === "!=") this.warnIfBooleanTextInSegment(right);
    if (operator === "=" || operator === "!=") return;

    for (const side of [left, right]) {
      if (side.kind === "list" || (side.kind === "literal" && (side.value === null || typeof side.value === "boolean"))) {
        throw this.error(side.start, `a number or a timestamp to compare with \`${operator}\``, this.found(side.start));
      }
      if (side.kind !== "literal" || typeof side.value !== "string") continue;
      if (!Number.isNaN(parseTimestamp(side.value))) {
        this.warnIfTimestampOrderingInSegment(side, operator);
      } else if (!isDecimalNumberText(side.value)) {
        this.warnings.push(
          `${this.source(side)}${lineNote(this.text, side.start)} is neither a number nor an ISO-8601 timestamp, so \`${operator}\` never matches.`,
        );
      }
    }
  }

  /**
   * Warns about `<`, `<=`, `>` or `>=` with a timestamp in the trigger subset. koala-replay compares
   * ISO-8601 timestamps as instants. Segment's trigger parser orders only fields whose value is a
   * number, so there the condition matched no event and the mapping sent nothing.
   */
  private warnIfTimestampOrderingInSegment(timestamp: TriggerNode, operator: string): void {
    if (this.dialect !== "subscription") return;
    this.warnings.push(
      `\`${operator} ${this.source(timestamp)}\`${lineNote(this.text, timestamp.start)} compares timestamps as instants here, but Segment's trigger parser orders only numbers, ` +
        "so there this condition matched no event.",
    );
  }

  /**
   * Warns about `!= true` and `!= false` in the trigger subset. Segment's parser compares them with
   * the text "true" or "false", so they matched a field of that very boolean there, and koala-replay
   * compares with the boolean as the trigger reads.
   */
  private warnIfBooleanTextInSegment(value: TriggerNode): void {
    if (this.dialect !== "subscription" || value.kind !== "literal" || typeof value.value !== "boolean") return;
    const text = String(value.value);
    this.warnings.push(
      `\`!= ${text}\`${lineNote(this.text, value.start)} skips events whose field is the boolean ${text}. Segment's trigger parser compares it with the text "${text}" instead, ` +
        `so there it matched those events and skipped the ones whose field is the text "${text}". To keep Segment's selection, write \`!= "${text}"\`.`,
    );
  }

  /**
   * Rejects a value compared with `typeof()` that names no type, such as "undefined" or a misspelt
   * name, because the comparison would never match (or, with `!=`, always match).
   */
  private checkTypeNames(call: TriggerNode, names: TriggerNode): void {
    if (call.kind !== "call" || call.name !== "typeof") return;
    const literals = names.kind === "list" ? names.elements : [names];
    for (const literal of literals) {
      if (literal.kind !== "literal" || (typeof literal.value === "string" && canonicalTypeName(literal.value) !== undefined)) continue;
      const hint = literal.value === "undefined" ? 'A missing field is "null".' : '"boolean" and "array" are accepted too.';
      throw this.error(literal.start, 'a type that typeof() returns: "string", "number", "bool", "list", "object" or "null"', `the value ${this.source(literal)}`, hint);
    }
  }

  /** Rejects comparing a whole `properties`, `traits` or `context` object with anything but null. */
  private checkObjectComparison(field: TriggerNode, other: TriggerNode, operator: string): void {
    if (field.kind !== "path" || field.segments.length !== 1 || !objectFields.has(field.segments[0] as string)) return;
    if (other.kind === "literal" && other.value === null && (operator === "=" || operator === "!=")) return;
    throw this.error(
      field.start,
      "a field inside the object",
      this.found(field.start),
      `${field.segments[0]} is an object: compare one of its fields, as in ${field.segments[0]}.plan = "pro", or test it with != null.`,
    );
  }

  private checkValue(node: TriggerNode): void {
    switch (node.kind) {
      case "path":
        this.checkPath(node);
        return;
      case "literal":
        return;
      case "list":
        for (const element of node.elements) {
          if (element.kind !== "literal" && element.kind !== "list") {
            throw this.error(element.start, "a literal value in the list", this.found(element.start));
          }
          this.checkValue(element);
        }
        return;
      case "call":
        if (node.name === "contains" || node.name === "match") {
          throw this.error(node.start, "a value", `${node.name}(…), which is a condition`);
        }
        if (this.dialect === "subscription") {
          throw this.error(node.start, "a field", `${node.name}(`, SUBSCRIPTION_FUNCTIONS_HINT);
        }
        this.checkCall(node);
        return;
      case "not":
        throw this.error(
          node.start,
          "a value to compare",
          `\`!\` before ${this.found(node.operand.start)}`,
          "`!` negates a condition, not a value: write the comparison with `!=`, as in type != \"track\".",
        );
      case "or":
      case "and":
      case "comparison":
      case "in":
        throw this.error(node.start, "a value", "a condition", "A comparison compares a field or function with a value.");
      default: {
        const unreachable: never = node;
        return unreachable;
      }
    }
  }

  private checkCall(node: NodeOfKind<"call">): void {
    const arity = node.name === "contains" || node.name === "match" ? 2 : 1;
    if (node.args.length !== arity) {
      throw this.error(node.start, `${arity} argument${arity === 1 ? "" : "s"} for ${node.name}()`, `${node.args.length}`);
    }
    const subject = node.args[0] as TriggerNode;
    this.checkValue(subject);
    if (arity === 1) return;

    const needle = node.args[1] as TriggerNode;
    if (this.dialect === "subscription") {
      const root = subject.kind === "path" ? (subject.segments[0] as string) : "";
      if (subject.kind !== "path" || root === "type" || (objectFields.has(root) && subject.segments.length === 1)) {
        throw this.error(subject.start, "event, name, userId or a field under properties, traits or context", this.found(subject.start), `Segment's trigger parser drops ${node.name}() on anything else.`);
      }
    }
    if (node.name === "contains") {
      if (this.dialect === "subscription" && (needle.kind !== "literal" || (typeof needle.value !== "string" && typeof needle.value !== "number"))) {
        throw this.error(needle.start, "a quoted string", this.found(needle.start), this.literalHint(needle));
      }
      if (needle.kind === "path" && subject.kind === "path") {
        throw this.error(needle.start, "a quoted string", this.found(needle.start), this.literalHint(needle));
      }
      this.checkValue(needle);
      return;
    }
    this.checkPattern(needle);
  }

  private checkPattern(pattern: TriggerNode): void {
    if (pattern.kind !== "literal" || typeof pattern.value !== "string") {
      throw this.error(pattern.start, "a quoted glob pattern as the second argument of match()", this.found(pattern.start), this.literalHint(pattern));
    }
    if (pattern.value === "") {
      throw this.error(pattern.start, "a non-empty pattern", "the empty string", "To test for an empty value, compare it: event = \"\".");
    }
    try {
      compileGlob(pattern.value);
    } catch (error) {
      if (!(error instanceof GlobSyntaxError)) throw error;
      // NOTE: the offset counts characters of the string value, so each `\\` before the problem in
      // the trigger text moves the caret one character to the left of it.
      throw this.error(pattern.start + 1 + error.offset, "a valid glob pattern", error.message);
    }
    if (this.dialect === "subscription" && !isPrefixOrSuffixPattern(pattern.value)) {
      this.warnings.push(
        `${this.source(pattern)}${lineNote(this.text, pattern.start)} is a glob pattern here, but Segment's trigger parser reads only "prefix*" or "*suffix" and takes ?, [ and \\ as plain characters, so it selects other events.`,
      );
    }
  }

  private checkPath(node: NodeOfKind<"path">): void {
    const root = node.segments[0] as string;
    if (stringFields.has(root) && node.segments.length > 1) {
      throw this.error(node.start, "a field that can have sub-fields", this.found(node.start), `${root} is a string, so it has no field ${node.segments.slice(1).join(".")}.`);
    }
    if (this.dialect === "fql") {
      const sameLetters = specFields.find((field) => field !== root && field.toLowerCase() === root.toLowerCase());
      if (sameLetters !== undefined) {
        this.warnings.push(`\`${root}\`${lineNote(this.text, node.start)} differs from the Segment field \`${sameLetters}\` only in case; field names are case-sensitive.`);
      }
      return;
    }

    if (!subscriptionRoots.has(root)) {
      const suggestion = closestMatch(root, [...subscriptionRoots]);
      throw this.error(
        node.start,
        "one of the fields type, event, name, userId or a field under properties, traits or context",
        this.found(node.start),
        suggestion !== undefined
          ? `Did you mean ${suggestion}?`
          : `Segment's trigger parser silently drops conditions on other fields, so a mapping's trigger cannot test \`${root}\`. To select events by it, give the condition with --filter, which reads full FQL and applies to every mapping.`,
      );
    }
    let offset = node.start;
    node.segments.forEach((segment, index) => {
      const where = Math.max(this.text.indexOf(segment, offset), node.start);
      offset += segment.length;
      if (index === 0) return;
      if (!node.segmentEscaped[index] && this.isMisreadSegment(segment, index === node.segments.length - 1, node.end)) {
        throw this.error(
          where,
          "a field name",
          `\`${segment}\``,
          `Segment's trigger parser misreads this path segment: escape its first character (\\${segment}), or give the condition with --filter, which reads full FQL and applies to every mapping.`,
        );
      }
      if (/[.[\]]/.test(segment)) {
        throw this.error(
          where,
          "a field name without an escaped `.`, `[` or `]`",
          `\`${segment}\``,
          "Segment's trigger parser splits field names at these characters even when they are escaped, so it would read another field. Give a condition on such a name with --filter, which reads full FQL and applies to every mapping.",
        );
      }
    });
  }

  /**
   * Tells whether Segment's lexer (@segment/fql-ts) reads an unescaped path segment as something other
   * than a name. A segment that starts with a digit or `-` becomes a number. `and`, `or` and `null`
   * become keywords at the end of a path, unless `=` or `!=` follows at once. `true`, `false` and `in`
   * stay names.
   */
  private isMisreadSegment(segment: string, isLast: boolean, pathEnd: number): boolean {
    if (/^[0-9-]/.test(segment)) return true;
    if (!isLast || (segment !== "and" && segment !== "or" && segment !== "null")) return false;
    const following = this.text[pathEnd];
    return following !== "=" && following !== "!";
  }

  /**
   * Tells whether the right side of a field-to-field comparison is more likely unquoted text: a single
   * word that is not a Segment field, as in `type = track`. The subscription dialect has no
   * field-to-field comparisons, because Segment's parser reads the right side as text.
   */
  private looksLikeUnquotedText(node: NodeOfKind<"path">): boolean {
    if (this.dialect === "subscription") return true;
    return node.segments.length === 1 && !specFields.includes(node.segments[0] as string);
  }

  private literalHint(node: TriggerNode): string {
    if (node.kind !== "path") return "";
    const word = this.source(node);
    return `\`${word}\` is read as a field. To compare with the text, quote it: "${word}".`;
  }

  /** Suggests negating the whole comparison, for `!field op value` where `!` applies to the field alone. */
  private negationHint(comparison: NodeOfKind<"comparison" | "in">, left: NodeOfKind<"not">): string {
    const operand = this.source(left.operand);
    const right = this.source(comparison.right);
    const operator = comparison.kind === "in" ? "in" : comparison.operator;
    const whole = `!(${operand} ${operator} ${right})`;
    const inverse = comparison.kind === "in" ? undefined : inverseOperators[comparison.operator];
    const alternatives = inverse === undefined ? whole : `${whole} or ${operand} ${inverse} ${right}`;
    return `\`!\` applies to \`${operand}\` alone here. To negate the comparison, write ${alternatives}.`;
  }

  private source(node: TriggerNode): string {
    return this.text.slice(node.start, node.end);
  }

  private found(offset: number): string {
    const rest = this.text.slice(offset).split(/[\s,)]/)[0] ?? "";
    return rest === "" ? "the end of the trigger" : `\`${rest}\``;
  }

  private error(offset: number, expected: string, found: string, hint = ""): TriggerSyntaxError {
    return new TriggerSyntaxError(this.text, offset, expected, found, hint);
  }
}

/**
 * The operator that is true exactly when the given one is false. Ordering operators have none, because
 * `<` and `>=` are both false when a value is missing or not a number.
 */
const inverseOperators: Readonly<Partial<Record<string, string>>> = { "=": "!=", "!=": "=" };

/**
 * Tells whether Segment's trigger parser (@segment/destination-subscriptions 3.37.0) reads a match()
 * pattern as the glob does: `*`, or a leading or trailing `*` beside text without wildcards or `\`.
 */
function isPrefixOrSuffixPattern(pattern: string): boolean {
  if (pattern === "*") return true;
  const text = pattern.endsWith("*") ? pattern.slice(0, -1) : pattern.startsWith("*") ? pattern.slice(1) : undefined;
  return text !== undefined && !/[*?[\\]/.test(text);
}
