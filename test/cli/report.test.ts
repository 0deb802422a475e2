import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import stringWidth from "string-width";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator } from "../emulator/koala-emulator.js";
import { IdentityCoverage } from "../../src/identity/index.js";
import { RunStats } from "../../src/reporting/run-stats.js";
import { formatSummary } from "../../src/reporting/summary-text.js";
import { wrapText } from "../../src/reporting/wrap-text.js";
import { formatDeadLetterLog, formatInvalidLog, formatRetryLog } from "../../src/reporting/verbose-log.js";
import { writeGeneratedArchive } from "../helpers/generated-archive.js";
import { parseRequests, runCli, type CliResult } from "../helpers/run-cli.js";
import { linesWiderThan, unwrapSummary } from "../helpers/summary-text.js";

const publicKey = "pk_test_0123456789abcdef";

/** The keys of the run report, in order; a change here is a change of the documented layout. */
const reportKeys = [
  "reportVersion",
  "tool",
  "command",
  "workingDirectory",
  "exitStatus",
  "interruption",
  "startedAt",
  "finishedAt",
  "durationMs",
  "options",
  "counts",
  "matchedByMapping",
  "resentDeadLettersByMapping",
  "resentDeadLetters",
  "sentByMapping",
  "skippedByReason",
  "invalidByReason",
  "unreadableByReason",
  "failedByReason",
  "unmatchedTypes",
  "roundedMessageIds",
  "delivery",
  "identityStitching",
  "filesSkipped",
  "notSentFile",
  "unreadableExamples",
  "invalidExamples",
  "failedExamples",
];

function identifyLine(email: string, messageId: string): string {
  return JSON.stringify({ type: "identify", messageId, timestamp: "2024-01-01T00:00:00.000Z", traits: { email } });
}

function trackLine(email: string, messageId: string): string {
  return JSON.stringify({ type: "track", event: "Signed Up", messageId, timestamp: "2024-01-01T00:00:00.000Z", properties: { email } });
}

/** Starts a stand-in for Koala on 127.0.0.1 that returns 400 for rejected@example.com and 200 for all others. */
function startKoalaStandIn(): Promise<{ server: Server; endpoint: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push(`${request.method} ${request.url} ${body}`);
      const rejected = body.includes("rejected@example.com");
      response.writeHead(rejected ? 400 : 200, { "content-type": "application/json" });
      response.end(rejected ? '{"error":"invalid email"}' : "{}");
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, endpoint: `http://127.0.0.1:${port}`, requests });
    });
  });
}

let koala: { server: Server; endpoint: string; requests: string[] };
let directory: string;

beforeAll(async () => {
  koala = await startKoalaStandIn();
});
afterAll(() => {
  koala.server.close();
});
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-report-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

const input = [
  identifyLine("ada@example.com", "m-1"),
  trackLine("ada@example.com", "m-2"),
  trackLine("rejected@example.com", "m-3"),
  JSON.stringify({ type: "page", messageId: "m-4", timestamp: "2024-01-01T00:00:00.000Z" }),
  "{not json",
  "",
].join("\n");

describe("send --report", () => {
  test("report cut short leaves no temporary file", async () => {
    // A file-size limit of one 512-byte block makes the report's write fail part-way with EFBIG, as
    // a full disk does with ENOSPC.
    const path = join(directory, "run.json");
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", path, "-"], { stdin: input, cwd: directory, fileSizeLimitBlocks: 1 });

    expect(unwrapSummary(result.stderr)).toContain(`the report could not be written to ${path} (EFBIG`);
    expect(result.status).toBe(74);
    expect(readdirSync(directory)).toEqual([]);
  });

  test("dry run writes the report file", async () => {
    const path = join(directory, "run.json");
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", path, "-"], { stdin: input });
    const report = JSON.parse(readFileSync(path, "utf8")) as Record<string, any>;

    expect(result.status).toBe(1);
    expect(Object.keys(report)).toEqual(reportKeys);
    expect(report.reportVersion).toBe(3);
    expect(report.command).toBe("send");
    expect(report.exitStatus).toBe(1);
    expect(report.options.dryRun).toBe(true);
    expect(report.options.publicKey).toBeNull();
    expect(report.options.config).toBe("presets");
    expect(report.options.stitch).toBe(false);
    expect(report.options.filters).toEqual([]);
    expect(report.options.maxOutageMs).toBe(120_000);
    expect(report.counts).toEqual({
      filesRead: 1,
      filesSkipped: 0,
      eventsRead: 4,
      entriesSent: 3,
      requestsSent: 3,
      requestsAccepted: 3,
      skipped: 1,
      invalid: 0,
      unreadable: 1,
      failed: 0,
    });
    expect(report.matchedByMapping).toEqual({ "Track Event": 2, "Identify Visitor": 1 });
    expect(report.sentByMapping).toEqual({ "Track Event": 2, "Identify Visitor": 1 });
    expect(report.skippedByReason).toEqual({ "no-mapping-matched": 1 });
    expect(report.unmatchedTypes).toEqual({ page: 1 });
    expect(report.unreadableByReason).toEqual({ "malformed-json": 1 });
    expect(report.unreadableExamples[0]).toMatchObject({ input: "-", line: 5, reason: "malformed-json" });
    expect(Date.parse(report.finishedAt) - Date.parse(report.startedAt)).toBe(report.durationMs);
    // The text summary still goes to stderr; the requests to stdout.
    expect(result.stderr).toContain("koala-replay: 3 entries would be sent");
    expect(result.stderr).toMatch(/files read +stdin\n/);
    expect(result.stdout.trim().split("\n")).toHaveLength(3);
  });

  test("real send records failures and masks the key", async () => {
    const path = join(directory, "run.json");
    const result = await runCli(["send", "--no-stitch", "--endpoint", koala.endpoint, "--report", path, "-"], { stdin: input, env: { KOALA_PUBLIC_KEY: publicKey } });
    const text = readFileSync(path, "utf8");
    const report = JSON.parse(text) as Record<string, any>;

    expect(result.status).toBe(1);
    expect(text).not.toContain(publicKey);
    expect(report.options.publicKey).toBe("pk_t****");
    expect(report.options.endpoint).toBe(koala.endpoint);
    expect(report.counts.entriesSent).toBe(2);
    expect(report.counts.failed).toBe(1);
    expect(report.sentByMapping).toEqual({ "Identify Visitor": 1, "Track Event": 1 });
    expect(report.failedByReason).toEqual({ 'HTTP 400: rejected-by-api: {"error":"invalid email"}': 1 });
    expect(report.failedExamples).toEqual([{ input: "-", line: 3, mapping: "Track Event", reason: 'rejected-by-api: {"error":"invalid email"}', status: 400 }]);
  });

  test("paths relative to the working directory", async () => {
    writeFileSync(join(directory, "events.jsonl"), input);
    const result = await runCli(["send", "--no-stitch", "--endpoint", koala.endpoint, "--report", "run.json", "events.jsonl"], { cwd: directory, env: { KOALA_PUBLIC_KEY: publicKey } });
    const report = JSON.parse(readFileSync(join(directory, "run.json"), "utf8")) as Record<string, any>;

    expect(report.workingDirectory).toBe(realpathSync(directory));
    expect(report.failedExamples[0].input).toBe("events.jsonl");
    const deadLetters = /dead letters 1 written to (\S+);/.exec(unwrapSummary(result.stderr))?.[1];
    expect(deadLetters).toMatch(/^\.koala-replay\/state-[0-9a-f]+\.dead-letters\.jsonl$/);
    expect(join(report.workingDirectory, deadLetters!)).toBe(report.delivery.deadLetterPath);
    const checkpoint = /checkpoint +(\S+)\n/.exec(result.stderr)?.[1];
    expect(join(report.workingDirectory, checkpoint!)).toBe(report.delivery.statePath);
  });

  test("relative --state and --dead-letter reported absolute", async () => {
    writeFileSync(join(directory, "events.jsonl"), input);
    await runCli(["send", "--no-stitch", "--endpoint", koala.endpoint, "--state", "st.json", "--dead-letter", "dead.jsonl", "--report", "run.json", "events.jsonl"], {
      cwd: directory,
      env: { KOALA_PUBLIC_KEY: publicKey },
    });
    const report = JSON.parse(readFileSync(join(directory, "run.json"), "utf8")) as Record<string, any>;

    expect(report.delivery.statePath).toBe(join(report.workingDirectory, "st.json"));
    expect(report.delivery.deadLetterPath).toBe(join(report.workingDirectory, "dead.jsonl"));
  });

  test("maxRps is null without --max-rps", async () => {
    const path = join(directory, "run.json");
    await runCli(["send", "--dry-run", "--no-stitch", "--report", path, "-"], { stdin: input });
    const report = JSON.parse(readFileSync(path, "utf8")) as Record<string, any>;

    expect(report.options).toHaveProperty("maxRps", null);
  });

  test("paths outside the working directory stay absolute", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "koala-replay-elsewhere-"));
    try {
      const deadLetterPath = join(elsewhere, "dead.jsonl");
      const result = await runCli(["send", "--no-stitch", "--endpoint", koala.endpoint, "--dead-letter", deadLetterPath, "-"], { cwd: directory, stdin: input, env: { KOALA_PUBLIC_KEY: publicKey } });

      expect(unwrapSummary(result.stderr)).toContain(`1 written to ${deadLetterPath};`);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  test("stitching counts are recorded", async () => {
    const archive = join(directory, "stitch.jsonl");
    const identify = JSON.stringify({ type: "identify", userId: "u-1", messageId: "s-1", timestamp: "2024-01-01T00:00:00.000Z", traits: { email: "ada@example.com" } });
    const track = JSON.stringify({ type: "track", event: "Paid", userId: "u-1", messageId: "s-2", timestamp: "2024-01-02T00:00:00.000Z" });
    writeFileSync(archive, `${identify}\n${track}\n`);
    const path = join(directory, "run.json");
    await runCli(["send", "--dry-run", "--report", path, archive]);
    const report = JSON.parse(readFileSync(path, "utf8")) as Record<string, any>;

    expect(report.options.stitch).toBe(true);
    expect(report.identityStitching.stitch).toBe(true);
    expect(report.identityStitching.before).toEqual({ withEmail: 1, withProfileIdOnly: 0, withNeither: 1 });
    expect(report.identityStitching.after).toEqual({ withEmail: 2, withProfileIdOnly: 0, withNeither: 0 });
    expect(report.identityStitching.stitched).toBe(1);
    expect(report.counts.entriesSent).toBe(2);
  });

  test("report directory inside a file fails before the run", async () => {
    const file = join(directory, "a-file");
    writeFileSync(file, "");
    const path = join(file, "reports", "run.json");
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", path, "-"], { stdin: input });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain(`cannot write the report to "${path}": the directory ${join(file, "reports")} cannot be created, because ${file} is a file`);
    expect(result.stderr).not.toContain("    at ");
    expect(result.stdout).toBe("");
  });

  test("report path that is a directory fails before the run", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", directory, "-"], { stdin: input });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain("it is a directory");
    expect(result.stdout).toBe("");
  });

  test("report path that is an input fails before the run", async () => {
    const events = join(directory, "events.jsonl");
    writeFileSync(events, input);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", "./events.jsonl", events], { cwd: directory });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain(`error: cannot write the report to "./events.jsonl": it is the input ${events}, which the report would replace`);
    expect(result.stdout).toBe("");
    expect(readFileSync(events, "utf8")).toBe(input);
  });
});

describe("reports in a walked folder", () => {
  /**
   * Writes an events file into a new folder, then the report of a dry run of the folder and its
   * inspect --json report. The reports have names of event files, so only their content marks them.
   */
  async function writeReportsInFolder(name: string): Promise<{ folder: string; sendReport: string; inspectReport: string; first: CliResult }> {
    const folder = join(directory, name);
    mkdirSync(folder);
    writeFileSync(join(folder, "events.jsonl"), input);
    const sendReport = join(folder, "run-1.jsonl");
    const inspectReport = join(folder, "inspect.json");
    const first = await runCli(["send", "--dry-run", "--no-stitch", "--report", sendReport, folder]);
    const inspected = await runCli(["inspect", "--json", "--no-stitch", folder]);
    writeFileSync(inspectReport, inspected.stdout);
    return { folder, sendReport, inspectReport, first };
  }

  test("skipped by content with a warning", async () => {
    const { folder, sendReport, inspectReport, first } = await writeReportsInFolder("archive");
    const again = await runCli(["send", "--dry-run", "--no-stitch", folder]);
    const previewed = await runCli(["preview", "--no-stitch", folder]);

    expect(first.status).toBe(1);
    expect(again.status).toBe(1);
    expect(unwrapSummary(again.stderr)).toContain(`warning: skipped ${sendReport}: a koala-replay report (--report or --json output), not events`);
    expect(unwrapSummary(again.stderr)).toContain(`warning: skipped ${inspectReport}: a koala-replay report`);
    expect(unwrapSummary(again.stderr)).toContain("files read 1 (2 skipped, see the warnings)");
    expect(parseRequests(again.stdout)).toEqual(parseRequests(first.stdout));
    expect(unwrapSummary(previewed.stderr)).toContain(`warning: skipped ${sendReport}: a koala-replay report`);
  });

  test("version 1 reports skipped too", async () => {
    const { folder, sendReport, inspectReport } = await writeReportsInFolder("old-reports");
    // Reports written before version 2 differ only in their reportVersion where the walk looks.
    for (const report of [sendReport, inspectReport]) {
      writeFileSync(report, readFileSync(report, "utf8").replace(/"reportVersion": [23]/, '"reportVersion": 1'));
    }
    const result = await runCli(["send", "--dry-run", "--no-stitch", folder]);

    expect(readFileSync(sendReport, "utf8")).toContain('"reportVersion": 1');
    expect(readFileSync(inspectReport, "utf8")).toContain('"reportVersion": 1');
    expect(unwrapSummary(result.stderr)).toContain(`warning: skipped ${sendReport}: a koala-replay report`);
    expect(unwrapSummary(result.stderr)).toContain(`warning: skipped ${inspectReport}: a koala-replay report`);
    expect(unwrapSummary(result.stderr)).toContain("files read 1 (2 skipped, see the warnings)");
  });

  test("events file named report.json is read", async () => {
    const folder = join(directory, "named-like-a-report");
    mkdirSync(folder);
    writeFileSync(join(folder, "report.json"), `${JSON.stringify({ reportVersion: 1, type: "track", event: "Report Viewed", messageId: "r-1", timestamp: "2024-01-01T00:00:00.000Z", properties: { email: "ada@example.com" } })}\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", folder]);

    expect(result.stderr).not.toContain("warning: skipped");
    expect(parseRequests(result.stdout)).toHaveLength(1);
  });

  test("named directly, a report is read", async () => {
    const path = join(directory, "run.json");
    await runCli(["send", "--dry-run", "--no-stitch", "--report", path, "-"], { stdin: input });

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(result.stderr).not.toContain("a koala-replay report");
    expect(unwrapSummary(result.stderr)).toContain("events read 1");
  });
});

describe("send --json", () => {
  test("prints the report on stdout instead of the summary", async () => {
    const result = await runCli(["send", "--no-stitch", "--endpoint", koala.endpoint, "--json", "-"], { stdin: input, env: { KOALA_PUBLIC_KEY: publicKey } });
    const report = JSON.parse(result.stdout) as Record<string, any>;

    expect(Object.keys(report)).toEqual(reportKeys);
    expect(report.counts.eventsRead).toBe(4);
    expect(result.stderr).not.toContain("koala-replay:");
    expect(result.stderr).toContain("warning:");
    expect(result.stdout).not.toContain(publicKey);
  });

  test("--json and --report write the same report", async () => {
    const path = join(directory, "run.json");
    const result = await runCli(["send", "--no-stitch", "--endpoint", koala.endpoint, "--json", "--report", path, "-"], { stdin: input, env: { KOALA_PUBLIC_KEY: publicKey } });

    expect(readFileSync(path, "utf8")).toBe(result.stdout);
  });

  test("rejected with --dry-run before reading", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--json", "-"], { stdin: input });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: --json cannot be combined with --dry-run");
    expect(result.stderr).toContain("--report");
    expect(result.stdout).toBe("");
  });

  test("--quiet keeps the JSON and drops the warnings", async () => {
    const result = await runCli(["send", "--no-stitch", "--endpoint", koala.endpoint, "--json", "--quiet", "-"], { stdin: input, env: { KOALA_PUBLIC_KEY: publicKey } });

    expect(JSON.parse(result.stdout)).toHaveProperty("counts");
    expect(result.stderr).toBe("");
  });
});

describe("an archive with a different bad value in every event", () => {
  // 300 track events whose timestamps are all invalid in different ways, and 300 events of 300 types
  // that no mapping matches: one reason and one row of types, not 300 of each.
  const messyInput = Array.from({ length: 300 }, (_, index) => [
    JSON.stringify({ type: "track", event: "Signed Up", messageId: `t-${index}`, timestamp: `not a time ${index}`, properties: { email: `user${index}@example.com` } }),
    JSON.stringify({ type: `custom-${index}`, messageId: `c-${index}` }),
  ]).flat();

  test("groups bad values, caps types", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-messy-"));
    const reportPath = join(directory, "report.json");
    try {
      const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", reportPath, "-"], { stdin: `${messyInput.join("\n")}\n` });
      const report = JSON.parse(readFileSync(reportPath, "utf8")) as { invalidByReason: Record<string, number>; unmatchedTypes: Record<string, number> };
      const summary = unwrapSummary(result.stderr);

      expect(result.status).toBe(1);
      expect(report.invalidByReason).toEqual({ "Track Event: sent_at: must be an ISO-8601 date-time such as 2024-01-31T12:00:00Z": 300 });
      expect(summary).toContain('300 Track Event: sent_at: must be an ISO-8601 date-time such as 2024-01-31T12:00:00Z (first at -:1, found string "not a time 0")');
      expect(Object.keys(report.unmatchedTypes)).toHaveLength(101);
      expect(Object.values(report.unmatchedTypes).reduce((total, count) => total + count, 0)).toBe(300);
      expect(report.unmatchedTypes["(other types, past the first 100)"]).toBe(200);
      expect(summary).toContain("and 290 events of other types.");
      expect(result.stderr.split("\n").length).toBeLessThan(60);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test("every reason that quotes a value groups", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-grouped-"));
    const base = { email: { "@path": "$.properties.email" }, event: { "@path": "$.event" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
    // Each mapping fails on a value of the event that differs from event to event.
    const mappings = [
      { name: "template", mapping: { ...base, event: { "@template": { "@path": "$.properties.template" } } } },
      { name: "date", mapping: { ...base, sent_at: { "@path": "$.properties.date" } } },
      { name: "path", mapping: { ...base, event: { "@path": { "@path": "$.properties.path" } } } },
      { name: "replace", mapping: { ...base, event: { "@replace": { value: { "@path": "$.properties.object" }, pattern: "a", replacement: "b" } } } },
      { name: "type", mapping: { ...base, email: { "@path": "$.properties.list" } } },
    ].map((mapping) => ({ ...mapping, action: "trackEvent", trigger: 'type = "track"' }));
    const events = Array.from({ length: 30 }, (_, index) => ({
      type: "track",
      event: "Signed Up",
      messageId: `m-${index}`,
      timestamp: "2024-01-01T00:00:00Z",
      properties: { email: "a@example.com", template: `{{a..b${index}}}`, date: `day ${index}`, path: `a..b${index}`, object: { index }, list: Array.from({ length: index + 2 }, () => index) },
    }));
    writeFileSync(join(directory, "config.json"), JSON.stringify({ mappings }));
    writeFileSync(join(directory, "events.jsonl"), `${events.map((event) => JSON.stringify(event)).join("\n")}\n`);
    try {
      await runCli(["send", "--dry-run", "--no-stitch", "--config", "config.json", "--report", "report.json", "events.jsonl"], { cwd: directory });
      const inspected = await runCli(["inspect", "--json", "--no-stitch", "--config", "config.json", "events.jsonl"], { cwd: directory });
      const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as { invalidByReason: Record<string, number> };
      const inspectReport = JSON.parse(inspected.stdout) as { mappings: Array<{ name: string; invalidByReason: Record<string, number> }> };

      expect(report.invalidByReason).toEqual({
        "template: /event/@template: @template: invalid placeholder in the computed template: empty key between two dots": 30,
        "date: sent_at: must be an ISO-8601 date-time such as 2024-01-31T12:00:00Z": 30,
        "path: /event/@path: @path: invalid computed path: empty key between two dots": 30,
        "replace: /event/@replace: @replace: the value must be a string, number or boolean": 30,
        "type: email: must be a string": 30,
      });
      for (const mapping of inspectReport.mappings) {
        expect(Object.values(mapping.invalidByReason)).toEqual([30]);
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test("one skipped event: singular verb", async () => {
    const line = JSON.stringify({ type: "track", event: "Signed Up", messageId: "m-1", timestamp: "2024-01-01T00:00:00.000Z", properties: {} });

    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: `${line}\n` });

    expect(unwrapSummary(result.stderr)).toContain("Nothing would be sent: 1 of 1 has no email or profile_id.");
  });

  test("no-identity advice without a config", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-no-identity-"));
    const path = join(directory, "events.jsonl");
    writeFileSync(path, `${JSON.stringify({ type: "track", event: "Signed Up", userId: "u-1", messageId: "m-1", timestamp: "2024-01-01T00:00:00.000Z" })}\n`);
    try {
      const result = await runCli(["send", "--dry-run", path], { cwd: directory });

      expect(unwrapSummary(result.stderr)).toContain("or map an email in a config (");
      expect(unwrapSummary(result.stderr)).toContain(" init writes one).");
      expect(result.stderr).not.toContain("koala-replay.config.json");
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test("summary names the duplicate window", () => {
    const stats = new RunStats();
    const delivery = { dryRun: true, submitted: 0, delivered: 0, deadLettered: {}, deadLetteredTotal: 0, duplicatesSkipped: 0, inputsOfDuplicatesOnly: [], alreadyDone: 0, undelivered: 0 };
    stats.delivery = { ...delivery, requestsSent: 0, requestsAccepted: 0, entriesPerRequest: { mean: 0, max: 0 }, retries: {}, retriesTotal: 0, checkpointErrors: 0, stopped: false, duplicateWindow: 1_572_864 };
    const summary = unwrapSummary(formatSummary(stats, { dryRun: true, browserEventsPolicy: "skip", inputs: ["a.jsonl"], workingDirectory: "/tmp" }));

    expect(summary).toContain(
      "duplicates looked for among the last 1,572,864 entries or more, to keep memory flat; a messageId repeated further apart was printed again. Koala records each message_id once, keeping the first entry",
    );
  });

  test("summary of a run without events keeps identity rows", () => {
    const stats = new RunStats();
    stats.identity = { coverage: new IdentityCoverage(), firstPassMs: 100, graph: undefined, stitch: true };
    const summary = unwrapSummary(formatSummary(stats, { dryRun: true, browserEventsPolicy: "skip", inputs: ["a.jsonl"], workingDirectory: "/tmp" }));

    expect(summary).toContain("identity 0 userIds and anonymousIds linked to an email (first pass 0.1 s); the lines below count entries, not events");
    expect(summary).toContain("identity after stitching: 0 with email, 0 with profile_id only, 0 with neither (0 stitched)");
  });

  test("summary folds invalid reasons past ten", () => {
    const stats = new RunStats();
    for (let index = 0; index < 15; index += 1) {
      stats.countInvalid("Track Event", `@path: invalid computed path "a${index}["`, { input: "a.jsonl", line: index + 1 });
    }
    const summary = unwrapSummary(formatSummary(stats, { dryRun: true, browserEventsPolicy: "skip", inputs: ["a.jsonl"], workingDirectory: "/tmp" }));

    expect(summary).toContain('Track Event: @path: invalid computed path "a9["');
    expect(summary).not.toContain('Track Event: @path: invalid computed path "a10["');
    expect(summary).toContain("5 events for other reasons, which a --report file lists");
  });

  test("summary says when the report folded reasons", () => {
    const stats = new RunStats();
    for (let index = 0; index < 120; index += 1) {
      stats.countInvalid("Track Event", `@path: invalid computed path "a${index}["`, { input: "a.jsonl", line: index + 1 });
    }
    const summary = unwrapSummary(formatSummary(stats, { dryRun: true, browserEventsPolicy: "skip", inputs: ["a.jsonl"], workingDirectory: "/tmp" }));

    // 90 reasons past the ten listed are counted apart, and 20 past the first 100 together.
    expect(summary).toContain("110 events for other reasons, which a --report file counts, listing only the first distinct ones");
    expect(summary).not.toContain("which a --report file lists");
  });

  test("summary counts other failures as entries", () => {
    const stats = new RunStats();
    for (let index = 0; index < 15; index += 1) {
      stats.countFailed({ input: "a.jsonl", line: index + 1, mapping: "Track Event", reason: `HTTP 400: entry ${index} refused`, status: 400, cause: `cause-${index}` });
    }
    const summary = unwrapSummary(formatSummary(stats, { dryRun: false, browserEventsPolicy: "skip", inputs: ["a.jsonl"], workingDirectory: "/tmp" }));

    expect(summary).toContain("5 entries for other reasons, which a --report file lists");
  });

  test("failure reasons bounded per status", () => {
    const stats = new RunStats();
    for (let index = 0; index < 150; index += 1) {
      stats.countFailed({ input: "a.jsonl", line: index + 1, mapping: "Track Event", reason: `rejected-by-api: entry ${index} refused`, status: 400 });
    }
    const summary = unwrapSummary(formatSummary(stats, { dryRun: false, browserEventsPolicy: "skip", inputs: ["a.jsonl"], workingDirectory: "/tmp" }));

    expect(stats.failedByReason.size).toBe(11);
    expect(summary).toContain("HTTP 400: rejected-by-api: entry 9 refused");
    expect(summary).not.toContain("HTTP 400: rejected-by-api: entry 10 refused");
    expect(summary).toContain("140 HTTP 400: other responses, which the dead-letter file keeps for each entry");
  });
});

describe("invalid events", () => {
  // A track event without a timestamp, which the Track Event preset requires, on line 2.
  const invalidInput = `${trackLine("ada@example.com", "v-1")}\n${JSON.stringify({ type: "track", event: "No time", messageId: "v-2", properties: { email: "bob@example.com" } })}\n`;

  test("named by input line in the summary, report and --verbose", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-invalid-"));
    const reportPath = join(directory, "report.json");
    try {
      const result = await runCli(["send", "--dry-run", "--no-stitch", "--verbose", "--report", reportPath, "-"], { stdin: invalidInput });
      const report = JSON.parse(readFileSync(reportPath, "utf8")) as { invalidExamples: Array<Record<string, unknown>> };

      // Exit status 1: an event was not sent because of a problem.
      expect(result.status).toBe(1);
      expect(report.invalidExamples).toHaveLength(1);
      expect(report.invalidExamples[0]).toMatchObject({ input: "-", line: 2, mapping: "Track Event" });
      expect(unwrapSummary(result.stderr)).toMatch(/Track Event: .*\(first at -:2\)/);
      expect(result.stderr).toMatch(/invalid: -:2 \(mapping "Track Event"\): /);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test("no invalid line without --verbose", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: invalidInput });

    expect(result.stderr).not.toContain("invalid: -:2");
  });
});

describe("send --verbose", () => {
  test("logs the dead-lettered entry with its reason", async () => {
    const result = await runCli(["send", "--no-stitch", "--endpoint", koala.endpoint, "--verbose", "-"], { stdin: input, env: { KOALA_PUBLIC_KEY: publicKey } });

    expect(result.stderr).toContain('dead letter: -:3 (mapping "Track Event", messageId m-3) after 1 attempt: rejected-by-api: {"error":"invalid email"}, HTTP 400');
    expect(result.stderr).not.toContain(publicKey);
  });

  test("names the person of a retried request", async () => {
    const emulator = await startKoalaEmulator({ publicKey, faults: { rateLimitEvery: 2, retryAfterSeconds: 0 } });
    const lines = `${trackLine("ada@example.com", "r-1")}\n${trackLine("bob@example.com", "r-2")}\n`;
    try {
      const result = await runCli(["send", "--no-stitch", "--endpoint", emulator.url, "--verbose", "-"], { stdin: lines, env: { KOALA_PUBLIC_KEY: publicKey } });

      // The email's SHA-256 begins b5fc85e5 for ada@example.com and 5ff860bf for bob@example.com.
      expect(result.stderr).toMatch(/retry: attempt 1 for 1 entry \(person email#(b5fc85e5|5ff860bf), -:[12]\) failed \(rate-limited, HTTP 429\)/);
      expect(result.stderr).not.toContain("@example.com");
      expect(emulator.accepted.size).toBe(2);
      expect(result.status).toBe(0);
    } finally {
      await emulator.close();
    }
  });

  test("without --verbose no dead-letter line", async () => {
    const result = await runCli(["send", "--no-stitch", "--endpoint", koala.endpoint, "-"], { stdin: input, env: { KOALA_PUBLIC_KEY: publicKey } });

    expect(result.stderr).not.toContain("dead letter:");
    expect(result.status).toBe(1);
  });
});

describe("summary of unreadable inputs", () => {
  test("whole file shown without line 0", () => {
    const stats = new RunStats();
    stats.countUnreadable({ origin: { input: "gone.jsonl", line: 0 }, reason: "unreadable-file", message: "gone.jsonl: cannot be read (ENOENT)" });
    stats.countUnreadable({ origin: { input: "bad.jsonl", line: 7 }, reason: "malformed-json", message: "bad.jsonl:7: invalid JSON" });

    const text = formatSummary(stats, { dryRun: true, browserEventsPolicy: "skip", inputs: ["gone.jsonl", "bad.jsonl"], workingDirectory: "/tmp" });

    expect(text).toMatch(/ gone\.jsonl unreadable-file\n/);
    expect(text).toContain(" bad.jsonl:7 malformed-json");
    expect(text).not.toContain("gone.jsonl:0");
  });
});

describe("summary counts", () => {
  /** Builds the counts of a run with every count of the summary at 1,000 or more. */
  function largeRun(): RunStats {
    const stats = new RunStats();
    stats.filesRead = 1_001;
    stats.filesSkipped.push(...Array.from({ length: 1_002 }, (_, index) => ({ path: `skipped-${index}.txt`, reason: "not an archive" })));
    stats.eventsRead = 30_000;
    stats.matchedByMapping.set("Track Event", 24_400);
    stats.entriesSent = 24_400;
    stats.requestsSent = 2_100;
    stats.requestsAccepted = 2_050;
    stats.countSkipped("no-identity", 15_500);

    stats.invalidByReason.set("Track Event: email is invalid", 1_234);
    for (let line = 1; line <= 1_025; line += 1) {
      stats.countUnreadable({ origin: { input: "bad.jsonl", line }, reason: "malformed-json", message: `bad.jsonl:${line}: invalid JSON` });
    }

    stats.countFailed({ input: "events.jsonl", line: 1, mapping: "Track Event", reason: "rejected", status: 400 });
    stats.failedCount = 2_000;
    stats.failedByReason.set("HTTP 400: rejected", 2_000);
    stats.delivery = {
      dryRun: false,
      submitted: 28_000,
      delivered: 24_400,
      deadLettered: { "rejected-by-api": 2_000 },
      deadLetteredTotal: 2_000,
      duplicatesSkipped: 0,
      inputsOfDuplicatesOnly: [],
      alreadyDone: 0,
      undelivered: 1_600,
      requestsSent: 2_100,
      requestsAccepted: 2_050,
      entriesPerRequest: { mean: 11.6, max: 1_000 },
      retries: { "rate-limited": 1_500 },
      retriesTotal: 1_500,
      checkpointErrors: 0,
      stopped: true,
      deadLetterPath: "/tmp/dead.jsonl",
    };

    const coverage = new IdentityCoverage();
    Object.assign(coverage.before, { withEmail: 1_200, withProfileIdOnly: 30, withNeither: 8_770 });
    Object.assign(coverage.after, { withEmail: 9_100, withProfileIdOnly: 30, withNeither: 870 });
    coverage.conflicts = 4_000;
    stats.identity = {
      coverage,
      firstPassMs: 1_500,
      graph: { ids: 5_000, idsWithEmail: 4_321, idsInMemory: 5_000, idsOnDisk: 0, emailObservations: 6_000, conflicts: 4_000, invalidEmails: 0, aliases: 1_000, spilledToDisk: false },
      stitch: true,
    };
    return stats;
  }

  test("a window that excludes most events is no warning", () => {
    const stats = new RunStats();
    stats.eventsRead = 1_000;
    stats.entriesSent = 100;
    stats.countSkipped("filtered-out", 900);
    const context = { dryRun: false, browserEventsPolicy: "skip", inputs: ["events.jsonl"], workingDirectory: "/tmp" };

    const text = formatSummary(stats, context);
    expect(text).toContain("900 of 1,000 events were excluded by --filter, --since or --until, as asked.");
    expect(text).not.toContain("Check --filter");

    stats.entriesSent = 0;
    expect(formatSummary(stats, context)).toContain("Check --filter, --since and --until");
  });

  test("resume that sends the rest is no warning", () => {
    const stats = new RunStats();
    stats.eventsRead = 1_000;
    stats.entriesSent = 100;
    stats.countSkipped("already-delivered", 900);
    const context = { dryRun: false, browserEventsPolicy: "skip", inputs: ["events.jsonl"], workingDirectory: "/tmp" };

    const text = unwrapSummary(formatSummary(stats, context));
    expect(text).toContain("900 of 1,000 events were finished by earlier runs of this checkpoint (900 were delivered or dead-lettered), so --resume skipped them.");
    expect(text).not.toContain("Many events were not sent");

    stats.entriesSent = 0;
    expect(unwrapSummary(formatSummary(stats, context))).toContain("Nothing was sent: 900 of 1,000 were delivered or dead-lettered by an earlier run");
  });

  test("resume headline whatever the split", () => {
    const context = { dryRun: false, browserEventsPolicy: "skip", inputs: ["events.jsonl"], workingDirectory: "/tmp" };
    const resumeStats = (counts: ReadonlyArray<readonly ["already-delivered" | "skipped-earlier" | "done-earlier", number]>): RunStats => {
      const stats = new RunStats();
      stats.eventsRead = 1_000;
      stats.entriesSent = 100;
      for (const [reason, count] of counts) {
        stats.countSkipped(reason, count);
      }
      return stats;
    };

    const split = unwrapSummary(formatSummary(resumeStats([["already-delivered", 400], ["skipped-earlier", 300]]), context));
    const unsplit = unwrapSummary(formatSummary(resumeStats([["done-earlier", 700]]), context));

    // Neither reason alone is half of the events read, but together they are.
    expect(split).toContain(
      "700 of 1,000 events were finished by earlier runs of this checkpoint (400 were delivered or dead-lettered, 300 skipped or found invalid, for the reasons in their own summaries), so --resume skipped them.",
    );
    expect(unsplit).toContain("700 of 1,000 events were finished by earlier runs of this checkpoint, so --resume skipped them.");
  });

  test("entries of several mappings are not counted as events", () => {
    // Each of 50 mappings took the one track event, so 50 entries had no email, and the other event matched none.
    const stats = new RunStats();
    stats.eventsRead = 2;
    stats.countSkipped("no-identity", 50);
    stats.countSkipped("no-mapping-matched", 1);
    const context = { dryRun: true, browserEventsPolicy: "skip", inputs: ["events.jsonl"], workingDirectory: "/tmp" };

    const text = unwrapSummary(formatSummary(stats, context));
    expect(text).toContain("Nothing would be sent: 50 entries from the 2 events read have no email or profile_id.");
    expect(text).not.toContain("50 of 2");
  });

  test("every count has thousands separators", () => {
    const text = formatSummary(largeRun(), { dryRun: false, browserEventsPolicy: "skip", inputs: ["events.jsonl"], workingDirectory: "/tmp" });

    expect(text).toContain("koala-replay: 24,400 entries sent from 30,000 events read (2,100 requests made,\n  retries included, 2,050 accepted)\n");
    expect(text).toContain("Many events were not sent: 15,500 of 30,000 have no email or profile_id.");
    expect(text).toMatch(/files read +1,001 \(1,002 skipped, see the warnings\)\n/);
    expect(text).toMatch(/events read +30,000\n/);
    expect(text).toMatch(/matched +Track Event 24,400\n/);
    expect(text).toMatch(/sent +24,400\n/);
    expect(text).toMatch(/requests +2,100 made, retries included, 2,050 accepted\n/);
    expect(text).toMatch(/skipped +15,500\n/);
    expect(text).toMatch(/no-identity +15,500 {2}/);
    expect(text).toMatch(/invalid +1,234\n +1,234 {2}Track Event: email is invalid\n/);
    expect(text).toMatch(/unreadable +1,025\n/);
    expect(text).toContain("… and 1,005 more\n");
    expect(text).toMatch(/failed +2,000\n +2,000 {2}HTTP 400: rejected\n/);
    expect(text).toMatch(/entries per request +11\.6 on average, 1,000 at most\n/);
    expect(text).toMatch(/retries +1,500 \(rate-limited 1,500\)\n/);
    expect(text).toMatch(/dead letters +2,000 written to dead\.jsonl/);
    expect(text).toMatch(/not yet delivered +1,600 \(/);
    expect(text).toMatch(/identity +4,321 userIds and anonymousIds linked to an email/);
    expect(unwrapSummary(text)).toContain("identity before stitching: 1,200 with email, 30 with profile_id only, 8,770 with neither");
    expect(unwrapSummary(text)).toContain("identity after stitching: 9,100 with email, 30 with profile_id only, 870 with neither (7,900 stitched)");
    expect(unwrapSummary(text)).toContain("identity conflicts: 4,000 observations");
  });

  test("no count without separators", () => {
    const text = formatSummary(largeRun(), { dryRun: false, browserEventsPolicy: "skip", inputs: ["events.jsonl"], workingDirectory: "/tmp" });
    // Line numbers of unreadable lines stay plain, as editors and grep expect them.
    const withoutLocations = text.replace(/bad\.jsonl:\d+/g, "bad.jsonl:N");

    expect(withoutLocations).not.toMatch(/\d{4}/);
  });

  test("reason counts right-aligned in one column", () => {
    const stats = new RunStats();
    stats.eventsRead = 20_000;
    stats.countSkipped("browser-event", 12_000);
    stats.countSkipped("no-identity", 7);
    stats.invalidByReason.set("Track Event: email is invalid", 3);
    stats.invalidByReason.set("Identify Visitor: traits is required", 250);
    stats.failedCount = 40;
    stats.failedByReason.set("HTTP 400: rejected", 40);

    const lines = formatSummary(stats, { dryRun: false, browserEventsPolicy: "skip", inputs: ["events.jsonl"], workingDirectory: "/tmp" }).split("\n");
    const reasonRows = [
      lines.find((line) => line.includes("browser-event ")),
      lines.find((line) => line.includes("no-identity ")),
      lines.find((line) => line.includes("Track Event: email is invalid")),
      lines.find((line) => line.includes("Identify Visitor: traits is required")),
      // The headline names the main failure too, so the row is the last line that does.
      [...lines].reverse().find((line) => line.includes("HTTP 400: rejected")),
    ];

    // Each count ends in the same column, and each reason starts two columns after it.
    for (const line of reasonRows) {
      expect(line, "a reason row is missing").toBeDefined();
      expect((line as string).slice(0, 33), line).toMatch(/^ +(\S+ +)?[\d,]+  $/);
      expect((line as string).charAt(33), line).not.toBe(" ");
    }
    expect(reasonRows[2]).toMatch(/^ {30}3  Track Event/);
    expect(reasonRows[3]).toMatch(/^ {28}250  Identify Visitor/);
  });

  test("invalid count in the first lines", () => {
    const stats = new RunStats();
    stats.eventsRead = 5_000;
    stats.invalidByReason.set("Track Event: email is invalid", 1_500);

    const text = formatSummary(stats, { dryRun: true, browserEventsPolicy: "skip", inputs: ["events.jsonl"], workingDirectory: "/tmp" });

    expect(text).toContain("\n  1,500 invalid: see the reasons below.\n");
  });

  test("disabled mappings counted in the advice", () => {
    const stats = new RunStats();
    stats.eventsRead = 2_000;
    stats.countSkipped("no-mapping-matched", 2_000);
    stats.countUnmatchedType("page");

    const text = formatSummary(stats, { dryRun: true, browserEventsPolicy: "skip", inputs: ["events.jsonl"], workingDirectory: "/tmp", mappings: { total: 1_200, enabled: 100 } });

    expect(text).toContain("Nothing would be sent: 2,000 of 2,000 matched no mapping's trigger.");
    expect(unwrapSummary(text)).toContain("1,100 of 1,200 mappings are disabled");
  });

  test("en-US separators under a German locale", async () => {
    const archive = writeGeneratedArchive(1_200);
    const path = join(directory, "run.json");
    const result = await runCli(["send", "--dry-run", "--report", path, archive.path], { env: { LANG: "de_DE.UTF-8", LC_ALL: "de_DE.UTF-8" } });
    archive.remove();
    const report = JSON.parse(readFileSync(path, "utf8")) as { counts: { eventsRead: unknown; entriesSent: unknown } };

    expect(result.status).toBe(0);
    expect(result.stderr).toContain("koala-replay: 1,200 entries would be sent from 1,200 events read (");
    expect(result.stderr).toMatch(/events read +1,200\n/);
    // The JSON report keeps plain numbers.
    expect(report.counts.eventsRead).toBe(1200);
    expect(report.counts.entriesSent).toBe(1200);
  });
});

describe("verbose log lines", () => {
  test("retry names attempt, cause and wait", () => {
    const line = formatRetryLog({ attempt: 2, reason: "rate-limited", delayMs: 1500, entries: 30, status: 429 });

    expect(line).toBe("retry: attempt 2 for 30 entries failed (rate-limited, HTTP 429); next attempt in 1.5 s");
  });

  test("retry names the person and first input line", () => {
    const batchEntries = [
      { origin: { input: "a.jsonl", line: 4 }, person: { email: "ada@example.com" } },
      { origin: { input: "a.jsonl", line: 9 }, person: { email: "ada@example.com" } },
      { origin: { input: "b.jsonl", line: 2 }, person: { email: "ada@example.com" } },
    ];
    const line = formatRetryLog({ attempt: 1, reason: "server-error", delayMs: 500, entries: 3, status: 503, batchEntries });

    expect(line).toBe("retry: attempt 1 for 3 entries (person email#b5fc85e5, a.jsonl:4 and 2 more) failed (server-error, HTTP 503); next attempt in 500 ms");
  });

  test("retry prefers personId, then profile_id", () => {
    const origin = { input: "-", line: 7 };
    const withId = formatRetryLog({ attempt: 1, reason: "request-timeout", delayMs: 100, entries: 1, batchEntries: [{ origin, personId: "p-1", person: { email: "a@example.com" } }] });
    const withProfile = formatRetryLog({ attempt: 1, reason: "request-timeout", delayMs: 100, entries: 1, batchEntries: [{ origin, person: { profile_id: "p-2", email: "a@example.com" } }] });

    expect(withId).toContain("for 1 entry (person p-1, -:7) failed");
    expect(withProfile).toContain("for 1 entry (person p-2, -:7) failed");
  });

  test("invalid line hides a quoted email", () => {
    const line = formatInvalidLog({ input: "a.jsonl", line: 3 }, "Track Event", 'sent_at: expected an ISO-8601 date, found string "ada@example.com"');

    expect(line).toBe('invalid: a.jsonl:3 (mapping "Track Event"): sent_at: expected an ISO-8601 date, found string "email#b5fc85e5"');
  });

  test("retry after a network error", () => {
    const line = formatRetryLog({ attempt: 1, reason: "network-error", delayMs: 250, entries: 1, errorCode: "ECONNRESET" });

    expect(line).toBe("retry: attempt 1 for 1 entry failed (network-error, ECONNRESET); next attempt in 250 ms");
  });

  test("dead letter names event and mapping", () => {
    const line = formatDeadLetterLog({
      entry: { origin: { input: "a.jsonl", line: 7 }, mappingName: "Identify Visitor", messageId: "m-7" },
      reason: "retries-exhausted",
      status: 503,
      attempts: 10,
    });

    expect(line).toBe('dead letter: a.jsonl:7 (mapping "Identify Visitor", messageId m-7) after 10 attempts: retries-exhausted, HTTP 503');
  });
});

describe("summary width", () => {
  const BILLIONS = 9_876_543_210;
  const longDirectory = "/var/data/exports/segment-logs/a-source-with-a-rather-long-identifier-0123456789";
  const longReason = "Order Completed (warehouse import): properties.total: expected a number but the mapping gave the string \"12.50 USD\" from $.properties.total";

  /** Builds the counts of a run with counts in the billions and reasons and paths far wider than 80 columns. */
  function wideRun(): RunStats {
    const stats = new RunStats();
    stats.filesRead = BILLIONS;
    stats.eventsRead = BILLIONS;
    stats.matchedByMapping.set("Order Completed (warehouse import, second attempt after the schema change)", BILLIONS);
    stats.matchedByMapping.set("Identify Visitor", BILLIONS);
    stats.entriesSent = BILLIONS;
    stats.requestsSent = BILLIONS;
    stats.requestsAccepted = BILLIONS - 1;
    for (const reason of ["already-delivered", "browser-event", "no-identity", "duplicate-message-id", "filtered-out", "no-mapping-matched"] as const) {
      stats.countSkipped(reason, BILLIONS);
    }
    stats.invalidByReason.set(longReason, BILLIONS);
    stats.invalidFirstAt.set(longReason, { origin: { input: `${longDirectory}/2024-05-01/1714521600000.events-archiver-1-1.gz`, line: 123_456 } });
    stats.countUnreadable({ origin: { input: `${longDirectory}/2024-05-02/a-file-name-without-any-break-${"x".repeat(70)}.jsonl`, line: 7 }, reason: "malformed-json", message: "invalid JSON" });
    stats.unreadableCount = BILLIONS;
    stats.failedCount = BILLIONS;
    stats.failedByReason.set(`HTTP 400: rejected-by-api: {"error":"invalid email","detail":"${"the address has no domain part ".repeat(3)}"}`, BILLIONS);
    stats.delivery = {
      dryRun: false,
      submitted: BILLIONS,
      delivered: BILLIONS,
      deadLettered: { "rejected-by-api": BILLIONS },
      deadLetteredTotal: BILLIONS,
      duplicatesSkipped: 0,
      inputsOfDuplicatesOnly: [],
      alreadyDone: 0,
      undelivered: BILLIONS,
      requestsSent: BILLIONS,
      requestsAccepted: BILLIONS - 1,
      entriesPerRequest: { mean: 29.9, max: BILLIONS },
      retries: { "rate-limited": BILLIONS, "server-error": BILLIONS, timeout: BILLIONS },
      retriesTotal: 3 * BILLIONS,
      checkpointErrors: 0,
      stopped: true,
      deadLetterPath: `${longDirectory}/state-0123456789abcdef.dead-letters.jsonl`,
    };
    const coverage = new IdentityCoverage();
    Object.assign(coverage.before, { withEmail: BILLIONS, withProfileIdOnly: BILLIONS, withNeither: BILLIONS });
    Object.assign(coverage.after, { withEmail: BILLIONS, withProfileIdOnly: BILLIONS, withNeither: BILLIONS });
    coverage.conflicts = BILLIONS;
    stats.identity = {
      coverage,
      firstPassMs: 1_234_567,
      graph: { ids: BILLIONS, idsWithEmail: BILLIONS, idsInMemory: 0, idsOnDisk: BILLIONS, emailObservations: BILLIONS, conflicts: BILLIONS, invalidEmails: 0, aliases: 0, spilledToDisk: true },
      stitch: true,
    };
    return stats;
  }

  test("every line within 80 columns", () => {
    for (const dryRun of [false, true]) {
      const text = formatSummary(wideRun(), { dryRun, browserEventsPolicy: "before:2024-05-01T00:00:00Z", inputs: [longDirectory], workingDirectory: "/tmp" });

      // A path segment wider than the columns left is kept whole, alone on its line.
      for (const line of linesWiderThan(text, 80)) {
        expect(line.trim(), line).toMatch(/^[^ /]+\/?$/);
      }
      expect(text).toContain(`\n${" ".repeat(25)}a-file-name-without-any-break-${"x".repeat(70)}.jsonl:7\n`);
    }
  });

  test("wrapped rows keep every fact", () => {
    const text = formatSummary(wideRun(), { dryRun: false, browserEventsPolicy: "skip", inputs: [longDirectory], workingDirectory: "/tmp" });
    // A path is broken after a slash, without a space, so the facts are compared without whitespace.
    const withoutSpaces = (value: string): string => value.replace(/\s+/g, "");
    const facts = [
      "koala-replay: 9,876,543,210 entries sent from 9,876,543,210 events read (9,876,543,210 requests made, retries included, 9,876,543,209 accepted)",
      `9,876,543,210 ${longReason} (first at ${longDirectory}/2024-05-01/1714521600000.events-archiver-1-1.gz:123456)`,
      `${longDirectory}/2024-05-02/a-file-name-without-any-break-${"x".repeat(70)}.jsonl:7 malformed-json`,
      `9,876,543,210 HTTP 400: rejected-by-api: {"error":"invalid email","detail":"${"the address has no domain part ".repeat(3)}"}`,
      "already-delivered 9,876,543,210 delivered or dead-lettered by an earlier run, so --resume skipped it",
      `dead letters 9,876,543,210 written to ${longDirectory}/state-0123456789abcdef.dead-letters.jsonl; the command below the summary sends them again`,
      "retries 29,629,629,630 (rate-limited 9,876,543,210, server-error 9,876,543,210, timeout 9,876,543,210)",
      "identity after stitching: 9,876,543,210 with email, 9,876,543,210 with profile_id only, 9,876,543,210 with neither (0 stitched)",
    ];

    for (const fact of facts) {
      expect(withoutSpaces(text), fact).toContain(withoutSpaces(fact));
    }
    // Text wrapped at spaces reads back whole.
    expect(unwrapSummary(text)).toContain("delivered or dead-lettered by an earlier run, so --resume skipped it");
    expect(unwrapSummary(text)).toContain(`written to ${longDirectory}/state-0123456789abcdef.dead-letters.jsonl;`);
  });

  test("built CLI: summary within 80 columns", async () => {
    const deep = join(directory, "exports-of-the-marketing-workspace", "segment-logs", "a-source-with-a-long-identifier");
    mkdirSync(deep, { recursive: true });
    const path = join(deep, "events-exported-on-the-first-of-may.jsonl");
    const untimed = JSON.stringify({ type: "track", event: "No time", messageId: "w-2", properties: { email: "bob@example.com" } });
    const browser = JSON.stringify({ type: "track", event: "Clicked", messageId: "ajs-w-3", timestamp: "2024-01-01T00:00:00.000Z", context: { library: { name: "analytics.js" } }, properties: { email: "eve@example.com" } });
    writeFileSync(path, `${trackLine("ada@example.com", "w-1")}\n${untimed}\n${browser}\nnot json\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", path], { cwd: directory });
    const summary = result.stderr.slice(result.stderr.indexOf("koala-replay:"));

    expect(summary).toContain("unreadable");
    for (const line of summary.split("\n")) {
      expect(stringWidth(line), line).toBeLessThanOrEqual(80);
    }
    expect(summary.replace(/\s+/g, "")).toContain(`${path}:4malformed-json`.replace(/\s+/g, ""));
  });

  test("narrow width: values after labels", () => {
    const text = formatSummary(wideRun(), { dryRun: false, browserEventsPolicy: "skip", inputs: [longDirectory], workingDirectory: "/tmp", width: 40 });
    const unwrapped = unwrapSummary(text);

    for (const line of linesWiderThan(text, 40)) {
      expect(line.trim(), line).toMatch(/^[^ /]+\/?$/);
    }
    expect(text).toContain("\n  events read: 9,876,543,210\n");
    expect(text).toContain("\n    already-delivered: 9,876,543,210\n      delivered or dead-lettered by an\n");
    expect(unwrapped).toContain(`9,876,543,210 ${longReason} (first at ${longDirectory}/2024-05-01/1714521600000.events-archiver-1-1.gz:123456)`);
    expect(unwrapped).toContain(`dead letters: 9,876,543,210 written to ${longDirectory}/state-0123456789abcdef.dead-letters.jsonl;`);
    expect(unwrapped).toContain("identity after stitching: 9,876,543,210 with email, 9,876,543,210 with profile_id only");
  });

  test("continuation lines indented under the value", () => {
    const text = formatSummary(wideRun(), { dryRun: false, browserEventsPolicy: "skip", inputs: [longDirectory], workingDirectory: "/tmp" });
    const lines = text.split("\n");
    const skipped = lines.findIndex((line) => line.startsWith("    already-delivered    9,876,543,210  delivered or"));

    expect(skipped).toBeGreaterThan(0);
    // The reason goes on under itself, after the count.
    expect(lines[skipped + 1]).toMatch(/^ {40}\S/);
    expect(lines[1]).toMatch(/^ {2}\S/);
  });
});

describe("wrapText", () => {
  test.each([
    ["breaks at spaces", "one two three four", 9, ["one two", "three", "four"]],
    ["keeps spaces inside a line", "12  reason text", 80, ["12  reason text"]],
    ["drops spaces at a break", "12  reason", 7, ["12", "reason"]],
    ["breaks a path after a slash", "see /aaaa/bbbb/cccc/dddd/eeee", 20, ["see /aaaa/bbbb/cccc/", "dddd/eeee"]],
    ["moves a path to the next line", "see /aaaa/bbbb/cccc", 11, ["see", "/aaaa/bbbb/", "cccc"]],
    ["keeps a word without slash whole", "ab abcdefghij", 4, ["ab", "abcdefghij"]],
    ["keeps a path segment wider than the line whole", "/aaaaaaaa/b", 4, ["/aaaaaaaa/", "b"]],
    ["counts a wide character as two columns", "漢字 ab", 6, ["漢字", "ab"]],
  ])("%s", (_case, text, width, expected) => {
    expect(wrapText(text, width, "", "")).toEqual(expected);
  });

  test("indents the first and next lines", () => {
    expect(wrapText("alpha beta gamma", 12, "> ", "  ")).toEqual(["> alpha beta", "  gamma"]);
  });
});
