import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { binPath, runCli } from "../helpers/run-cli.js";
import { writeTrackEvents } from "../helpers/track-events.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// SIGHUP comes when the terminal of a run closes or its ssh connection drops. The run then stops as
// it does for Ctrl-C: it saves its checkpoint, removes its locks, and names the resume command,
// also in --report, because the terminal that would show it is usually gone.

const KEY = "pk_test_0123456789abcdef";

let emulator: KoalaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

interface SignalledRun {
  code: number | null;
  stderr: string;
}

/**
 * Runs the CLI and sends it `signal` once the emulator has received `requests` batch requests.
 * With `closeStderr`, the reading end of stderr is closed first, as a closed terminal would be.
 * With `secondSignalAfterMs`, the signal is sent again that long after the first.
 */
function signalAfterRequests(
  args: readonly string[],
  server: KoalaEmulator,
  requests: number,
  signal: NodeJS.Signals,
  closeStderr = false,
  secondSignalAfterMs?: number,
): Promise<SignalledRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [binPath, ...args], { env: { PATH: process.env["PATH"], KOALA_PUBLIC_KEY: KEY }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const watcher = setInterval(() => {
      if (server.stats.batchRequests >= requests) {
        clearInterval(watcher);
        if (closeStderr) {
          child.stderr.destroy();
        }
        child.kill(signal);
        if (secondSignalAfterMs !== undefined) {
          setTimeout(() => child.kill(signal), secondSignalAfterMs);
        }
      }
    }, 2);
    child.on("exit", (code) => {
      clearInterval(watcher);
      resolve({ code, stderr });
    });
  });
}

function sendArgs(directory: string, path: string, url: string): string[] {
  return ["send", "--no-stitch", "--max-batch-size", "5", "--concurrency", "2", "--endpoint", url, "--state", join(directory, "state.json"), path];
}

describe("send stopped by SIGHUP", () => {
  test("saves the checkpoint and prints the resume command", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 20 } });
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-hangup-"));
    const { path, ids } = writeTrackEvents(directory, 2_000);
    const args = sendArgs(directory, path, emulator.url);

    const run = await signalAfterRequests(args, emulator, 10, "SIGHUP");
    const text = unwrapSummary(run.stderr);

    expect(run.code).toBe(129);
    expect(text).toContain("interrupting on SIGHUP");
    expect(text).not.toContain("Ctrl-C");
    expect(text).toMatch(/(interrupted after reading every event; [\d,]+ entries were|interrupted: stopped reading; of the events read so far, [\d,]+ entries were) left for a resumed run/);
    expect(text).toContain("--resume");
    expect((JSON.parse(readFileSync(join(directory, "state.json"), "utf8")) as { finished?: boolean }).finished).toBe(false);
    expect(readdirSync(directory).filter((name) => name.endsWith(".lock"))).toEqual([]);

    const resumed = await runCli([...args, "--resume"], { env: { KOALA_PUBLIC_KEY: KEY } });

    expect(resumed.status).toBe(0);
    expect(resumed.stderr).not.toContain("lock");
    expect([...emulator.accepted.keys()].sort()).toEqual([...ids].sort());
  }, 120_000);

  test("with stderr gone, --report keeps the resume command", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 20 } });
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-hangup-"));
    const { path, ids } = writeTrackEvents(directory, 2_000);
    const reportPath = join(directory, "report.json");
    const args = sendArgs(directory, path, emulator.url);

    const run = await signalAfterRequests([...args, "--report", reportPath], emulator, 10, "SIGHUP", true);
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { exitStatus: number; interruption: { signal: string; resumeCommand: string | null } | null };

    expect(run.code).toBe(129);
    expect(report.exitStatus).toBe(129);
    expect(report.interruption?.signal).toBe("SIGHUP");
    expect(report.interruption?.resumeCommand).toContain("--resume");
    expect(report.interruption?.resumeCommand).toContain(path);
    expect(readdirSync(directory).filter((name) => name.endsWith(".lock"))).toEqual([]);

    const resumed = await runCli([...args, "--resume"], { env: { KOALA_PUBLIC_KEY: KEY } });

    expect(resumed.status).toBe(0);
    expect([...emulator.accepted.keys()].sort()).toEqual([...ids].sort());
  }, 120_000);
});

describe("send stopped by a second SIGHUP", () => {
  test("exits 129 with the counts so far", async () => {
    // Each request waits 2 s, so the second signal comes while the first requests are in flight.
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 2_000 } });
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-hangup-"));
    const { path } = writeTrackEvents(directory, 2_000);
    const reportPath = join(directory, "report.json");
    const args = [...sendArgs(directory, path, emulator.url), "--report", reportPath];

    const run = await signalAfterRequests(args, emulator, 2, "SIGHUP", false, 500);
    const text = unwrapSummary(run.stderr);

    expect(run.code).toBe(129);
    expect(text).toContain("interrupted again: exiting now");
    expect(text).toMatch(/at the last status update: [\d,]+ events read, [\d,]+ sent, [\d,]+ skipped, [\d,]+ problems/);
    expect(text).toContain(`no summary was printed, and ${reportPath} was not written`);
    expect(text).toContain("--resume");
    expect(existsSync(reportPath)).toBe(false);
  }, 120_000);
});

describe("send stopped before reading every event", () => {
  test("counts only the events read so far", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 100 } });
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-hangup-"));
    // Far more events than the run reads ahead of a delivery that takes 100 ms for 5 entries.
    const { path } = writeTrackEvents(directory, 200_000);
    const args = ["send", "--no-stitch", "--max-batch-size", "5", "--concurrency", "1", "--no-adaptive-concurrency", "--endpoint", emulator.url, "--state", join(directory, "state.json"), path];

    const run = await signalAfterRequests(args, emulator, 3, "SIGINT");
    const text = unwrapSummary(run.stderr);

    expect(run.code).toBe(130);
    expect(text).toMatch(/interrupted: stopped reading; of the events read so far, [\d,]+ entries were left for a resumed run, which also reads the events after them/);
  }, 120_000);
});

describe("send stopped by SIGTERM", () => {
  test("names SIGTERM, not Ctrl-C", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 20 } });
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-hangup-"));
    const { path } = writeTrackEvents(directory, 2_000);
    const reportPath = join(directory, "report.json");

    const run = await signalAfterRequests([...sendArgs(directory, path, emulator.url), "--report", reportPath], emulator, 10, "SIGTERM");
    const text = unwrapSummary(run.stderr);
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { interruption: { signal: string } | null };

    expect(run.code).toBe(130);
    expect(text).toContain("interrupting on SIGTERM");
    expect(text).toContain("a second SIGTERM exits at once");
    expect(text).not.toContain("Ctrl-C");
    expect(report.interruption?.signal).toBe("SIGTERM");
  }, 120_000);

  test("a finished run reports no interruption", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-hangup-"));
    const { path } = writeTrackEvents(directory, 20);
    const reportPath = join(directory, "report.json");

    const run = await runCli([...sendArgs(directory, path, emulator.url), "--report", reportPath], { env: { KOALA_PUBLIC_KEY: KEY } });
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { interruption: unknown };

    expect(run.status).toBe(0);
    expect(report.interruption).toBeNull();
  }, 60_000);
});
