import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { deadLetterResendCommand } from "../../src/cli/rerun-commands.js";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { parseRequests, printedCommand, runCli, type CliOptions, type CliResult } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

const KEY = "pk_dead_letters_0123456789";

let directory: string;
let emulator: KoalaEmulator | undefined;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-resend-"));
});
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  rmSync(directory, { recursive: true, force: true });
});

/** Counts the entries of the requests a dry run printed. */
function printedEntries(stdout: string): number {
  return parseRequests(stdout).reduce((total, request) => total + ((request.body["events"] as unknown[] | undefined)?.length ?? 0) + ((request.body["identifies"] as unknown[] | undefined)?.length ?? 0), 0);
}

function identifyLine(email: string, messageId: string): string {
  return JSON.stringify({ type: "identify", userId: `u-${messageId}`, messageId, timestamp: "2024-01-01T00:00:00.000Z", traits: { email } });
}

function trackLine(email: string, messageId: string): string {
  return JSON.stringify({ type: "track", event: "Signed Up", messageId, timestamp: "2024-01-01T00:00:00.000Z", context: { traits: { email } } });
}

/**
 * Sends events to an emulator that rejects every entry of rejected@example.com with a 400, with
 * `args` before the input, and returns the run's output: the dead-letter file gets one line for
 * each of those entries.
 */
async function sendWithRejections(args: readonly string[], options: CliOptions = { env: { KOALA_PUBLIC_KEY: KEY } }): Promise<CliResult> {
  const events = join(directory, "events.jsonl");
  writeFileSync(events, `${[identifyLine("ada@example.com", "m-1"), identifyLine("rejected@example.com", "m-2"), trackLine("rejected@example.com", "m-3")].join("\n")}\n`);
  const rejecting = await startKoalaEmulator({ publicKey: KEY, faults: { rejectEntry: (entry) => JSON.stringify(entry).includes("rejected@example.com") } });
  try {
    return await runCli(["send", "--no-stitch", "--endpoint", rejecting.url, ...args, events], options);
  } finally {
    await rejecting.close();
  }
}

/** Resends the dead-letter file `deadLetterPath` to an emulator that rejects its entries again. */
async function sendWithRejectionsOf(deadLetterPath: string): Promise<CliResult> {
  const rejecting = await startKoalaEmulator({ publicKey: KEY, faults: { rejectEntry: (entry) => JSON.stringify(entry).includes("rejected@example.com") } });
  try {
    return await runCli(["send", "--no-stitch", "--endpoint", rejecting.url, "--state", join(directory, "resend-state.json"), deadLetterPath], { env: { KOALA_PUBLIC_KEY: KEY } });
  } finally {
    await rejecting.close();
  }
}

/** Returns the dead-letter file of a send whose emulator rejected two entries. */
async function writeDeadLetters(): Promise<string> {
  const deadLetterPath = join(directory, "dead.jsonl");
  const result = await sendWithRejections(["--dead-letter", deadLetterPath, "--state", join(directory, "state.json")]);
  expect(result.stderr).toContain("dead letters           2 written to");
  return deadLetterPath;
}

describe("send with a dead-letter file as input", () => {
  test("summary counts resent dead letters, not matches", async () => {
    const deadLetterPath = await writeDeadLetters();
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", join(directory, "resend-state.json"), deadLetterPath], {
      env: { KOALA_PUBLIC_KEY: KEY },
    });

    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/\n {2}matched {16}0\n/);
    expect(unwrapSummary(result.stderr)).toContain("dead letters resent Identify Visitor 1, Track Event 1 (lines of a dead-letter file, sent again as written without their trigger)");
    expect(result.stderr).toMatch(/\n {2}sent {19}2\n/);
    expect(unwrapSummary(result.stderr)).toContain("every one was delivered, so the dead-letter files read can be deleted");
    expect([...emulator.accepted.keys()].sort()).toEqual(["m-2", "m-3"]);
  });

  test("rejected again: no advice to delete the file", async () => {
    const deadLetterPath = await writeDeadLetters();
    const result = await sendWithRejectionsOf(deadLetterPath);

    expect(result.status).toBe(1);
    expect(unwrapSummary(result.stderr)).toContain("dead letters resent");
    expect(result.stderr).not.toContain("can be deleted");
  });

  test("dry run: no advice to delete the file", async () => {
    const deadLetterPath = await writeDeadLetters();
    const result = await runCli(["send", "--dry-run", "--no-stitch", deadLetterPath]);

    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain("can be deleted");
  });

  test("report lists resent dead letters apart from matches", async () => {
    const deadLetterPath = await writeDeadLetters();
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", join(directory, "report.json"), deadLetterPath]);
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as Record<string, any>;

    expect(printedEntries(result.stdout)).toBe(2);
    expect(report.matchedByMapping).toEqual({});
    expect(report.resentDeadLettersByMapping).toEqual({ "Identify Visitor": 1, "Track Event": 1 });
    expect(report.sentByMapping).toEqual({ "Identify Visitor": 1, "Track Event": 1 });
    expect(report.counts.entriesSent).toBe(2);
  });

  test("every line is counted with its reason", async () => {
    const deadLetterPath = await writeDeadLetters();
    const [first, second] = readFileSync(deadLetterPath, "utf8").trim().split("\n") as [string, string];
    const unknownVersion = second.replace('"koalaReplayDeadLetter":1', '"koalaReplayDeadLetter":2');
    const otherVersion = second.replace('"koalaReplayDeadLetter":1', '"koalaReplayDeadLetter":"v3"');
    const missingEntry = JSON.stringify({ ...(JSON.parse(first) as Record<string, unknown>), entry: undefined });
    const edited = join(directory, "edited.jsonl");
    writeFileSync(edited, `${[first, unknownVersion, otherVersion, missingEntry, first].join("\n")}\n`);
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", join(directory, "report.json"), edited]);
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as Record<string, any>;

    expect(result.status).toBe(1);
    expect(report.counts.eventsRead).toBe(5);
    expect(report.counts.entriesSent).toBe(1);
    expect(report.skippedByReason).toEqual({ "duplicate-message-id": 1 });
    // Markers that differ count under one reason, with the value left out.
    expect(report.invalidByReason).toEqual({
      'dead letter: the line was not written by this version of koala-replay or was edited by hand, because "koalaReplayDeadLetter" must be 1': 2,
      'dead letter: Invalid dead-letter line: "entry" is missing or has the wrong type. Was the line edited by hand?': 1,
    });
    expect(Object.values(report.resentDeadLettersByMapping as Record<string, number>).reduce((total, count) => total + count, 0)).toBe(2);
    expect(report.matchedByMapping).toEqual({});
  });

  test("lines mapped by a worker thread count alike", async () => {
    const deadLetterPath = await writeDeadLetters();
    const [first, second] = readFileSync(deadLetterPath, "utf8").trim().split("\n") as [string, string];
    // A line over 1 MiB makes its chunk large enough for the worker threads; readDeadLetterLine ignores the extra field.
    const padded = first.replace(/}$/, `,"padding":"${"x".repeat(1_100_000)}"}`);
    const large = join(directory, "large.jsonl");
    writeFileSync(large, `${padded}\n${second}\n`);
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", join(directory, "report.json"), large]);
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as Record<string, any>;

    expect(printedEntries(result.stdout)).toBe(2);
    expect(report.matchedByMapping).toEqual({});
    expect(report.resentDeadLettersByMapping).toEqual({ "Identify Visitor": 1, "Track Event": 1 });
  });

  test("preview shows resent dead letters apart", async () => {
    const deadLetterPath = await writeDeadLetters();
    const events = join(directory, "more-events.jsonl");
    writeFileSync(events, `${[trackLine("ada@example.com", "m-4"), identifyLine("ada@example.com", "m-5")].join("\n")}\n`);
    const result = await runCli(["preview", "--no-stitch", "--limit", "1", deadLetterPath, events]);
    const blocks = result.stdout.split("━━ ");
    const blockOf = (title: string): string => blocks.find((block) => block.startsWith(title)) ?? "";

    expect(result.status).toBe(0);
    expect(blockOf("Track Event")).toContain(`── example 1 · ${events}:1`);
    expect(blockOf("Identify Visitor")).toContain(`── example 1 · ${events}:2`);
    expect(unwrapSummary(blockOf("resent dead letters"))).toContain("lines of a dead-letter file, sent as written without a trigger · 1 of 1 example");
    expect(blockOf("resent dead letters")).toContain(`── example 1 · ${deadLetterPath}:1`);
    expect(unwrapSummary(result.stdout)).toContain("4 events read; reading stopped once every mapping had 1 example. 4 entries would be sent from them.");
  });

  test("own dead-letter file is a usage error", async () => {
    const deadLetterPath = await writeDeadLetters();
    const before = readFileSync(deadLetterPath, "utf8");
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const cases = [
      { label: "the file", inputs: [deadLetterPath], shown: deadLetterPath },
      { label: "its folder", inputs: [directory], shown: deadLetterPath },
    ];

    for (const { label, inputs, shown } of cases) {
      // The checkpoint goes outside the input folder, which would be an error of its own.
      const stateFolder = mkdtempSync(join(tmpdir(), "koala-replay-resend-state-"));
      const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--dead-letter", deadLetterPath, "--state", join(stateFolder, "resend-state.json"), ...inputs], {
        env: { KOALA_PUBLIC_KEY: KEY },
      });

      expect(result.status, label).toBe(2);
      expect(unwrapSummary(result.stderr), label).toContain(`error: the dead-letter file ${shown} is also an input, so the dead letters of this run would be appended to the file being sent`);
      expect(unwrapSummary(result.stderr), label).toContain("--dead-letter <path>");
      expect(result.stderr, label).not.toContain("internal error");
      rmSync(stateFolder, { recursive: true, force: true });
    }
    expect(emulator.stats.requests).toBe(0);
    expect(readFileSync(deadLetterPath, "utf8")).toBe(before);
  });

  test("inspect counts resent dead letters as send does", async () => {
    const deadLetterPath = await writeDeadLetters();
    const result = await runCli(["inspect", "--json", deadLetterPath]);
    const report = JSON.parse(result.stdout) as Record<string, any>;
    const text = await runCli(["inspect", deadLetterPath]);

    expect(report.resentDeadLetters).toEqual({ read: 2, valid: 2, invalid: 0, wouldSend: 2, skippedByReason: {}, invalidByReason: {} });
    expect(report.mappings.map((mapping: { matched: number }) => mapping.matched)).toEqual([0, 0]);
    // Both entries are of rejected@example.com, with the same person fields, so they share a request.
    expect(report.requests.estimated).toBe(1);
    expect(unwrapSummary(text.stdout)).toMatch(/resent dead letters +2 read +2 would be sent +lines of a dead-letter file/);
  });
});

describe("dead-letter lines counted by their entry", () => {
  test("inspect counts the carried event", async () => {
    const deadLetterPath = await writeDeadLetters();
    const lines = readFileSync(deadLetterPath, "utf8").trimEnd().split("\n");
    // Take the email out of the carried track event: its entry is still resent with the person's email.
    const track = JSON.parse(lines[1]!) as { event: { context: { traits: Record<string, unknown> } } };
    delete track.event.context.traits["email"];
    writeFileSync(deadLetterPath, `${lines[0]}\n${JSON.stringify(track)}\n`);

    const result = await runCli(["inspect", "--json", deadLetterPath]);
    const report = JSON.parse(result.stdout) as Record<string, any>;

    expect(result.status).toBe(0);
    expect(report.eventsByType).toEqual({ identify: 1, track: 1 });
    expect(report.topEventNames).toEqual([{ name: "Signed Up", count: 1 }]);
    expect(report.timeRange).toEqual({ earliest: "2024-01-01T00:00:00.000Z", latest: "2024-01-01T00:00:00.000Z", eventsWithoutTimestamp: 0 });
    expect(report.identity).toEqual({ email: 2, userId: 1, anonymousId: 0, profileId: 0, emailOrProfileId: 2, none: 0 });
  });

  test("invalid lines counted apart", async () => {
    const deadLetterPath = await writeDeadLetters();
    const valid = readFileSync(deadLetterPath, "utf8");
    const invalid = { ...(JSON.parse(valid.split("\n")[0]!) as Record<string, unknown>), kind: undefined };
    writeFileSync(deadLetterPath, `${valid}${JSON.stringify(invalid)}\n`);

    const inspected = await runCli(["inspect", "--json", deadLetterPath]);
    const inspectReport = JSON.parse(inspected.stdout) as Record<string, any>;
    const text = await runCli(["inspect", deadLetterPath]);
    const reportPath = join(directory, "report.json");
    const sent = await runCli(["send", "--dry-run", "--report", reportPath, deadLetterPath]);
    const sendReport = JSON.parse(readFileSync(reportPath, "utf8")) as Record<string, any>;

    expect(inspectReport.resentDeadLetters).toMatchObject({ read: 3, valid: 2, invalid: 1, wouldSend: 2 });
    expect(Object.values(inspectReport.resentDeadLetters.invalidByReason)).toEqual([1]);
    expect(text.stdout).toMatch(/resent dead letters +3 read +2 would be sent/);
    expect(text.stdout).toMatch(/ +1 invalid line, which cannot be resent \(2 valid\)/);
    expect(sent.status).toBe(1);
    expect(unwrapSummary(sent.stderr)).toContain("dead letters invalid 1 line of a dead-letter file cannot be resent (see invalid)");
    expect(sendReport.resentDeadLetters).toEqual({ read: 3, valid: 2, invalid: 1, excluded: 0 });
    expect(sendReport.resentDeadLettersByMapping).toEqual({ "Identify Visitor": 1, "Track Event": 1 });
    expect(sendReport.counts.invalid).toBe(1);
  });
});

describe("send of the folder it runs in", () => {
  test("skips its own .koala-replay folder", async () => {
    writeFileSync(join(directory, "events.jsonl"), `${[identifyLine("ada@example.com", "m-1"), identifyLine("rejected@example.com", "m-2")].join("\n")}\n`);
    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { rejectEntry: (entry) => JSON.stringify(entry).includes("rejected@example.com") } });
    const first = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "."], { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY } });
    expect(first.stderr).toMatch(/dead letters {11}1 written to \.koala-replay\//);

    // The folder now contains the state file and the dead-letter file of the first run.
    const second = await runCli(["send", "--dry-run", "--no-stitch", "--report", "report.json", "."], { cwd: directory });
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as Record<string, any>;

    expect(second.status).toBe(0);
    expect(unwrapSummary(second.stderr)).toContain("warning: skipped .koala-replay: a hidden folder, which a directory walk does not enter");
    expect(report.counts.filesRead).toBe(1);
    expect(report.counts.eventsRead).toBe(2);
    expect(report.resentDeadLettersByMapping).toEqual({});
    expect(report.skippedByReason).toEqual({});
    expect(printedEntries(second.stdout)).toBe(2);
  });
});

describe("command printed for dead letters", () => {
  test("resends them as printed", async () => {
    const result = await sendWithRejections(["--max-attempts", "3", "--concurrency", "2"], { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY } });
    const lines = result.stderr.split("\n");
    const command = lines[lines.indexOf("  to send the dead letters again once their cause is fixed:") + 1]?.trim() ?? "";

    expect(result.status).toBe(1);
    expect(unwrapSummary(result.stderr)).toContain("the command below the summary sends them again");
    expect(command.startsWith(`${printedCommand(directory)} send `), command).toBe(true);
    const args = command.slice(printedCommand(directory).length + 1);
    expect(args).toMatch(/^send --endpoint http:\/\/127\.0\.0\.1:\d+ --max-attempts 3 --concurrency 2 --no-stitch \.koala-replay\/state-[0-9a-f]{16}\.dead-letters\.jsonl$/);

    emulator = await startKoalaEmulator({ publicKey: KEY });
    // The emulator that rejected the entries is gone, so the command is pointed at a new one.
    const resendArgs = args.replace(/http:\/\/127\.0\.0\.1:\d+/, emulator.url).split(" ");
    const resent = await runCli(resendArgs, { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY } });

    expect(resent.status).toBe(0);
    expect([...emulator.accepted.keys()].sort()).toEqual(["m-2", "m-3"]);
  });

  test("run with --state: resend checkpoint beside it", async () => {
    const result = await sendWithRejections(["--state", "trial/state.json"], { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY } });
    const lines = result.stderr.split("\n");
    const command = lines[lines.indexOf("  to send the dead letters again once their cause is fixed:") + 1]?.trim() ?? "";
    const args = command.slice(printedCommand(directory).length + 1);

    expect(args).toMatch(/^send --endpoint http:\/\/127\.0\.0\.1:\d+ --state trial\/state-resend\.json --no-stitch trial\/state\.dead-letters\.jsonl$/);

    emulator = await startKoalaEmulator({ publicKey: KEY, faults: { rejectEntry: (entry) => JSON.stringify(entry).includes("m-3") } });
    const resent = await runCli(args.replace(/http:\/\/127\.0\.0\.1:\d+/, emulator.url).split(" "), { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY } });

    expect(resent.status).toBe(1);
    expect([...emulator.accepted.keys()]).toEqual(["m-2"]);
    expect(existsSync(join(directory, "trial", "state-resend.json"))).toBe(true);
    expect(readFileSync(join(directory, "trial", "state-resend.dead-letters.jsonl"), "utf8")).toContain('"m-3"');
    expect(existsSync(join(directory, ".koala-replay"))).toBe(false);
  });

  test.each([
    [["--state=/tmp/runs/backfill.json"], "--state /tmp/runs/backfill-resend.json"],
    [["--state", "state"], "--state state-resend.json"],
    [["--state", "./state.json"], "--state state-resend.json"],
  ])("--state given as %j", (stateArgs, expected) => {
    const command = deadLetterResendCommand("dead.jsonl", ["send", "--endpoint", "http://127.0.0.1:9", ...stateArgs, "events.jsonl"]);

    expect(command).toContain(` send --endpoint http://127.0.0.1:9 ${expected} --no-stitch dead.jsonl`);
  });

  test("key on the command line is a placeholder", async () => {
    const result = await sendWithRejections(["--public-key", KEY, "--dead-letter", join(directory, "dead.jsonl")], { cwd: directory });

    expect(result.stderr).not.toContain(KEY);
    expect(result.stderr).toContain(`  ${printedCommand(directory)} send --endpoint `);
    expect(result.stderr).toContain(" --public-key '<public key>' --no-stitch dead.jsonl\n");
  });

  test("npx --prefix kept", async () => {
    const prefix = join(directory, "tools");
    const env = { KOALA_PUBLIC_KEY: KEY, npm_command: "exec", npm_config_local_prefix: prefix };
    const result = await sendWithRejections(["--dead-letter", join(directory, "dead.jsonl")], { cwd: directory, env });

    expect(result.stderr).toContain(`  npx --prefix ${prefix} koala-replay send --endpoint `);
  });

  test("no command without dead letters", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const events = join(directory, "events.jsonl");
    writeFileSync(events, `${identifyLine("ada@example.com", "m-1")}\n`);
    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, events], { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY } });

    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain("dead letters again");
  });
});

describe("dead-letter file of an earlier run", () => {
  test("second run says it appended", async () => {
    const args = ["--dead-letter", "dead.jsonl", "--state", "state.json"];
    const options = { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory };
    const first = await sendWithRejections(args, options);
    const second = await sendWithRejections(args, options);
    const lines = readFileSync(join(directory, "dead.jsonl"), "utf8").trim().split("\n");

    expect(first.stderr).toContain("dead letters           2 written to");
    expect(unwrapSummary(second.stderr)).toContain("dead letters 2 appended to dead.jsonl, which also contains the dead letters of earlier runs;");
    expect(lines).toHaveLength(4);
  });
});

describe("dead-letter file cut off mid-line", () => {
  test("next line is resent, not merged", async () => {
    // What a run killed while it wrote a line leaves: the start of a line, without its newline.
    const deadLetterPath = join(directory, "dead.jsonl");
    writeFileSync(deadLetterPath, '{"koalaReplayDeadLetter":1,"reason":"rejected-by-api","status":400,"attem');
    await sendWithRejections(["--dead-letter", deadLetterPath, "--state", join(directory, "state.json")]);
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", join(directory, "resend-state.json"), deadLetterPath], {
      env: { KOALA_PUBLIC_KEY: KEY },
    });

    expect(readFileSync(deadLetterPath, "utf8").split("\n")).toHaveLength(4);
    expect([...emulator.accepted.keys()].sort()).toEqual(["m-2", "m-3"]);
    expect(unwrapSummary(result.stderr)).toContain(`${deadLetterPath}:1 malformed-json`);
  });
});

describe("dead letters and an email exclusion added since", () => {
  test("config in working directory leaves them out, counted", async () => {
    const deadLetterPath = await writeDeadLetters();
    const init = await runCli(["init"], { cwd: directory });
    const configPath = join(directory, "koala-replay.config.json");
    const config = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
    writeFileSync(configPath, JSON.stringify({ ...config, excludeEmails: ["*@EXAMPLE.com"] }));
    emulator = await startKoalaEmulator({ publicKey: KEY });
    const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--state", "resend-state.json", "--report", "report.json", deadLetterPath], {
      env: { KOALA_PUBLIC_KEY: KEY },
      cwd: directory,
    });
    const summary = unwrapSummary(result.stderr);
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as Record<string, any>;

    expect(init.status).toBe(0);
    expect(result.status).toBe(0);
    expect(emulator.accepted.size).toBe(0);
    expect(summary).toContain(
      "dead letters excluded 2 lines not resent: the email matches a pattern of excludeEmails in koala-replay.config.json, which apply to resent dead letters too (counted under excluded-email). To send them, remove the pattern and give the dead-letter file again",
    );
    expect(summary).not.toContain("every one was delivered");
    expect(report.resentDeadLetters).toEqual({ read: 2, valid: 2, invalid: 0, excluded: 2 });
    expect(report.skippedByReason["excluded-email"]).toBe(2);
  });
});

describe("resend command and email exclusions", () => {
  test("carries --exclude-emails of the run", async () => {
    const events = join(directory, "events.jsonl");
    writeFileSync(events, `${[identifyLine("ada@example.com", "m-1"), identifyLine("staff@corp.com", "m-2")].join("\n")}\n`);
    const args = ["send", "--no-stitch", "--dead-letter", "dead.jsonl", "--state", "state.json"];
    const options = { cwd: directory, env: { KOALA_PUBLIC_KEY: KEY } };
    const rejecting = await startKoalaEmulator({ publicKey: KEY, faults: { rejectEntry: () => true } });
    let second: CliResult;
    try {
      await runCli([...args, "--endpoint", rejecting.url, events], options);
      second = await runCli([...args, "--endpoint", rejecting.url, "--restart", "--exclude-emails", "*@corp.com", events], options);
    } finally {
      await rejecting.close();
    }
    const lines = second.stderr.split("\n");
    const command = lines[lines.indexOf("  to send the dead letters again once their cause is fixed:") + 1]?.trim() ?? "";
    const resendArgs = command.slice(printedCommand(directory).length + 1);

    expect(resendArgs).toMatch(/^send --endpoint http:\/\/127\.0\.0\.1:\d+ --exclude-emails '\*@corp\.com' --state state-resend\.json --no-stitch dead\.jsonl$/);

    emulator = await startKoalaEmulator({ publicKey: KEY });
    // The shell would take the quotes off the pattern, and the emulator that rejected the entries is gone.
    const resent = await runCli(resendArgs.replace("'*@corp.com'", "*@corp.com").replace(/http:\/\/127\.0\.0\.1:\d+/, emulator.url).split(" "), options);

    expect(resent.status).toBe(0);
    expect([...emulator.accepted.keys()]).toEqual(["m-1"]);
  });

  test.each([
    [["--exclude-emails=*@corp.com", "--exclude-emails", "ceo@partner.example"], "'--exclude-emails=*@corp.com' --exclude-emails ceo@partner.example"],
    [["--config", "replay.json"], "--config replay.json"],
    [["--config=replay.json"], "--config=replay.json"],
    [["-c", "replay.json"], "-c replay.json"],
    [["-creplay.json"], "-creplay.json"],
    [["--max-outage-ms", "600000"], "--max-outage-ms 600000"],
    [["--max-outage-ms=600000"], "--max-outage-ms=600000"],
    [["--report", "out/r1.json"], "--report out/r1-resend.json"],
    [["--report=r1-resume.json"], "--report=r1-resend.json"],
    [["--not-sent", "not-sent.jsonl"], "--not-sent not-sent-resend.jsonl"],
  ])("keeps %j", (runArgs, expected) => {
    const command = deadLetterResendCommand("dead.jsonl", ["send", "--endpoint", "http://127.0.0.1:9", ...runArgs, "--filter", "type = 'track'", "events.jsonl"]);

    expect(command).toContain(` send --endpoint http://127.0.0.1:9 ${expected} --no-stitch dead.jsonl`);
  });
});
