import { describe, expect, test } from "vitest";
import { presetMappings } from "../../src/koala/presets.js";
import { buildProcessorRules } from "../../src/pipeline/processor-config.js";
import { processEvent } from "../../src/pipeline/processor.js";
import { SendForecast } from "../../src/pipeline/send-forecast.js";
import { Stitcher } from "../../src/pipeline/stitching.js";
import { ArchiveInventory } from "../../src/reporting/archive-inventory.js";
import { buildInspectReport, type InspectReport } from "../../src/reporting/inspect-report.js";
import { formatInspectText } from "../../src/reporting/inspect-text.js";
import { batchedRequests } from "../../src/reporting/request-estimator.js";
import { createTextStyle } from "../../src/reporting/style.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// The real check remembers 1,572,864 ids, so these tests give inspect's inventory a check of 16
// slots, whose window is 12 ids: it drops the oldest ids once it has seen about twice as many.
const SLOTS = 16;

/** Inspects `count` identify events with distinct messageIds, then the first one again, as `inspect` does. */
async function inspectDistinctIds(count: number): Promise<InspectReport> {
  const mappings = presetMappings();
  const rules = buildProcessorRules({ mappings, browserEvents: { kind: "skip" }, filters: [] });
  const forecast = new SendForecast(new Stitcher(undefined));
  const inventory = new ArchiveInventory(mappings, batchedRequests(), SLOTS);
  const ids = [...Array.from({ length: count }, (_unused, index) => `m-${index}`), "m-0"];
  ids.forEach((messageId, index) => {
    const event = { type: "identify", messageId, timestamp: "2024-01-01T00:00:00Z", traits: { email: `${messageId}@example.com` } };
    const origin = { input: "events.jsonl", line: index + 1 };
    const result = processEvent(event, origin, undefined, rules);
    inventory.add(event, result, forecast.sort(result));
  });
  inventory.finish();
  await inventory.estimator.finish();
  return buildInspectReport(inventory, {
    version: "0.0.0",
    workingDirectory: "/tmp",
    inputs: ["events.jsonl"],
    browserEvents: "skip",
    mappingSource: "presets",
    topCount: 10,
    excludeEmails: [],
    filterOptions: [],
    stitching: { settings: { stitch: false, reason: "no-stitch" }, coverage: forecast.stitcher.coverage, graph: undefined },
  });
}

describe("inspect past the duplicate window", () => {
  test("report and text name the window", async () => {
    const report = await inspectDistinctIds(100);
    const text = unwrapSummary(formatInspectText(report, createTextStyle(false), 80));

    expect(report.duplicateEvents.window).toBe(12);
    // m-0 came 100 distinct ids earlier, so its repeat is not counted.
    expect(report.duplicateEvents.count).toBe(0);
    expect(text).toContain(
      "duplicates looked for among the last 12 distinct messageIds or more, to keep memory flat; an event that repeats a messageId further apart is not counted here, and send sends its entries again. Koala records each message_id once, keeping the first entry",
    );
  });

  test("nothing said within the window", async () => {
    const report = await inspectDistinctIds(10);
    const text = formatInspectText(report, createTextStyle(false), 80);

    expect(report.duplicateEvents.window).toBeNull();
    expect(report.duplicateEvents.count).toBe(1);
    expect(text).not.toContain("looked for among the last");
  });
});
