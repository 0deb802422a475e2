import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// A resume skips the records the earlier run finished, those it found invalid included. When the
// mappings changed in between, for instance to fix what made them invalid, the fix never reaches
// those records, so the resume must warn about it.

const KEY = "pk_resume_settings_0123456789";

let directory: string;
let emulator: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-resume-settings-"));
  emulator = await startKoalaEmulator({ publicKey: KEY });
  const lines = [1, 2, 3].map((index) =>
    JSON.stringify({ type: "track", event: "Clicked", messageId: `resume-${index}`, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: `p${index}@example.com` } } }),
  );
  writeFileSync(join(directory, "events.jsonl"), `${lines.join("\n")}\n`);
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Writes a config whose sent_at comes from `sentAtPath`. */
function writeConfig(name: string, sentAtPath: string): string {
  const mapping = { email: { "@path": "$.context.traits.email" }, event: { "@path": "$.event" }, sent_at: { "@path": sentAtPath }, message_id: { "@path": "$.messageId" } };
  writeFileSync(join(directory, name), JSON.stringify({ mappings: [{ name: "Track Event", trigger: 'type = "track"', action: "trackEvent", mapping }] }));
  return name;
}

function send(args: readonly string[]): ReturnType<typeof runCli> {
  return runCli(["send", "--no-stitch", "--endpoint", emulator.url, ...args, "events.jsonl"], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });
}

describe("resume with other mappings", () => {
  test("fixed mapping warns of finished events", async () => {
    const first = await send(["--config", writeConfig("broken.json", "$.sentAt")]);
    const resumed = await send(["--config", writeConfig("fixed.json", "$.timestamp"), "--resume"]);
    const warning = unwrapSummary(resumed.stderr);

    expect(first.stderr).toMatch(/invalid +3/);
    expect(warning).toContain("warning: these settings changed since the run that wrote the checkpoint");
    expect(warning).toMatch(/checkpoint \S+: mappings\. --resume/);
    expect(warning).toContain("those it skipped or found invalid included");
    expect(warning).not.toContain("every event, run with --restart");
    expect(warning).toContain("Run with --restart in place of --resume");
    expect(emulator.accepted.size).toBe(0);
  });

  test("same mappings resume quietly", async () => {
    const config = writeConfig("mappings.json", "$.timestamp");
    await send(["--config", config]);
    const resumed = await send(["--config", config, "--resume"]);

    expect(resumed.status).toBe(0);
    expect(resumed.stderr).not.toContain("changed since the run");
  });

  test("restart applies the fix to every event", async () => {
    await send(["--config", writeConfig("broken.json", "$.sentAt")]);
    const restarted = await send(["--config", writeConfig("fixed.json", "$.timestamp"), "--restart"]);

    expect(restarted.status).toBe(0);
    expect(emulator.accepted.size).toBe(3);
    const state = readFileSync(join(directory, ".koala-replay", readStateName()), "utf8");
    expect(JSON.parse(state)).toMatchObject({ finished: true, entrySettingsHash: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });
});

/** Returns the name of the default state file in the test folder. */
function readStateName(): string {
  const name = readdirSync(join(directory, ".koala-replay")).find((file) => file.endsWith(".json"));
  if (name === undefined) throw new Error("no state file in .koala-replay");
  return name;
}

describe("resume with an --identities file", () => {
  /** Writes a track event of an anonymous visitor, whom only an --identities file names. */
  function writeAnonymousEvent(): void {
    const line = JSON.stringify({ type: "track", event: "Clicked", messageId: "anonymous-1", anonymousId: "anon-1", timestamp: "2024-01-01T00:00:00.000Z" });
    writeFileSync(join(directory, "anonymous.jsonl"), `${line}\n`);
    writeFileSync(join(directory, "identities.csv"), "anonymous_id,email\nanon-1,anon@example.com\n");
  }

  function sendAnonymous(args: readonly string[]): ReturnType<typeof runCli> {
    return runCli(["send", "--endpoint", emulator.url, ...args, "anonymous.jsonl"], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });
  }

  test("file added on resume warns", async () => {
    writeAnonymousEvent();
    const first = await sendAnonymous([]);
    const resumed = await sendAnonymous(["--identities", "identities.csv", "--resume"]);

    expect(first.stderr).toMatch(/no-identity +1/);
    expect(unwrapSummary(resumed.stderr)).toMatch(/checkpoint \S+: stitching \(--no-stitch and --identities\)\. --resume/);
  });

  test("same file resumes quietly", async () => {
    writeAnonymousEvent();
    await sendAnonymous(["--identities", "identities.csv"]);
    const resumed = await sendAnonymous(["--identities", "identities.csv", "--resume"]);

    expect(resumed.status).toBe(0);
    expect(resumed.stderr).not.toContain("changed since the run");
    expect(emulator.accepted.has("anonymous-1")).toBe(true);
  });
});

describe("resume with other email exclusions", () => {
  test("changed list warns", async () => {
    const config = writeConfig("mappings.json", "$.timestamp");
    const first = await send(["--config", config, "--exclude-emails", "p1@example.com"]);
    const resumed = await send(["--config", config, "--exclude-emails", "p2@example.com", "--resume"]);

    expect(first.stderr).toMatch(/excluded-email +1/);
    expect(unwrapSummary(resumed.stderr)).toMatch(/checkpoint \S+: email exclusions \(excludeEmails and --exclude-emails\)\. --resume/);
    // The first run finished resume-1 by leaving it out, so the resume does not read it again.
    expect([...emulator.accepted.keys()].sort()).toEqual(["resume-2", "resume-3"]);
  });

  test("same patterns otherwise written resume quietly", async () => {
    const config = writeConfig("mappings.json", "$.timestamp");
    await send(["--config", config, "--exclude-emails", "p1@example.com,p2@example.com"]);
    const resumed = await send(["--config", config, "--exclude-emails", "P2@example.com, p1@example.com", "--resume"]);

    expect(resumed.status).toBe(0);
    expect(resumed.stderr).not.toContain("changed since the run");
  });
});

describe("resume with another setting group", () => {
  test("--browser-events change is named", async () => {
    const config = writeConfig("mappings.json", "$.timestamp");
    await send(["--config", config]);
    const resumed = await send(["--config", config, "--browser-events", "include", "--resume"]);

    expect(unwrapSummary(resumed.stderr)).toMatch(/checkpoint \S+: --browser-events\. --resume/);
  });

  test("two changes are both named", async () => {
    await send(["--config", writeConfig("broken.json", "$.sentAt")]);
    const resumed = await send(["--config", writeConfig("fixed.json", "$.timestamp"), "--since", "2023-01-01", "--resume"]);

    expect(unwrapSummary(resumed.stderr)).toMatch(/checkpoint \S+: mappings; --filter, --since and --until\. --resume/);
  });

  test("restart is not said to change delivered entries", async () => {
    await send(["--config", writeConfig("broken.json", "$.sentAt")]);
    const resumed = await send(["--config", writeConfig("fixed.json", "$.timestamp"), "--resume"]);
    const warning = unwrapSummary(resumed.stderr);

    expect(warning).toContain("entries Koala already has stay as they are");
    expect(warning).not.toContain("to every event");
  });
});

describe("resume from a checkpoint with one settings hash", () => {
  /** Rewrites the state file as versions that kept one hash for all entry settings wrote it. */
  function dropGroupHashes(): void {
    const path = join(directory, ".koala-replay", readStateName());
    const state = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    delete state["entrySettingHashes"];
    state["finished"] = false;
    writeFileSync(path, JSON.stringify(state));
  }

  test("changed settings warn without names", async () => {
    await send(["--config", writeConfig("broken.json", "$.sentAt")]);
    dropGroupHashes();
    const resumed = await send(["--config", writeConfig("fixed.json", "$.timestamp"), "--resume"]);
    const warning = unwrapSummary(resumed.stderr);

    expect(resumed.status).toBe(0);
    expect(warning).toContain("kept one hash for all of them, so this run cannot tell which changed");
  });

  test("same settings resume quietly", async () => {
    const config = writeConfig("mappings.json", "$.timestamp");
    await send(["--config", config, "--exclude-emails", "p1@example.com"]);
    dropGroupHashes();
    const resumed = await send(["--config", config, "--exclude-emails", "p1@example.com", "--resume"]);

    expect(resumed.status).toBe(0);
    expect(resumed.stderr).not.toContain("warning");
  });

  test("domain spelt in punycode then Unicode resumes quietly", async () => {
    const config = writeConfig("mappings.json", "$.timestamp");
    await send(["--config", config, "--exclude-emails", "*@xn--mnchen-3ya.de"]);
    const resumed = await send(["--config", config, "--exclude-emails", "*@MÜNCHEN.de.", "--resume"]);

    // Both spellings exclude the same addresses, so the settings did not change.
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).not.toContain("differ from those of the run");
  });
});
