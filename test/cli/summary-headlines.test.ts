import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// The first lines of send's summary name what decided the run: failed deliveries and their
// dead-letter file when Koala rejected the entries, and a finished backfill when a resume found
// nothing left to send.

const KEY = "pk_test_0123456789abcdef";

let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

/** Writes 30 track events, of which every third has an email and the others none, and returns the file. */
function writeEvents(directory: string): string {
  const lines: string[] = [];
  for (let index = 0; index < 30; index += 1) {
    const traits = index % 3 === 0 ? { context: { traits: { email: `user${index}@example.com` } } } : {};
    lines.push(JSON.stringify({ type: "track", event: "Clicked", messageId: `h-${index}`, userId: `u-${index}`, timestamp: "2024-01-01T00:00:00.000Z", ...traits }));
  }
  const path = join(directory, "events.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

describe("summary headline", () => {
  test("names failures and the dead-letter file", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { batchStatus: 400 } });
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-headline-"));
    const path = writeEvents(directory);

    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", "state.json", path], { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY } });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(1);
    expect(text).toContain("Nothing was delivered: 10 entries failed, most with HTTP 400: rejected-by-api");
    expect(text).toContain("They are in the dead-letter file state.dead-letters.jsonl: fix the cause, then send them again with the command below the summary.");
    expect(text).toContain("Also, 20 of 30 events have no email or profile_id.");
    expect(text).not.toContain("Add a mapping whose trigger matches them");
  });

  test("resume of a finished run has nothing to do", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-headline-"));
    const path = writeEvents(directory);
    const args = ["send", "--no-stitch", "--endpoint", emulator.url, "--state", "state.json", path];
    const first = await runCli(args, { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY } });

    const resumed = await runCli([...args, "--resume"], { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY } });
    const text = unwrapSummary(resumed.stderr);

    expect(first.status).toBe(0);
    expect(resumed.status).toBe(0);
    expect(text).toContain(
      "Every one of the 30 events read was finished by earlier runs of this checkpoint (10 were delivered or dead-lettered, 20 skipped or found invalid, for the reasons in their own summaries): nothing was left to send.",
    );
    expect(text).not.toContain("Nothing was sent");
    expect(text).not.toContain("without --resume they are read and sent again");
  });
});
