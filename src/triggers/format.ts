import type { LiteralValue, TriggerNode } from "./ast.js";

const keywordNames: ReadonlySet<string> = new Set(["and", "or", "true", "false", "null", "in"]);

/**
 * Prints a syntax tree in canonical form: single spaces, double quotes where the text allows them,
 * and parentheses around every `and` or `or` group nested in another group, so the grouping never
 * depends on precedence. The printed text compiles to the same trigger.
 */
export function formatTrigger(node: TriggerNode): string {
  switch (node.kind) {
    case "or":
    case "and":
      return node.operands.map((operand) => (isChain(operand) ? `(${formatTrigger(operand)})` : formatTrigger(operand))).join(` ${node.kind} `);
    case "not": {
      const operand = node.operand;
      const bare = operand.kind === "call" || operand.kind === "path" || operand.kind === "literal";
      return bare && !operand.parenthesized ? `!${formatTrigger(operand)}` : `!(${formatTrigger(operand)})`;
    }
    case "comparison":
      return `${formatOperand(node.left)} ${node.operator} ${formatOperand(node.right)}`;
    case "in":
      return `${formatOperand(node.left)} in ${formatOperand(node.right)}`;
    case "call":
      return `${node.name}(${node.args.map(formatTrigger).join(", ")})`;
    case "path":
      return node.segments.map((segment) => formatSegment(segment)).join(".");
    case "literal":
      return formatLiteral(node.value);
    case "list":
      return `[${node.elements.map(formatTrigger).join(", ")}]`;
    default: {
      const unreachable: never = node;
      return unreachable;
    }
  }
}

function isChain(node: TriggerNode): boolean {
  return node.kind === "and" || node.kind === "or";
}

/** Keeps the parentheses of a `!` inside a comparison, where `!x = 1` would mean something else. */
function formatOperand(node: TriggerNode): string {
  return node.kind === "not" || isChain(node) || node.kind === "comparison" || node.kind === "in"
    ? `(${formatTrigger(node)})`
    : formatTrigger(node);
}

function formatSegment(segment: string): string {
  let text = "";
  for (let position = 0; position < segment.length; position++) {
    const character = segment[position] as string;
    // A digit or `-` may only continue a name: Segment's trigger parser reads `properties.1b` as a number.
    const plain = /[A-Za-z_]/.test(character) || (/[0-9-]/.test(character) && position > 0);
    text += plain ? character : `\\${character}`;
  }
  // A segment that spells a keyword is escaped so it stays a field name.
  if (keywordNames.has(segment)) text = `\\${text}`;
  return text;
}

export function formatLiteral(value: LiteralValue): string {
  if (typeof value === "number") return formatNumber(value);
  if (typeof value !== "string") return String(value);
  const escaped = value.replace(/\\/g, "\\\\");
  return value.includes('"') ? `'${escaped}'` : `"${escaped}"`;
}

/** Prints a number as a plain decimal, because the trigger language has no exponent notation. */
function formatNumber(value: number): string {
  const text = String(value);
  if (!text.includes("e")) return text;
  if (Number.isInteger(value)) return BigInt(value).toString();
  return value.toFixed(20).replace(/0+$/, "");
}
