import { execFileSync } from "node:child_process";
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { runCli, type CliResult } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// The checkpoint is replaced as a whole on every save, the dead letters are appended to, and the
// report is written at the end. Each must be checked against the inputs and the others before the
// first request, or a typo in a path destroys events.

const KEY = "pk_output_paths_0123456789";

let directory: string;
let emulator: KoalaEmulator;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-output-paths-"));
  emulator = await startKoalaEmulator({ publicKey: KEY });
});

afterEach(async () => {
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

function writeEvents(path: string): string {
  const lines = [1, 2, 3].map((index) =>
    JSON.stringify({ type: "track", event: "Clicked", messageId: `paths-${index}`, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email: `p${index}@example.com` } } }),
  );
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

function send(args: readonly string[]): Promise<CliResult> {
  return runCli(["send", "--no-stitch", "--endpoint", emulator.url, ...args], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });
}

/** Checks that the run stopped with a usage error before it sent anything. */
function expectRejected(result: CliResult, message: string): void {
  expect(result.status).toBe(2);
  expect(unwrapSummary(result.stderr)).toContain(message);
  expect(result.stderr).not.toContain("internal error");
  expect(emulator.stats.requests).toBe(0);
}

describe("send output paths", () => {
  test("--state naming the input", async () => {
    const input = writeEvents(join(directory, "events.jsonl"));
    const before = readFileSync(input, "utf8");

    const result = await send(["--state", "events.jsonl", "events.jsonl"]);

    expectRejected(result, "error: the checkpoint file events.jsonl is also an input, so saving the checkpoint would replace the events being sent");
    expect(unwrapSummary(result.stderr)).toContain("give --state <path> a file outside the inputs");
    expect(readFileSync(input, "utf8")).toBe(before);
  });

  test("--state naming a file of an input folder", async () => {
    mkdirSync(join(directory, "archive"));
    const input = writeEvents(join(directory, "archive", "events.jsonl"));
    const before = readFileSync(input, "utf8");

    const result = await send(["--state", join("archive", "events.jsonl"), "archive"]);

    expectRejected(result, `error: the checkpoint file ${join("archive", "events.jsonl")} is also an input`);
    expect(readFileSync(input, "utf8")).toBe(before);
  });

  test("--state inside an input folder", async () => {
    mkdirSync(join(directory, "archive"));
    writeEvents(join(directory, "archive", "events.jsonl"));

    const result = await send(["--state", join("archive", "state.json"), "archive"]);

    expectRejected(result, `error: the checkpoint file ${join("archive", "state.json")} is in the input folder archive, so the next run of these inputs would read it as events`);
    expect(readdirSync(join(directory, "archive"))).toEqual(["events.jsonl"]);
  });

  test("--state in a hidden folder of an input folder", async () => {
    mkdirSync(join(directory, "archive"));
    writeEvents(join(directory, "archive", "events.jsonl"));
    const state = join("archive", ".state", "state.json");

    const first = await send(["--state", state, "archive"]);
    const resumed = await send(["--state", state, "--resume", "archive"]);

    expect(first.status).toBe(0);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/already-delivered +3/);
    expect(emulator.accepted.size).toBe(3);
  });

  test("--state and --dead-letter naming one file", async () => {
    writeEvents(join(directory, "events.jsonl"));

    const result = await send(["--state", "run.json", "--dead-letter", "./run.json", "events.jsonl"]);

    expectRejected(result, "error: --state and --dead-letter name the same file, run.json, so each save of the checkpoint would replace the dead letters");
    expect(existsSync(join(directory, "run.json"))).toBe(false);
  });

  test("--dead-letter inside an input folder", async () => {
    mkdirSync(join(directory, "archive"));
    writeEvents(join(directory, "archive", "events.jsonl"));

    const result = await send(["--dead-letter", join("archive", "dead.jsonl"), "archive"]);

    expectRejected(result, `error: the dead-letter file ${join("archive", "dead.jsonl")} is in the input folder archive, so the next run of these inputs would read the dead letters as events`);
    expect(unwrapSummary(result.stderr)).toContain("--dead-letter <path>");
  });

  test("--dead-letter naming a hard link to the input", async () => {
    const input = writeEvents(join(directory, "events.jsonl"));
    linkSync(input, join(directory, "dead.jsonl"));
    const before = readFileSync(input, "utf8");

    const result = await send(["--dead-letter", "dead.jsonl", "events.jsonl"]);

    expectRejected(result, "error: the dead-letter file events.jsonl is also an input, so the dead letters of this run would be appended to the file being sent");
    expect(readFileSync(input, "utf8")).toBe(before);
  });

  test("dead letters named after a checkpoint in an input folder", async () => {
    mkdirSync(join(directory, "archive"));
    writeEvents(join(directory, "archive", "events.jsonl"));

    // The checkpoint's name is not read by a walk, but the dead-letter file named after it is.
    const result = await send(["--state", join("archive", "state.txt"), "archive"]);

    expectRejected(result, `error: the dead-letter file ${join("archive", "state.txt.dead-letters.jsonl")} is in the input folder archive`);
    expect(unwrapSummary(result.stderr)).toContain("give --state <path> a file outside the inputs");
  });

  test("--state naming a directory", async () => {
    writeEvents(join(directory, "events.jsonl"));
    mkdirSync(join(directory, "states"));

    const result = await send(["--state", "states", "events.jsonl"]);

    expectRejected(result, "error: the checkpoint path states is a directory");
    expect(unwrapSummary(result.stderr)).toContain(`--state ${join("states", "state.json")}`);
  });

  test("--state naming a named pipe", async () => {
    writeEvents(join(directory, "events.jsonl"));
    // A pipe replaces /dev/null in this test, because a save renamed over /dev/null would replace it for root.
    execFileSync("mkfifo", [join(directory, "pipe")]);

    const result = await send(["--state", "pipe", "events.jsonl"]);

    expectRejected(result, "error: the checkpoint path pipe is a named pipe, not a regular file, and each save of the checkpoint would replace it");
    expect(lstatSync(join(directory, "pipe")).isFIFO()).toBe(true);
  });

  test("--dead-letter naming a named pipe", async () => {
    await emulator.close();
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { rejectEntry: () => true } });
    writeEvents(join(directory, "events.jsonl"));
    execFileSync("mkfifo", [join(directory, "pipe")]);

    // Without a reader, opening the pipe for the first dead letter would wait for ever.
    const result = await send(["--dead-letter", "pipe", "events.jsonl"]);

    expectRejected(result, "error: the dead-letter path pipe is a named pipe, not a regular file");
    expect(unwrapSummary(result.stderr)).toContain("--dead-letter <path>");
  });

  test.each(["--state", "--dead-letter"])("%s with an empty path", async (option) => {
    writeEvents(join(directory, "events.jsonl"));

    const result = await send([option, "", "events.jsonl"]);

    expectRejected(result, `error: invalid ${option} "": expected a file path`);
  });

  test.each([
    { option: "--state", description: "the checkpoint file" },
    { option: "--dead-letter", description: "the dead-letter file" },
  ])("--report naming $description", async ({ option, description }) => {
    writeEvents(join(directory, "events.jsonl"));

    const result = await send([option, "run.json", "--report", "./run.json", "events.jsonl"]);

    expectRejected(result, `error: cannot write the report to "./run.json": it is ${description} of this run, which the report would replace`);
  });

  test("--report naming a link to a pipe", async () => {
    writeEvents(join(directory, "events.jsonl"));
    // A link to a pipe, as /dev/stdout is when stdout is piped; /dev/stdout itself would be replaced for root.
    execFileSync("mkfifo", [join(directory, "pipe")]);
    symlinkSync(join(directory, "pipe"), join(directory, "stdout"));

    const result = await send(["--report", "stdout", "events.jsonl"]);

    expectRejected(result, 'error: cannot write the report to "stdout": it is a pipe, not a regular file');
    expect(unwrapSummary(result.stderr)).toContain("use --json");
    expect(lstatSync(join(directory, "stdout")).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(directory, "pipe")).isFIFO()).toBe(true);
  });

  test("--report through a link to a file", async () => {
    writeEvents(join(directory, "events.jsonl"));
    mkdirSync(join(directory, "reports"));
    writeFileSync(join(directory, "reports", "last.json"), "{}");
    symlinkSync(join("reports", "last.json"), join(directory, "report.json"));

    const result = await send(["--report", "report.json", "events.jsonl"]);

    expect(result.status).toBe(0);
    expect(lstatSync(join(directory, "report.json")).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(directory, "reports", "last.json"), "utf8"))).toMatchObject({ command: "send" });
  });

  test("--report naming the default checkpoint", async () => {
    writeEvents(join(directory, "events.jsonl"));
    const first = await send(["events.jsonl"]);
    const statePath = readdirSync(join(directory, ".koala-replay")).find((name) => name.endsWith(".json")) as string;
    const before = readFileSync(join(directory, ".koala-replay", statePath), "utf8");
    const requestsBefore = emulator.stats.requests;

    const result = await send(["--report", join(".koala-replay", statePath), "events.jsonl"]);

    expect(first.status).toBe(0);
    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain("it is the checkpoint file of this run, which the report would replace");
    expect(emulator.stats.requests).toBe(requestsBefore);
    expect(readFileSync(join(directory, ".koala-replay", statePath), "utf8")).toBe(before);
  });

  test("--report beside the checkpoint", async () => {
    writeEvents(join(directory, "events.jsonl"));

    const result = await send(["--state", "state.json", "--report", "report.json", "events.jsonl"]);

    expect(result.status).toBe(0);
    expect(JSON.parse(readFileSync(join(directory, "report.json"), "utf8"))).toMatchObject({ command: "send" });
    expect(JSON.parse(readFileSync(join(directory, "state.json"), "utf8"))).toMatchObject({ version: 2, finished: true });
  });

  test.each([
    { option: "--state", message: "the checkpoint file users.csv is also the --identities file, so each save of the checkpoint would replace it" },
    { option: "--dead-letter", message: "the dead-letter file users.csv is also the --identities file, so the dead letters would be appended to it" },
    { option: "--report", message: "the report users.csv is also the --identities file, so the report would replace it" },
  ])("$option naming the --identities file", async ({ option, message }) => {
    writeEvents(join(directory, "events.jsonl"));
    const identities = join(directory, "users.csv");
    writeFileSync(identities, "user_id,email\nu1,ada@example.com\n");

    const result = await send(["--identities", "users.csv", option, "users.csv", "events.jsonl"]);

    expectRejected(result, `error: ${message}`);
    expect(unwrapSummary(result.stderr)).toContain(`give ${option} another path`);
    expect(readFileSync(identities, "utf8")).toBe("user_id,email\nu1,ada@example.com\n");
  });

  test("--dead-letter naming a hard link to the --identities file", async () => {
    writeEvents(join(directory, "events.jsonl"));
    writeFileSync(join(directory, "users.csv"), "user_id,email\nu1,ada@example.com\n");
    linkSync(join(directory, "users.csv"), join(directory, "dead.jsonl"));

    const result = await send(["--identities", "users.csv", "--dead-letter", "dead.jsonl", "events.jsonl"]);

    expectRejected(result, "error: the dead-letter file dead.jsonl is also the --identities file, so the dead letters would be appended to it");
    expect(readFileSync(join(directory, "users.csv"), "utf8")).toBe("user_id,email\nu1,ada@example.com\n");
  });

  test("--report naming the config file", async () => {
    writeEvents(join(directory, "events.jsonl"));
    const config = join(directory, "mappings.json");
    const mapping = { email: { "@path": "$.context.traits.email" }, event: { "@path": "$.event" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
    writeFileSync(config, JSON.stringify({ mappings: [{ name: "Track Event", trigger: 'type = "track"', action: "trackEvent", mapping }] }));
    const before = readFileSync(config, "utf8");

    const result = await send(["--config", "mappings.json", "--report", "mappings.json", "events.jsonl"]);

    expectRejected(result, "error: the report mappings.json is also the config file, so the report would replace it");
    expect(readFileSync(config, "utf8")).toBe(before);
  });
});

