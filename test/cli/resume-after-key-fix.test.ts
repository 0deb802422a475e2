import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { parseRequests, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// The project's key is regenerated in the middle of a run: Koala accepted the first requests, then
// returns 401 for the old key. The user resumes with the new key, which must send only what Koala
// did not accept, and must not write again the dead letters of records left unfinished.

const OLD_KEY = "pk_old_project_key_0123456789";
const NEW_KEY = "pk_new_project_key_9876543210";

let directory: string;
let emulator: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-key-fix-"));
  // Requests go one entry at a time for one person, in order: k-1, k-1-copy, k-2 (rejected with a
  // 400, so dead-lettered), then k-2-copy, which gets the first 401.
  emulator = await startKoalaEmulator({
    publicKey: OLD_KEY,
    faults: { rotateKey: { afterBatches: 3, newKey: NEW_KEY }, rejectEntry: (entry) => entry["message_id"] === "k-2" },
  });
  const lines = [1, 2, 3, 4].map((index) =>
    JSON.stringify({ type: "track", event: "Clicked", messageId: `k-${index}`, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: "ada@example.com" } } }),
  );
  writeFileSync(join(directory, "events.jsonl"), `${lines.join("\n")}\n`);
  const mapping = {
    email: { "@path": "$.context.traits.email" },
    event: { "@path": "$.event" },
    sent_at: { "@path": "$.timestamp" },
    message_id: { "@path": "$.messageId" },
  };
  const mappings = [
    { name: "Track Event", trigger: 'type = "track"', action: "trackEvent", mapping },
    { name: "Copy", trigger: 'type = "track"', action: "trackEvent", mapping: { ...mapping, message_id: { "@template": "{{messageId}}-copy" } } },
  ];
  writeFileSync(join(directory, "koala-replay.config.json"), JSON.stringify({ mappings }));
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

function send(key: string, args: readonly string[] = []): ReturnType<typeof runCli> {
  return runCli(
    ["send", "--no-stitch", "--config", "koala-replay.config.json", "--max-batch-size", "1", "--concurrency", "1", "--no-adaptive-concurrency", "--endpoint", emulator.url, ...args, "events.jsonl"],
    { env: { KOALA_PUBLIC_KEY: key }, cwd: directory },
  );
}

function stateFile(): string {
  const name = readdirSync(join(directory, ".koala-replay")).find((file) => file.endsWith(".json"));
  if (name === undefined) throw new Error("no state file in .koala-replay");
  return join(directory, ".koala-replay", name);
}

function deadLetterIds(): string[] {
  return readFileSync(stateFile().replace(/\.json$/, ".dead-letters.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => (JSON.parse(line) as { messageId: string }).messageId);
}

describe("resume after the key was regenerated", () => {
  test("first run stops at the 401", async () => {
    const first = await send(OLD_KEY);

    expect(first.status).toBe(3);
    expect([...emulator.accepted.keys()]).toEqual(["k-1", "k-1-copy"]);
    expect(deadLetterIds()).toEqual(["k-2"]);
  });

  test("resume with the new key sends the rest", async () => {
    await send(OLD_KEY);
    const resumed = await send(NEW_KEY, ["--resume"]);
    const message = unwrapSummary(resumed.stderr);

    // The first run dead-lettered k-2, which is still not delivered.
    expect(resumed.status).toBe(1);
    expect(message).toContain("earlier dead letters 1 entry dead-lettered by earlier runs of this checkpoint");
    expect([...emulator.accepted.keys()].sort()).toEqual(["k-1", "k-1-copy", "k-2-copy", "k-3", "k-3-copy", "k-4", "k-4-copy"]);
    expect(emulator.stats.duplicateEntries).toBe(0);
    expect(message).toContain("pk_o****");
    expect(message).toContain("pk_n****");
    expect(resumed.stderr).not.toContain(NEW_KEY);
    expect(resumed.stderr).not.toContain(OLD_KEY);
  });

  test("state file keeps no key in clear", async () => {
    await send(OLD_KEY);
    const stopped = readFileSync(stateFile(), "utf8");
    await send(NEW_KEY, ["--resume"]);
    const resumed = readFileSync(stateFile(), "utf8");

    expect(stopped).not.toContain(OLD_KEY);
    expect(resumed).not.toContain(NEW_KEY);
    expect(resumed).not.toContain(OLD_KEY);
  });

  test("dead letter of the unfinished record is written once", async () => {
    await send(OLD_KEY);
    await send(NEW_KEY, ["--resume"]);

    expect(deadLetterIds()).toEqual(["k-2"]);
  });

  test("dry run leaves out the dead letter", async () => {
    await send(OLD_KEY);
    const preview = await send(NEW_KEY, ["--resume", "--dry-run"]);
    const messageIds = parseRequests(preview.stdout).flatMap((request) => (request.body["events"] as Array<{ message_id: string }>).map((entry) => entry.message_id));

    expect(preview.status).toBe(0);
    expect(messageIds.sort()).toEqual(["k-2-copy", "k-3", "k-3-copy", "k-4", "k-4-copy"]);
  });

  test("another key without a rejection still stops", async () => {
    const otherProject = await startKoalaEmulator({ publicKey: NEW_KEY });
    try {
      const first = await runCli(["send", "--no-stitch", "--endpoint", otherProject.url, "events.jsonl"], { env: { KOALA_PUBLIC_KEY: NEW_KEY }, cwd: directory });
      const resumed = await runCli(["send", "--no-stitch", "--endpoint", otherProject.url, "--resume", "events.jsonl"], { env: { KOALA_PUBLIC_KEY: OLD_KEY }, cwd: directory });

      expect(first.status).toBe(0);
      expect(resumed.status).toBe(2);
      expect(unwrapSummary(resumed.stderr)).toContain("--restart in place of --resume");
    } finally {
      await otherProject.close();
    }
  });
});
