import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { NotSentFile, type NotSentRecord } from "../../src/reporting/not-sent-file.js";

const KEY = "pk_live_abcdef0123456789";

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-not-sent-unit-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function skipped(line: number, eventJson?: string): NotSentRecord {
  const record: NotSentRecord = { origin: { input: "events.jsonl", line }, category: "skipped", reason: "no-mapping-matched", message: "no mapping's trigger matched" };
  if (eventJson !== undefined) {
    record.eventJson = eventJson;
  }
  return record;
}

describe("NotSentFile", () => {
  test("writes blocks before close", () => {
    const path = join(directory, "not-sent.ndjson");
    const file = new NotSentFile(path, undefined);
    const event = JSON.stringify({ type: "page", properties: { padding: "x".repeat(200) } });

    for (let line = 1; line <= 2_000; line += 1) {
      file.write(skipped(line, event));
    }

    // About 500 KB were written; at most one block of 64 KiB may still be waiting.
    expect(statSync(path).size).toBeGreaterThan(400_000);
    file.close({ createEmpty: true });
    expect(readFileSync(path, "utf8").split("\n")).toHaveLength(2_001);
    expect(file.lines).toBe(2_000);
  });

  test("masks the key in reason and message", () => {
    const path = join(directory, "not-sent.ndjson");
    const file = new NotSentFile(path, KEY);

    file.write({ origin: { input: "events.jsonl", line: 3 }, category: "invalid", reason: `Track: found ${KEY}`, message: `bad value ${KEY}`, mapping: "Track" });
    file.close({ createEmpty: true });

    const text = readFileSync(path, "utf8");
    expect(text).not.toContain(KEY);
    expect(JSON.parse(text)).toMatchObject({ reason: "Track: found pk_l****", message: "bad value pk_l****" });
  });

  test("event text keeps its digits", () => {
    const path = join(directory, "not-sent.ndjson");
    const file = new NotSentFile(path, undefined);

    file.write(skipped(1, '{\n  "type": "track",\r\n  "messageId": 12345678901234567890\n}'));
    file.close({ createEmpty: true });

    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('"messageId": 12345678901234567890');
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ line: 1, event: { type: "track" } });
  });

  test("close without lines creates the file only when asked", () => {
    const emptyPath = join(directory, "kept.ndjson");
    const left = join(directory, "left.ndjson");

    new NotSentFile(emptyPath, undefined).close({ createEmpty: true });
    new NotSentFile(left, undefined).close({ createEmpty: false });

    expect(readFileSync(emptyPath, "utf8")).toBe("");
    expect(existsSync(left)).toBe(false);
  });

  test.skipIf(!existsSync("/dev/full"))("full disk counts lines lost", () => {
    const file = new NotSentFile("/dev/full", undefined);

    for (let line = 1; line <= 1_000; line += 1) {
      file.write(skipped(line, JSON.stringify({ padding: "x".repeat(100) })));
    }
    file.close({ createEmpty: true });

    expect(file.failure?.code).toBe("ENOSPC");
    expect(file.lines).toBe(0);
    expect(file.linesLost).toBe(1_000);
  });
});
