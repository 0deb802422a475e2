import type { TriggerNode } from "./ast.js";
import { formatTrigger } from "./format.js";
import { lineNote } from "./line-note.js";
import { visitNodes } from "./walk.js";

/**
 * Event types of the Segment spec that carry a top-level `traits` object. The other calls (track,
 * page, screen, alias) keep the user's traits in `context.traits`, where analytics.js and the
 * server libraries put them.
 */
const TYPES_WITH_TRAITS: ReadonlySet<string> = new Set(["identify", "group"]);

/**
 * Lists a warning for each `traits.*` field read by a trigger that selects only types without
 * top-level traits, as in `type = "track" and !contains(traits.email, "@example.com")`. Such a
 * field is absent from every event that the trigger can match, and a negated contains() or match()
 * on it then rejects every event.
 */
export function findTraitsOfOtherTypes(root: TriggerNode, text: string): string[] {
  const types = requiredTypes(root);
  if (types === undefined || types.length === 0 || types.some((type) => TYPES_WITH_TRAITS.has(type))) return [];

  const calls = types.length === 1 ? `${types[0]} calls` : `${types.slice(0, -1).join(", ")} and ${types.at(-1)} calls`;
  const warned = new Set<string>();
  const warnings: string[] = [];
  visitNodes(root, (node) => {
    if (node.kind !== "path" || node.segments[0] !== "traits" || node.segments.length < 2) return;
    const field = formatTrigger(node);
    if (warned.has(field)) return;
    warned.add(field);
    warnings.push(
      `\`${field}\`${lineNote(text, node.start)} reads the top-level traits, which Segment's ${calls} do not have: they carry the user's traits in context.traits. ` +
        `Write \`context.${field}\` to read them there.`,
    );
  });
  return warnings;
}

/**
 * Returns the event types that every event matched by `root` has, from `type = "…"` conditions that
 * the whole trigger depends on: the trigger itself, an operand of its top-level `and`, or an `or` of
 * such conditions. Returns undefined when the trigger does not limit the type.
 */
function requiredTypes(root: TriggerNode): string[] | undefined {
  const conditions = root.kind === "and" ? root.operands : [root];
  let types: string[] | undefined;
  for (const condition of conditions) {
    const allowed = typesOf(condition);
    if (allowed === undefined) continue;
    types = types === undefined ? allowed : types.filter((type) => allowed.includes(type));
  }
  return types;
}

/** Returns the types that a `type = "…"` condition, or an `or` of them, allows; undefined for any other condition. */
function typesOf(condition: TriggerNode): string[] | undefined {
  if (condition.kind === "or") {
    const allowed: string[] = [];
    for (const operand of condition.operands) {
      const types = typesOf(operand);
      if (types === undefined) return undefined;
      allowed.push(...types);
    }
    return [...new Set(allowed)];
  }
  if (condition.kind !== "comparison" || condition.operator !== "=") return undefined;
  const { left, right } = condition;
  if (left.kind !== "path" || left.segments.length !== 1 || left.segments[0] !== "type") return undefined;
  return right.kind === "literal" && typeof right.value === "string" ? [right.value] : undefined;
}
