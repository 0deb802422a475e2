import { spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, test } from "vitest";
import { type KoalaEmulator, startKoalaEmulator } from "../emulator/koala-emulator.js";
import { killLeftovers, startChild } from "../helpers/child-runs.js";
import { binPath, runCli } from "../helpers/run-cli.js";

// The built CLI with two runs of one checkpoint: the second stops before it reads or sends anything
// while the first holds the lock, and a lock left by a process that no longer runs is taken over.

const KEY = "pk_emulator_0123456789";

let emulator: KoalaEmulator | undefined;
const started: ChildProcess[] = [];

afterEach(async () => {
  killLeftovers(started);
  await emulator?.close();
  emulator = undefined;
});

function writeEvents(directory: string, count: number): string {
  const lines: string[] = [];
  for (let index = 1; index <= count; index += 1) {
    lines.push(JSON.stringify({ type: "track", event: "Lock Test", messageId: `lock-${index}`, userId: `u${index}`, context: { traits: { email: `u${index}@example.com` } }, timestamp: "2024-05-01T10:00:00.000Z" }));
  }
  const path = join(directory, "events.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

function sendArgs(directory: string, input: string, extra: readonly string[] = []): string[] {
  return ["send", "--no-stitch", "--endpoint", (emulator as KoalaEmulator).url, "--public-key", KEY, "--state", join(directory, "state.json"), ...extra, input];
}

/** Returns the pid of a process that has exited, so that no process of this host has it for now. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(result.stdout);
}

describe("checkpoint lock", () => {
  test("second run of a checkpoint stops while the first runs", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 40 } });
    const directory = mkdtempSync(join(tmpdir(), "koala-lock-"));
    const input = writeEvents(directory, 150);
    const lockPath = join(directory, "state.json.lock");

    const first = startChild(process.execPath, [binPath, ...sendArgs(directory, input, ["--concurrency", "1", "--no-adaptive-concurrency"])], { cwd: directory, env: { COLUMNS: "500" }, started });
    for (let waited = 0; !existsSync(lockPath) && waited < 10_000; waited += 50) {
      await delay(50);
    }
    const lock = JSON.parse(readFileSync(lockPath, "utf8")) as { pid: number; host: string; since: string };
    expect(lock.pid).toBe(first.child.pid);
    expect(lock.host).toBe(hostname());

    const second = await runCli(sendArgs(directory, input), { cwd: directory, env: { COLUMNS: "500" } });
    expect(second.status).toBe(2);
    expect(second.stderr).toContain(`another run is using this checkpoint, ${join(directory, "state.json")} (pid ${first.child.pid}, since ${lock.since})`);
    expect(second.stderr).not.toContain("did not finish");

    const resumed = await runCli(sendArgs(directory, input, ["--resume"]), { cwd: directory, env: { COLUMNS: "500" } });
    expect(resumed.status).toBe(2);
    expect(resumed.stderr).toContain("another run is using this checkpoint");

    expect(await first.exited(60_000)).toBe(0);
    expect(existsSync(lockPath)).toBe(false);
    expect(existsSync(join(directory, "state.dead-letters.jsonl.lock"))).toBe(false);
    expect(emulator.stats.duplicateEntries).toBe(0);
    expect(emulator.stats.maxConcurrentPerPerson).toBe(1);
    expect(emulator.accepted.size).toBe(150);
  }, 90_000);

  test("second run writing the same not-sent file stops", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 40 } });
    const directory = mkdtempSync(join(tmpdir(), "koala-lock-"));
    const input = writeEvents(directory, 100);
    const notSent = join(directory, "not-sent.jsonl");
    const lockPath = `${notSent}.lock`;

    const first = startChild(process.execPath, [binPath, ...sendArgs(directory, input, ["--concurrency", "1", "--no-adaptive-concurrency", "--not-sent", notSent])], { cwd: directory, env: { COLUMNS: "500" }, started });
    for (let waited = 0; !existsSync(lockPath) && waited < 10_000; waited += 50) {
      await delay(50);
    }
    const other = join(directory, "other-state.json");
    const second = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--public-key", KEY, "--state", other, "--not-sent", notSent, input], { cwd: directory, env: { COLUMNS: "500" } });

    expect(second.status).toBe(2);
    expect(second.stderr).toContain(`another run is using this not-sent file, ${notSent} (pid ${first.child.pid}`);
    expect(existsSync(other)).toBe(false);
    expect(await first.exited(60_000)).toBe(0);
    expect(existsSync(lockPath)).toBe(false);
    expect(emulator.stats.duplicateEntries).toBe(0);
  }, 90_000);

  test("checkpoint through a link shares the lock", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 40 } });
    const directory = mkdtempSync(join(tmpdir(), "koala-lock-"));
    const input = writeEvents(directory, 100);
    const lockPath = join(directory, "state.json.lock");
    symlinkSync("state.json", join(directory, "link.json"));

    const first = startChild(process.execPath, [binPath, ...sendArgs(directory, input, ["--concurrency", "1", "--no-adaptive-concurrency"])], { cwd: directory, env: { COLUMNS: "500" }, started });
    for (let waited = 0; !existsSync(join(directory, "state.json")) && waited < 10_000; waited += 50) {
      await delay(50);
    }
    expect(existsSync(lockPath)).toBe(true);

    const linkArgs = ["send", "--no-stitch", "--endpoint", emulator.url, "--public-key", KEY, "--state", join(directory, "link.json"), "--resume", input];
    const second = await runCli(linkArgs, { cwd: directory, env: { COLUMNS: "500" } });
    expect(second.stderr).toContain(`another run is using this checkpoint, ${join(directory, "link.json")} (pid ${first.child.pid}`);
    expect(second.status).toBe(2);

    expect(await first.exited(60_000)).toBe(0);
    expect(emulator.stats.duplicateEntries).toBe(0);
    expect(emulator.stats.maxConcurrentPerPerson).toBe(1);
  }, 90_000);

  test("checkpoint link stays a link", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-lock-"));
    const input = writeEvents(directory, 20);
    symlinkSync("state.json", join(directory, "link.json"));
    const linkArgs = ["send", "--no-stitch", "--endpoint", emulator.url, "--public-key", KEY, "--state", join(directory, "link.json"), input];

    const result = await runCli(linkArgs, { cwd: directory, env: { COLUMNS: "500" } });
    expect(result.status).toBe(0);
    expect(lstatSync(join(directory, "link.json")).isSymbolicLink()).toBe(true);
    const state = JSON.parse(readFileSync(join(directory, "state.json"), "utf8")) as { inputs: Record<string, unknown> };
    expect(Object.keys(state.inputs)).toEqual([input]);
  });

  test("lock of a dead process is taken over", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-lock-"));
    const input = writeEvents(directory, 20);
    const pid = deadPid();
    writeFileSync(join(directory, "state.json.lock"), JSON.stringify({ pid, host: hostname(), since: "2026-01-01T00:00:00.000Z" }));

    const result = await runCli(sendArgs(directory, input), { cwd: directory, env: { COLUMNS: "500" } });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`took over the lock ${join(directory, "state.json.lock")}`);
    expect(result.stderr).toContain(`(pid ${pid}, since 2026-01-01T00:00:00.000Z)`);
    expect(existsSync(join(directory, "state.json.lock"))).toBe(false);
    expect(emulator.accepted.size).toBe(20);
  });

  test("locks of one killed run give one warning", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-lock-"));
    const input = writeEvents(directory, 20);
    const owner = JSON.stringify({ pid: deadPid(), host: hostname(), since: "2026-01-01T00:00:00.000Z" });
    writeFileSync(join(directory, "state.json.lock"), owner);
    writeFileSync(join(directory, "state.dead-letters.jsonl.lock"), owner);

    const result = await runCli(sendArgs(directory, input), { cwd: directory, env: { COLUMNS: "500" } });
    expect(result.status).toBe(0);
    expect(result.stderr.match(/took over/g)).toHaveLength(1);
    expect(result.stderr).toContain(`took over the locks ${join(directory, "state.json.lock")} (checkpoint) and ${join(directory, "state.dead-letters.jsonl.lock")} (dead-letter file)`);
    expect(existsSync(join(directory, "state.json.lock"))).toBe(false);
    expect(existsSync(join(directory, "state.dead-letters.jsonl.lock"))).toBe(false);
  });

  test("lock whose pid runs again is taken over", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-lock-"));
    const input = writeEvents(directory, 20);
    // This test's process started after 2026-01-01, so it cannot be the process that took this lock.
    writeFileSync(join(directory, "state.json.lock"), JSON.stringify({ pid: process.pid, host: hostname(), since: "2026-01-01T00:00:00.000Z" }));

    const result = await runCli(sendArgs(directory, input), { cwd: directory, env: { COLUMNS: "500" } });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`(pid ${process.pid}, since 2026-01-01T00:00:00.000Z, a pid that another process uses now)`);
    expect(emulator.accepted.size).toBe(20);
  });

  test("lock of another host stops the run", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-lock-"));
    const input = writeEvents(directory, 20);
    writeFileSync(join(directory, "state.json.lock"), JSON.stringify({ pid: deadPid(), host: "other-host.example", since: "2026-01-01T00:00:00.000Z" }));

    const result = await runCli(sendArgs(directory, input), { cwd: directory, env: { COLUMNS: "500" } });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("another run is using this checkpoint");
    expect(result.stderr).toContain("on other-host.example, since 2026-01-01T00:00:00.000Z");
    expect(result.stderr.replace(/\s+/g, " ")).toContain(`delete ${join(directory, "state.json.lock")} and run the command again`);
    expect(emulator.stats.batchRequests).toBe(0);
    expect(existsSync(join(directory, "state.json.lock"))).toBe(true);
  });

  test("shared dead-letter file is locked too", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-lock-"));
    const input = writeEvents(directory, 20);
    const deadLetters = join(directory, "shared.jsonl");
    // Taken after this process started, so that its pid is the holder's and not a pid used again.
    const since = new Date().toISOString();
    writeFileSync(`${deadLetters}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), since }));

    const result = await runCli(sendArgs(directory, input, ["--dead-letter", deadLetters]), { cwd: directory, env: { COLUMNS: "500" } });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`another run is using this dead-letter file, ${deadLetters} (pid ${process.pid}, since ${since})`);
    expect(existsSync(join(directory, "state.json.lock"))).toBe(false);
  });

  test("dry run takes no lock", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-lock-"));
    const input = writeEvents(directory, 5);
    writeFileSync(join(directory, "state.json.lock"), JSON.stringify({ pid: process.pid, host: hostname(), since: "2026-01-01T00:00:00.000Z" }));

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--state", join(directory, "state.json"), input], { cwd: directory, env: { COLUMNS: "500" } });
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split("\n")).toHaveLength(5);
  });

  test("lock that cannot be written is not left behind", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const directory = mkdtempSync(join(tmpdir(), "koala-lock-"));
    const input = writeEvents(directory, 5);

    // A file-size limit of 0 makes every write fail with EFBIG after the lock file was created, as a
    // full disk does with ENOSPC.
    const full = await runCli(sendArgs(directory, input), { cwd: directory, env: { COLUMNS: "500" }, fileSizeLimitBlocks: 0 });
    expect(full.stderr).toContain(`cannot lock the checkpoint ${join(directory, "state.json")} (EFBIG`);
    expect(existsSync(join(directory, "state.json.lock"))).toBe(false);
    expect(existsSync(join(directory, "state.dead-letters.jsonl.lock"))).toBe(false);
    expect(readdirSync(directory).filter((name) => name.endsWith(".tmp"))).toEqual([]);

    const next = await runCli(sendArgs(directory, input, ["--restart"]), { cwd: directory, env: { COLUMNS: "500" } });
    expect(next.stderr).not.toContain("another run is using");
    expect(next.status).toBe(0);
  });
});
