import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { parseRequests, runCli } from "../helpers/run-cli.js";

// With stitching on, the first pass finds the messageIds that occur more than once, and the
// duplicate check of the second pass remembers only those. Every duplicate must still be skipped,
// in a file large enough (over 1 MiB) for both passes to run on worker threads.

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-stitched-duplicates-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Returns a track event of user `index`, with its email and a messageId (left out when undefined). */
function trackEvent(index: number, messageId: string | number | undefined, properties: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: "track",
    event: "Viewed",
    userId: `u-${index % 50}`,
    ...(messageId === undefined ? {} : { messageId }),
    properties: { page: index, padding: "x".repeat(200), ...properties },
    context: { traits: { email: `user${index % 50}@example.com` } },
    timestamp: "2024-05-01T10:00:00.000Z",
  });
}

/**
 * Writes 6,000 distinct events, then repeats of them: the first line at the end, a line next to
 * itself, an event without messageId twice, and a numeric messageId. Returns the path and the
 * number of repeats.
 */
function writeArchive(): { path: string; repeats: number } {
  const lines = Array.from({ length: 6_000 }, (_, index) => trackEvent(index, `m-${index}`));
  lines.splice(3_001, 0, lines[3_000]!);
  lines.push(trackEvent(7_000, undefined), trackEvent(7_000, undefined));
  lines.push(trackEvent(7_001, 123_456), trackEvent(7_002, 123_456));
  lines.push(lines[0]!);
  const path = join(directory, "events.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return { path, repeats: 4 };
}

/** Returns the message_ids of the track events that a dry run printed, sorted. */
function sentMessageIds(stdout: string): string[] {
  const ids = parseRequests(stdout).flatMap((request) => (request.body["events"] as Array<{ message_id: string }>).map((event) => event.message_id));
  return ids.sort();
}

describe("duplicates with stitching", () => {
  test("every repeat skipped", async () => {
    const { path, repeats } = writeArchive();

    const stitched = await runCli(["send", "--dry-run", "--browser-events", "skip", path]);
    const unstitched = await runCli(["send", "--dry-run", "--no-stitch", "--browser-events", "skip", path]);

    expect(stitched.status).toBe(0);
    expect(unstitched.status).toBe(0);
    const ids = sentMessageIds(stitched.stdout);
    expect(ids).toHaveLength(6_000 + 2);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(sentMessageIds(unstitched.stdout));
    expect(stitched.stderr).toMatch(new RegExp(`duplicate-message-id\\s+${repeats}\\b`));
  });

  test("message_id from another field", async () => {
    const lines = Array.from({ length: 6_000 }, (_, index) => trackEvent(index, `m-${index}`, { order: `o-${index % 3_000}` }));
    const path = join(directory, "orders.jsonl");
    writeFileSync(path, `${lines.join("\n")}\n`);
    const config = join(directory, "koala-replay.config.json");
    const mapping = {
      email: { "@path": "$.context.traits.email" },
      event: { "@path": "$.event" },
      sent_at: { "@path": "$.timestamp" },
      message_id: { "@path": "$.properties.order" },
    };
    writeFileSync(config, JSON.stringify({ mappings: [{ name: "Orders", trigger: 'type = "track"', action: "trackEvent", mapping }] }));

    const result = await runCli(["send", "--dry-run", "--browser-events", "skip", "--config", config, path]);

    expect(result.status).toBe(0);
    expect(sentMessageIds(result.stdout)).toHaveLength(3_000);
    expect(result.stderr).toMatch(/duplicate-message-id\s+3,000\b/);
  });
});
