import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { parseRequests, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// A messageId written as a JSON number beyond 2^53 is rounded by JSON.parse, so two different
// numbers can become one id, and the second event is skipped as a duplicate.

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-rounded-ids-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Returns the line of a track event with an email, with `messageIdText` written into the JSON as given. */
function trackLine(event: string, messageIdText: string): string {
  return `{"type":"track","event":"${event}","userId":"u-1","messageId":${messageIdText},"timestamp":"2024-05-01T10:00:00.000Z","context":{"traits":{"email":"person@example.com"}}}`;
}

describe("numeric messageId beyond 2^53", () => {
  test("rounded duplicate warned", async () => {
    const path = join(directory, "events.jsonl");
    writeFileSync(path, `${trackLine("A", "12345678901234567890")}\n${trackLine("B", "12345678901234567891")}\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--browser-events", "skip", path]);

    expect(parseRequests(result.stdout)).toHaveLength(1);
    const stderr = unwrapSummary(result.stderr);
    expect(stderr).toContain(`${path}:2: messageId 12345678901234567000 is a number larger than 2^53, which a JSON number cannot hold exactly`);
    expect(stderr).toContain("1 has a numeric messageId beyond 2^53 that rounds to the id of another event");
    expect(stderr).not.toContain("The inputs hold the same events more than once");
    expect(result.stderr).toMatch(/duplicate-message-id\s+1\b/);
  });

  test("real duplicate keeps its advice", async () => {
    const path = join(directory, "events.jsonl");
    writeFileSync(path, `${trackLine("A", '"m-1"')}\n${trackLine("A", '"m-1"')}\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--browser-events", "skip", path]);

    const stderr = unwrapSummary(result.stderr);
    expect(stderr).not.toContain("2^53");
    expect(stderr).toContain("The inputs hold the same events more than once");
  });
});
