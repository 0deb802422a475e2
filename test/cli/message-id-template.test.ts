import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parseRequests, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// A message_id template whose braces are unbalanced renders them as text, and one without a
// placeholder gives every entry the same id. Every entry after the first is then skipped as a
// duplicate, so check and every command that loads the config reject such a template.

/** Writes a config whose message_id is `messageId` and two track events, and returns the folder. */
function writeConfig(messageId: unknown): string {
  const directory = mkdtempSync(join(tmpdir(), "koala-replay-message-id-template-"));
  const mapping = { email: { "@path": "$.context.traits.email" }, event: { "@path": "$.event" }, sent_at: { "@path": "$.timestamp" }, message_id: messageId };
  const config = { mappings: [{ name: "Track Event", trigger: 'type = "track"', action: "trackEvent", mapping }] };
  writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify(config, null, 2));
  const events = ["m-1", "m-2"].map((id) =>
    JSON.stringify({ type: "track", event: "Clicked", messageId: id, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: "ada@example.com" } } }),
  );
  writeFileSync(join(directory, "events.jsonl"), `${events.join("\n")}\n`);
  return directory;
}

describe("message_id template with stray braces", () => {
  test.each([
    ["unclosed placeholder", "{{messageId}-x", 'has a "{{" at position 0 that starts no placeholder'],
    ["unopened placeholder", "{messageId}}-x", 'has a "}}" at position 10 that ends no placeholder'],
    ["stray braces after a placeholder", "{{messageId}}-{{x", 'has a "{{" at position 14 that starts no placeholder'],
  ])("check rejects %s", async (_case, template, problem) => {
    const directory = writeConfig({ "@template": template });

    const result = await runCli(["check"], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(text).toContain("/mappings/0/mapping/message_id/@template");
    expect(text).toContain(`the message_id template ${JSON.stringify(template)} ${problem}`);
    expect(text).toContain('as in "{{messageId}}-web"');
  });

  test("check names the duplicates it would cause", async () => {
    const directory = writeConfig({ "@template": "{{messageId}-x" });

    const result = await runCli(["check"], { cwd: directory });

    expect(unwrapSummary(result.stderr)).toContain("all entries but the first would be skipped as duplicates");
  });

  test("a template without placeholder is rejected", async () => {
    const directory = writeConfig({ "@template": "web-import" });

    const result = await runCli(["check"], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(text).toContain('the message_id template "web-import" has no placeholder');
  });

  test("a nested template is checked too", async () => {
    const directory = writeConfig({ "@if": { exists: { "@path": "$.messageId" }, then: { "@template": "{{messageId}-x" }, else: { "@path": "$.anonymousId" } } });

    const result = await runCli(["check"], { cwd: directory });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain("/mappings/0/mapping/message_id/@if/then/@template");
  });

  test("send rejects it before reading", async () => {
    const directory = writeConfig({ "@template": "{{messageId}-x" });

    const result = await runCli(["send", "--dry-run", "--no-stitch", "events.jsonl"], { cwd: directory });

    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(unwrapSummary(result.stderr)).toContain('the message_id template "{{messageId}-x"');
  });

  test("a valid template sends distinct ids", async () => {
    const directory = writeConfig({ "@template": "{{messageId}}-x" });

    const result = await runCli(["send", "--dry-run", "--no-stitch", "events.jsonl"], { cwd: directory });
    const ids = parseRequests(result.stdout).flatMap((request) => (request.body["events"] as Array<{ message_id: string }>).map((entry) => entry.message_id));

    expect(result.status).toBe(0);
    expect(ids.sort()).toEqual(["m-1-x", "m-2-x"]);
  });

  test("stray braces in another field stay a warning", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-message-id-template-"));
    const mapping = { event: { "@template": "Clicked {{properties.plan" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
    writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify({ mappings: [{ name: "Track Event", trigger: 'type = "track"', action: "trackEvent", mapping }] }));

    const result = await runCli(["check"], { cwd: directory });

    expect(result.status).toBe(0);
    expect(unwrapSummary(result.stderr)).toContain('warning: koala-replay.config.json /mappings/0/mapping/event/@template');
  });
});

describe("message_id mapped to a constant", () => {
  // A string in a mapping is sent as it is, so "$.messageId" without @path gives every entry the
  // same id, and every entry after the first would be skipped as a duplicate.
  test.each([
    ["path without @path", "$.messageId", "/mappings/0/mapping/message_id", 'write {"@path": "$.messageId"}'],
    ["template without @template", "{{messageId}}-web", "/mappings/0/mapping/message_id", 'write {"@template": "{{messageId}}-web"}'],
    ["plain text", "web-import", "/mappings/0/mapping/message_id", 'as in {"@path": "$.messageId"}'],
    ["number", 7, "/mappings/0/mapping/message_id", 'as in {"@path": "$.messageId"}'],
    ["text in @literal", { "@literal": "$.messageId" }, "/mappings/0/mapping/message_id/@literal", 'write {"@path": "$.messageId"}'],
  ])("check rejects %s", async (_case, messageId, pointer, fix) => {
    const directory = writeConfig(messageId);

    const result = await runCli(["check"], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(text).toContain(pointer);
    expect(text).toContain(`the message_id is the constant ${JSON.stringify(typeof messageId === "object" ? messageId["@literal"] : messageId)}`);
    expect(text).toContain("all entries but the first would be skipped as duplicates");
    expect(text).toContain(fix);
  });

  test("template inside @literal is checked", async () => {
    const directory = writeConfig({ "@literal": { "@template": "web-import" } });

    const result = await runCli(["check"], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(text).toContain("/mappings/0/mapping/message_id/@literal/@template");
    expect(text).toContain('the message_id template "web-import" has no placeholder');
  });

  test("send rejects it before reading", async () => {
    const directory = writeConfig("$.messageId");

    const result = await runCli(["send", "--dry-run", "--no-stitch", "events.jsonl"], { cwd: directory });

    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
  });
});
