import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// Events piped into send are read from standard input without a `-` on the command line, so the
// messages about them name standard input and tell how to give the events as a file instead. The
// summary's advice for events without an email names the --identities file when one was given.

const KEY = "pk_test_0123456789abcdef";

/** Returns a track event of `userId` with no email, which only stitching can send. */
function trackEventWithoutEmail(userId: string, messageId: string): string {
  return JSON.stringify({ type: "track", event: "Clicked", messageId, userId, timestamp: "2024-01-01T00:00:00.000Z" });
}

/** Writes an --identities CSV that lists only `user-known`, and an events file of `user-unknown`, and returns the folder. */
function writeInputs(): string {
  const directory = mkdtempSync(join(tmpdir(), "koala-replay-stdin-messages-"));
  writeFileSync(join(directory, "ids.csv"), "userId,email\nuser-known,known@example.com\n");
  writeFileSync(join(directory, "events.jsonl"), `${trackEventWithoutEmail("user-unknown", "m-1")}\n`);
  return directory;
}

describe("piped events without -", () => {
  test("stitching error names standard input", async () => {
    const result = await runCli(["send", "--dry-run"], { stdin: `${trackEventWithoutEmail("user-1", "m-1")}\n` });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(text).toContain("standard input can be read only once");
    expect(text).toContain("Give the events as a file argument instead of piping them in");
    expect(text).not.toContain(" - ");
    expect(text).not.toContain("of -");
  });

  test("resume error names standard input", async () => {
    const directory = writeInputs();

    const result = await runCli(["send", "--no-stitch", "--endpoint", "http://127.0.0.1:9", "--state", join(directory, "state.json"), "--resume"], {
      stdin: `${trackEventWithoutEmail("user-1", "m-1")}\n`,
      env: { KOALA_PUBLIC_KEY: KEY },
    });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(text).toContain("Cannot resume a run that reads standard input (events piped in, or the input -)");
    expect(text).toContain("Give the events as a file argument instead of piping them in");
    expect(text).not.toContain("stdin (-)");
    expect(text).not.toContain("instead of -");
  });

  test("no-identity advice with --identities names the file", async () => {
    const directory = writeInputs();

    const result = await runCli(["send", "--dry-run", "--identities", "ids.csv"], { cwd: directory, stdin: `${trackEventWithoutEmail("user-unknown", "m-1")}\n` });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(0);
    expect(text).toContain('appear with an email neither in "ids.csv" nor in the input files');
    expect(text).toContain('give the events as a file argument instead of piping them in, or add their ids and emails to "ids.csv"');
    expect(text).not.toContain("instead of -");
    expect(text).not.toContain("with --identities <file>");
  });
});

describe("no-identity advice of files", () => {
  test("with --identities names the file", async () => {
    const directory = writeInputs();

    const result = await runCli(["send", "--dry-run", "--identities", "ids.csv", "events.jsonl"], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(0);
    expect(text).toContain('Their userId and anonymousId appear with an email neither in "ids.csv" nor in the inputs. Check that "ids.csv" lists these ids with their email');
    expect(text).not.toContain("with --identities <file>");
  });

  test("without --identities suggests it", async () => {
    const directory = writeInputs();

    const result = await runCli(["send", "--dry-run", "events.jsonl"], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(0);
    expect(text).toContain("Give a file of userId/anonymousId and email with --identities <file>");
  });
});
