import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { binPath, runCli } from "../helpers/run-cli.js";

// Each command's --help lists the exit statuses it can end with, and the table below gives them.
// For check and init, a run here produces every status of the table. Here too, every command exits
// 1 on an internal error, and inspect and preview end on SIGINT and SIGTERM. Other tests
// (closed-stdout, output-write-failure, send-emulator, koala-outage, …) produce the other statuses
// of send, inspect and preview.

const CAN_EXIT_WITH: Readonly<Record<string, readonly number[]>> = {
  send: [0, 1, 2, 3, 74, 129, 130, 141],
  inspect: [0, 1, 2, 74, 130, 141, 143],
  preview: [0, 1, 2, 74, 130, 141, 143],
  check: [0, 1, 2, 3, 74, 130, 141, 143],
  init: [0, 1, 2, 74, 130, 141, 143],
};

/** Makes the command line parser throw a TypeError, loaded with `--import`, to stand for a bug. */
const INTERNAL_ERROR = join(import.meta.dirname, "programs", "internal-error.mjs");

let directory: string;
/** A server that accepts each connection and closes it, so that no request gets a response. */
let closingServer: Server;
/** A server that accepts each connection and never responds, so that a request waits until the client ends. */
let silentServer: Server;
const silentSockets = new Set<Socket>();

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-help-status-"));
  closingServer = createServer((socket) => socket.destroy());
  silentServer = createServer((socket) => {
    silentSockets.add(socket);
    socket.on("close", () => silentSockets.delete(socket));
  });
  await new Promise<void>((resolve) => closingServer.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => silentServer.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  await new Promise((resolve) => closingServer.close(resolve));
  for (const socket of silentSockets) {
    socket.destroy();
  }
  await new Promise((resolve) => silentServer.close(resolve));
  rmSync(directory, { recursive: true, force: true });
});

function silentEndpoint(): string {
  return `http://127.0.0.1:${(silentServer.address() as AddressInfo).port}`;
}

/**
 * Runs the built binary in the test folder, sends it `signal` once it has run for `afterMs`, and
 * returns its exit status as a shell shows it: 128 + the signal's number for a process that the
 * signal ended. Its stdin is a pipe that stays open, so that a command that reads stdin waits.
 */
function runUntilSignal(args: readonly string[], signal: "SIGINT" | "SIGTERM", afterMs: number): Promise<number | null> {
  return new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { cwd: directory, env: { PATH: process.env["PATH"] }, stdio: ["pipe", "ignore", "ignore"] });
    const timer = setTimeout(() => child.kill(signal), afterMs);
    child.on("error", reject);
    child.on("close", (status, endedBy) => {
      clearTimeout(timer);
      resolve(status ?? (endedBy === null ? null : 128 + constants.signals[endedBy]));
    });
  });
}

/** Runs the built binary with a fault that no command expects, and returns its status and stderr. */
async function runWithInternalError(args: readonly string[]): Promise<{ status: number | null; stderr: string }> {
  const result = await runCli(args, { cwd: directory, env: { NODE_OPTIONS: `--import=${INTERNAL_ERROR}` } });
  return { status: result.status, stderr: result.stderr };
}

/** Returns the statuses listed under "Exit status:" in `help`, in order. */
function listedStatuses(help: string): number[] {
  const section = help.split("\nExit status:\n")[1] ?? "";
  const statuses: number[] = [];
  for (const line of section.split("\n")) {
    const match = /^ {2}(\d+) {2,}/.exec(line);
    if (match !== null) {
      statuses.push(Number(match[1]));
    } else if (line.trim() !== "" && !line.startsWith("       ")) {
      break;
    }
  }
  return statuses;
}

/** Runs the built binary in the test folder with stdout on `stdout`: /dev/full, or a pipe closed before the child writes. */
function runWithStdout(args: readonly string[], stdout: "full" | "closed"): Promise<number | null> {
  const descriptor = stdout === "full" ? openSync("/dev/full", "w") : undefined;
  return new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd: directory,
      env: { PATH: process.env["PATH"] },
      stdio: ["ignore", descriptor ?? "pipe", "ignore"],
    });
    child.stdout?.destroy();
    child.on("error", reject);
    child.on("close", (status) => resolve(status));
  }).finally(() => {
    if (descriptor !== undefined) closeSync(descriptor);
  });
}

describe("exit statuses in --help", () => {
  test.each(Object.entries(CAN_EXIT_WITH))("%s lists what it can exit with", async (command, statuses) => {
    const result = await runCli([command, "--help"]);

    expect(result.status).toBe(0);
    expect(listedStatuses(result.stdout)).toEqual(statuses);
  });
});

describe.skipIf(!existsSync("/dev/full"))("check exits with each listed status", () => {
  const trigger = ["check", "--trigger", 'type = "track"'];
  const runs: ReadonlyArray<[number, () => Promise<number | null>]> = [
    [0, async () => (await runCli(trigger)).status],
    [1, async () => (await runCli([...trigger, "--event", '{"type":"identify"}'])).status],
    [2, async () => (await runCli(["check", "--trigger", 'type = "track" and'])).status],
    [3, async () => (await runCli(["check", "--public-key", "pk_exit_status_0123456789", "--endpoint", `http://127.0.0.1:${(closingServer.address() as AddressInfo).port}`])).status],
    [74, () => runWithStdout(trigger, "full")],
    // Interrupted while it waits for Koala's response to the key check.
    [130, () => runUntilSignal(["check", "--public-key", "pk_exit_status_0123456789", "--endpoint", silentEndpoint()], "SIGINT", 1_000)],
    [141, () => runWithStdout(trigger, "closed")],
    [143, () => runUntilSignal(["check", "--public-key", "pk_exit_status_0123456789", "--endpoint", silentEndpoint()], "SIGTERM", 1_000)],
  ];

  test("every status is produced", () => {
    expect(runs.map(([status]) => status)).toEqual(CAN_EXIT_WITH["check"]);
  });

  test.each(runs)("status %i", async (status, run) => {
    expect(await run()).toBe(status);
  });
});

describe.skipIf(!existsSync("/dev/full"))("init exits with each listed status", () => {
  // The file is checked for the runs that write it. A signal sent at once ends init before it writes.
  const runs: ReadonlyArray<[number, string, () => Promise<number | null>]> = [
    [0, "written.json", async () => (await runCli(["init", "written.json"], { cwd: directory })).status],
    [1, "internal error", async () => (await runWithInternalError(["init", "internal-error.json"])).status],
    [2, "existing.json", async () => {
      writeFileSync(join(directory, "existing.json"), "{}");
      return (await runCli(["init", "existing.json"], { cwd: directory })).status;
    }],
    [74, "full.json", () => runWithStdout(["init", "full.json"], "full")],
    [130, "SIGINT", () => runUntilSignal(["init", "interrupted.json"], "SIGINT", 0)],
    [141, "closed.json", () => runWithStdout(["init", "closed.json"], "closed")],
    [143, "SIGTERM", () => runUntilSignal(["init", "terminated.json"], "SIGTERM", 0)],
  ];

  test("every status is produced", () => {
    expect(runs.map(([status]) => status)).toEqual(CAN_EXIT_WITH["init"]);
  });

  test.each(runs)("status %i (%s)", async (status, file, run) => {
    expect(await run()).toBe(status);
    if (file.endsWith(".json")) {
      expect(JSON.parse(readFileSync(join(directory, file), "utf8"))).toBeTypeOf("object");
    }
  });
});

describe("internal error", () => {
  test.each(Object.keys(CAN_EXIT_WITH))("%s exits 1", async (command) => {
    const result = await runWithInternalError([command, "events.jsonl"]);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain("koala-replay: internal error, please report it with the command you ran");
    expect(result.stderr).toContain("TypeError: fault injected by the exit status test");
  });
});

describe("read-only command ended by a signal", () => {
  // Each reads stdin, a pipe that stays open, so none of them ends before the signal comes.
  test.each([
    ["inspect", "SIGINT", 130],
    ["inspect", "SIGTERM", 143],
    ["preview", "SIGINT", 130],
    ["preview", "SIGTERM", 143],
  ] as const)("%s on %s exits %i", async (command, signal, status) => {
    expect(await runUntilSignal([command, "-"], signal, 1_000)).toBe(status);
  });
});
