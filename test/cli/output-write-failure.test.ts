import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { binPath, projectRoot, type CliResult } from "../helpers/run-cli.js";

const KEY = "pk_output_failure_0123456789";
const SPEC = join(projectRoot, "fixtures/archives/spec");
const NO_SPACE = existsSync("/dev/full");

let directory: string;
let emulator: KoalaEmulator | undefined;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-output-failure-"));
});
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  rmSync(directory, { recursive: true, force: true });
});

/** Runs `command` with `args`, stdout on the file `stdoutPath`, and collects stderr. */
function runWithStdoutFile(command: string, args: readonly string[], stdoutPath: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const descriptor = openSync(stdoutPath, "w");
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(command, args, { cwd: directory, env: { PATH: process.env["PATH"], ...env }, stdio: ["ignore", descriptor, "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout: "", stderr }));
  }).finally(() => closeSync(descriptor));
}

/** Runs the built binary with stdout on /dev/full, where every write fails with ENOSPC. */
function runWithFullDisk(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runWithStdoutFile(process.execPath, [binPath, ...args], "/dev/full", env);
}

/**
 * Runs the built binary under `ulimit -f 1` (512 bytes in POSIX sh) with SIGXFSZ ignored, so that a write past
 * the limit fails with EFBIG, and stdout on a file in the test folder.
 */
function runUnderFileSizeLimit(args: readonly string[], blocks = 1): Promise<CliResult> {
  const command = `ulimit -f ${blocks}; trap '' XFSZ; exec "$0" "$@"`;
  return runWithStdoutFile("sh", ["-c", command, process.execPath, binPath, ...args], join(directory, "out.txt"));
}

describe.skipIf(!NO_SPACE)("stdout on a full disk", () => {
  test.each([
    ["send --dry-run", ["send", "--dry-run", "--no-stitch", SPEC]],
    ["inspect", ["inspect", "--no-stitch", SPEC]],
    ["preview", ["preview", "--no-stitch", SPEC]],
  ])("%s exits 74 with one message", async (_label, args) => {
    const result = await runWithFullDisk(args);

    expect(result.status).toBe(74);
    expect(result.stderr).toContain("error: cannot write the output to stdout: ENOSPC (no space left on device), so it is cut short\n  free space on that disk or write the output elsewhere\n");
    expect(result.stderr.split("cannot write the output")).toHaveLength(2);
    expect(result.stderr).not.toContain("    at ");
  });

  test("dry-run summary names the error", async () => {
    const result = await runWithFullDisk(["send", "--dry-run", "--no-stitch", SPEC]);

    expect(result.stderr).toContain("Stopped early: writing the requests to stdout failed (ENOSPC)");
    expect(result.stderr).not.toContain("the reader of stdout closed the pipe");
  });

  test("real send saves its checkpoint", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const events = join(directory, "events.jsonl");
    writeFileSync(events, `${JSON.stringify({ type: "identify", userId: "u-1", messageId: "m-1", timestamp: "2024-01-01T00:00:00.000Z", traits: { email: "ada@example.com" } })}\n`);
    const result = await runWithFullDisk(["send", "--json", "--no-stitch", "--endpoint", emulator.url, "--state", "state.json", "--report", "report.json", events], { KOALA_PUBLIC_KEY: KEY });
    const state = JSON.parse(readFileSync(join(directory, "state.json"), "utf8")) as { finished?: boolean };
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as { counts: { entriesSent: number } };

    expect(result.status).toBe(74);
    expect(result.stderr).toContain("error: cannot write the output to stdout: ENOSPC");
    expect(result.stderr).not.toContain("    at ");
    expect([...emulator.accepted.keys()]).toEqual(["m-1"]);
    expect(state.finished).toBe(true);
    expect(report.counts.entriesSent).toBe(1);
  });
});

describe("stdout past the file-size limit", () => {
  test.each([
    ["send --dry-run", ["send", "--dry-run", "--no-stitch", "--browser-events", "include", SPEC]],
    ["preview", ["preview", "--no-stitch", SPEC]],
  ])("%s exits 74 with one message", async (_label, args) => {
    const result = await runUnderFileSizeLimit(args);

    expect(result.status).toBe(74);
    expect(result.stderr).toContain("error: cannot write the output to stdout: EFBIG (file too large: the file-size limit (ulimit -f) was reached), so it is cut short\n  raise the limit or write the output elsewhere\n");
    expect(result.stderr).not.toContain("    at ");
  });

  test("dry-run summary counts the requests in the file", async () => {
    const lines: string[] = [];
    for (let index = 1; index <= 2_000; index += 1) {
      const person = index % 500;
      lines.push(JSON.stringify({ type: "track", event: `Event ${index}`, messageId: `limit-${index}`, userId: `u${person}`, context: { traits: { email: `u${person}@example.com` } }, properties: { text: "x".repeat(200) }, timestamp: "2024-05-01T10:00:00Z" }));
    }
    const events = join(directory, "small.jsonl");
    writeFileSync(events, `${lines.join("\n")}\n`);

    const result = await runUnderFileSizeLimit(["send", "--dry-run", "--no-stitch", events], 100);
    const output = readFileSync(join(directory, "out.txt"), "utf8");
    const whole = output.split("\n").length - 1;
    const summary = result.stderr.replace(/\s+/g, " ");

    expect(result.status).toBe(74);
    expect(output.length).toBe(100 * 512);
    expect(output.endsWith("\n")).toBe(false);
    expect(summary).toContain(`(500 requests, ${whole} of them written whole before writing stdout failed (EFBIG))`);
    expect(summary).toContain(`after ${whole} requests were written whole (and part of the next one). Every event was read, but the requests after those were not written.`);
    expect(summary).toContain(`requests 500 formed, ${whole} of them written whole before writing stdout failed (EFBIG)`);
    expect(summary).not.toContain("counts below are partial");
  });
});
