import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { binPath, parseRequests, projectRoot, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// An identities CSV row may have at most 32 MiB, as a row of an events CSV. A longer row, usually an
// opening quote that is never closed, is reported with its lines and left out without being held in
// memory. The built CLI reads the file, or a named pipe that a child process writes.

const TRACKS = join(projectRoot, "fixtures/identity/server-tracks.jsonl");
const MIB = 1024 * 1024;

let directory: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-identities-limit-"));
});
afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
    }
  }
  rmSync(directory, { recursive: true, force: true });
});

/** Returns the email of the dry-run request made for the event with `messageId`. */
function emailOf(stdout: string, messageId: string): unknown {
  const request = parseRequests(stdout).find((candidate) => JSON.stringify(candidate.body).includes(messageId));
  return request?.body["email"];
}

/** Reads the peak resident set size of process `pid` in KiB (VmHWM), or undefined once it has exited. */
function peakMemoryKib(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

describe("identities CSV row limit", () => {
  test("row over 32 MiB skipped, next rows read", async () => {
    const path = join(directory, "users.csv");
    const longCell = `${"x".repeat(20 * MIB)}\n${"x".repeat(13 * MIB)}`;
    writeFileSync(path, `user_id,email\nu-200,grace@example.com\nu-300,"${longCell}"\n4242,numeric@example.com\n`);

    const result = await runCli(["send", "--dry-run", "--identities", path, TRACKS]);

    expect(result.status).toBe(0);
    expect(unwrapSummary(result.stderr)).toContain(
      `warning: ${path}:3: row is 33 MiB long (lines 3 to 4), more than the 32 MiB a row may have. Shorten its longest cell, or check that its quotes are closed. The row is skipped.`,
    );
    expect(unwrapSummary(result.stderr)).toContain(`warning: ${path}: 1 bad rows skipped; 2 identities read`);
    expect(emailOf(result.stdout, "api-1001")).toBe("grace@example.com");
    expect(emailOf(result.stdout, "api-1002")).toBe("numeric@example.com");
  });

  test("unclosed quote from a pipe: bounded memory", async () => {
    const pipePath = join(directory, "users.csv");
    execFileSync("mkfifo", [pipePath]);
    // 160 MB after a quote that is never closed: without the limit, csv-parse buffers all of it.
    const fillerBytes = 160_000_000;
    const writer = spawn(
      "bash",
      ["-c", `{ printf 'user_id,email\\nu-200,grace@example.com\\n4242,"numeric@example.com\\n'; yes 'filler line' | head -c ${fillerBytes}; } > "$1"`, "bash", pipePath],
      { stdio: "ignore" },
    );
    children.push(writer);
    const child = spawn(process.execPath, [binPath, "send", "--dry-run", "--identities", pipePath, TRACKS], {
      cwd: projectRoot,
      env: { PATH: process.env["PATH"] },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const output = { stdout: "", stderr: "" };
    child.stdout.on("data", (chunk: Buffer) => (output.stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output.stderr += chunk.toString("utf8")));
    const exit = new Promise<number | null>((resolve) => child.on("close", (status) => resolve(status)));
    let peakKib = 0;
    const sampler = setInterval(() => {
      peakKib = Math.max(peakKib, peakMemoryKib(child.pid as number) ?? 0);
    }, 20);
    const status = await Promise.race([exit, delay(60_000).then(() => "timed out" as const)]);
    clearInterval(sampler);

    expect(status).toBe(0);
    // "filler line\n" is 12 bytes: the row runs over line 3, the whole filler lines, and a last partial one.
    const lastLine = 3 + 1 + Math.floor(fillerBytes / 12);
    expect(unwrapSummary(output.stderr)).toContain(
      `warning: ${pipePath}:3: row is longer than 32 MiB because a quoted cell opened in it is never closed, so everything up to the end of the file (lines 3 to ${lastLine}) was read as one row. Close the quote, or double it if it is part of the text. The row is skipped.`,
    );
    expect(unwrapSummary(output.stderr)).toContain(`warning: ${pipePath}: 1 bad rows skipped; 1 identities read`);
    expect(emailOf(output.stdout, "api-1001")).toBe("grace@example.com");
    // Peak RSS measured with Node 20.20 on this input: about 120 MiB with the limit, 1.2 GiB without it.
    expect(peakKib).toBeGreaterThan(0);
    expect(peakKib).toBeLessThan(400 * 1024);
  }, 90_000);

  test("header row over 32 MiB is a usage error", async () => {
    const path = join(directory, "users.csv");
    writeFileSync(path, `user_id,"email${"x".repeat(33 * MIB)}\nu-200,grace@example.com\n`);

    const result = await runCli(["send", "--dry-run", "--identities", path, TRACKS]);

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain(
      `error: the header row of identities file ${path} is longer than 32 MiB because a quoted cell opened in it is never closed, so no row can be read`,
    );
    expect(unwrapSummary(result.stderr)).toContain("fix the first line of the file");
    expect(result.stderr).not.toContain("internal error");
  });
});
