import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * When a process started, recorded in a lock file so that a later run can tell its holder from a
 * process that got the same pid after the holder exited.
 */
export interface ProcessStart {
  /** Start time of the process, ISO-8601, to the millisecond. */
  started: string;
  /** Linux only: the kernel's boot id, from /proc/sys/kernel/random/boot_id. */
  bootId?: string;
  /** Linux only: start time of the process in clock ticks since boot, field 22 of /proc/<pid>/stat. */
  startTicks?: number;
}

/** State of the process that wrote a lock, as far as this host can check it. */
export type ProcessState = "running" | "exited" | "pid-reused";

/**
 * Margin in ms of the portable check, which compares start times in wall-clock time: `ps` prints
 * the elapsed time in whole seconds, and the clock may have been adjusted since the lock was written.
 */
const WALL_CLOCK_MARGIN_MS = 2_000;

/** Returns the start of this process, with the Linux fields when /proc has them. */
export function currentProcessStart(): ProcessStart {
  const start: ProcessStart = { started: new Date(performance.timeOrigin).toISOString() };
  const bootId = readBootId();
  const startTicks = readStartTicks(process.pid);
  if (bootId !== undefined && startTicks !== undefined) {
    start.bootId = bootId;
    start.startTicks = startTicks;
  }
  return start;
}

/**
 * Checks whether the process that wrote a lock still runs on this host. A pid that runs is the
 * writer's only if the process started at the time that the lock records, because the system reuses the pids of
 * processes that exited. Older lock files have no `started`, only `since`, the time the lock was
 * taken, and a process that started after that cannot have taken it.
 *
 * On Linux the start times are compared exactly, in clock ticks since boot, and a lock of an
 * earlier boot is stale. Elsewhere, and for locks without those fields, the start time comes from
 * `ps -o etime=` (POSIX). When neither is available, as on Windows, a running pid counts as the writer.
 */
export function checkProcess(pid: number, recorded: Partial<ProcessStart> & { since: string }): ProcessState {
  if (!isRunning(pid)) {
    return "exited";
  }
  if (recorded.bootId !== undefined && recorded.startTicks !== undefined) {
    const bootId = readBootId();
    const startTicks = readStartTicks(pid);
    if (bootId !== undefined && startTicks !== undefined) {
      return bootId === recorded.bootId && startTicks === recorded.startTicks ? "running" : "pid-reused";
    }
  }
  const startedMs = readStartTimeWithPs(pid);
  const recordedMs = Date.parse(recorded.started ?? recorded.since);
  if (startedMs === undefined || Number.isNaN(recordedMs)) {
    return "running";
  }
  return startedMs > recordedMs + WALL_CLOCK_MARGIN_MS ? "pid-reused" : "running";
}

/** Checks whether a process with this pid runs on this host. EPERM means that it runs under another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readBootId(): string | undefined {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    // Not Linux, or /proc is not mounted: the caller uses the portable check.
    return undefined;
  }
}

/**
 * Reads field 22 of /proc/<pid>/stat. The fields are counted after the last ")", because field 2,
 * the program name in brackets, may itself contain spaces and brackets.
 */
export function readStartTicks(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    // Not Linux, the process has exited, or /proc hides other users' processes (hidepid).
    return undefined;
  }
  // After the bracket come field 3 (state) onwards, so field 22 is the 20th of them.
  const fields = stat.slice(stat.lastIndexOf(")") + 1).trim().split(" ");
  const ticks = Number(fields[19]);
  return Number.isSafeInteger(ticks) ? ticks : undefined;
}

/** Returns the start time in ms since the epoch from the elapsed time that `ps` prints, or undefined without `ps`. */
function readStartTimeWithPs(pid: number): number | undefined {
  let output: string;
  try {
    output = execFileSync("ps", ["-o", "etime=", "-p", String(pid)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5_000 });
  } catch {
    // No `ps` (Windows, a minimal container), or the process exited since `isRunning`.
    return undefined;
  }
  const elapsedSeconds = parseElapsedTime(output.trim());
  return elapsedSeconds === undefined ? undefined : Date.now() - elapsedSeconds * 1000;
}

/** Parses the `[[dd-]hh:]mm:ss` format of `ps -o etime`, into seconds. */
export function parseElapsedTime(text: string): number | undefined {
  const match = /^(?:(?:(\d+)-)?(\d+):)?(\d+):(\d+)$/.exec(text);
  if (match === null) {
    return undefined;
  }
  const [, days = "0", hours = "0", minutes = "0", seconds = "0"] = match;
  return ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds);
}
