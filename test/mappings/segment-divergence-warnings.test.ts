import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, test } from "vitest";
import { findSegmentDivergenceWarnings } from "../../src/mappings/config/segment-divergence-warnings.js";
import { compileMapping, loadConfig } from "../../src/mappings/index.js";
import { actionsCore } from "./segment-reference.js";

const event = { type: "track", event: "Sign-up", text: "a-b", traits: { name: "Ada" }, messageId: "m1", timestamp: "2024-01-01T00:00:00Z" };

function configOf(value: unknown): unknown {
  return { mappings: [{ name: "M", trigger: 'type = "track"', action: "trackEvent", mapping: { v: value } }] };
}

function outputsDiffer(value: unknown): boolean {
  const mapping = { v: value };
  // actions-core modifies the mapping and data it is given, so it gets copies.
  const segment: unknown = JSON.parse(JSON.stringify(actionsCore.transform(structuredClone(mapping), structuredClone(event))));
  const ours: unknown = JSON.parse(JSON.stringify(compileMapping(mapping).apply(structuredClone(event))));
  return !isDeepStrictEqual(segment, ours);
}

describe("findSegmentDivergenceWarnings", () => {
  test.each([
    ["$& in a replacement", { "@replace": { pattern: "-", replacement: "[$&]", value: { "@path": "$.text" } } }, '"$&"'],
    ["$$ in a replacement", { "@replace": { pattern: "-", replacement: "$$", value: { "@path": "$.text" } } }, '"$$"'],
    ["$` in a replacement", { "@replace": { pattern: "-", replacement: "$`", value: { "@path": "$.text" } } }, '"$`"'],
    ["$' in replacement2", { "@replace": { pattern: "x", pattern2: "-", replacement2: "$'", value: { "@path": "$.text" } } }, "replacement2"],
    ["lone $ path", { "@path": "$" }, '{"@path": "$"}'],
    ["$ in a placeholder", { "@template": "Hi {{$.traits.name}}" }, '"Hi {{$.traits.name}}"'],
    ["$ in a triple placeholder", { "@template": "{{{ $.event }}}" }, 'starts with "$"'],
    ["directive nested in @if", { "@if": { exists: { "@path": "$.text" }, then: { "@path": "$" } } }, '{"@path": "$"}'],
    ["directive in the data of @literal", { "@literal": { whole: { "@path": "$" } } }, '{"@path": "$"}'],
  ])("%s warns", (_label, value, excerpt) => {
    const warnings = findSegmentDivergenceWarnings(configOf(value));

    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain(excerpt);
    expect(outputsDiffer(value)).toBe(true);
  });

  test.each([
    ["plain replacement", { "@replace": { pattern: "-", replacement: "_", value: { "@path": "$.text" } } }],
    ["$1 in a replacement", { "@replace": { pattern: "-", replacement: "$1", value: { "@path": "$.text" } } }],
    ["$. path", { "@path": "$." }],
    ["placeholder without $", { "@template": "Hi {{traits.name}}" }],
    ["$ as text in a template", { "@template": "Price: $5 for {{event}}" }],
    ["$ as text in @literal", { "@literal": { note: "{{$.event}} costs $&" } }],
  ])("%s does not warn", (_label, value) => {
    expect(findSegmentDivergenceWarnings(configOf(value))).toEqual([]);
    expect(outputsDiffer(value)).toBe(false);
  });

  test("pointer of the directive", () => {
    const warnings = findSegmentDivergenceWarnings(configOf({ "@replace": { pattern: "-", replacement: "$&", value: { "@path": "$.text" } } }));
    expect(warnings[0]!.pointer).toBe("/mappings/0/mapping/v/@replace");
  });
});

describe("loadConfig with a divergent directive", () => {
  test("warning with line and column", async () => {
    const directory = await mkdtemp(join(tmpdir(), "koala-replay-divergence-"));
    const file = join(directory, "koala-replay.config.json");
    const mapping = {
      event: { "@replace": { pattern: "-", replacement: "$$", value: { "@path": "$.event" } } },
      sent_at: { "@path": "$.timestamp" },
      message_id: { "@path": "$.messageId" },
    };
    await writeFile(file, JSON.stringify({ mappings: [{ name: "M", trigger: 'type = "track"', action: "trackEvent", mapping }] }, null, 2));

    const loaded = await loadConfig(file);

    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]!.pointer).toBe("/mappings/0/mapping/event/@replace");
    expect(loaded.warnings[0]!.message).toContain("which Segment's @replace expands into one \"$\"");
  });
});
