import { mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { parseRequests, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// JSON files that hold several pretty-printed documents one after another, as some export tools
// write them, read by the built CLI.

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-json-documents-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function identify(index: number): Record<string, unknown> {
  return { type: "identify", userId: `u-${index}`, messageId: `m-${index}`, timestamp: "2024-05-01T10:00:00.000Z", traits: { email: `person-${index}@example.com` } };
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** Line on which each of `documents` starts when they are joined with line breaks. */
function firstLines(documents: readonly string[]): number[] {
  let line = 1;
  return documents.map((document) => {
    const first = line;
    line += document.split("\n").length;
    return first;
  });
}

describe("several JSON documents in one file", () => {
  test.each([
    ["plain", (text: string) => Buffer.from(text)],
    ["gzip", (text: string) => gzipSync(text)],
  ])("%s file: every document read", async (_kind, encode) => {
    const path = join(directory, "events.json");
    writeFileSync(path, encode([1, 2, 3].map((index) => pretty(identify(index))).join("\n")));

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(result.stderr).not.toContain("invalid JSON");
    expect(parseRequests(result.stdout).map((request) => request.body["email"])).toEqual(["person-1@example.com", "person-2@example.com", "person-3@example.com"]);
    expect(result.stderr).toMatch(/unreadable\s+0/);
    expect(result.status).toBe(0);
  });

  test("arrays and batches among documents", async () => {
    const path = join(directory, "events.json");
    const documents = [pretty([identify(1), identify(2)]), pretty(identify(3)), pretty({ batch: [identify(4)], sentAt: "2024-05-01T10:00:00.000Z" })];
    writeFileSync(path, documents.join("\n"));

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(parseRequests(result.stdout)).toHaveLength(4);
    expect(result.status).toBe(0);
  });

  test("event keeps its document's line", async () => {
    const path = join(directory, "events.json");
    // A track event without a name is invalid for Track Event, and the summary names its line.
    const nameless = { type: "track", userId: "u-9", messageId: "m-9", timestamp: "2024-05-01T10:00:00.000Z", context: { traits: { email: "nameless@example.com" } } };
    const documents = [pretty(identify(1)), pretty(identify(2)), pretty(nameless)];
    writeFileSync(path, documents.join("\n"));

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--browser-events", "include", path]);

    expect(unwrapSummary(result.stderr)).toContain(`(first at ${path}:${firstLines(documents)[2]})`);
    expect(parseRequests(result.stdout)).toHaveLength(2);
  });

  test("broken documents reported, others read", async () => {
    const path = join(directory, "events.json");
    const missingComma = pretty(identify(2)).replace('"type": "identify",', '"type": "identify"');
    const cutShort = pretty(identify(3)).split("\n").slice(0, 4).join("\n");
    const documents = [pretty(identify(1)), missingComma, cutShort, pretty(identify(4)), ",", pretty(identify(5)), "42", pretty(identify(6)).slice(0, -20)];
    writeFileSync(path, documents.join("\n"));
    const lines = firstLines(documents);

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(parseRequests(result.stdout).map((request) => request.body["email"])).toEqual(["person-1@example.com", "person-4@example.com", "person-5@example.com"]);
    expect(result.stderr).toContain(`${path}:${lines[1]! + 2}: invalid JSON in the document that starts at line ${lines[1]} (Expected ',' or '}' after property value in JSON)`);
    expect(result.stderr).toContain(`${path}:${lines[2]}: the JSON document that starts here is cut short: another document starts at line ${lines[3]} before this one is closed`);
    expect(result.stderr).toContain(`${path}:${lines[4]}: unexpected text "," between JSON documents`);
    expect(result.stderr).toContain(`${path}:${lines[6]}: the JSON document that starts here is a number`);
    expect(result.stderr).toContain(`${path}:${lines[7]}: the JSON document that starts here is not closed at the end of the input`);
    expect(result.stderr).toMatch(/unreadable\s+5\n/);
    expect(result.status).toBe(1);
  });

  test("large file read with a small heap", async () => {
    // 40 MB of documents cannot be held whole, as text, in a 32 MB heap.
    const path = join(directory, "large.json");
    const file = openSync(path, "w");
    const eventCount = 70_000;
    let pending: string[] = [];
    for (let index = 1; index <= eventCount; index += 1) {
      pending.push(pretty({ ...identify(index % 10), messageId: `m-${index}`, properties: { padding: "x".repeat(400) } }));
      if (pending.length === 1000) {
        writeSync(file, `${pending.join("\n")}\n`);
        pending = [];
      }
    }
    closeSync(file);

    const result = await runCli(["inspect", "--json", path], { env: { NODE_OPTIONS: "--max-old-space-size=32" } });

    expect(result.stderr).not.toContain("heap out of memory");
    expect((JSON.parse(result.stdout) as { eventsRead: number }).eventsRead).toBe(eventCount);
    expect(result.status).toBe(0);
  }, 60_000);
});
