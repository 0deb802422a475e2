import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator, type KoalaEmulator } from "../emulator/koala-emulator.js";
import { generatedEvent } from "../helpers/generated-archive.js";
import { runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

const KEY = "pk_not_sent_0123456789abcdef";
const NO_SPACE = existsSync("/dev/full");

let directory: string;
let emulator: KoalaEmulator | undefined;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-not-sent-"));
});
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  rmSync(directory, { recursive: true, force: true });
});

interface NotSentReason {
  category: "skipped" | "invalid" | "unreadable";
  reason: string;
  message: string;
  mapping?: string;
}

interface NotSentLine extends NotSentReason {
  input: string;
  line: number;
  reasons: NotSentReason[];
  event?: Record<string, unknown>;
  raw?: string;
  rawBase64?: string;
}

interface Report {
  exitStatus: number;
  counts: { eventsRead: number; entriesSent: number; skipped: number; invalid: number; unreadable: number; failed: number };
  skippedByReason: Record<string, number>;
  invalidByReason: Record<string, number>;
  unreadableByReason: Record<string, number>;
  notSentFile: { path: string; lines: number; linesLost: number; error: string | null } | null;
}

/** One line of each kind that is not sent, by the reason it gets. */
const TIMESTAMP = "2024-02-01T00:00:00.000Z";
const MESSY_LINES: ReadonlyArray<readonly [string, string]> = [
  ["malformed-json", "{broken"],
  ["not-an-object", "[1,2]"],
  ["no-mapping-matched", JSON.stringify({ type: "weird", messageId: "messy-weird", userId: "user-1", timestamp: TIMESTAMP })],
  ["invalid", JSON.stringify({ type: "track", messageId: "messy-no-name", userId: "user-1", traits: { email: "user-1@example.com" }, timestamp: TIMESTAMP })],
  [
    "browser-event",
    JSON.stringify({ type: "track", event: "Clicked", messageId: "messy-browser", userId: "user-1", context: { library: { name: "analytics.js" }, traits: { email: "user-1@example.com" } }, timestamp: TIMESTAMP }),
  ],
  ["filtered-out", JSON.stringify({ ...generatedEvent(1), messageId: "messy-late", timestamp: "2031-01-01T00:00:00.000Z" })],
  ["excluded-email", JSON.stringify({ type: "identify", messageId: "messy-blocked", userId: "blocked", traits: { email: "someone@blocked.example" }, timestamp: TIMESTAMP })],
  ["no-identity", JSON.stringify({ type: "track", event: "Anonymous", messageId: "messy-anonymous", anonymousId: "never-identified", timestamp: TIMESTAMP })],
  ["duplicate-message-id", JSON.stringify(generatedEvent(3))],
];

/**
 * Writes an archive of `count` generated events with one messy line of each kind every 500 events,
 * so that the lines not sent come from chunks that worker threads process (past 1 MiB of input).
 */
function writeMessyArchive(count: number): string {
  const lines: string[] = [];
  for (let index = 0; index < count; index += 1) {
    lines.push(JSON.stringify(generatedEvent(index)));
    if (index % 500 === 499) {
      lines.push(...MESSY_LINES.map(([, line]) => line));
    }
  }
  const path = join(directory, "archive.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

/** Returns the category of a reason of `MESSY_LINES`, where "invalid" stands for any invalid reason. */
function categoryOf(reason: string): NotSentLine["category"] {
  if (reason === "invalid") {
    return "invalid";
  }
  if (reason === "malformed-json" || reason === "not-an-object") {
    return "unreadable";
  }
  return "skipped";
}

function readNotSent(path: string): NotSentLine[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as NotSentLine);
}

/** Counts the reasons of every line by `category` and the key the report counts them under. */
function countByReason(lines: readonly NotSentLine[], category: NotSentLine["category"]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reason of lines.flatMap((line) => line.reasons).filter((candidate) => candidate.category === category)) {
    counts[reason.reason] = (counts[reason.reason] ?? 0) + 1;
  }
  return counts;
}

function sendArgs(archive: string, notSent: string, report: string): string[] {
  return ["send", archive, "--not-sent", notSent, "--report", report, "--until", "2030-01-01", "--exclude-emails", "*@blocked.example", "--state", join(directory, "state.json")];
}

describe("send --not-sent", () => {
  test("every event is sent or listed", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, keepRequests: false });
    const archive = writeMessyArchive(8_000);
    const archiveLines = readFileSync(archive, "utf8").split("\n").slice(0, -1);
    expect(statSync(archive).size).toBeGreaterThan(1024 * 1024);
    const notSentPath = join(directory, "not-sent.ndjson");
    const reportPath = join(directory, "report.json");

    const result = await runCli([...sendArgs(archive, notSentPath, reportPath), "--endpoint", emulator.url], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as Report;
    const lines = readNotSent(notSentPath);

    expect(result.stderr).not.toContain("internal error");
    expect(result.status).toBe(1);
    expect(report.counts.failed).toBe(0);
    expect(lines.flatMap((line) => line.reasons).length).toBe(report.counts.skipped + report.counts.invalid + report.counts.unreadable);
    expect(new Set(lines.map((line) => line.line)).size).toBe(lines.length);
    expect(countByReason(lines, "skipped")).toEqual(report.skippedByReason);
    expect(countByReason(lines, "invalid")).toEqual(report.invalidByReason);
    expect(countByReason(lines, "unreadable")).toEqual(report.unreadableByReason);
    for (const [reason] of MESSY_LINES) {
      const category = categoryOf(reason);
      expect(lines.filter((line) => line.category === category && (category === "invalid" || line.reason === reason)).length, reason).toBe(16);
    }
    expect(report.notSentFile).toEqual({ path: notSentPath, lines: lines.length, linesLost: 0, error: null });
    expect(report.counts.entriesSent).toBe(emulator.accepted.size);

    // Each line of the archive is either an entry Koala accepted or a line of the file, with its event or text.
    const listed = new Map(lines.map((line) => [line.line, line]));
    const unaccounted: number[] = [];
    archiveLines.forEach((text, index) => {
      const line = listed.get(index + 1);
      if (line !== undefined) {
        expect(line.input).toBe(archive);
        if (line.category === "unreadable") {
          expect(line.raw).toBe(text);
        } else {
          expect(line.event).toEqual(JSON.parse(text));
        }
        return;
      }
      const messageId = (JSON.parse(text) as { messageId: string }).messageId;
      if (!emulator?.accepted.has(messageId)) {
        unaccounted.push(index + 1);
      }
    });
    expect(unaccounted).toEqual([]);
    expect(unwrapSummary(result.stderr)).toContain(`not-sent file not-sent.ndjson: ${lines.length.toLocaleString("en-US")} lines, one for each event not sent or line not read, with its reasons counted under skipped, invalid or unreadable`);
  }, 120_000);

  test("event not sent by two mappings gets one line", async () => {
    const configPath = join(directory, "two-mappings.json");
    const field = (path: string): { "@path": string } => ({ "@path": path });
    const mapping = (name: string, trigger: string, eventPath: string): Record<string, unknown> => ({
      name,
      trigger,
      action: "trackEvent",
      mapping: { email: field("$.traits.email"), event: field(eventPath), sent_at: field("$.timestamp"), message_id: field("$.messageId") },
    });
    // Track B maps `event` from a field no event has, so every entry it builds is invalid.
    writeFileSync(configPath, JSON.stringify({ mappings: [mapping("Track A", 'type = "track"', "$.event"), mapping("Track B", 'type = "track" and event = "Clicked"', "$.properties.missing")] }));
    const events = [
      { type: "track", event: "Clicked", messageId: "both-browser", userId: "u1", context: { library: { name: "analytics.js" } }, traits: { email: "a@example.com" }, timestamp: TIMESTAMP },
      { type: "track", event: "Clicked", messageId: "invalid-and-anonymous", anonymousId: "x", timestamp: TIMESTAMP },
      { type: "track", event: "Clicked", messageId: "one-sent", userId: "u2", traits: { email: "b@example.com" }, timestamp: TIMESTAMP },
    ];
    const archive = join(directory, "events.jsonl");
    writeFileSync(archive, `${events.map((event) => JSON.stringify(event)).join("\n")}\n`);
    const notSentPath = join(directory, "not-sent.ndjson");
    const reportPath = join(directory, "report.json");

    const result = await runCli(["send", "--dry-run", "--no-stitch", "-c", configPath, "--not-sent", notSentPath, "--report", reportPath, archive], { cwd: directory });
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as Report;
    const lines = readNotSent(notSentPath);

    expect(result.status).toBe(1);
    expect(lines.map((line) => line.line)).toEqual([1, 2, 3]);
    expect(lines[0]?.reasons.map((reason) => [reason.reason, reason.mapping])).toEqual([
      ["browser-event", "Track A"],
      ["browser-event", "Track B"],
    ]);
    expect(lines[0]?.reason).toBe("browser-event");
    expect(lines[0]?.mapping).toBe("Track A");
    expect(lines[1]?.reasons.map((reason) => [reason.category, reason.reason])).toEqual([
      ["invalid", "Track B: event: is required but the mapping gave no value (or null, or an empty string)"],
      ["skipped", "no-identity"],
    ]);
    expect(lines[1]?.event).toEqual(events[1]);
    expect(lines[2]?.reasons).toHaveLength(1);
    expect(lines[2]?.category).toBe("invalid");
    expect(lines.flatMap((line) => line.reasons).length).toBe(report.counts.skipped + report.counts.invalid + report.counts.unreadable);
    expect(report.notSentFile?.lines).toBe(3);
  });

  test("dry run writes the same lines", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, keepRequests: false });
    const archive = writeMessyArchive(4_000);
    const sentPath = join(directory, "sent.ndjson");
    const dryPath = join(directory, "dry.ndjson");
    await runCli([...sendArgs(archive, sentPath, join(directory, "sent.json")), "--endpoint", emulator.url], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });

    const dryRun = await runCli(["send", "--dry-run", archive, "--not-sent", dryPath, "--until", "2030-01-01", "--exclude-emails", "*@blocked.example"], { cwd: directory });

    expect(dryRun.status).toBe(1);
    const sorted = (path: string): string[] => readFileSync(path, "utf8").split("\n").sort();
    expect(sorted(dryPath).length).toBeGreaterThan(50);
    expect(sorted(dryPath)).toEqual(sorted(sentPath));
  }, 120_000);

  test("resume leaves out what earlier runs finished", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, keepRequests: false });
    const archive = writeMessyArchive(1_000);
    const args = (notSent: string): string[] => [...sendArgs(archive, join(directory, notSent), join(directory, `${notSent}.json`)), "--endpoint", emulator?.url ?? ""];
    await runCli(args("first.ndjson"), { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });

    const resumed = await runCli([...args("resumed.ndjson"), "--resume"], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });

    const report = JSON.parse(readFileSync(join(directory, "resumed.ndjson.json"), "utf8")) as Report;
    const lines = readNotSent(join(directory, "resumed.ndjson"));
    const finishedEarlier = report.counts.skipped - (report.skippedByReason["no-identity"] ?? 0);
    expect(readNotSent(join(directory, "first.ndjson")).length).toBe(18);
    // Unreadable lines are in the first run's file, and the resume counts them as reported earlier.
    expect(lines).toEqual([]);
    expect(report.counts.unreadable).toBe(0);
    expect(report.skippedByReason["unreadable-earlier"]).toBe(4);
    expect(finishedEarlier).toBeGreaterThan(1_000);
    expect(unwrapSummary(resumed.stderr)).toContain(`but not the ${report.counts.skipped.toLocaleString("en-US")} that earlier runs finished`);
  }, 120_000);

  // After a SIGKILL no resume command is printed, and the natural one is the same command with
  // --resume. It emptied the earlier run's not-sent file, whose lines the resume does not write again.
  test("resume keeps the earlier not-sent file", async () => {
    const faults: { downStatus?: number } = { downStatus: 503 };
    emulator = await startKoalaEmulator({ publicKey: KEY, faults });
    const archive = join(directory, "events.jsonl");
    const events = [1, 2, 3].map((index) => JSON.stringify({ type: "track", event: "Clicked", messageId: `keep-${index}`, timestamp: TIMESTAMP, context: { traits: { email: `p${index}@example.com` } } }));
    writeFileSync(archive, `${events.join("\n")}\n{broken\n`);
    const notSentPath = join(directory, "not-sent.ndjson");
    const args = ["send", archive, "--no-stitch", "--endpoint", emulator.url, "--state", join(directory, "state.json"), "--not-sent", notSentPath, "--max-outage-ms", "500"];
    const first = await runCli(args, { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });
    const written = readFileSync(notSentPath, "utf8");
    delete faults.downStatus;
    const requestsBefore = emulator.stats.requests;

    const resumed = await runCli([...args, "--resume"], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });

    expect(first.status).toBe(3);
    expect(written).toContain("malformed-json");
    expect(resumed.status).toBe(2);
    expect(unwrapSummary(resumed.stderr)).toContain(`--not-sent ${join(directory, "not-sent-resume.ndjson")}`);
    expect(readFileSync(notSentPath, "utf8")).toBe(written);
    expect(emulator.stats.requests).toBe(requestsBefore);
  }, 60_000);

  test("line not UTF-8 keeps its bytes", async () => {
    const path = join(directory, "latin1.jsonl");
    const bytes = Buffer.concat([Buffer.from('{"type":"track","event":"Caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]);
    writeFileSync(path, bytes);
    const notSentPath = join(directory, "not-sent.ndjson");

    const result = await runCli(["send", "--dry-run", path, "--not-sent", notSentPath], { cwd: directory });

    expect(result.status).toBe(1);
    const [line] = readNotSent(notSentPath);
    expect(line?.reason).toBe("not-utf8");
    expect(line?.raw).toBeUndefined();
    expect(Buffer.from(line?.rawBase64 ?? "", "base64")).toEqual(bytes.subarray(0, bytes.length - 1));
  });

  test("run that skips nothing leaves an empty file", async () => {
    const path = join(directory, "events.jsonl");
    writeFileSync(path, `${JSON.stringify(generatedEvent(0))}\n`);
    const notSentPath = join(directory, "not-sent.ndjson");

    const result = await runCli(["send", "--dry-run", path, "--not-sent", notSentPath], { cwd: directory });

    expect(result.status).toBe(0);
    expect(readFileSync(notSentPath, "utf8")).toBe("");
    expect(statSync(notSentPath).mode & 0o777).toBe(0o600);
  });

  test.each([
    ["a directory inside a file", (dir: string) => join(dir, "events.jsonl", "sub", "not-sent.ndjson"), "cannot be created, because"],
    ["a directory", (dir: string) => dir, "it is a directory"],
    ["the input", (dir: string) => join(dir, "events.jsonl"), "it is the input"],
    ["the report", (dir: string) => join(dir, "report.json"), "it is the not-sent file of this run"],
  ])("path naming %s is rejected", async (_label, pathOf, expected) => {
    const path = join(directory, "events.jsonl");
    const original = `${JSON.stringify({ type: "weird" })}\n`;
    writeFileSync(path, original);

    const result = await runCli(["send", "--dry-run", path, "--report", join(directory, "report.json"), "--not-sent", pathOf(directory)], { cwd: directory });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain(expected);
    expect(result.stdout).toBe("");
    expect(readFileSync(path, "utf8")).toBe(original);
  });

  test("path inside an input folder is rejected", async () => {
    const folder = join(directory, "logs");
    mkdirSync(folder);
    writeFileSync(join(folder, "events.jsonl"), `${JSON.stringify({ type: "weird" })}\n`);

    const result = await runCli(["send", "--dry-run", "logs", "--not-sent", "logs/not-sent.ndjson"], { cwd: directory });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain("the not-sent file logs/not-sent.ndjson is inside the input folder logs");
    expect(existsSync(join(folder, "not-sent.ndjson"))).toBe(false);
  });

  test("file that is not writable is rejected", async () => {
    const path = join(directory, "events.jsonl");
    writeFileSync(path, `${JSON.stringify({ type: "weird" })}\n`, { mode: 0o644 });
    const notSentPath = join(directory, "not-sent.ndjson");
    writeFileSync(notSentPath, "kept\n", { mode: 0o400 });
    // Root may write any file, so the run is made as another user when the tests run as root.
    chmodSync(directory, 0o755);

    const result = await runCli(["send", "--dry-run", path, "--not-sent", notSentPath], { cwd: directory, ...(process.getuid?.() === 0 ? { user: { uid: 65534, gid: 65534 } } : {}) });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain("the file is not writable (EACCES)");
    expect(readFileSync(notSentPath, "utf8")).toBe("kept\n");
  });

  test.skipIf(!NO_SPACE)("full disk exits 74 after the run", async () => {
    emulator = await startKoalaEmulator({ publicKey: KEY, keepRequests: false });
    const archive = writeMessyArchive(4_000);
    const reportPath = join(directory, "report.json");

    const result = await runCli([...sendArgs(archive, "/dev/full", reportPath), "--endpoint", emulator.url], { env: { KOALA_PUBLIC_KEY: KEY }, cwd: directory });

    const report = JSON.parse(readFileSync(reportPath, "utf8")) as Report;
    expect(result.status).toBe(74);
    expect(report.exitStatus).toBe(74);
    expect(report.notSentFile?.error).toContain("ENOSPC");
    expect(report.notSentFile?.lines).toBe(0);
    expect(report.notSentFile?.linesLost).toBe(report.counts.skipped + report.counts.invalid + report.counts.unreadable);
    expect(report.counts.entriesSent).toBe(emulator.accepted.size);
    expect(report.counts.entriesSent).toBeGreaterThan(3_000);
    const errors = result.stderr.split("\n").filter((line) => line.startsWith("error:"));
    expect(errors).toHaveLength(1);
    expect(unwrapSummary(result.stderr)).toContain("error: the not-sent file /dev/full could not be written (ENOSPC");
    expect(result.stderr).not.toContain("internal error");
  }, 120_000);
});
