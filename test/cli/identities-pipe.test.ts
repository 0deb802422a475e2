import { execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { binPath, parseRequests, printedCommand, projectRoot } from "../helpers/run-cli.js";
import { killLeftovers, startChild, waitUntilOpened, type ChildRun } from "../helpers/child-runs.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// `send --identities` with a named pipe, run by the built CLI in a child process. The pipe is read as
// it is written, and one Ctrl-C stops a run that waits for a writer.

const KEY = "pk_test_0123456789abcdef";
const TRACKS = "fixtures/identity/server-tracks.jsonl";

let directory: string;
let pipePath: string;
let emulator: KoalaEmulator | undefined;
/** Runs started by the test, killed afterwards when a failed check left one running. */
const runs: ChildProcess[] = [];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-identities-pipe-"));
  pipePath = join(directory, "users.csv");
  execFileSync("mkfifo", [pipePath]);
});
afterEach(async () => {
  killLeftovers(runs);
  await emulator?.close();
  emulator = undefined;
  rmSync(directory, { recursive: true, force: true });
});

function startSend(args: readonly string[]): ChildRun {
  return startChild(process.execPath, [binPath, "send", ...args], { cwd: projectRoot, started: runs });
}

/** Starts a send to the emulator whose --identities pipe has no writer, once it has opened the pipe. */
async function startSendWithoutWriter(): Promise<{ run: ChildRun; statePath: string; server: KoalaEmulator }> {
  const server = await startKoalaEmulator({ publicKey: KEY });
  emulator = server;
  const statePath = join(directory, "state.json");
  const run = startSend(["--public-key", KEY, "--endpoint", server.url, "--state", statePath, "--identities", pipePath, TRACKS]);
  await waitUntilOpened(run.child.pid as number, pipePath);
  return { run, statePath, server };
}

/** Checks that a run stopped before its first delivery saved no checkpoint and printed its command without --resume. */
function expectRerunWithoutResume(run: ChildRun, statePath: string): void {
  expect(run.output.stderr).toContain(`send every event again with:\n  ${printedCommand()} send `);
  expect(run.output.stderr).not.toContain("--resume");
  expect(existsSync(statePath)).toBe(false);
}

describe("--identities from a named pipe", () => {
  test("rows written to the pipe stitch events", async () => {
    const run = startSend(["--dry-run", "--identities", pipePath, TRACKS]);
    const pipe = await open(pipePath, "w");
    await pipe.write("user_id,email\nu-200,grace@example.com\n");
    await pipe.close();

    expect(await run.exited(20_000)).toBe(0);
    const request = parseRequests(run.output.stdout).find((candidate) => JSON.stringify(candidate.body).includes("api-1001"));
    expect(request?.body["email"]).toBe("grace@example.com");
  });

  test("silent writer: one Ctrl-C stops the run", async () => {
    const run = startSend(["--dry-run", "--identities", pipePath, TRACKS]);
    // Opening the pipe for writing returns once the run has opened it for reading.
    const pipe = await open(pipePath, "w");
    try {
      await delay(300);
      run.child.kill("SIGINT");

      expect(await run.exited(10_000)).toBe(130);
    } finally {
      await pipe.close();
    }
    expect(run.output.stderr).toContain("Interrupted before any event was processed: nothing was sent.");
    expect(run.output.stderr).toContain("interrupted: stopped reading; a dry run keeps no state file");
    expect(run.output.stderr).not.toContain("interrupted again");
  });

  test("no writer: one Ctrl-C stops a send", async () => {
    const { run, statePath, server } = await startSendWithoutWriter();
    run.child.kill("SIGINT");

    expect(await run.exited(10_000)).toBe(130);
    expect(run.output.stderr).toContain("Interrupted before any event was processed: nothing was sent.");
    // No checkpoint is written before the first delivery, so the run prints the same command without --resume.
    expect(unwrapSummary(run.output.stderr)).toContain("interrupted: stopped reading before delivery started, so nothing was sent and there is no checkpoint to resume from");
    expectRerunWithoutResume(run, statePath);
    expect(server.stats.batchRequests).toBe(0);
    expect(run.output.stderr).not.toContain("interrupted again");
    // The identities file gave no row, so the summary has no identity fact to show.
    expect(run.output.stderr).not.toMatch(/^ {2}identity/m);
    expect(run.output.stderr).not.toContain("identity after stitching");
  });

  test("no writer: second Ctrl-C prints no --resume", async () => {
    const { run, statePath } = await startSendWithoutWriter();
    // Linux merges a pending SIGINT with a second one, but not with a SIGTERM, which the run takes as
    // a second Ctrl-C. Both arrive before the run reacts to the first, so during the identity pass.
    run.child.kill("SIGINT");
    run.child.kill("SIGTERM");

    expect(await run.exited(10_000)).toBe(130);
    expect(run.output.stderr).toContain("interrupted again: exiting now");
    expect(unwrapSummary(run.output.stderr)).toContain("nothing was sent and there is no checkpoint to resume from");
    expectRerunWithoutResume(run, statePath);
  });
  test.each([
    ["one Ctrl-C", ["SIGINT"]],
    ["second Ctrl-C", ["SIGINT", "SIGTERM"]],
  ] as const)("earlier run's checkpoint: %s prints no --resume", async (_name, signals) => {
    const earlier = await startKoalaEmulator({ publicKey: KEY });
    const statePath = join(directory, "state.json");
    const finished = startSend(["--public-key", KEY, "--endpoint", earlier.url, "--state", statePath, TRACKS]);
    expect(await finished.exited(20_000)).toBe(0);
    await earlier.close();

    // This run does not resume, so it replaces the earlier checkpoint at its first save, which never comes.
    const { run } = await startSendWithoutWriter();
    for (const signal of signals) run.child.kill(signal);

    expect(await run.exited(10_000)).toBe(130);
    expect(unwrapSummary(run.output.stderr)).toContain("nothing was sent and there is no checkpoint to resume from");
    expect(run.output.stderr).toContain(`send every event again with:\n  ${printedCommand()} send `);
    expect(run.output.stderr).not.toContain("--resume");
  });
});
