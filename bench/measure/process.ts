import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync, readFileSync, rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CommandSpec {
  command: string;
  args: readonly string[];
  /** A file fed to the command's stdin, as `< file` does; stdin is empty otherwise. */
  stdinFile?: string;
  /** File that receives stdout, /dev/null by default, so that output is written but costs no disk. */
  stdoutFile?: string;
  cwd?: string;
}

export interface ProcessMeasurement {
  wallMs: number;
  /** Peak resident set size of the process (VmHWM), in bytes, or null when it could not be read. */
  peakRssBytes: number | null;
  /**
   * User plus system CPU time of the process and its threads, or null without GNU time. Unlike wall
   * time, it barely changes when other processes compete for the CPU.
   */
  cpuMs: number | null;
  exitCode: number | null;
  stderr: string;
}

const gnuTime = "/usr/bin/time";
const hasGnuTime = existsSync(gnuTime);

/**
 * Runs a command to completion and measures its wall time, CPU time and peak memory. CPU time and
 * peak memory come from GNU time when /usr/bin/time exists. Without it, peak memory comes from
 * polling VmHWM in /proc/<pid>/status every 20 ms (which misses growth in the last 20 ms before exit).
 */
export async function measureProcess(spec: CommandSpec): Promise<ProcessMeasurement> {
  const scratch = mkdtempSync(join(tmpdir(), "koala-bench-time-"));
  const timeFile = join(scratch, "usage");
  const [command, args] = hasGnuTime
    ? [gnuTime, ["-f", "%M %U %S", "-o", timeFile, spec.command, ...spec.args]]
    : [spec.command, [...spec.args]];
  const stdin = spec.stdinFile === undefined ? "ignore" : openSync(spec.stdinFile, "r");
  const stdout = openSync(spec.stdoutFile ?? "/dev/null", "w");

  try {
    const started = performance.now();
    const child = spawn(command, args, { stdio: [stdin, stdout, "pipe"], cwd: spec.cwd });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      if (stderr.length < 64 * 1024) stderr += text;
    });
    const poller = hasGnuTime ? null : pollPeakRss(child.pid);
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code) => resolve(code));
    });
    const wallMs = performance.now() - started;
    const usage = hasGnuTime ? readGnuTimeUsage(timeFile) : { peakRssBytes: poller?.stop() ?? null, cpuMs: null };
    return { wallMs, ...usage, exitCode, stderr };
  } finally {
    if (typeof stdin === "number") closeSync(stdin);
    closeSync(stdout);
    rmSync(scratch, { recursive: true, force: true });
  }
}

function readGnuTimeUsage(timeFile: string): { peakRssBytes: number | null; cpuMs: number | null } {
  // GNU time writes "Command exited with non-zero status N" before the figures when the command fails.
  const lines = readFileSync(timeFile, "utf8").trim().split("\n");
  const [kilobytes, userSeconds, systemSeconds] = (lines[lines.length - 1] ?? "").split(" ").map(Number);
  const valid = (value: number | undefined): value is number => value !== undefined && Number.isFinite(value);
  return {
    peakRssBytes: valid(kilobytes) ? kilobytes * 1024 : null,
    cpuMs: valid(userSeconds) && valid(systemSeconds) ? (userSeconds + systemSeconds) * 1000 : null,
  };
}

function pollPeakRss(pid: number | undefined): { stop(): number | null } {
  let peak: number | null = null;
  const read = (): void => {
    if (pid === undefined) return;
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (match?.[1] !== undefined) peak = Math.max(peak ?? 0, Number(match[1]) * 1024);
    } catch {
      // The process exited between two polls, so the previous reading is the last one.
    }
  };
  const timer = setInterval(read, 20);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** Throws with the command's stderr when it failed, so that a broken baseline never yields a figure. */
export function assertSucceeded(name: string, measurement: ProcessMeasurement): void {
  if (measurement.exitCode !== 0) {
    const detail = measurement.stderr.trim().split("\n").slice(-5).join("\n");
    throw new Error(`${name} exited with code ${String(measurement.exitCode)}:\n${detail}`);
  }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
