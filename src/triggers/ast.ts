import type { ComparisonOperator } from "./tokens.js";

export type TriggerDialect = "subscription" | "fql";

/** Functions of the full FQL language that koala-replay implements. */
export type FunctionName = "contains" | "match" | "lowercase" | "uppercase" | "snakecase" | "length" | "typeof";

export const functionNames: ReadonlySet<string> = new Set<FunctionName>([
  "contains",
  "match",
  "lowercase",
  "uppercase",
  "snakecase",
  "length",
  "typeof",
]);

export type LiteralValue = string | number | boolean | null;

interface NodeSpan {
  start: number;
  end: number;
  /** Whether the source wrote this node inside its own parentheses. */
  parenthesized: boolean;
}

export type TriggerNode = NodeSpan &
  (
    | { kind: "or" | "and"; operands: TriggerNode[]; operatorOffsets: number[] }
    | { kind: "not"; operand: TriggerNode }
    | { kind: "comparison"; operator: ComparisonOperator; left: TriggerNode; right: TriggerNode; operatorOffset: number }
    | { kind: "in"; left: TriggerNode; right: TriggerNode; operatorOffset: number }
    | { kind: "call"; name: FunctionName; args: TriggerNode[] }
    | { kind: "path"; segments: string[]; segmentEscaped: boolean[] }
    | { kind: "literal"; value: LiteralValue }
    | { kind: "list"; elements: TriggerNode[] }
  );

export type NodeOfKind<K extends TriggerNode["kind"]> = Extract<TriggerNode, { kind: K }>;
