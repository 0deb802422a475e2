import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { binPath, runCli } from "../helpers/run-cli.js";

// Each command's --help lists the exit statuses it can end with, and the table below gives them.
// For check and init, a run here produces every status of the table. Other tests (closed-stdout,
// output-write-failure, send-emulator, koala-outage, …) produce those of send, inspect and preview.

const CAN_EXIT_WITH: Readonly<Record<string, readonly number[]>> = {
  send: [0, 1, 2, 3, 74, 130, 141],
  inspect: [0, 1, 2, 74, 141],
  preview: [0, 1, 2, 74, 141],
  check: [0, 1, 2, 3, 74, 141],
  init: [0, 2, 74, 141],
};

let directory: string;
/** A server that accepts each connection and closes it, so that no request gets a response. */
let closingServer: Server;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-help-status-"));
  closingServer = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => closingServer.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  await new Promise((resolve) => closingServer.close(resolve));
  rmSync(directory, { recursive: true, force: true });
});

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
    [141, () => runWithStdout(trigger, "closed")],
  ];

  test("every status is produced", () => {
    expect(runs.map(([status]) => status)).toEqual(CAN_EXIT_WITH["check"]);
  });

  test.each(runs)("status %i", async (status, run) => {
    expect(await run()).toBe(status);
  });
});

describe.skipIf(!existsSync("/dev/full"))("init exits with each listed status", () => {
  const runs: ReadonlyArray<[number, string, () => Promise<number | null>]> = [
    [0, "written.json", async () => (await runCli(["init", "written.json"], { cwd: directory })).status],
    [2, "existing.json", async () => {
      writeFileSync(join(directory, "existing.json"), "{}");
      return (await runCli(["init", "existing.json"], { cwd: directory })).status;
    }],
    [74, "full.json", () => runWithStdout(["init", "full.json"], "full")],
    [141, "closed.json", () => runWithStdout(["init", "closed.json"], "closed")],
  ];

  test("every status is produced", () => {
    expect(runs.map(([status]) => status)).toEqual(CAN_EXIT_WITH["init"]);
  });

  test.each(runs)("status %i (%s)", async (status, file, run) => {
    expect(await run()).toBe(status);
    expect(JSON.parse(readFileSync(join(directory, file), "utf8"))).toBeTypeOf("object");
  });
});
