import { writeSync } from "node:fs";
import { createRequire } from "node:module";
import { presetMappings } from "../../src/koala/presets.js";
import type { ActionId } from "../../src/koala/fields.js";
import { forEachLine } from "./lines.js";
import { buildRequestBody } from "./segment-request.js";

/**
 * What a user would build from Segment's own packages: each line is parsed, each preset's trigger is
 * checked with `@segment/destination-subscriptions`, the preset's default mapping is applied with
 * `@segment/actions-core`'s `transform`, and the request koala-replay's dry run prints is written to
 * stdout. Segment's runtime also validates every payload against the action's JSON schema, which
 * this pipeline leaves out, so it is faster than Segment's own.
 */

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

const outputChunkChars = 256 * 1024;

async function main(path: string | undefined, url: string | undefined): Promise<void> {
  if (path === undefined || url === undefined) throw new Error("usage: node segment-pipeline.js FILE.jsonl URL");
  const compiled: CompiledSubscription[] = presetMappings().map((preset) => ({
    ast: subscriptions.parseFql(preset.trigger),
    action: preset.action,
    mapping: preset.mapping,
  }));

  let output = "";
  let requests = 0;
  await forEachLine(path, (line) => {
    const event: unknown = JSON.parse(line);
    if (typeof event !== "object" || event === null) return;
    for (const subscription of compiled) {
      if (!subscriptions.validate(subscription.ast, event)) continue;
      const payload = actionsCore.transform(subscription.mapping, event);
      const body = buildRequestBody(subscription.action, payload);
      if (body === null) continue;
      output += JSON.stringify({ method: "POST", url, body }) + "\n";
      requests++;
    }
    if (output.length >= outputChunkChars) {
      writeSync(1, output);
      output = "";
    }
  });
  writeSync(1, output);
  console.error(`wrote ${requests} requests`);
}

main(process.argv[2], process.argv[3]).catch((error: unknown) => {
  console.error(`segment-pipeline: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
