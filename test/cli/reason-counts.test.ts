import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { MAX_REASONS_PER_GROUP } from "../../src/reporting/reason-counts.js";
import { runCli } from "../helpers/run-cli.js";

// A reason text may hold a value of the event or of Koala's response. When every event gives
// another text, the counts must stay a few rows, not one row per event.

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

  test("invalid timestamps each of their own", async () => {
    const input = writeEvents((index) => ({ timestamp: `2024-01-01 at ${index}` }));
    const reportPath = join(directory, "run.json");

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", reportPath, input]);
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { invalidByReason: Record<string, number> };

    expect(result.status).toBe(1);
    expect(sum(report.invalidByReason)).toBe(EVENTS);
    expect(Object.keys(report.invalidByReason)).toHaveLength(MAX_REASONS_PER_GROUP + 1);
    expect(report.invalidByReason["Track Event: other reasons, which --verbose prints for each event"]).toBe(EVENTS - MAX_REASONS_PER_GROUP);
  });

  test("event types no mapping matched", async () => {
    const input = writeEvents((index) => ({ type: `custom-${index}` }));
    const reportPath = join(directory, "run.json");

    await runCli(["send", "--dry-run", "--no-stitch", "--report", reportPath, input]);
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { unmatchedTypes: Record<string, number> };

    expect(sum(report.unmatchedTypes)).toBe(EVENTS);
    expect(Object.keys(report.unmatchedTypes)).toHaveLength(MAX_REASONS_PER_GROUP + 1);
    expect(report.unmatchedTypes["(other types)"]).toBe(EVENTS - MAX_REASONS_PER_GROUP);
  });

  test("inspect of invalid timestamps", async () => {
    const input = writeEvents((index) => ({ timestamp: `2024-01-01 at ${index}` }));

    const result = await runCli(["inspect", "--json", "--no-stitch", input]);
    const report = JSON.parse(result.stdout) as { mappings: Array<{ name: string; invalidByReason: Record<string, number> }> };
    const trackEvent = report.mappings.find((mapping) => mapping.name === "Track Event");

    expect(trackEvent).toBeDefined();
    expect(sum(trackEvent?.invalidByReason ?? {})).toBe(EVENTS);
    expect(Object.keys(trackEvent?.invalidByReason ?? {})).toHaveLength(MAX_REASONS_PER_GROUP + 1);
    expect(trackEvent?.invalidByReason["other reasons, which send --dry-run --verbose prints for each event"]).toBe(EVENTS - MAX_REASONS_PER_GROUP);
  });
});
