import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { runReplay } from "../../src/pipeline/run-replay.js";
import { discardingOutput, dryRunSettings } from "../helpers/dry-run-settings.js";

// After Ctrl-C, every event counted as read must be accounted for: sent, not yet delivered, or
// skipped with a reason. Events read after the stop are left to the resumed run, not counted.

test("interrupted run accounts for every event read", async () => {
  const directory = mkdtempSync(join(tmpdir(), "koala-replay-interrupted-"));
  // Over 1 MiB, so that worker threads take chunks and several are in flight at the stop.
  const events = Array.from({ length: 20_000 }, (_, index) =>
    JSON.stringify({ type: "track", event: "A", messageId: `i-${index}`, timestamp: "2024-01-01T00:00:00Z", userId: `u-${index}`, context: { traits: { email: `u${index}@example.com` } }, properties: { note: "x".repeat(100) } }),
  );
  const path = join(directory, "events.jsonl");
  writeFileSync(path, `${events.join("\n")}\n`);
  const controller = new AbortController();

  try {
    const stats = await runReplay(
      dryRunSettings(path),
      {
        stdout: discardingOutput(),
        warn: () => {},
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.eventsRead >= 2_000) {
            controller.abort();
          }
        },
      },
    );

    // Each event maps to exactly one entry.
    expect(stats.eventsRead).toBeGreaterThanOrEqual(2_000);
    expect(stats.eventsRead).toBeLessThan(20_000);
    expect(stats.entriesSent + (stats.delivery?.undelivered ?? 0) + stats.skippedCount).toBe(stats.eventsRead);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
