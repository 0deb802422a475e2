import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { parseRequests, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// JSON lines that end in a carriage return alone, as classic Mac OS tools write them.

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-cr-lines-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function trackLine(index: number): string {
  return JSON.stringify({ type: "track", event: "Signed Up", userId: `u-${index}`, messageId: `m-${index}`, timestamp: "2024-05-01T10:00:00.000Z", context: { traits: { email: `p-${index}@example.com` } } });
}

/** Emails of the events that the printed requests carry, in order. */
function eventEmails(stdout: string): unknown[] {
  return parseRequests(stdout).map((request) => request.body["email"]);
}

describe("CR line endings", () => {
  test.each([
    ["plain", "events.jsonl", (text: string) => Buffer.from(text)],
    ["gzip", "events.jsonl.gz", (text: string) => gzipSync(text)],
  ])("read as lines, %s", async (_kind, name, encode) => {
    const path = join(directory, name);
    writeFileSync(path, encode(`${trackLine(1)}\r${trackLine(2)}\r${trackLine(3)}\r`));

    const result = await runCli(["send", "--dry-run", "--browser-events", "skip", path]);

    expect(eventEmails(result.stdout)).toEqual(["p-1@example.com", "p-2@example.com", "p-3@example.com"]);
    expect(unwrapSummary(result.stderr)).toContain(`${path}: its lines end in a carriage return (CR) alone`);
    expect(result.stderr).toMatch(/events read\s+3\n/);
    expect(result.stderr).toMatch(/unreadable\s+0\n/);
    expect(result.status).toBe(0);
  });

  test("CR-joined line after LF lines", async () => {
    const path = join(directory, "events.jsonl");
    writeFileSync(path, `${trackLine(1)}\n${trackLine(2)}\r${trackLine(3)}\r\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--browser-events", "skip", path]);

    expect(eventEmails(result.stdout)).toEqual(["p-1@example.com"]);
    const stderr = unwrapSummary(result.stderr);
    expect(stderr).toContain(`${path}:2: invalid JSON`);
    expect(stderr).toContain("the line contains 1 carriage return (CR) without a line feed");
    expect(stderr).toContain(`convert it with tr '\\r' '\\n' < ${path} > fixed.jsonl`);
    expect(result.stderr).toMatch(/unreadable\s+1\n/);
  });
});
