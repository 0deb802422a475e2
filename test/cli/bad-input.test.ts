import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parseRequests, runCli } from "../helpers/run-cli.js";

function identifyLine(email: string, messageId: string): string {
  return JSON.stringify({ type: "identify", messageId, timestamp: "2024-01-01T00:00:00.000Z", traits: { email } });
}

describe("bad input is counted and the run goes on", () => {
  test("malformed line is reported with its line number", async () => {
    const input = [identifyLine("a@example.com", "m-1"), "{not json", identifyLine("b@example.com", "m-2"), ""].join("\n");
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: input });

    expect(parseRequests(result.stdout)).toHaveLength(2);
    expect(result.stderr).toContain("-:2: invalid JSON");
    expect(result.stderr).toMatch(/unreadable\s+1/);
    expect(result.status).toBe(1);
  });

  test("JSON value that is not an object is reported", async () => {
    const input = [identifyLine("a@example.com", "m-1"), "[1,2]", "42"].join("\n");
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: input });

    expect(parseRequests(result.stdout)).toHaveLength(1);
    expect(result.stderr).toContain("-:2: expected a JSON object");
    expect(result.stderr).toContain("-:3: expected a JSON object");
  });

  test("truncated gzip keeps the events before the cut", async () => {
    const result = await runCli(["send", "--dry-run", "--browser-events", "include", "fixtures/bad/truncated.jsonl.gz"]);

    expect(result.stderr).toContain("truncated");
    expect(result.stderr).toMatch(/unreadable\s+1/);
    expect(result.status).toBe(1);
  });

  test("unreadable file does not stop the other inputs", async () => {
    const result = await runCli(["send", "--dry-run", "fixtures/bad", "fixtures/archives/engage"]);

    expect(parseRequests(result.stdout).length).toBeGreaterThan(0);
    expect(result.status).toBe(1);
  });

  test("missing required field is counted as invalid with its name", async () => {
    const input = JSON.stringify({ type: "track", messageId: "m-1", timestamp: "2024-01-01T00:00:00.000Z", properties: { email: "a@example.com" } });
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `${input}\n` });

    expect(result.stderr).toMatch(/Track Event: event: is required/);
    expect(result.status).toBe(1);
  });
});

describe("bad CSV rows are counted and the run goes on", () => {
  test("text after a closing quote loses only that row", async () => {
    const input = [
      "type,userId,messageId,timestamp,traits.email",
      "identify,u1,m-1,2024-01-01T00:00:00Z,a@example.com",
      'identify,u2,m-2,2024-01-01T00:00:00Z,"b@example.com"x',
      "identify,u3,m-3,2024-01-01T00:00:00Z,c@example.com",
      'identify,u4,m-4,2024-01-01T00:00:00Z,"d@example.com"',
      "",
    ].join("\n");
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: input });

    const emails = parseRequests(result.stdout).map((request) => request.body["email"]);
    expect(emails).toEqual(["a@example.com", "c@example.com", "d@example.com"]);
    expect(result.stderr).toContain("-:3: Quoted cell 5 continues after its closing double quote on line 3");
    expect(result.stderr).toMatch(/unreadable\s+1/);
    expect(result.stderr).toContain("-:3 malformed-csv-row");
    expect(result.status).toBe(1);
  });

  test("unknown table counted once per file", async () => {
    const input = "email,name\na@example.com,A\nb@example.com,B\nc@example.com,C\n";
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: input });

    expect(parseRequests(result.stdout)).toEqual([]);
    expect(result.stderr).toContain("-:1: This CSV is not a table koala-replay recognises");
    expect(result.stderr).toContain("--csv-table <table>");
    expect(result.stderr).toMatch(/unreadable\s+1\n/);
    expect(result.stderr).toContain("-:1 unknown-csv-table");
    expect(result.status).toBe(1);
  });

  test("unknown table read with --csv-type", async () => {
    const input = "email,name,timestamp,id\na@example.com,A,2024-01-01 00:00:00,m-1\n";
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--csv-type", "identify", "-"], { stdin: input });

    expect(parseRequests(result.stdout).map((request) => request.body["email"])).toEqual(["a@example.com"]);
    expect(result.status).toBe(0);
  });
});

describe("bad input found by breaking the CLI", () => {
  test("deeply nested line loses only that line", async () => {
    const deep = `${'{"a":'.repeat(200_000)}1${"}".repeat(200_000)}`;
    const input = [identifyLine("a@example.com", "m-1"), deep, identifyLine("b@example.com", "m-2")].join("\n");
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: input });

    expect(parseRequests(result.stdout)).toHaveLength(2);
    expect(result.stderr).toContain("-:2: the event is nested too deeply");
    expect(result.status).toBe(1);
  });

  test("byte order mark before line 1 is ignored", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `\uFEFF${identifyLine("a@example.com", "m-1")}\r\n` });

    expect(parseRequests(result.stdout)).toHaveLength(1);
    expect(result.status).toBe(0);
  });

  test("stdin named twice is a usage error", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-", "-"], { stdin: identifyLine("a@example.com", "m-1") });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("stdin (-) is given more than once");
  });
});

describe("one file named twice", () => {
  test("is read once, with a warning", async () => {
    const once = await runCli(["send", "--dry-run", "--no-stitch", "fixtures/archives/spec"]);
    const twice = await runCli(["send", "--dry-run", "--no-stitch", "fixtures/archives/spec", "./fixtures/archives/spec/segment-spec-complete-examples.jsonl"]);

    expect(parseRequests(twice.stdout)).toEqual(parseRequests(once.stdout));
    expect(twice.stderr).toContain(
      "skipped ./fixtures/archives/spec/segment-spec-complete-examples.jsonl: the same file as fixtures/archives/spec/segment-spec-complete-examples.jsonl, which is read once",
    );
    expect(twice.stderr).not.toContain("duplicate-message-id");
  });
});

describe("a line too long to be an event", () => {
  test("is skipped and reported", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-long-line-"));
    const path = join(directory, "events.jsonl");
    const huge = JSON.stringify({ type: "identify", messageId: "huge", traits: { email: "huge@example.com", blob: "x".repeat(20 * 1024 * 1024) } });
    writeFileSync(path, `${identifyLine("a@example.com", "m-1")}\n${huge}\n${identifyLine("b@example.com", "m-3")}\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(parseRequests(result.stdout).map((request) => request.body["email"])).toEqual(["a@example.com", "b@example.com"]);
    expect(result.stderr).toContain(`${path}:2: the line is 20 MiB long, more than the 16 MiB a line may have, so it was skipped`);
    expect(result.stderr).toMatch(/unreadable\s+1/);
    expect(result.status).toBe(1);
  });
});
