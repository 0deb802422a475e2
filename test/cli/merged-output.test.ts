import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { binPath } from "../helpers/run-cli.js";

/**
 * Writes 12 people with 30 track events each and 4 kB of properties per event, so that each dry-run
 * request is a line of about 125 kB, larger than a pipe's buffer: a pipe takes it in parts.
 */
function writeLargeRequestsArchive(): string {
  const directory = mkdtempSync(join(tmpdir(), "koala-replay-merged-output-"));
  const padding = "x".repeat(4000);
  const lines: string[] = [];
  for (let person = 0; person < 12; person += 1) {
    for (let index = 0; index < 30; index += 1) {
      const event = {
        type: "track",
        event: "Report Exported",
        userId: `user-${person}`,
        messageId: `message-${person}-${index}`,
        timestamp: "2024-03-01T00:00:00.000Z",
        context: { library: { name: "analytics-node" } },
        properties: { email: `person-${person}@example.com`, padding },
      };
      lines.push(JSON.stringify(event));
    }
  }
  const path = join(directory, "events.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

/**
 * Runs `send --dry-run … 2>&1` through sh, so that stdout and stderr are one pipe, as in
 * `2>&1 | tee log`. The reader starts late and pauses after each chunk, as a slow `tee` does, so
 * that the end of the requests is still waiting in the process when the run finishes.
 */
function runMergedWithSlowReader(args: readonly string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", 'exec "$0" "$@" 2>&1', process.execPath, binPath, ...args], {
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

describe("send --dry-run with stderr merged into stdout", () => {
  test("summary follows the last request", async () => {
    const archive = writeLargeRequestsArchive();

    // Without the wait for stdout, the summary broke into a request line in about half of such runs.
    for (let run = 0; run < 6; run += 1) {
      const result = await runMergedWithSlowReader(["send", "--dry-run", "--no-stitch", archive]);
      const lines = result.output.split("\n");
      const summaryStart = lines.findIndex((line) => line.startsWith("koala-replay: "));
      const requestLines = lines.slice(0, summaryStart);

      expect(result.status).toBe(0);
      expect(summaryStart).toBe(12);
      for (const line of requestLines) {
        expect(() => JSON.parse(line)).not.toThrow();
      }
      expect(lines.slice(summaryStart).some((line) => line.startsWith("{"))).toBe(false);
    }
  });
});
