import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { MAX_REASONS_PER_GROUP } from "../../src/reporting/reason-counts.js";
import { MAX_REASONS, OTHER_REASONS } from "../../src/reporting/run-stats.js";
import { runCli } from "../helpers/run-cli.js";

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

  test("inspect bounds invalid reasons", async () => {
    // A computed path is quoted in the reason, so each event gives a reason of its own.
    const events = MAX_REASONS + 20;
    const lines = Array.from({ length: events }, (_unused, index) =>
      JSON.stringify({ type: "track", event: "Clicked", messageId: `path-${index}`, timestamp: "2024-01-01T00:00:00.000Z", properties: { email: `p${index}@example.com`, path: `$.x[${index}` } }),
    );
    const input = join(directory, "paths.jsonl");
    writeFileSync(input, `${lines.join("\n")}\n`);
    const config = join(directory, "config.json");
    const mapping = { email: { "@path": "$.properties.email" }, event: { "@path": { "@path": "$.properties.path" } }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
    writeFileSync(config, JSON.stringify({ mappings: [{ name: "Computed", trigger: 'type = "track"', action: "trackEvent", mapping }] }));

    const result = await runCli(["inspect", "--json", "--no-stitch", "--config", config, input]);
    const report = JSON.parse(result.stdout) as { mappings: Array<{ invalidByReason: Record<string, number> }> };
    const invalid = report.mappings[0]?.invalidByReason ?? {};

    expect(result.status).toBe(0);
    expect(sum(invalid)).toBe(events);
    expect(Object.keys(invalid)).toHaveLength(MAX_REASONS + 1);
    expect(invalid[OTHER_REASONS]).toBe(events - MAX_REASONS);

    const text = await runCli(["inspect", "--no-stitch", "--config", config, input]);
    const invalidRows = text.stdout.split("\n").filter((line) => line.includes("invalid: "));

    expect(invalidRows).toHaveLength(11);
    expect(invalidRows[10]).toMatch(/^ +110 invalid: other reasons, which --json lists$/);
  });
});
