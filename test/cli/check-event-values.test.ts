import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// check --event shows, under each condition that rejects the event, the values that the event has
// for the fields of that condition, so that "Order completed" against "Order Completed" is visible.

describe("check --event failing conditions", () => {
  test("show the event's value", async () => {
    const result = await runCli(["check", "--trigger", 'type = "track" and event = "Order Completed"', "--event", '{"type":"track","event":"Order completed"}']);

    expect(result.status).toBe(1);
    expect(result.stdout).toContain('failing conditions:\n  event = "Order Completed"\n    in the event: event = "Order completed"\n');
    expect(result.stdout).not.toContain('in the event: type');
  });

  test("every operand of a failing or", async () => {
    const result = await runCli(["check", "--trigger", 'type = "identify" or properties.total > 10', "--event", '{"type":"track","properties":{"total":5}}']);

    expect(result.status).toBe(1);
    expect(result.stdout).toContain('  type = "identify"\n    in the event: type = "track"\n');
    expect(result.stdout).toContain("  properties.total > 10\n    in the event: properties.total = 5\n");
  });

  test("a missing field is absent", async () => {
    const result = await runCli(["check", "--trigger", 'properties.plan = "pro"', "--event", '{"type":"track","properties":{}}']);

    expect(result.stdout).toContain("    in the event: properties.plan is absent\n");
  });

  test("each field of a condition", async () => {
    const trigger = 'type = "track" and (properties.plan = "pro" or contains(event, "Signup"))';
    const result = await runCli(["check", "--trigger", trigger, "--event", '{"type":"track","event":"Signed up","properties":{"plan":"free"}}']);

    expect(result.stdout).toContain('    in the event: properties.plan = "free", event = "Signed up"\n');
  });

  test("a long value is cut short", async () => {
    const event = { type: "track", properties: { plan: "x".repeat(200) } };
    const result = await runCli(["check", "--trigger", 'properties.plan = "pro"', "--event", JSON.stringify(event)]);
    const line = result.stdout.split("\n").find((text) => text.includes("in the event:")) ?? "";

    expect(line).toContain('properties.plan = "xxx');
    expect(line.endsWith("…")).toBe(true);
    expect(line.length).toBeLessThan(120);
  });

  test("control characters in a value are escaped", async () => {
    const result = await runCli(["check", "--trigger", 'event = "a"', "--event", '{"type":"track","event":"b\\u001b[2J"}']);

    expect(result.stdout).toContain("in the event: event = ");
    expect(result.stdout).not.toContain("\u001b");
  });
});

describe("check --event without --trigger", () => {
  test("evaluates every mapping of the config", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-check-event-"));
    const mapping = { event: { "@path": "$.event" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@template": "{{messageId}}-orders" } };
    const config = {
      mappings: [
        { name: "Orders", trigger: 'type = "track" and event = "Order Completed"', action: "trackEvent", mapping },
        { name: "Refunds", enabled: false, trigger: 'type = "track"', action: "trackEvent", mapping },
      ],
    };
    writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify(config));
    const event = '{"type":"track","event":"Order completed","context":{"library":{"name":"analytics-node"}}}';
    const result = await runCli(["check", "--event", event], { cwd: directory });

    expect(result.status).toBe(1);
    expect(result.stdout).toContain('  Orders: does not match the event; failing conditions:\n    event = "Order Completed"\n      in the event: event = "Order completed"\n');
    expect(result.stdout).toContain('  Refunds: disabled ("enabled": false), so it sends nothing; its trigger matches the event\n');
    expect(result.stdout).toContain("no enabled mapping matches the event, so send would skip it (no-mapping-matched)");
    expect(result.stdout).not.toContain("analytics.js");
  });

  test("a matching preset exits 0 and notes an analytics.js track event", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-check-event-"));
    const result = await runCli(["check", "--event", '{"type":"track","event":"Viewed","context":{"library":{"name":"analytics.js"}}}'], { cwd: directory });

    expect(result.status).toBe(0);
    expect(result.stdout).toContain("the mappings of Segment's two presets (no config file found) on the event:\n  Track Event: matches the event\n");
    expect(result.stdout).toContain('  Identify Visitor: does not match the event; failing conditions:\n    type = "identify"\n');
    expect(unwrapSummary(result.stdout)).toContain("note: this is an analytics.js track event, which send skips by default");
    expect(unwrapSummary(result.stdout)).toContain("1 mapping matches the event;");
  });
});
