import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// The built CLI's summary advice when a config maps sent_at from a path that these events lack:
// the events have timestamps, so the advice is about the path, not about missing timestamps.

function writeEvents(directory: string): string {
  const input = join(directory, "events.jsonl");
  const lines = [1, 2, 3].map((index) =>
    JSON.stringify({ type: "track", event: "Advice", messageId: `advice-${index}`, userId: `u${index}`, context: { traits: { email: `u${index}@example.com` } }, timestamp: "2024-05-01T10:00:00.000Z" }),
  );
  writeFileSync(input, `${lines.join("\n")}\n`);
  return input;
}

/** Writes the config that `init` writes, with the sent_at of Track Event replaced. */
async function writeConfig(directory: string, sentAt: unknown): Promise<string> {
  const initialized = join(directory, "initialized.json");
  await runCli(["init", initialized], { cwd: directory });
  const content = JSON.parse(readFileSync(initialized, "utf8")) as { mappings: Array<{ name: string; mapping: Record<string, unknown> }> };
  const track = content.mappings.find((mapping) => mapping.name === "Track Event");
  expect(track).toBeDefined();
  (track as { mapping: Record<string, unknown> }).mapping["sent_at"] = sentAt;
  const config = join(directory, "rt.json");
  writeFileSync(config, JSON.stringify(content));
  return config;
}

describe("sent_at advice", () => {
  test.each<[string, unknown]>([
    ["path the events lack", { "@path": "$.properties.when" }],
    ["path to a non-date", { "@path": "$.event" }],
  ])("config sent_at from a %s", async (_name, sentAt) => {
    const directory = mkdtempSync(join(tmpdir(), "koala-sent-at-"));
    const input = writeEvents(directory);
    const config = await writeConfig(directory, sentAt);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "-c", config, input], { cwd: directory });
    const summary = unwrapSummary(result.stderr);

    expect(result.status).toBe(1);
    expect(summary).toContain('3 invalid: see the reasons below. The sent_at of "Track Event" in the config gives no ISO-8601 date-time for these events');
    expect(summary).toContain('or map it to {"@path": "$.timestamp"}');
    expect(summary).not.toContain("Events without a timestamp");
  });
});

describe("missing timestamp advice", () => {
  test("names Engage CSVs only for CSV input", async () => {
    const json = await runCli(["send", "--dry-run", "--no-stitch", "fixtures/archives/engage"]);
    const csv = await runCli(["send", "--dry-run", "--no-stitch", "fixtures/csv/engage"]);

    expect(unwrapSummary(json.stderr)).toContain("invalid: see the reasons below. Events without a timestamp need sent_at mapped");
    expect(unwrapSummary(json.stderr)).not.toContain("Engage audience CSV downloads");
    expect(unwrapSummary(csv.stderr)).toContain("Events without a timestamp (Engage audience CSV downloads have none) need sent_at mapped");
  });
});

describe("a warehouse users table given as an input", () => {
  test("is pointed to --identities, beside the sent_at advice", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-users-table-"));
    const users = join(directory, "USERS.csv");
    writeFileSync(users, 'ID,EMAIL,NAME,RECEIVED_AT\n"u1","ada@example.com","Ada","2023-11-01T02:38:25.167Z"\n"u2","bo@example.com","Bo","2023-11-01T00:06:09.111Z"\n');

    const result = await runCli(["send", "--dry-run", "--no-stitch", users]);
    const summary = unwrapSummary(result.stderr);

    expect(result.status).toBe(1);
    expect(summary).toContain(`${users} looks like a warehouse users table, which has one row per user and no event time: to link userIds to emails, give it with --identities instead of as an input.`);
    expect(summary).toContain("Events without a timestamp (Engage audience CSV downloads have none) need sent_at mapped");
  });

  test("is not named for other CSV tables", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-users-table-"));
    const identifies = join(directory, "identifies.csv");
    writeFileSync(identifies, 'id,user_id,email\n"m1","u1","ada@example.com"\n');

    const result = await runCli(["send", "--dry-run", "--no-stitch", identifies]);

    expect(unwrapSummary(result.stderr)).toContain("Events without a timestamp (Engage audience CSV downloads have none) need sent_at mapped");
    expect(unwrapSummary(result.stderr)).not.toContain("users table");
  });
});
