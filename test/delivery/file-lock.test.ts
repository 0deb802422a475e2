import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, test } from "vitest";
import { FileInUseError, FileLock } from "../../src/delivery/file-lock.js";
import { parseElapsedTime, readStartTicks } from "../../src/delivery/process-start.js";
import { killLeftovers } from "../helpers/child-runs.js";

// FileLock with real processes: the pid and start time that a lock records, the takeover of locks
// whose process has exited or whose pid another process uses now, and runs that race to take over
// one stale lock.

const RACER = join(import.meta.dirname, "programs", "lock-racer.mjs");
const linux = process.platform === "linux";

const started: ChildProcess[] = [];
const acquiredLocks: FileLock[] = [];

afterEach(() => {
  for (const lock of acquiredLocks.splice(0)) {
    lock.release();
  }
  killLeftovers(started);
});

/** Returns the pid of a process that has exited, so that no process of this host has it for now. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(result.stdout);
}

function bootId(): string {
  return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
}

function newCheckpointPath(): string {
  return join(mkdtempSync(join(tmpdir(), "koala-file-lock-")), "state.json");
}

function writeLock(path: string, owner: Record<string, unknown>): void {
  writeFileSync(`${path}.lock`, JSON.stringify(owner));
}

function acquire(path: string): FileLock {
  const lock = FileLock.acquire(path, "checkpoint");
  acquiredLocks.push(lock);
  return lock;
}

function inUseReason(path: string): string | undefined {
  try {
    acquire(path);
  } catch (error) {
    if (error instanceof FileInUseError) {
      return error.reason;
    }
    throw error;
  }
  return undefined;
}

describe("ps elapsed time", () => {
  test.each([
    ["00:07", 7],
    ["12:34", 754],
    ["01:00:00", 3600],
    ["3-04:05:06", 3 * 86_400 + 4 * 3600 + 5 * 60 + 6],
    ["", undefined],
    ["1:2:3:4", undefined],
  ])("%j is %j seconds", (text, seconds) => {
    expect(parseElapsedTime(text)).toBe(seconds);
  });
});

describe("lock contents", () => {
  test("records pid, host and start time", () => {
    const path = newCheckpointPath();
    const before = Date.now();
    acquire(path);
    const owner = JSON.parse(readFileSync(`${path}.lock`, "utf8")) as Record<string, unknown>;

    expect(owner["pid"]).toBe(process.pid);
    expect(owner["host"]).toBe(hostname());
    expect(Date.parse(owner["since"] as string)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(owner["started"] as string)).toBeLessThanOrEqual(before);
    if (linux) {
      expect(owner["bootId"]).toBe(bootId());
      expect(owner["startTicks"]).toBe(readStartTicks(process.pid));
    }
  });

  test("leaves no temporary files", () => {
    const path = newCheckpointPath();
    acquire(path).release();
    expect(readdirSync(join(path, ".."))).toEqual([]);
  });
});

describe("stale lock", () => {
  test("of an exited process is taken over", () => {
    const path = newCheckpointPath();
    const pid = deadPid();
    writeLock(path, { pid, host: hostname(), since: "2026-01-01T00:00:00.000Z" });

    const lock = acquire(path);
    expect(lock.takenOver).toEqual({ lockPath: `${path}.lock`, pid, since: "2026-01-01T00:00:00.000Z", pidReused: false });
    expect(JSON.parse(readFileSync(`${path}.lock`, "utf8")).pid).toBe(process.pid);
  });

  test.runIf(linux)("with other start ticks is taken over", () => {
    const path = newCheckpointPath();
    const ticks = readStartTicks(process.pid) as number;
    writeLock(path, { pid: process.pid, host: hostname(), since: new Date().toISOString(), started: new Date().toISOString(), bootId: bootId(), startTicks: ticks + 1 });

    expect(acquire(path).takenOver?.pidReused).toBe(true);
  });

  test.runIf(linux)("of an earlier boot is taken over", () => {
    const path = newCheckpointPath();
    writeLock(path, { pid: process.pid, host: hostname(), since: new Date().toISOString(), bootId: "00000000-0000-0000-0000-000000000000", startTicks: readStartTicks(process.pid) });

    expect(acquire(path).takenOver?.pidReused).toBe(true);
  });

  test("taken before its pid started is taken over", () => {
    // No Linux fields: the start time of the live pid comes from `ps`, as on macOS.
    const path = newCheckpointPath();
    writeLock(path, { pid: process.pid, host: hostname(), since: "2026-01-01T00:00:00.000Z" });

    expect(acquire(path).takenOver?.pidReused).toBe(true);
  });
});

describe("live lock", () => {
  test.runIf(linux)("with matching start ticks is in use", () => {
    const path = newCheckpointPath();
    writeLock(path, { pid: process.pid, host: hostname(), since: new Date().toISOString(), bootId: bootId(), startTicks: readStartTicks(process.pid) });

    expect(inUseReason(path)).toBe("running");
  });

  test("taken after its pid started is in use", () => {
    const path = newCheckpointPath();
    writeLock(path, { pid: process.pid, host: hostname(), since: new Date().toISOString() });

    expect(inUseReason(path)).toBe("running");
  });

  test("with start ticks of the wrong type is in use", () => {
    const path = newCheckpointPath();
    writeLock(path, { pid: process.pid, host: hostname(), since: new Date().toISOString(), bootId: "x", startTicks: "1" });

    expect(inUseReason(path)).toBe("running");
  });

  test("of another host is in use", () => {
    const path = newCheckpointPath();
    writeLock(path, { pid: deadPid(), host: "other-host.example", since: "2026-01-01T00:00:00.000Z" });

    expect(inUseReason(path)).toBe("other-host");
  });

  test("that is not JSON is in use", () => {
    const path = newCheckpointPath();
    writeFileSync(`${path}.lock`, "");

    expect(inUseReason(path)).toBe("unreadable");
  });

  test("of this process is in use", () => {
    const path = newCheckpointPath();
    acquire(path);

    expect(inUseReason(path)).toBe("running");
  });
});

describe("another-host hint", () => {
  test("names the file and when to delete it", () => {
    const path = newCheckpointPath();
    writeLock(path, { pid: 4242, host: "other-host.example", since: "2026-01-01T00:00:00.000Z" });

    let error: unknown;
    try {
      acquire(path);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FileInUseError);
    const hint = (error as FileInUseError).hint;
    expect(hint).toContain(`delete ${path}.lock`);
    expect(hint).toContain("Once pid 4242 has ended on other-host.example");
    expect(hint).toContain("`ps -p 4242` there lists no process");
  });
});

/** Racer processes, each printing one line of outcome for every path written to its stdin. */
class Racers {
  private readonly outcomes = new Map<string, Array<{ pid: number; outcome: string }>>();
  private readonly waiting = new Map<string, () => void>();
  readonly children: ChildProcess[] = [];

  constructor(count: number) {
    for (let index = 0; index < count; index += 1) {
      const child = spawn(process.execPath, [RACER], { stdio: ["pipe", "pipe", "inherit"] });
      started.push(child);
      this.children.push(child);
      createInterface({ input: child.stdout! }).on("line", (line) => this.record(child.pid as number, line));
    }
  }

  /** Sends `path` to every racer at once and resolves with their outcomes. */
  async race(path: string): Promise<Array<{ pid: number; outcome: string }>> {
    const done = new Promise<void>((resolve) => this.waiting.set(path, resolve));
    for (const child of this.children) {
      child.stdin!.write(`${path}\n`);
    }
    await done;
    return this.outcomes.get(path) as Array<{ pid: number; outcome: string }>;
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map((child) => new Promise((resolve) => child.on("close", resolve).stdin!.end())));
  }

  private record(pid: number, line: string): void {
    const separator = line.lastIndexOf(".json ");
    const path = `${line.slice(0, separator)}.json`;
    const outcomes = this.outcomes.get(path) ?? [];
    outcomes.push({ pid, outcome: line.slice(separator + ".json ".length) });
    this.outcomes.set(path, outcomes);
    if (outcomes.length === this.children.length) {
      this.waiting.get(path)?.();
    }
  }
}

describe("lock race", () => {
  test("one of many racing runs wins", async () => {
    const racers = new Racers(6);
    const stalePid = deadPid();
    // Each round a fresh checkpoint: no lock, a lock of an exited process, or one whose pid runs again.
    const staleOwners: Array<Record<string, unknown> | undefined> = [
      undefined,
      { pid: stalePid, host: hostname(), since: "2026-01-01T00:00:00.000Z" },
      { pid: process.pid, host: hostname(), since: "2026-01-01T00:00:00.000Z" },
    ];
    const rounds = 600;
    for (let round = 0; round < rounds; round += 1) {
      const path = newCheckpointPath();
      const staleOwner = staleOwners[round % staleOwners.length];
      if (staleOwner !== undefined) {
        writeLock(path, staleOwner);
      }

      const outcomes = await racers.race(path);
      const winners = outcomes.filter((racer) => racer.outcome === "won");
      const errors = outcomes.filter((racer) => racer.outcome !== "won" && racer.outcome !== "in-use");
      expect(errors, `round ${round}`).toEqual([]);
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(JSON.parse(readFileSync(`${path}.lock`, "utf8")).pid, `round ${round}`).toBe(winners[0]?.pid);
      expect(readdirSync(join(path, "..")), `round ${round}`).toEqual(["state.json.lock"]);
    }
    await racers.close();
  }, 120_000);

  test("racers remove their locks at the end", async () => {
    const racers = new Racers(2);
    const path = newCheckpointPath();
    await racers.race(path);
    await racers.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});
