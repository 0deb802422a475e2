import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { printedCommand, runCli, runPrintedCommand, type CliResult } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// A run writes dead letters to dead1.jsonl and stops when Koala rejects its key; its resume, with
// the new key and --dead-letter dead2.jsonl, writes another. The checkpoint lists both files, the
// summary's one resend command sends both, and a resume after that resend finds the resend's
// checkpoint and counts its entries as delivered.

const OLD_KEY = "pk_dead_letter_files_old_0123456789";
const NEW_KEY = "pk_dead_letter_files_new_0123456789";
const EVENT_COUNT = 10;

let directory: string;
let emulator: KoalaEmulator;
/** message_ids that the emulator rejects with a 400, changed between runs. */
let rejected: Set<string>;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-dead-letter-files-"));
  const lines = Array.from({ length: EVENT_COUNT }, (_, index) =>
    JSON.stringify({ type: "track", event: "Clicked", messageId: `d-${index + 1}`, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: `p${index + 1}@example.com` } } }),
  );
  writeFileSync(join(directory, "events.jsonl"), `${lines.join("\n")}\n`);
  rejected = new Set(["d-3"]);
  emulator = await startKoalaEmulator({
    publicKey: OLD_KEY,
    faults: { rejectEntry: (entry) => rejected.has(String(entry["message_id"])), rotateKey: { afterBatches: 5, newKey: NEW_KEY } },
  });
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

const DELIVERY_ARGS = ["--no-progress", "--max-batch-size", "1", "--concurrency", "1", "--no-adaptive-concurrency"];

function send(key: string, extra: readonly string[]): Promise<CliResult> {
  const args = ["send", "--no-stitch", ...DELIVERY_ARGS, "--endpoint", emulator.url, "--state", "state.json", ...extra, "events.jsonl"];
  return runCli(args, { cwd: directory, env: { KOALA_PUBLIC_KEY: key } });
}

/** Runs the run that stops on the rotated key with d-3 in dead1.jsonl, then its resume that dead-letters d-8 to dead2.jsonl. */
async function runAndResumeWithTwoFiles(): Promise<{ stopped: CliResult; resumed: CliResult }> {
  const stopped = await send(OLD_KEY, ["--dead-letter", "dead1.jsonl"]);
  rejected = new Set(["d-8"]);
  const resumed = await send(NEW_KEY, ["--dead-letter", "dead2.jsonl", "--resume"]);
  return { stopped, resumed };
}

/** Returns the resend command that a summary prints. */
function resendCommandOf(result: CliResult): string {
  const command = /to send the dead letters again once their cause is fixed:\n {2}(.*)\n/.exec(result.stderr)?.[1];
  expect(command).toBeDefined();
  return command as string;
}

/** Runs a printed command through sh, as a user pastes it. */
function runPrinted(command: string, key: string): Promise<CliResult> {
  return runPrintedCommand(command, directory, { KOALA_PUBLIC_KEY: key });
}

interface SavedState {
  deadLetteredEntries?: number;
  deadLetterFiles?: Array<{ path: string; entries: number; bytes: number; resentEntries?: number; resentBy?: string }>;
}

function readState(): SavedState {
  return JSON.parse(readFileSync(join(directory, "state.json"), "utf8")) as SavedState;
}

describe("dead-letter files of a checkpoint", () => {
  test("state lists every file with its count", async () => {
    const { stopped, resumed } = await runAndResumeWithTwoFiles();
    const state = readState();

    expect(stopped.status).toBe(3);
    expect(resumed.status).toBe(1);
    expect(state.deadLetteredEntries).toBe(2);
    expect(state.deadLetterFiles?.map(({ path, entries }) => ({ path, entries }))).toEqual([
      { path: join(directory, "dead1.jsonl"), entries: 1 },
      { path: join(directory, "dead2.jsonl"), entries: 1 },
    ]);
  });

  test("summary names both files, one resend command", async () => {
    const { resumed } = await runAndResumeWithTwoFiles();
    const summary = unwrapSummary(resumed.stderr);

    expect(summary).toContain(
      "earlier dead letters 1 entry dead-lettered by earlier runs of this checkpoint, to dead1.jsonl: not delivered, and not sent again by --resume",
    );
    expect(summary).toContain("dead letters 1 written to dead2.jsonl");
    expect(resendCommandOf(resumed)).toBe(`${printedCommand(directory)} send ${DELIVERY_ARGS.join(" ")} --endpoint ${emulator.url} --state state-resend.json --no-stitch dead2.jsonl dead1.jsonl`);
  });

  test("resume after the resend exits 0", async () => {
    const { resumed } = await runAndResumeWithTwoFiles();
    rejected = new Set();
    const resend = await runPrinted(resendCommandOf(resumed), NEW_KEY);

    const again = await send(NEW_KEY, ["--dead-letter", "dead2.jsonl", "--resume", "--report", "report.json"]);
    const summary = unwrapSummary(again.stderr);
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as { exitStatus: number; delivery: Record<string, unknown> };

    expect(resend.status).toBe(0);
    expect(emulator.accepted.has("d-3")).toBe(true);
    expect(emulator.accepted.has("d-8")).toBe(true);
    expect(again.status).toBe(0);
    expect(summary).toContain("earlier dead letters 2 entries dead-lettered by earlier runs of this checkpoint, to 2 files; their events count under already-delivered:");
    expect(summary).toContain("1 entry to dead1.jsonl: delivered since by the resend whose checkpoint is state-resend.json");
    expect(summary).toContain("1 entry to dead2.jsonl: delivered since by the resend whose checkpoint is state-resend.json");
    expect(again.stderr).not.toContain("to send the dead letters again");
    expect(report.exitStatus).toBe(0);
    expect(report.delivery["earlierDeadLettered"]).toBe(2);
    expect(report.delivery["earlierDeadLettersUndelivered"]).toBe(0);
    expect(report.delivery["earlierDeadLetterFiles"]).toEqual([
      { path: join(directory, "dead1.jsonl"), entries: 1, undelivered: 0, status: "resent", resendStatePath: join(directory, "state-resend.json") },
      { path: join(directory, "dead2.jsonl"), entries: 1, undelivered: 0, status: "resent", resendStatePath: join(directory, "state-resend.json") },
    ]);
    expect(readState().deadLetterFiles?.map(({ resentEntries, resentBy }) => ({ resentEntries, resentBy }))).toEqual([
      { resentEntries: 1, resentBy: join(directory, "state-resend.json") },
      { resentEntries: 1, resentBy: join(directory, "state-resend.json") },
    ]);
  });

  test("resend failing again: exit 1 until resent", async () => {
    const { resumed } = await runAndResumeWithTwoFiles();
    const resend = await runPrinted(resendCommandOf(resumed), NEW_KEY);

    const again = await send(NEW_KEY, ["--dead-letter", "dead2.jsonl", "--resume"]);
    rejected = new Set();
    const secondResend = await runPrinted(resendCommandOf(resend), NEW_KEY);
    const last = await send(NEW_KEY, ["--dead-letter", "dead2.jsonl", "--resume"]);

    expect(resend.status).toBe(1);
    expect(again.status).toBe(1);
    expect(unwrapSummary(again.stderr)).toContain(
      "1 entry to dead2.jsonl: the resend whose checkpoint is state-resend.json read them, but 1 of them was not delivered then either",
    );
    expect(unwrapSummary(again.stderr)).toContain("1 entry to dead1.jsonl: delivered since by the resend whose checkpoint is state-resend.json");
    expect(secondResend.status).toBe(0);
    expect(last.status).toBe(0);
  });

  test("deleted file without a resend: still not delivered", async () => {
    const { resumed } = await runAndResumeWithTwoFiles();
    rmSync(join(directory, "dead1.jsonl"));

    const again = await send(NEW_KEY, ["--dead-letter", "dead2.jsonl", "--resume"]);

    expect(resumed.status).toBe(1);
    expect(again.status).toBe(1);
    expect(unwrapSummary(again.stderr)).toContain(
      "1 entry to dead1.jsonl: not delivered, and the file no longer exists: no checkpoint of a resend of it was found",
    );
    expect(resendCommandOf(again)).toMatch(/ --no-stitch dead2\.jsonl$/);
  });

  test("deleted file after its resend: delivered", async () => {
    const { resumed } = await runAndResumeWithTwoFiles();
    rejected = new Set();
    await runPrinted(resendCommandOf(resumed), NEW_KEY);
    rmSync(join(directory, "dead1.jsonl"));
    rmSync(join(directory, "dead2.jsonl"));

    const again = await send(NEW_KEY, ["--dead-letter", "dead2.jsonl", "--resume"]);

    expect(again.status).toBe(0);
  });

  test("checkpoint without the list: last file counted", async () => {
    await runAndResumeWithTwoFiles();
    // As a version that counted dead letters but did not list their files wrote it.
    const state = readState() as Record<string, unknown>;
    delete state["deadLetterFiles"];
    writeFileSync(join(directory, "state.json"), JSON.stringify(state));

    const again = await send(NEW_KEY, ["--dead-letter", "dead2.jsonl", "--resume"]);

    expect(again.status).toBe(1);
    expect(unwrapSummary(again.stderr)).toContain("earlier dead letters 2 entries dead-lettered by earlier runs of this checkpoint, to dead2.jsonl: not delivered");
    expect(readState().deadLetterFiles).toEqual([{ path: join(directory, "dead2.jsonl"), entries: 2, bytes: expect.any(Number) as number }]);
  });
});

describe("dead letters in the default checkpoint folder", () => {
  test("resume after the resend exits 0", async () => {
    const koala = await startKoalaEmulator({ publicKey: NEW_KEY, faults: { rejectEntry: (entry) => rejected.has(String(entry["message_id"])) } });
    try {
      const args = ["send", "--no-stitch", ...DELIVERY_ARGS, "--endpoint", koala.url, "events.jsonl"];
      const env = { KOALA_PUBLIC_KEY: NEW_KEY };
      const first = await runCli(args, { cwd: directory, env });
      rejected = new Set();
      const resend = await runPrinted(resendCommandOf(first), NEW_KEY);
      const resumed = await runCli([...args, "--resume"], { cwd: directory, env });

      expect(first.status).toBe(1);
      expect(resendCommandOf(first)).toMatch(/ --no-stitch \.koala-replay\/state-[0-9a-f]{16}\.dead-letters\.jsonl$/);
      expect(resend.status).toBe(0);
      expect(resumed.status).toBe(0);
      expect(unwrapSummary(resumed.stderr)).toMatch(/1 entry dead-lettered by earlier runs of this checkpoint, to \.koala-replay\/state-\w+\.dead-letters\.jsonl: delivered since by the resend whose checkpoint is \.koala-replay\/state-\w+\.json/);
    } finally {
      await koala.close();
    }
  });
});
