import { describe, expect, test } from "vitest";
import { presetMappings } from "../../src/koala/presets.js";
import { buildProcessorRules } from "../../src/pipeline/processor-config.js";
import { processEvent } from "../../src/pipeline/processor.js";
import { SendForecast } from "../../src/pipeline/send-forecast.js";
import { Stitcher } from "../../src/pipeline/stitching.js";
import { ArchiveInventory } from "../../src/reporting/archive-inventory.js";
import { batchedRequests } from "../../src/reporting/request-estimator.js";
import { MAX_REASONS, OTHER_REASONS } from "../../src/reporting/run-stats.js";

// Reasons now put event data after ", found", which the inventory leaves out, so no real input gives
// more than a handful of distinct reasons. These tests hand the inventory verdicts with a reason of
// their own each, as a future reason that quotes data elsewhere would.
describe("inspect's invalid reasons", () => {
  test("bounded to MAX_REASONS and one more row", () => {
    const mappings = presetMappings();
    const rules = buildProcessorRules({ mappings, browserEvents: { kind: "skip" }, filters: [] });
    const forecast = new SendForecast(new Stitcher(undefined));
    const inventory = new ArchiveInventory(mappings, batchedRequests());
    const mapping = mappings[0]?.name ?? "";
    const events = MAX_REASONS + 20;
    for (let index = 0; index < events; index += 1) {
      const event = { type: "page", messageId: `m-${index}` };
      const result = processEvent(event, { input: "events.jsonl", line: index + 1 }, undefined, rules);
      result.verdicts.push({ kind: "invalid", mapping, reason: `reason number ${index}` });
      inventory.add(event, result, forecast.sort(result));
    }

    const invalid = inventory.mappings[0]?.invalidByReason ?? new Map<string, number>();

    expect(invalid.size).toBe(MAX_REASONS + 1);
    expect(invalid.get("reason number 0")).toBe(1);
    expect(invalid.get(OTHER_REASONS)).toBe(events - MAX_REASONS);
  });
});
