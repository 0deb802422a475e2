import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { binPath, projectRoot, runCli } from "../helpers/run-cli.js";
import { writeTrackEvents } from "../helpers/track-events.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// npx runs koala-replay through `sh -c` and forwards SIGTERM to that shell only. The shell ends
// without passing the signal on, so koala-replay stops as on SIGHUP once it detects that its parent
// has ended.

const KEY = "pk_npx_signals_0123456789";

let directory: string;
let emulator: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-npx-"));
  emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 20 } });
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Makes a folder in which `npx --prefix <folder> koala-replay` runs this checkout, as an install would. */
function installPrefix(): string {
  const prefix = join(directory, "prefix");
  mkdirSync(join(prefix, "node_modules", ".bin"), { recursive: true });
  writeFileSync(join(prefix, "package.json"), JSON.stringify({ name: "prefix", version: "1.0.0", private: true }));
  symlinkSync(projectRoot, join(prefix, "node_modules", "koala-replay"));
  symlinkSync(join("..", "koala-replay", "bin", "koala-replay.js"), join(prefix, "node_modules", ".bin", "koala-replay"));
  return prefix;
}

interface LaunchedRun {
  /** Exit status of the process started, 128 plus the signal number when a signal ended it. */
  launcherStatus: number | null;
  /** Everything written to stderr until the last process that held it, koala-replay, ended. */
  stderr: string;
}

/** Runs `npx koala-replay` with `args` and sends npx SIGTERM once the emulator has received `requests` batch requests. */
function terminateNpxAfterRequests(prefix: string, args: readonly string[], requests: number): Promise<LaunchedRun> {
  const env = { PATH: process.env["PATH"], HOME: directory, KOALA_PUBLIC_KEY: KEY, npm_config_update_notifier: "false" };
  return terminateAfterRequests("npx", ["--offline", "--prefix", prefix, "koala-replay", ...args], env, requests);
}

/**
 * Runs `command` and sends it SIGTERM once the emulator has received `requests` batch requests.
 * Resolves once every process with its stderr open has ended.
 */
function terminateAfterRequests(command: string, args: readonly string[], env: Record<string, string | undefined>, requests: number): Promise<LaunchedRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let launcherStatus: number | null = null;
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const watcher = setInterval(() => {
      if (emulator.stats.batchRequests >= requests) {
        clearInterval(watcher);
        child.kill("SIGTERM");
      }
    }, 2);
    child.on("exit", (code, signal) => {
      clearInterval(watcher);
      launcherStatus = code ?? (signal === null ? null : 128 + constants.signals[signal]);
    });
    // koala-replay keeps the pipe open after npx has ended, so its close marks koala-replay's exit.
    child.stderr.on("close", () => resolve({ launcherStatus, stderr }));
  });
}

describe("send started by npx", () => {
  test("SIGTERM to npx stops the run", async () => {
    const prefix = installPrefix();
    const { path, ids } = writeTrackEvents(directory, 3_000);
    const reportPath = join(directory, "report.json");
    const args = ["send", "--no-stitch", "--max-batch-size", "5", "--concurrency", "2", "--endpoint", emulator.url, "--state", join(directory, "state.json"), path];

    const run = await terminateNpxAfterRequests(prefix, [...args, "--report", reportPath], 10);
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { interruption: { signal: string; resumeCommand: string | null } | null };
    const acceptedBefore = emulator.accepted.size;
    const resumed = await runCli([...args, "--resume"], { env: { KOALA_PUBLIC_KEY: KEY } });

    expect(run.launcherStatus).toBe(143);
    expect(unwrapSummary(run.stderr)).toContain("the npx or npm exec process that started koala-replay has ended, so the run stops as on SIGHUP");
    expect(report.interruption?.signal).toBe("SIGHUP");
    expect(report.interruption?.resumeCommand).toContain("--resume");
    expect(acceptedBefore).toBeLessThan(ids.length);
    expect(readdirSync(directory).filter((name) => name.endsWith(".lock"))).toEqual([]);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).not.toContain("another run is using this checkpoint");
    expect([...emulator.accepted.keys()].sort()).toEqual([...ids].sort());
  }, 120_000);
});

describe("send started by a shell", () => {
  test("outlives the shell that ended", async () => {
    const { path, ids } = writeTrackEvents(directory, 1_000);
    const reportPath = join(directory, "report.json");
    const args = ["send", "--no-stitch", "--max-batch-size", "5", "--concurrency", "2", "--endpoint", emulator.url, "--state", join(directory, "state.json"), path, "--report", reportPath];
    // The command after koala-replay keeps the shell from replacing itself with it, as npx's shell does not.
    const script = `"$0" "$@"; true`;

    const run = await terminateAfterRequests("sh", ["-c", script, process.execPath, binPath, ...args], { PATH: process.env["PATH"], KOALA_PUBLIC_KEY: KEY }, 10);
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { exitStatus: number; interruption: unknown };

    expect(run.launcherStatus).toBe(143);
    expect(report.interruption).toBeNull();
    expect(report.exitStatus).toBe(0);
    expect([...emulator.accepted.keys()].sort()).toEqual([...ids].sort());
  }, 120_000);
});
