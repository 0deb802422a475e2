import { spawn } from "node:child_process";
import { binPath } from "./run-cli.js";

/**
 * Runs the built binary with `2>&1` through sh, so that stdout and stderr are one pipe, as in
 * `2>&1 | tee log`. The reader starts late and pauses after each chunk, as a slow `tee` does, so
 * that output is still queued in the process when it writes to stderr or finishes.
 */
export function runMergedWithSlowReader(args: readonly string[], cwd?: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", 'exec "$0" "$@" 2>&1', process.execPath, binPath, ...args], {
      cwd,
      env: { PATH: process.env["PATH"] },
      stdio: ["ignore", "pipe", "ignore"],
    });
    const chunks: Buffer[] = [];
    child.stdout.pause();
    setTimeout(() => {
      child.stdout.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), 10);
      });
      child.stdout.resume();
    }, 300);
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output: Buffer.concat(chunks).toString("utf8") }));
  });
}
