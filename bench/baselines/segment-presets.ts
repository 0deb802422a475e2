import { createRequire } from "node:module";
import type { ActionId } from "../../src/koala/fields.js";
import { presetMappings } from "../../src/koala/presets.js";
import { buildRequestBody } from "./segment-request.js";

// Both packages publish an ES module build that Node cannot load (it imports directories), so
// their CommonJS builds are loaded instead.
const require = createRequire(import.meta.url);
const subscriptions = require("@segment/destination-subscriptions") as {
  parseFql(text: string): unknown;
  validate(ast: unknown, event: unknown): boolean;
};
const actionsCore = require("@segment/actions-core") as {
  transform(mapping: Record<string, unknown>, event: unknown): Record<string, unknown>;
};

interface CompiledSubscription {
  ast: unknown;
  action: ActionId;
  mapping: Record<string, unknown>;
}

/**
 * Builds a function that turns one event into the JSON lines of the requests koala-replay's dry run
 * prints, the way Segment's packages would: each preset's trigger is checked with
 * `@segment/destination-subscriptions` and its default mapping applied with `@segment/actions-core`.
 * Segment's runtime also validates each payload against the action's JSON schema, which this leaves
 * out, so it is faster than Segment's own runtime.
 */
export function segmentPresetRequests(url: string): (event: unknown) => string[] {
  const compiled: CompiledSubscription[] = presetMappings().map((preset) => ({
    ast: subscriptions.parseFql(preset.trigger),
    action: preset.action,
    mapping: preset.mapping,
  }));

  return (event) => {
    const lines: string[] = [];
    if (typeof event !== "object" || event === null) return lines;
    for (const subscription of compiled) {
      if (!subscriptions.validate(subscription.ast, event)) continue;
      const payload = actionsCore.transform(subscription.mapping, event);
      const body = buildRequestBody(subscription.action, payload);
      if (body !== null) lines.push(JSON.stringify({ method: "POST", url, body }));
    }
    return lines;
  };
}
