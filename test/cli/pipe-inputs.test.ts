import { execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { binPath, projectRoot, runCli } from "../helpers/run-cli.js";
import { killLeftovers, startChild, waitUntilOpened, type ChildRun } from "../helpers/child-runs.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// Event inputs that can be read only once: named pipes made with mkfifo, and pipes from bash's
// process substitution (`<(…)`, which the command receives as /dev/fd/63). The built CLI runs in a
// child process, and every writer is a child process too, so a run that never opens its pipe cannot
// leave a writer blocked in this process.

const KEY = "pk_test_0123456789abcdef";
const TRACKS = join(projectRoot, "fixtures/identity/server-tracks.jsonl");
const USERS = join(projectRoot, "fixtures/identity/users-export.csv");

let directory: string;
let pipePath: string;
let emulator: KoalaEmulator | undefined;
/** Children started by a test, killed afterwards when a failed check left one running. */
const children: ChildProcess[] = [];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-pipe-inputs-"));
  pipePath = join(directory, "events.pipe");
  execFileSync("mkfifo", [pipePath]);
});
afterEach(async () => {
  killLeftovers(children);
  await emulator?.close();
  emulator = undefined;
  rmSync(directory, { recursive: true, force: true });
});

/** Starts `program args` in the test's folder with a clean environment plus `env`, collecting its output. */
function start(program: string, args: readonly string[], env: Record<string, string> = {}): ChildRun {
  return startChild(program, args, { cwd: directory, env, started: children });
}

/** Starts the built CLI with `args`. */
function startCli(args: readonly string[], env: Record<string, string> = {}): ChildRun {
  return start(process.execPath, [binPath, ...args], env);
}

/**
 * Runs a bash script in which `$CLI` runs the built CLI and `$1`… are `args`, so that the script can
 * give the CLI a process substitution such as `<(gzip -c < "$1")`.
 */
async function runBash(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const run = start("bash", ["-c", script, "bash", ...args], { CLI: `${process.execPath} ${binPath}`, ...env });
  const status = await run.exited(30_000);
  return { status, ...run.output };
}

/** Starts a writer that copies `file` into the named pipe once a reader opens it. */
function writeIntoPipe(file: string, pipe = pipePath): ChildRun {
  return start("bash", ["-c", 'cat "$1" > "$2"', "bash", file, pipe]);
}

/** Track and identify events that each carry an email, so every one becomes a request. */
function archiveEvents(count: number): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = [];
  for (let index = 0; index < count; index += 1) {
    const identify = index % 2 === 0;
    events.push({
      type: identify ? "identify" : "track",
      ...(identify ? {} : { event: "Order Completed" }),
      messageId: `pipe-${index}`,
      timestamp: new Date(Date.UTC(2024, 0, 1) + index * 1000).toISOString(),
      userId: `user-${index % 7}`,
      traits: { email: `user-${index % 7}@example.com` },
      context: { traits: { email: `user-${index % 7}@example.com` } },
    });
  }
  return events;
}

/** Writes the events in `format` under `name` in the test's directory and returns the path. */
function writeArchive(name: string, format: "jsonl" | "json" | "csv", gzip: boolean, count = 40): string {
  const events = archiveEvents(count);
  let text: string;
  if (format === "jsonl") {
    text = `${events.map((event) => JSON.stringify(event)).join("\n")}\n`;
  } else if (format === "json") {
    text = JSON.stringify(events, null, 2);
  } else {
    const rows = events.map((event) => [event["type"], event["event"] ?? "", event["messageId"], event["timestamp"], event["userId"], (event["traits"] as { email: string }).email].join(","));
    text = `type,event,messageId,timestamp,userId,traits.email\n${rows.join("\n")}\n`;
  }
  const path = join(directory, name);
  writeFileSync(path, gzip ? gzipSync(text) : text);
  return path;
}

/** Returns the dry-run requests of `send --dry-run --no-stitch file`, read as a regular file. */
async function fileRequests(file: string, options: readonly string[] = ["--no-stitch"]): Promise<string> {
  const result = await runCli(["send", "--dry-run", ...options, file], { cwd: directory });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

describe("named pipe as an event input", () => {
  test.each([
    ["jsonl", "jsonl", false],
    ["jsonl.gz", "jsonl", true],
    ["json", "json", false],
    ["json.gz", "json", true],
    ["csv", "csv", false],
    ["csv.gz", "csv", true],
  ] as const)("%s reads as the file does", async (_name, format, gzip) => {
    const file = writeArchive(`events.${format}${gzip ? ".gz" : ""}`, format, gzip);
    const expected = await fileRequests(file);

    const writer = writeIntoPipe(file);
    const run = startCli(["send", "--dry-run", "--no-stitch", pipePath]);
    const status = await run.exited(30_000);

    expect(run.output.stderr).not.toContain("cannot be read");
    expect(status).toBe(0);
    expect(expected.split("\n").length).toBeGreaterThan(5);
    expect(run.output.stdout).toBe(expected);
    expect(await writer.exited(5_000)).toBe(0);
  });

  test("gzip magic split across writes", async () => {
    const file = writeArchive("events.jsonl.gz", "jsonl", true);
    const expected = await fileRequests(file);

    // The first byte of the gzip magic alone, then the rest once the reader has waited for it.
    const writer = start("bash", ["-c", '{ head -c 1 "$1"; sleep 0.5; tail -c +2 "$1"; } > "$2"', "bash", file, pipePath]);
    const run = startCli(["send", "--dry-run", "--no-stitch", pipePath]);
    const status = await run.exited(30_000);

    expect(run.output.stderr).not.toContain("cannot be read");
    expect(status).toBe(0);
    expect(run.output.stdout).toBe(expected);
    expect(await writer.exited(5_000)).toBe(0);
  });

  test.each([
    ["batch body", (events: unknown[]) => `${JSON.stringify({ batch: events, sentAt: "2024-01-01T00:00:00.000Z" })}\n`, 5],
    ["JSON lines after a text line", (events: unknown[]) => `"export"\n${events.map((event) => JSON.stringify(event)).join("\n")}\n`, 9],
    ["pretty-printed array", (events: unknown[]) => JSON.stringify(events, null, 2), 1],
  ])("%s split at its start reads as the file does", async (_name, render, firstBytes) => {
    const file = join(directory, "events.json");
    writeFileSync(file, render(archiveEvents(4)));
    const fromFile = await runCli(["send", "--dry-run", "--no-stitch", file], { cwd: directory });
    const go = join(directory, "go");

    // The first bytes alone, then the rest only once the reader has had time to read them.
    const script = '{ head -c "$3" "$1"; while [ ! -e "$4" ]; do sleep 0.05; done; tail -c +"$(($3 + 1))" "$1"; } > "$2"';
    const writer = start("bash", ["-c", script, "bash", file, pipePath, String(firstBytes), go]);
    const run = startCli(["send", "--dry-run", "--no-stitch", pipePath]);
    await waitUntilOpened(run.child.pid as number, pipePath);
    await delay(1_500);
    writeFileSync(go, "");
    const status = await run.exited(30_000);

    expect(fromFile.stdout.split("\n")).toHaveLength(5);
    expect(run.output.stdout).toBe(fromFile.stdout);
    expect(status, run.output.stderr).toBe(fromFile.status);
    expect(await writer.exited(5_000)).toBe(0);
  });

  test("--identities stitches as stdin does", async () => {
    const fromStdin = await runCli(["send", "--dry-run", "--identities", USERS, "-"], { stdin: readFileSync(TRACKS) });
    expect(fromStdin.status).toBe(0);

    const writer = writeIntoPipe(TRACKS);
    const run = startCli(["send", "--dry-run", "--identities", USERS, pipePath]);
    const status = await run.exited(30_000);

    expect(status).toBe(0);
    expect(run.output.stdout).toBe(fromStdin.stdout);
    expect(run.output.stdout).toContain('"email":"grace@example.com"');
    expect(await writer.exited(5_000)).toBe(0);
  });

  test("same pipe named twice is read once", async () => {
    const file = writeArchive("events.jsonl", "jsonl", false);
    const expected = await fileRequests(file);

    const writer = writeIntoPipe(file);
    const run = startCli(["send", "--dry-run", "--no-stitch", pipePath, pipePath]);
    const status = await run.exited(30_000);

    expect(status).toBe(0);
    expect(unwrapSummary(run.output.stderr)).toContain(`warning: skipped ${pipePath}: the same named pipe as ${pipePath}, which is read once`);
    expect(run.output.stdout).toBe(expected);
    expect(await writer.exited(5_000)).toBe(0);
  });

  test("stitching without --identities is a usage error", async () => {
    // No writer: the run must stop without opening the pipe, which would wait for one.
    const run = startCli(["send", "--dry-run", pipePath]);
    const status = await run.exited(10_000);

    expect(status).toBe(2);
    expect(unwrapSummary(run.output.stderr)).toContain(`error: Identity stitching reads the inputs twice, and ${pipePath} is a named pipe, which can be read only once.`);
    expect(run.output.stderr).toContain("--identities <file>");
    expect(run.output.stderr).toContain("--no-stitch");
    expect(run.output.stderr).toContain("save the events to a regular file");
    expect(run.output.stderr).not.toContain("internal error");
    expect(run.output.stdout).toBe("");
  });

  test("silent writer: one Ctrl-C stops the run", async () => {
    // The writer opens the pipe and then writes nothing.
    const writer = start("bash", ["-c", 'exec 3> "$1"; sleep 60', "bash", pipePath]);
    const run = startCli(["send", "--dry-run", "--no-stitch", pipePath]);
    await waitUntilOpened(run.child.pid as number, pipePath);
    await delay(200);
    run.child.kill("SIGINT");

    expect(await run.exited(10_000)).toBe(130);
    expect(run.output.stderr).toContain("interrupted: stopped reading; a dry run keeps no state file");
    expect(run.output.stderr).not.toContain("interrupted again");
    writer.child.kill("SIGKILL");
  });
});

describe("named pipe without a writer", () => {
  test("warns after 5 s, then reads the late writer", async () => {
    const file = writeArchive("events.jsonl", "jsonl", false);
    const expected = await fileRequests(file);
    const run = startCli(["send", "--dry-run", "--no-stitch", pipePath]);
    await waitUntilOpened(run.child.pid as number, pipePath);
    await delay(6_000);
    const before = unwrapSummary(run.output.stderr);
    const writer = writeIntoPipe(file);

    expect(before).toContain(`warning: ${pipePath}: the named pipe has given no data for 5 s, so koala-replay still waits for its writer`);
    expect(await run.exited(30_000)).toBe(0);
    expect(run.output.stdout).toBe(expected);
    expect(await writer.exited(5_000)).toBe(0);
  });
});

describe("process substitution as an event input", () => {
  test("gzip through <(…) reads as the file does", async () => {
    const file = writeArchive("events.jsonl.gz", "jsonl", true);
    const expected = await fileRequests(file);

    const result = await runBash('exec $CLI send --dry-run --no-stitch <(cat "$1")', [file]);

    expect(result.stderr).not.toContain("internal error");
    expect(result.stderr).not.toContain("cannot be read");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(expected);
  });

  test("two substitutions are two inputs", async () => {
    const first = writeArchive("first.jsonl", "jsonl", false, 10);
    const second = writeArchive("second.jsonl.gz", "jsonl", true, 30);

    const result = await runBash('exec $CLI send --dry-run --no-stitch <(cat "$1") <(cat "$2")', [first, second]);

    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain("warning: skipped");
    expect(result.stderr).toMatch(/files read +2\n/);
    expect(result.stderr).toMatch(/events read +40\n/);
  });

  test("stitching without --identities is a usage error", async () => {
    const file = writeArchive("events.jsonl", "jsonl", false);

    const result = await runBash('exec $CLI send --dry-run <(cat "$1")', [file]);

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toMatch(/^error: Identity stitching reads the inputs twice, and \/dev\/fd\/\d+ is a pipe, which can be read only once\. /);
    expect(result.stderr).toContain("--no-stitch");
    expect(result.stderr).not.toContain("internal error");
  });

  test("--identities stitches as stdin does", async () => {
    const fromStdin = await runCli(["send", "--dry-run", "--identities", USERS, "-"], { stdin: readFileSync(TRACKS) });

    const result = await runBash('exec $CLI send --dry-run --identities "$2" <(cat "$1")', [TRACKS, USERS]);

    expect(result.status).toBe(0);
    expect(result.stdout).toBe(fromStdin.stdout);
  });

  test("gzip --identities whose first read is 1 byte", async () => {
    const fromFile = await runCli(["send", "--dry-run", "--identities", USERS, TRACKS]);
    const users = join(directory, "users.csv.gz");
    writeFileSync(users, gzipSync(readFileSync(USERS)));

    // The first byte of the gzip magic alone, then the rest once the reader has waited for it.
    const result = await runBash('exec $CLI send --dry-run --identities <({ head -c 1 "$2"; sleep 0.3; tail -c +2 "$2"; }) "$1"', [TRACKS, users]);

    expect(fromFile.status).toBe(0);
    expect(result.stderr).not.toContain("identities file");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(fromFile.stdout);
    expect(result.stdout).toContain('"email":"grace@example.com"');
  });

  test("gzip stdin whose first read is 1 byte", async () => {
    const file = writeArchive("events.jsonl.gz", "jsonl", true);
    const expected = await fileRequests(file);

    const result = await runBash('{ head -c 1 "$1"; sleep 0.3; tail -c +2 "$1"; } | $CLI send --dry-run --no-stitch -', [file]);

    expect(result.stderr).not.toContain("cannot be read");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(expected);
  });

  test("inspect counts unstitched and says why", async () => {
    const file = writeArchive("events.jsonl", "jsonl", false);
    const sent = await runCli(["send", "--dry-run", "--no-stitch", "--report", join(directory, "report.json"), file], { cwd: directory });
    const sentByMapping = (JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as { sentByMapping: Record<string, number> }).sentByMapping;
    expect(sent.status).toBe(0);

    const json = await runBash('exec $CLI inspect --json <(cat "$1")', [file]);
    const text = await runBash('exec $CLI inspect <(cat "$1")', [file]);

    expect(json.status).toBe(0);
    const report = JSON.parse(json.stdout) as {
      identityStitching: { applied: boolean; reason: string };
      mappings: Array<{ name: string; wouldSend: number }>;
    };
    expect(report.identityStitching.applied).toBe(false);
    expect(report.identityStitching.reason).toBe("pipe-without-identities");
    const wouldSend = Object.fromEntries(report.mappings.filter((mapping) => mapping.wouldSend > 0).map((mapping) => [mapping.name, mapping.wouldSend]));
    expect(wouldSend).toEqual(sentByMapping);
    expect(text.status).toBe(0);
    expect(unwrapSummary(text.stdout)).toMatch(/stitching reads the inputs twice, and \/dev\/fd\/\d+ \(a pipe\) can be read only once\./);
  });

  test("inspect with --identities stitches", async () => {
    const result = await runBash('exec $CLI inspect --json --identities "$2" <(cat "$1")', [TRACKS, USERS]);

    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as { identityStitching: { applied: boolean; stitched: number } };
    expect(report.identityStitching.applied).toBe(true);
    expect(report.identityStitching.stitched).toBeGreaterThan(0);
  });

  test("preview counts unstitched and says why", async () => {
    const file = writeArchive("events.jsonl.gz", "jsonl", true);

    const result = await runBash('exec $CLI preview --limit 1 <(cat "$1")', [file]);

    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain("internal error");
    expect(result.stdout).toContain("Order Completed");
    expect(unwrapSummary(result.stdout)).toMatch(/Examples and counts are without identity stitching, as send --no-stitch sends: stitching reads the inputs twice, and \/dev\/fd\/\d+ \(a pipe\) can be read only once\./);
  });
});

describe("checkpoint with a pipe among the inputs", () => {
  test("--resume is rejected before anything is sent", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const file = writeArchive("events.jsonl", "jsonl", false);
    const state = join(directory, "state.json");

    const result = await runBash('exec $CLI send --no-stitch --resume --endpoint "$2" --state "$3" <(cat "$1")', [file, emulator.url, state], { KOALA_PUBLIC_KEY: KEY });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toMatch(/^error: Cannot resume a run that reads \/dev\/fd\/\d+ \(a pipe\), because it cannot be read again from where the run stopped\. /);
    expect(unwrapSummary(result.stderr)).toContain("run without --resume to send everything again");
    expect(emulator.stats.batchRequests).toBe(0);
  });

  test("rejected key prints no resume command", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const file = writeArchive("events.jsonl", "jsonl", false);

    const result = await runBash('exec $CLI send --no-stitch --endpoint "$2" --state "$3" <(cat "$1")', [file, emulator.url, join(directory, "state.json")], {
      KOALA_PUBLIC_KEY: "pk_test_wrong_key_00000",
    });

    expect(result.status).toBe(3);
    expect(result.stderr).toContain("error: stopped: Koala rejected the public key (unauthorized)");
    expect(unwrapSummary(result.stderr)).toMatch(/ after fixing it, run the command again\. \/dev\/fd\/\d+ \(a pipe\) cannot be read again, so this run cannot be resumed with --resume\./);
    expect(result.stderr).not.toContain("resume with:");
    expect(result.stderr).not.toContain("rerun with --resume");
  });

  test("interrupted run prints no resume command", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { slowRate: 1, slowDelayMs: 20 } });
    const server = emulator;
    const file = writeArchive("events.jsonl", "jsonl", false, 300);
    const state = join(directory, "state.json");
    const args = ["send", "--no-stitch", "--max-batch-size", "1", "--endpoint", server.url, "--state", state];

    const writer = writeIntoPipe(file);
    const run = startCli([...args, "--concurrency", "1", "--no-adaptive-concurrency", pipePath], { KOALA_PUBLIC_KEY: KEY });
    for (let attempt = 0; attempt < 400 && server.stats.batchRequests < 3; attempt += 1) {
      await delay(25);
    }
    run.child.kill("SIGINT");

    expect(await run.exited(20_000)).toBe(130);
    expect(run.output.stderr).toContain("entries were not delivered");
    expect(unwrapSummary(run.output.stderr)).toContain(`${pipePath} (a named pipe) cannot be read again, so this run cannot be resumed with --resume.`);
    expect(run.output.stderr).not.toContain("resume with:");
    expect(run.output.stderr).not.toContain("--resume sends them");
    expect(server.accepted.size).toBeLessThan(300);
    // A pipe is not tracked, so there is nothing for a state file to record.
    const saved = existsSync(state) ? (JSON.parse(readFileSync(state, "utf8")) as { inputs: Record<string, unknown> }) : { inputs: {} };
    expect(saved.inputs).toEqual({});
    writer.child.kill("SIGKILL");

    // Sending everything again with a new writer delivers what the stopped run left out.
    const next = writeIntoPipe(file);
    const rerun = startCli([...args, pipePath], { KOALA_PUBLIC_KEY: KEY });
    expect(await rerun.exited(40_000)).toBe(0);
    expect(rerun.output.stderr).not.toContain("did not finish");
    expect(server.accepted.size).toBe(300);
    expect(await next.exited(5_000)).toBe(0);
    expect(existsSync(state)).toBe(true);
  }, 60_000);
});
