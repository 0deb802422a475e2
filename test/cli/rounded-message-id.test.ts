import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

  test("rounded duplicate counted in report", async () => {
    const path = join(directory, "events.jsonl");
    const reportPath = join(directory, "report.json");
    writeFileSync(path, `${trackLine("A", "12345678901234567890")}\n${trackLine("B", "12345678901234567891")}\n${trackLine("C", "12345678901234567892")}\n`);

    await runCli(["send", "--dry-run", "--no-stitch", "--report", reportPath, path]);

    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { roundedMessageIds: number; skippedByReason: Record<string, number> };
    expect(report.roundedMessageIds).toBe(2);
    expect(report.skippedByReason["duplicate-message-id"]).toBe(2);
  });

  test("string id like a rounded number not warned", async () => {
    const path = join(directory, "events.jsonl");
    const reportPath = join(directory, "report.json");
    writeFileSync(path, `${trackLine("A", '"12345678901234567000"')}\n${trackLine("A", '"12345678901234567000"')}\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", reportPath, path]);

    const stderr = unwrapSummary(result.stderr);
    expect(stderr).not.toContain("2^53");
    expect(stderr).toContain("The inputs hold the same events more than once");
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { roundedMessageIds: number; skippedByReason: Record<string, number> };
    expect(report.roundedMessageIds).toBe(0);
    expect(report.skippedByReason["duplicate-message-id"]).toBe(1);
  });

  test("inspect warns and counts", async () => {
    const path = join(directory, "events.jsonl");
    writeFileSync(path, `${trackLine("A", "12345678901234567890")}\n${trackLine("B", "12345678901234567891")}\n`);

    const text = await runCli(["inspect", "--no-stitch", path]);
    const json = await runCli(["inspect", "--no-stitch", "--json", path]);

    expect(unwrapSummary(text.stderr)).toContain(`warning: ${path}:2: messageId 12345678901234567000 is a number larger than 2^53`);
    expect(unwrapSummary(text.stderr)).toContain("send would skip the entries of this event as duplicates of an earlier one");
    expect(unwrapSummary(text.stdout)).toContain("1 of them has a numeric messageId beyond 2^53");
    const report = JSON.parse(json.stdout) as { duplicateEvents: { count: number; roundedMessageIds: number } };
    expect(report.duplicateEvents.count).toBe(1);
    expect(report.duplicateEvents.roundedMessageIds).toBe(1);
  });

  test("inspect ignores a string id", async () => {
    const path = join(directory, "events.jsonl");
    writeFileSync(path, `${trackLine("A", '"12345678901234567000"')}\n${trackLine("A", '"12345678901234567000"')}\n`);

    const json = await runCli(["inspect", "--no-stitch", "--json", path]);

    expect(json.stderr).not.toContain("2^53");
    const report = JSON.parse(json.stdout) as { duplicateEvents: { count: number; roundedMessageIds: number } };
    expect(report.duplicateEvents.count).toBe(1);
    expect(report.duplicateEvents.roundedMessageIds).toBe(0);
  });

  test.each([
    ["numeric", "12345678901234567890", "12345678901234567891", true],
    ["string", '"12345678901234567000"', '"12345678901234567000"', false],
  ])("preview warns for a %s id", async (_label, first, second, warned) => {
    const path = join(directory, "events.jsonl");
    writeFileSync(path, `${trackLine("A", first)}\n${trackLine("B", second)}\n`);

    const result = await runCli(["preview", "--no-stitch", path]);

    expect(result.status).toBe(0);
    expect(unwrapSummary(result.stderr).includes(`${path}:2: messageId 12345678901234567000 is a number larger than 2^53`)).toBe(warned);
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
