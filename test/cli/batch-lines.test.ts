import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { type KoalaEmulator, startKoalaEmulator } from "../emulator/koala-emulator.js";
import { parseRequests, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// A `/v1/batch` request body on a line of a JSON lines input: reported with its line and its number
// of events, and read as events with --format json, which the report advises.

const KEY = "pk_emulator_0123456789";

let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function track(messageId: string, email?: string): Record<string, unknown> {
  return { type: "track", event: "Batch Line", messageId, userId: `user-${messageId}`, timestamp: "2024-05-01T10:00:00.000Z", ...(email === undefined ? {} : { context: { traits: { email } } }) };
}

/** Line 2 is a request body of two events whose email comes from the body's context. */
const MIXED_LINES = [
  JSON.stringify(track("m1", "a@example.com")),
  JSON.stringify({ context: { traits: { email: "b@example.com" } }, batch: [track("m2"), track("m3")], sentAt: "2024-05-01T10:00:01.000Z" }),
  JSON.stringify(track("m4", "a@example.com")),
];

interface SentEntry {
  message_id: string;
  email: string;
}

function sentEntries(stdout: string): SentEntry[] {
  return parseRequests(stdout).flatMap((request) => (request.body["events"] as Array<{ message_id: string }>).map((event) => ({ message_id: event.message_id, email: request.body["email"] as string })));
}

function writeInput(lines: readonly string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), "koala-batch-lines-")), "events.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

describe("request body on a JSON line", () => {
  test("is reported with its line", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `${MIXED_LINES.join("\n")}\n` });

    expect(result.status).toBe(1);
    expect(sentEntries(result.stdout).map((entry) => entry.message_id).sort()).toEqual(["m1", "m4"]);
    expect(unwrapSummary(result.stderr)).toContain("-:2: the line is a /v1/batch request body with 2 events, which JSON lines input does not expand, so none of them was read; read the file with --format json");
    expect(result.stderr).toMatch(/unreadable\s+1/);
  });

  test("is reported once with stitching", async () => {
    const result = await runCli(["send", "--dry-run", writeInput(MIXED_LINES)]);

    expect(result.stderr.match(/request body with 2 events/g)).toHaveLength(1);
  });

  test("is reported by inspect", async () => {
    const input = writeInput(MIXED_LINES);
    const result = await runCli(["inspect", input]);

    expect(unwrapSummary(result.stdout)).toContain(`${input}:2 not-an-object: the line is a /v1/batch request body with 2 events`);
  });

  test("is expanded with --format json", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--format", "json", "-"], { stdin: `${MIXED_LINES.join("\n")}\n` });

    expect(result.status).toBe(0);
    const entries = sentEntries(result.stdout).sort((left, right) => left.message_id.localeCompare(right.message_id));
    expect(entries).toEqual([
      { message_id: "m1", email: "a@example.com" },
      { message_id: "m2", email: "b@example.com" },
      { message_id: "m3", email: "b@example.com" },
      { message_id: "m4", email: "a@example.com" },
    ]);
  });

  test("with an empty batch is no event", async () => {
    const lines = [JSON.stringify(track("m1", "a@example.com")), JSON.stringify({ batch: [] })];
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `${lines.join("\n")}\n` });

    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/unreadable\s+0/);
    expect(result.stderr).toMatch(/events read\s+1/);
  });

  test("with a type is an event", async () => {
    const lines = [JSON.stringify(track("m1", "a@example.com")), JSON.stringify({ ...track("m2", "a@example.com"), batch: ["a field of the event"] })];
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `${lines.join("\n")}\n` });

    expect(result.status).toBe(0);
    expect(sentEntries(result.stdout).map((entry) => entry.message_id).sort()).toEqual(["m1", "m2"]);
  });

  test("whose batch is no array is reported", async () => {
    const lines = [JSON.stringify(track("m1", "a@example.com")), JSON.stringify({ batch: track("m2", "a@example.com") })];
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `${lines.join("\n")}\n` });

    expect(result.status).toBe(1);
    expect(unwrapSummary(result.stderr)).toContain(`-:2: "batch" is an object in this request body, but batch must be an array of events`);
  });
});

describe("array of request bodies", () => {
  test("is reported with each element", async () => {
    const bodies = [{ batch: [track("m2", "b@example.com"), track("m3", "b@example.com")] }, { batch: [track("m4", "b@example.com")] }];
    const input = join(mkdtempSync(join(tmpdir(), "koala-batch-lines-")), "bodies.json");
    writeFileSync(input, JSON.stringify([track("m1", "a@example.com"), ...bodies]));
    const result = await runCli(["send", "--dry-run", "--no-stitch", input]);

    expect(result.status).toBe(1);
    expect(sentEntries(result.stdout).map((entry) => entry.message_id)).toEqual(["m1"]);
    const summary = unwrapSummary(result.stderr);
    expect(summary).toContain(`is a /v1/batch request body with 2 events, which an array of request bodies does not expand, so none of them was read; write the bodies one after another with jq -c '.[]' ${input} > bodies.json`);
    expect(summary).toContain("is a /v1/batch request body with 1 event,");
    expect(result.stderr).toMatch(/unreadable\s+2/);
  });

  test("written apart is expanded with --format json", async () => {
    const bodies = [{ batch: [track("m2", "b@example.com"), track("m3", "b@example.com")] }, { batch: [track("m4", "b@example.com")] }];
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--format", "json", "-"], { stdin: bodies.map((body) => JSON.stringify(body)).join("\n") });

    expect(result.status).toBe(0);
    expect(sentEntries(result.stdout).map((entry) => entry.message_id).sort()).toEqual(["m2", "m3", "m4"]);
  });
});

describe("--format json of JSON lines with request bodies", () => {
  test("resume sends nothing twice", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const input = writeInput([...MIXED_LINES, JSON.stringify(track("m5", "c@example.com"))]);
    const state = join(input, "..", "state.json");
    const args = ["send", "--no-stitch", "--format", "json", "--endpoint", emulator.url, "--public-key", KEY, "--state", state, input];

    const first = await runCli(args);
    expect(first.status).toBe(0);
    expect([...emulator.accepted.keys()].sort()).toEqual(["m1", "m2", "m3", "m4", "m5"]);

    const resumed = await runCli([...args, "--resume"]);
    expect(resumed.status).toBe(0);
    expect(emulator.stats.duplicateEntries).toBe(0);
  });
});

describe("events wrapped in an object", () => {
  const wrapped = { exportedAt: "2024-05-02", events: [track("w1", "a@example.com"), track("w2", "b@example.com")] };

  test("on a JSON line: reported with the jq command", async () => {
    const path = writeInput([JSON.stringify(track("m1", "a@example.com")), JSON.stringify(wrapped)]);
    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(result.status).toBe(1);
    expect(sentEntries(result.stdout).map((entry) => entry.message_id)).toEqual(["m1"]);
    expect(unwrapSummary(result.stderr)).toContain(
      `${path}:2: the line has no type, but its "events" array holds 2 objects with a type, which look like events wrapped in an object, so none of them was read; write them one per line with jq -c '.events[]' ${path} > events.jsonl`,
    );
    expect(result.stderr).toMatch(/unreadable\s+1/);
    expect(result.stderr).not.toContain("no-mapping-matched");
  });

  test("in a JSON document: reported the same", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "koala-batch-lines-")), "export.json");
    writeFileSync(path, JSON.stringify({ "event list": wrapped.events }, null, 2));
    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(unwrapSummary(result.stderr)).toContain(`${path}:1: the JSON document that starts here has no type, but its "event list" array holds 2 objects`);
    expect(unwrapSummary(result.stderr)).toContain(`jq -c '.["event list"][]' ${path} > events.jsonl`);
  });

  test("an event without a type keeps being read", async () => {
    const untyped = { event: "No Type", messageId: "u1", properties: { items: [{ sku: "a" }] } };
    const result = await runCli(["send", "--dry-run", "--no-stitch", writeInput([JSON.stringify(untyped)])]);

    expect(result.stderr).toMatch(/unreadable\s+0/);
    expect(result.stderr).toContain("no-mapping-matched");
  });
});
