import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { binPath, printedCommand, runCli, type CliResult } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// A run stopped by Ctrl-C after it dead-lettered d-3, then a resume that delivers the rest. The
// resume sends none of the earlier dead letters, but they are still not delivered, so it reports
// them and exits 1, as the stopped run would have had it finished.

const KEY = "pk_earlier_dead_letters_0123456789";
const EVENT_COUNT = 10;

let directory: string;
let emulator: KoalaEmulator | undefined;
/** Port of the emulator of the stopped run, which the resume's emulator takes over: a resume must send to the same destination. */
let port: number;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-earlier-dead-letters-"));
  const lines = Array.from({ length: EVENT_COUNT }, (_, index) =>
    JSON.stringify({ type: "track", event: "Clicked", messageId: `d-${index + 1}`, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: `p${index + 1}@example.com` } } }),
  );
  writeFileSync(join(directory, "events.jsonl"), `${lines.join("\n")}\n`);
});

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  rmSync(directory, { recursive: true, force: true });
});

const SEND_ARGS = ["send", "--no-stitch", "--no-progress", "--max-batch-size", "1", "--concurrency", "1", "--no-adaptive-concurrency", "--state", "state.json", "--dead-letter", "dead.jsonl"];

/**
 * Sends the events one per request to an emulator that responds to each after 300 ms and rejects d-3,
 * and interrupts the run with SIGINT once the line of d-3 is in the dead-letter file.
 */
async function sendAndInterrupt(): Promise<CliResult> {
  const slow = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 300, rejectEntry: (entry) => entry["message_id"] === "d-3" } });
  try {
    return await new Promise<CliResult>((resolve, reject) => {
      port = Number(new URL(slow.url).port);
      const child = spawn(process.execPath, [binPath, ...SEND_ARGS, "--endpoint", slow.url, "events.jsonl"], {
        cwd: directory,
        env: { PATH: process.env["PATH"], KOALA_PUBLIC_KEY: KEY },
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      const deadLetterPath = join(directory, "dead.jsonl");
      const poll = setInterval(() => {
        if (existsSync(deadLetterPath) && statSync(deadLetterPath).size > 0) {
          clearInterval(poll);
          child.kill("SIGINT");
        }
      }, 20);
      child.on("error", reject);
      child.on("close", (status) => {
        clearInterval(poll);
        resolve({ status, stdout: "", stderr });
      });
    });
  } finally {
    await slow.close();
  }
}

function resume(url: string, extraArgs: readonly string[] = []): Promise<CliResult> {
  return runCli([...SEND_ARGS, "--endpoint", url, "--resume", ...extraArgs, "events.jsonl"], { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY } });
}

describe("resume after a stopped run with dead letters", () => {
  test("checkpoint counts the dead letters", async () => {
    const stopped = await sendAndInterrupt();
    const state = JSON.parse(readFileSync(join(directory, "state.json"), "utf8")) as { deadLetteredEntries?: number };

    expect(stopped.status).toBe(130);
    expect(state.deadLetteredEntries).toBe(1);
  });

  test("resume exits 1 and names them", async () => {
    await sendAndInterrupt();
    emulator = await startKoalaEmulator({ publicKey: KEY, port });
    const resumed = await resume(emulator.url, ["--report", "report.json"]);
    const summary = unwrapSummary(resumed.stderr);
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as { exitStatus: number; delivery: Record<string, unknown> };

    expect(resumed.status).toBe(1);
    expect(emulator.accepted.has("d-10")).toBe(true);
    expect(emulator.accepted.has("d-3")).toBe(false);
    expect(summary).toContain(
      "earlier dead letters 1 entry dead-lettered by earlier runs of this checkpoint, to dead.jsonl: not delivered, and not sent again by --resume (their events count under already-delivered); the command below the summary sends them again",
    );
    expect(resumed.stderr).toContain(
      `  to send the dead letters again once their cause is fixed:\n  ${printedCommand(directory)} send --no-progress --max-batch-size 1 --concurrency 1 --no-adaptive-concurrency --endpoint ${emulator.url} --report report-resend.json --state state-resend.json --no-stitch dead.jsonl\n`,
    );
    expect(report.exitStatus).toBe(1);
    expect(report.delivery["earlierDeadLettered"]).toBe(1);
    expect(report.delivery["earlierDeadLetterPath"]).toBe(join(directory, "dead.jsonl"));
  });

  test("second resume keeps the count", async () => {
    await sendAndInterrupt();
    emulator = await startKoalaEmulator({ publicKey: KEY, port });
    await resume(emulator.url);
    const again = await resume(emulator.url);
    const state = JSON.parse(readFileSync(join(directory, "state.json"), "utf8")) as { deadLetteredEntries?: number };

    expect(again.status).toBe(1);
    expect(state.deadLetteredEntries).toBe(1);
    expect(unwrapSummary(again.stderr)).toContain("earlier dead letters 1 entry dead-lettered by earlier runs of this checkpoint, to dead.jsonl:");
    expect(unwrapSummary(again.stderr)).toContain(
      "Every one of the 10 events read was finished by earlier runs of this checkpoint (10 were delivered or dead-lettered), but 1 entry that they dead-lettered is still not delivered: see earlier dead letters below.",
    );
    expect(again.stderr).not.toContain("nothing was left to send");
  });

  test("unsplit resume names done-earlier", async () => {
    await sendAndInterrupt();
    // Without the count of events done without entries, as an earlier version wrote it, a resume cannot split the events done earlier.
    const statePath = join(directory, "state.json");
    const state = JSON.parse(readFileSync(statePath, "utf8")) as { inputs: Record<string, Record<string, unknown>> };
    for (const input of Object.values(state.inputs)) {
      delete input["doneWithoutEntries"];
    }
    writeFileSync(statePath, JSON.stringify(state));
    emulator = await startKoalaEmulator({ publicKey: KEY, port });
    const resumed = await resume(emulator.url, ["--report", "report.json"]);
    const summary = unwrapSummary(resumed.stderr);
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as { skippedByReason: Record<string, number> };

    expect(resumed.status).toBe(1);
    expect(Object.keys(report.skippedByReason)).toEqual(["done-earlier"]);
    expect(summary).toContain("(their events count under done-earlier)");
    expect(summary).not.toContain("already-delivered");
  });

  test("restart starts the count over", async () => {
    await sendAndInterrupt();
    emulator = await startKoalaEmulator({ publicKey: KEY, port });
    const restarted = await runCli([...SEND_ARGS, "--endpoint", emulator.url, "--restart", "events.jsonl"], { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY } });
    const state = JSON.parse(readFileSync(join(directory, "state.json"), "utf8")) as { deadLetteredEntries?: number };

    expect(restarted.status).toBe(0);
    expect(state.deadLetteredEntries).toBe(0);
    expect(restarted.stderr).not.toContain("earlier dead letters");
  });

  test("older checkpoint without the count", async () => {
    await sendAndInterrupt();
    const statePath = join(directory, "state.json");
    const state = JSON.parse(readFileSync(statePath, "utf8")) as Record<string, unknown>;
    delete state["deadLetteredEntries"];
    writeFileSync(statePath, JSON.stringify(state));
    emulator = await startKoalaEmulator({ publicKey: KEY, port });
    const resumed = await resume(emulator.url, ["--report", "report.json"]);
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as { delivery: Record<string, unknown> };
    const saved = JSON.parse(readFileSync(statePath, "utf8")) as Record<string, unknown>;

    expect(unwrapSummary(resumed.stderr)).toContain(
      "earlier dead letters not counted, because an earlier version of koala-replay wrote the checkpoint: earlier runs may have written entries to dead.jsonl, which a resend of that file sends again",
    );
    expect(report.delivery["earlierDeadLettered"]).toBeNull();
    expect(saved["deadLetteredEntries"]).toBeUndefined();
  });
});
