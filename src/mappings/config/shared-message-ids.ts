import type { MappingDefinition } from "../../koala/presets.js";
import { triggersMayOverlap } from "../../triggers/overlap.js";

/**
 * Lists, for `check`, each pair of enabled mappings of one action that take message_id from the same
 * directive and whose triggers may match the same event. Such an event makes two entries with one message_id,
 * and Koala records one entry per message_id. `send` warns again at the first event that does it.
 */
export function findSharedMessageIds(mappings: readonly MappingDefinition[]): string[] {
  const enabled = mappings.filter((mapping) => mapping.enabled && mapping.mapping["message_id"] !== undefined);
  const warnings: string[] = [];
  enabled.forEach((first, index) => {
    const source = JSON.stringify(first.mapping["message_id"]);
    for (const second of enabled.slice(index + 1)) {
      if (second.action !== first.action || sourceKey(second.mapping["message_id"]) !== sourceKey(first.mapping["message_id"]) || !triggersMayOverlap(first.trigger, second.trigger)) continue;
      warnings.push(
        `the mappings "${first.name}" and "${second.name}" both take message_id from ${source}, and an event may match both triggers: it would make two entries with one message_id, and Koala records one entry per message_id, so it would keep only one of them. ` +
          `Give one of the mappings a message_id of its own, such as {"@template": "{{messageId}}-${messageIdSuffix(second.name)}"}.`,
      );
    }
  });
  return warnings;
}

/**
 * Returns the JSON text of a message_id directive, with a template of one placeholder and nothing
 * else (`{"@template": "{{messageId}}"}`) written as the `@path` it equals (`{"@path": "$.messageId"}`),
 * so that the two spellings compare equal.
 */
function sourceKey(directive: unknown): string {
  if (typeof directive === "object" && directive !== null && !Array.isArray(directive)) {
    const template = (directive as Record<string, unknown>)["@template"];
    const only = typeof template === "string" && Object.keys(directive).length === 1 ? /^\{\{\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*\}\}$/.exec(template) : null;
    if (only !== null) {
      return JSON.stringify({ "@path": `$.${only[1]}` });
    }
  }
  return JSON.stringify(directive);
}

/** Returns a mapping name in lower case with dashes, for a message_id suffix in an example. */
export function messageIdSuffix(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "mapping";
}
