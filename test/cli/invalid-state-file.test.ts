import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { printedCommand, runCli, type CliResult } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// A state file that exists but cannot be read as one may be the only record of a run that did not
// finish. A send without --resume stops before sending, as it does for such a run, and a send with
// --resume stops with the same message; --restart replaces the file.

const KEY = "pk_invalid_state_0123456789";

let directory: string;
let emulator: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-invalid-state-"));
  emulator = await startKoalaEmulator({ publicKey: KEY });
  const lines = [1, 2, 3].map((index) =>
    JSON.stringify({ type: "track", event: "Clicked", messageId: `s-${index}`, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: "ada@example.com" } } }),
  );
  writeFileSync(join(directory, "events.jsonl"), `${lines.join("\n")}\n`);
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

const INVALID_STATES: ReadonlyArray<{ name: string; text: string; problem: string }> = [
  {
    name: "failed check",
    text: JSON.stringify({ version: 2, finished: false, inputs: { "/data/events.jsonl": { doneThrough: -1, notDone: [] } } }),
    problem: 'is not a valid koala-replay state file: $.inputs["/data/events.jsonl"].doneThrough must be a non-negative safe integer (the last line done), found -1',
  },
  { name: "broken JSON", text: '{"version": 2, "inputs": {', problem: "is not valid JSON (" },
  { name: "newer version", text: JSON.stringify({ version: 99, inputs: {} }), problem: "has state file version 99, and this version of koala-replay reads versions 1 to 2" },
];

function send(extra: readonly string[] = []): Promise<CliResult> {
  const args = ["send", "--no-stitch", "--no-progress", "--endpoint", emulator.url, "--state", "state.json", "events.jsonl", ...extra];
  return runCli(args, { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY } });
}

describe("invalid state file without --resume", () => {
  test.each(INVALID_STATES)("$name: exit 2, nothing sent", async ({ text, problem }) => {
    writeFileSync(join(directory, "state.json"), text);

    const result = await send();
    const stderr = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(stderr).toContain(`error: the checkpoint state.json ${problem}`);
    expect(stderr).toContain("It may be the only record of a run that did not finish, and this run would replace it. Nothing was sent.");
    expect(result.stderr).toContain(`    ${printedCommand(directory)} send --no-stitch --no-progress --endpoint ${emulator.url} --state state.json events.jsonl --restart\n`);
    expect(stderr).toContain("give this run a checkpoint of its own with --state <path>");
    expect(emulator.stats.batchRequests).toBe(0);
    expect(readFileSync(join(directory, "state.json"), "utf8")).toBe(text);
  });

  test("unreadable file: exit 2, names the error", async () => {
    const statePath = join(directory, "state.json");
    writeFileSync(statePath, "{}");
    chmodSync(statePath, 0o000);
    // root reads a file whatever its mode, so the case cannot happen there.
    const readable = (() => {
      try {
        readFileSync(statePath);
        return true;
      } catch {
        return false;
      }
    })();

    const result = await send();

    chmodSync(statePath, 0o600);
    if (readable) {
      expect(unwrapSummary(result.stderr)).toContain("error: the checkpoint state.json is not a valid koala-replay state file: $.version");
    } else {
      expect(unwrapSummary(result.stderr)).toContain("error: the checkpoint state.json cannot be read (EACCES");
    }
    expect(result.status).toBe(2);
    expect(emulator.stats.batchRequests).toBe(0);
  });
});

describe("invalid state file with --resume", () => {
  test.each(INVALID_STATES)("$name: same message, exit 2", async ({ text, problem }) => {
    writeFileSync(join(directory, "state.json"), text);

    const result = await send(["--resume"]);
    const stderr = unwrapSummary(result.stderr);

    expect(result.status).toBe(2);
    expect(stderr).toContain(`error: the checkpoint state.json ${problem}`);
    expect(stderr).toContain("The run it records cannot be resumed from it. Nothing was sent.");
    expect(result.stderr).toContain(`    ${printedCommand(directory)} send --no-stitch --no-progress --endpoint ${emulator.url} --state state.json events.jsonl --restart\n`);
    expect(stderr).toContain("give this run a checkpoint of its own with --state <path>");
    expect(emulator.stats.batchRequests).toBe(0);
    expect(readFileSync(join(directory, "state.json"), "utf8")).toBe(text);
  });
});

describe("invalid state file with --restart", () => {
  test("replaced with a warning naming the problem", async () => {
    writeFileSync(join(directory, "state.json"), "{half");

    const result = await send(["--restart"]);
    const state = JSON.parse(readFileSync(join(directory, "state.json"), "utf8")) as { finished?: boolean };

    expect(result.status).toBe(0);
    expect(unwrapSummary(result.stderr)).toMatch(/warning: --restart: the checkpoint state\.json is not valid JSON \(.*\); it is replaced, and every event is sent again/);
    expect(emulator.accepted.size).toBe(3);
    expect(state.finished).toBe(true);
  });
});
