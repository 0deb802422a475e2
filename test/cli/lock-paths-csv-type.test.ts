import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { parseRequests, runCli, type CliResult } from "../helpers/run-cli.js";

// Two findings of a break-it pass: output paths that name a checkpoint's lock, and CSV files with
// a `type` column whose snake_case name read like a warehouse table.

const KEY = "pk_lock_paths_0123456789";

let directory: string;
let emulator: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-lock-paths-"));
  emulator = await startKoalaEmulator({ publicKey: KEY });
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

function writeEvents(path: string): void {
  const lines = [1, 2, 3].map((index) =>
    JSON.stringify({ type: "track", event: "Clicked", messageId: `lock-${index}`, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: `p${index}@example.com` } } }),
  );
  writeFileSync(path, `${lines.join("\n")}\n`);
}

function send(args: readonly string[]): Promise<CliResult> {
  return runCli(["send", "--no-stitch", "--endpoint", emulator.url, ...args], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });
}

describe("output path naming the checkpoint's lock", () => {
  // The lock of a checkpoint is the checkpoint's path with `.lock` added. A dead-letter file there
  // starts with the lock's line and outlives the run, so every later run of the checkpoint stops
  // with "delete <state>.lock", and deleting it deletes the dead letters.
  test("--dead-letter is rejected before sending", async () => {
    writeEvents(join(directory, "events.jsonl"));

    const result = await send(["--state", "state.json", "--dead-letter", "state.json.lock", "events.jsonl"]);

    expect(result.status).toBe(2);
    expect(result.stderr.replace(/\s+/g, " ")).toContain("the dead-letter file state.json.lock is the lock file of the checkpoint file");
    expect(emulator.stats.requests).toBe(0);
  });

  test("--not-sent is rejected before sending", async () => {
    writeEvents(join(directory, "events.jsonl"));

    const result = await send(["--state", "state.json", "--not-sent", "state.json.lock", "--filter", 'event = "Other"', "events.jsonl"]);

    expect(result.status).toBe(2);
    expect(existsSync(join(directory, "state.json.lock"))).toBe(false);
  });
});

describe("output path naming the not-sent file's lock", () => {
  // The not-sent file is locked like the checkpoint. A report or dead-letter file written at its
  // lock outlived the run, and every later run with that --not-sent path stopped as if another run
  // held it. A checkpoint there was read as the lock this run had just written.
  test.each([
    ["--report", "the report"],
    ["--dead-letter", "the dead-letter file"],
    ["--state", "the checkpoint"],
  ])("%s is rejected before sending", async (option, description) => {
    writeEvents(join(directory, "events.jsonl"));

    const result = await send(["--not-sent", "not-sent.jsonl", option, "not-sent.jsonl.lock", "events.jsonl"]);

    expect(result.status).toBe(2);
    expect(result.stderr.replace(/\s+/g, " ")).toContain(`${description} not-sent.jsonl.lock is the lock file of the not-sent file`);
    expect(emulator.stats.requests).toBe(0);
    expect(existsSync(join(directory, "not-sent.jsonl.lock"))).toBe(false);
  });
});

describe("checkpoint naming the dead-letter file's lock", () => {
  test("--state is rejected with the lock named", async () => {
    writeEvents(join(directory, "events.jsonl"));

    const result = await send(["--dead-letter", "dead.jsonl", "--state", "dead.jsonl.lock", "events.jsonl"]);

    expect(result.status).toBe(2);
    expect(result.stderr.replace(/\s+/g, " ")).toContain("the checkpoint dead.jsonl.lock is the lock file of the dead-letter file");
  });
});

describe("not-sent file held by another run", () => {
  test("error names --not-sent", async () => {
    writeEvents(join(directory, "events.jsonl"));
    writeFileSync(join(directory, "not-sent.jsonl.lock"), "not a lock\n");

    const result = await send(["--not-sent", "not-sent.jsonl", "events.jsonl"]);

    expect(result.status).toBe(2);
    const stderr = result.stderr.replace(/\s+/g, " ");
    expect(stderr).toContain("give this run a not-sent file of its own (--not-sent <path>)");
    expect(stderr).not.toContain("--dead-letter <path>");
  });
});

describe("CSV with a type column", () => {
  // A snake_case file name made a CSV a warehouse table of that name, before the `type` column was
  // looked at: the type and message_id columns became properties, and identify rows track events.
  const header = "type,event,user_id,message_id,timestamp,email";
  const rows = ["track,Signup,u1,csv-t1,2024-01-01T00:00:00Z,u1@example.com", "identify,,u1,csv-i1,2024-01-01T00:00:00Z,u1@example.com"];

  function sentMessageIds(result: CliResult): string[] {
    const entries = parseRequests(result.stdout).flatMap((request) => [request.body["events"], request.body["identifies"]].flatMap((list) => (Array.isArray(list) ? (list as Array<Record<string, unknown>>) : [])));
    return entries.map((entry) => String(entry["message_id"])).sort();
  }

  test("file named after no table reads the type column", async () => {
    writeFileSync(join(directory, "signups-2024.csv"), `${[header, ...rows].join("\n")}\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "signups-2024.csv"], { cwd: directory });

    expect(sentMessageIds(result)).toEqual(["csv-i1", "csv-t1"]);
  });

  test("snake_case file name reads the type column", async () => {
    writeFileSync(join(directory, "signups.csv"), `${[header, ...rows].join("\n")}\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "signups.csv"], { cwd: directory });

    expect(sentMessageIds(result)).toEqual(["csv-i1", "csv-t1"]);
  });
});
