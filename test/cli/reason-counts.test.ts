import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { MAX_REASONS_PER_GROUP } from "../../src/reporting/reason-counts.js";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// A failure reason ends with an excerpt of Koala's response. When every response is different, the
// counts must stay a few rows, not one row per entry. The invalid reasons and event types of send
// are covered in report.test.ts, and those of inspect here.

const KEY = "pk_reason_counts_0123456789";
const EVENTS = 40;

let directory: string;
let emulator: KoalaEmulator | undefined;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-reasons-"));
});

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  rmSync(directory, { recursive: true, force: true });
});

/** Writes `EVENTS` track events, each of its own person so that each goes in a request of its own. */
function writeEvents(eventOf: (index: number) => Record<string, unknown> = () => ({})): string {
  const lines = Array.from({ length: EVENTS }, (_unused, index) =>
    JSON.stringify({
      type: "track",
      event: "Clicked",
      messageId: `reason-${index}`,
      timestamp: "2024-01-01T00:00:00.000Z",
      context: { traits: { email: `p${index}@example.com` } },
      ...eventOf(index),
    }),
  );
  const path = join(directory, "events.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((total, count) => total + count, 0);
}

describe("reason counts", () => {
  test("failures with a request id each", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { rejectEntry: () => true, requestIdInErrors: true } });
    const input = writeEvents();
    const reportPath = join(directory, "run.json");

    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--report", reportPath, "--state", join(directory, "state", "state.json"), input], {
      env: { KOALA_PUBLIC_KEY: KEY },
    });
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { failedByReason: Record<string, number>; counts: { failed: number } };

    expect(result.status).toBe(1);
    expect(report.counts.failed).toBe(EVENTS);
    expect(sum(report.failedByReason)).toBe(EVENTS);
    expect(Object.keys(report.failedByReason)).toHaveLength(MAX_REASONS_PER_GROUP + 1);
    expect(report.failedByReason["HTTP 400: rejected-by-api: other responses, which the dead-letter file keeps for each entry"]).toBe(EVENTS - MAX_REASONS_PER_GROUP);
    expect(result.stderr.match(/request_id/g)).toHaveLength(MAX_REASONS_PER_GROUP);
  });

  test("computed paths and templates group", async () => {
    const lines = Array.from({ length: EVENTS }, (_unused, index) =>
      JSON.stringify({
        type: "track",
        event: "Clicked",
        messageId: `computed-${index}`,
        timestamp: "2024-01-01T00:00:00.000Z",
        properties: { email: `p${index}@example.com`, path: `$.x[${index}`, template: `Hi {{a..b${index}}}` },
      }),
    );
    const input = join(directory, "computed.jsonl");
    writeFileSync(input, `${lines.join("\n")}\n`);
    const config = join(directory, "config.json");
    const fields = { email: { "@path": "$.properties.email" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
    const mappings = [
      { name: "Path", trigger: 'type = "track"', action: "trackEvent", mapping: { ...fields, event: { "@path": { "@path": "$.properties.path" } } } },
      { name: "Template", trigger: 'type = "track"', action: "trackEvent", mapping: { ...fields, event: { "@template": { "@path": "$.properties.template" } } } },
    ];
    writeFileSync(config, JSON.stringify({ mappings }));
    const reportPath = join(directory, "run.json");

    const send = await runCli(["send", "--dry-run", "--no-stitch", "--config", config, "--report", reportPath, input]);
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { invalidByReason: Record<string, number>; invalidExamples: Array<{ reason: string }> };
    const summary = unwrapSummary(send.stderr);

    expect(send.status).toBe(1);
    expect(report.invalidByReason).toEqual({
      "Path: /event/@path: @path: invalid computed path: the index must be digits followed by ]": EVENTS,
      "Template: /event/@template: @template: invalid placeholder in the computed template: empty key between two dots": EVENTS,
    });
    expect(report.invalidExamples[0]?.reason).toBe('/event/@path: @path: invalid computed path: the index must be digits followed by ], found string "$.x[0" at position 3');
    expect(summary).toContain('computed.jsonl:1, found string "$.x[0" at position 3)');
    expect(summary).toContain('computed.jsonl:1, found placeholder "{{a..b0}}" at position 4)');

    const inspect = await runCli(["inspect", "--json", "--no-stitch", "--config", config, input]);
    const inventory = JSON.parse(inspect.stdout) as { mappings: Array<{ invalidByReason: Record<string, number> }> };

    expect(inventory.mappings[0]?.invalidByReason).toEqual({ "/event/@path: @path: invalid computed path: the index must be digits followed by ]": EVENTS });
    expect(inventory.mappings[1]?.invalidByReason).toEqual({ "/event/@template: @template: invalid placeholder in the computed template: empty key between two dots": EVENTS });
  });
});
