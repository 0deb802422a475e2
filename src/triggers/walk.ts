import type { TriggerNode } from "./ast.js";

/** Calls `onNode` for `node` and every node below it, parents before children, left to right. */
export function visitNodes(node: TriggerNode, onNode: (node: TriggerNode) => void): void {
  onNode(node);
  switch (node.kind) {
    case "or":
    case "and":
      for (const operand of node.operands) visitNodes(operand, onNode);
      return;
    case "not":
      visitNodes(node.operand, onNode);
      return;
    case "comparison":
    case "in":
      visitNodes(node.left, onNode);
      visitNodes(node.right, onNode);
      return;
    case "call":
      for (const arg of node.args) visitNodes(arg, onNode);
      return;
    case "list":
      for (const element of node.elements) visitNodes(element, onNode);
      return;
    default:
      return;
  }
}

/** A field that a trigger reads: its canonical text and its path. */
export interface TriggerField {
  name: string;
  segments: readonly string[];
}

/** Lists the fields that a trigger reads, each once, in trigger order. */
export function listFields(root: TriggerNode, formatPath: (node: TriggerNode) => string): TriggerField[] {
  const fields = new Map<string, TriggerField>();
  visitNodes(root, (node) => {
    if (node.kind === "path") {
      const name = formatPath(node);
      if (!fields.has(name)) fields.set(name, { name, segments: node.segments });
    }
  });
  return [...fields.values()];
}
