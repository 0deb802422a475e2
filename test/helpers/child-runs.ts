import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readlinkSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";

/** A child process started by a test, with its output collected as it comes. */
export interface ChildRun {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  /** Resolves with the exit status, or null when the run had to be killed after `timeoutMs`. */
  exited: (timeoutMs: number) => Promise<number | null>;
}

/**
 * Starts `program args` in `cwd` with only PATH and `env` in its environment, and adds it to
 * `started`, so that the test's cleanup can kill it with `killLeftovers`.
 */
export function startChild(program: string, args: readonly string[], options: { cwd: string; env?: Record<string, string>; started: ChildProcess[] }): ChildRun {
  const child = spawn(program, args, { cwd: options.cwd, env: { PATH: process.env["PATH"] ?? "", ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  options.started.push(child);
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk: Buffer) => (output.stdout += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (output.stderr += chunk.toString("utf8")));
  // `close` comes after the output streams have ended, so the output is complete when it resolves.
  const exit = new Promise<number | null>((resolve) => child.on("close", (status) => resolve(status)));
  const exited = async (timeoutMs: number): Promise<number | null> => {
    const status = await Promise.race([exit, delay(timeoutMs).then(() => "timed out" as const)]);
    if (status !== "timed out") {
      return status;
    }
    child.kill("SIGKILL");
    await exit;
    return null;
  };
  return { child, output, exited };
}

/** Kills the children that a failed check left running, and empties `started`. */
export function killLeftovers(started: ChildProcess[]): void {
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
    }
  }
}

/** Waits until process `pid` has `path` open, read from Linux's /proc. */
export async function waitUntilOpened(pid: number, path: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const descriptors = readdirSync(`/proc/${pid}/fd`);
    if (descriptors.some((descriptor) => readlinkTarget(`/proc/${pid}/fd/${descriptor}`) === path)) {
      return;
    }
    await delay(50);
  }
  throw new Error(`process ${pid} did not open ${path} within 10 s`);
}

function readlinkTarget(link: string): string | undefined {
  try {
    return readlinkSync(link);
  } catch {
    // The descriptor was closed between the listing and the read.
    return undefined;
  }
}
