import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// Every file option of send creates its missing folders, as --state always did, so that a first
// run in a fresh folder (--state trial/state.json --report trial/r1.json) does not stop on one of them.

const KEY = "pk_test_0123456789abcdef";

let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

const EVENT = JSON.stringify({ type: "track", event: "Clicked", messageId: "m-1", timestamp: "2024-01-01T00:00:00.000Z", userId: "u-1", context: { traits: { email: "ada@example.com" } } });

describe("send into missing folders", () => {
  test("--report, --state, --dead-letter and --not-sent create theirs", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { rejectEntry: () => true } });
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-output-folders-"));
    const args = ["send", "--no-stitch", "--max-attempts", "1", "--endpoint", emulator.url, "--state", "trial/state.json", "--report", "trial/reports/r1.json", "--dead-letter", "failed/dl.jsonl", "--not-sent", "notes/not-sent.jsonl", "-"];

    const skipped = JSON.stringify({ type: "track", event: "Clicked", messageId: "m-2", timestamp: "2024-01-01T00:00:00.000Z", userId: "u-2" });
    const result = await runCli(args, { cwd: directory, stdin: `${EVENT}\n${skipped}\n`, env: { KOALA_PUBLIC_KEY: KEY } });
    const report = JSON.parse(readFileSync(join(directory, "trial/reports/r1.json"), "utf8")) as { counts: { failed: number } };

    expect(result.stderr).not.toContain("does not exist");
    expect(result.status).toBe(1);
    expect(report.counts.failed).toBe(1);
    expect(existsSync(join(directory, "trial/state.json"))).toBe(true);
    expect(readFileSync(join(directory, "failed/dl.jsonl"), "utf8")).toContain('"m-1"');
    expect(readFileSync(join(directory, "notes/not-sent.jsonl"), "utf8")).toContain('"m-2"');
  });

  test("dry run --report creates its folder", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-output-folders-"));

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", "a/b/run.json", "-"], { cwd: directory, stdin: `${EVENT}\n` });

    expect(result.status).toBe(0);
    expect(existsSync(join(directory, "a/b/run.json"))).toBe(true);
  });

  test.skipIf(process.getuid?.() === 0)("unwritable parent fails before the run", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-output-folders-"));
    const locked = join(directory, "locked");
    mkdirSync(locked);
    chmodSync(locked, 0o500);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", join(locked, "sub", "run.json"), "-"], { cwd: directory, stdin: `${EVENT}\n` });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain(`the directory ${join(locked, "sub")} is not writable (EACCES)`);
    expect(result.stdout).toBe("");
  });
});
