import { spawn } from "node:child_process";
import { describe, expect, test } from "vitest";
import { binPath, projectRoot, type CliResult } from "../helpers/run-cli.js";

/**
 * Runs the built binary with the read end of its stdout closed before it writes anything, as
 * `| head` leaves it once head has read its lines. A write to the pipe then fails with EPIPE,
 * however small the output, so the test does not depend on the pipe's buffer size.
 */
function runWithStdoutClosed(args: readonly string[]): Promise<CliResult> {
  return runWithClosed(args, "stdout");
}

/** Runs the built binary with the read end of `closed` closed before it writes anything. */
function runWithClosed(args: readonly string[], closed: "stdout" | "stderr"): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { cwd: projectRoot, env: { PATH: process.env["PATH"] }, stdio: ["ignore", "pipe", "pipe"] });
    child[closed].destroy();
    let stdout = "";
    let stderr = "";
    if (closed === "stderr") {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
      });
    } else {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8");
      });
    }
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("stdout closed by its reader", () => {
  test.each([
    ["inspect", ["inspect", "--no-stitch", "fixtures/archives/spec"]],
    ["inspect --json", ["inspect", "--json", "--no-stitch", "fixtures/archives/spec"]],
    ["preview", ["preview", "--no-stitch", "fixtures/archives/spec"]],
    ["--help", ["--help"]],
    ["send --help", ["send", "--help"]],
  ])("%s exits 141 without a note", async (_label, args) => {
    const result = await runWithStdoutClosed(args);

    expect(result.status).toBe(141);
    expect(result.stderr).toBe("");
  });

  test("send --dry-run exits 141 with its summary", async () => {
    const result = await runWithStdoutClosed(["send", "--dry-run", "--no-stitch", "--browser-events", "include", "fixtures/archives/spec"]);

    expect(result.status).toBe(141);
    expect(result.stderr).toContain("Stopped early: the reader of stdout closed the pipe");
    expect(result.stderr).not.toContain("    at ");
  });
});

describe("stderr closed by its reader", () => {
  test("send --dry-run still finishes", async () => {
    // As when the reader of stderr goes away: the warnings and the summary are lost, and the run goes on.
    const result = await runWithClosed(["send", "--dry-run", "--no-stitch", "--browser-events", "include", "fixtures/archives/spec"], "stderr");

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('"method":"POST"');
  });
});
