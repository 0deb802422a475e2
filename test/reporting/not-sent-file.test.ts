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

  test("joins the records of one event", () => {
    const path = join(directory, "not-sent.ndjson");
    const file = new NotSentFile(path, KEY);
    const event = '{"type":"track","messageId":"m-1"}';
    const ofEvent = (eventNumber: number, line: number, mapping: string, reason: string): NotSentRecord => ({
      origin: { input: "events.jsonl", line },
      category: "skipped",
      reason,
      message: `${reason} ${KEY}`,
      mapping,
      eventJson: event,
      eventNumber,
    });

    file.write(ofEvent(1, 1, "A", "browser-event"));
    file.write(ofEvent(1, 1, "B", "no-identity"));
    // Another event that starts on the same line, as two JSON documents on one line do.
    file.write(ofEvent(2, 1, "A", "browser-event"));
    file.write({ origin: { input: "events.jsonl", line: 2 }, category: "unreadable", reason: "malformed-json", message: "not JSON", raw: "{" });
    file.write(ofEvent(3, 3, "A", "no-identity"));
    file.close({ createEmpty: true });

    const lines = readFileSync(path, "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(4);
    expect(file.lines).toBe(4);
    expect(lines[0]).toEqual({
      input: "events.jsonl",
      line: 1,
      category: "skipped",
      reason: "browser-event",
      message: "browser-event pk_l****",
      mapping: "A",
      reasons: [
        { category: "skipped", reason: "browser-event", message: "browser-event pk_l****", mapping: "A" },
        { category: "skipped", reason: "no-identity", message: "no-identity pk_l****", mapping: "B" },
      ],
      event: { type: "track", messageId: "m-1" },
    });
    expect(lines[1]?.["reasons"]).toHaveLength(1);
    expect(lines[2]).toMatchObject({ line: 2, category: "unreadable", raw: "{", reasons: [{ category: "unreadable", reason: "malformed-json", message: "not JSON" }] });
    expect(lines[3]).toMatchObject({ line: 3, reason: "no-identity" });
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
