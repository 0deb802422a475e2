import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startKoalaEmulator } from "../emulator/koala-emulator.js";
import { parseRequests, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// Track events without an email, and identify calls elsewhere that give their userIds one.
const tracks = "fixtures/identity/server-tracks.jsonl";
const identifies = "fixtures/identity/identify-elsewhere.jsonl";
const usersExport = "fixtures/identity/users-export.csv";

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-forecast-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** What `send --dry-run` did: the entries and requests it printed, and its report. */
interface DryRun {
  entries: number;
  requests: number;
  report: Record<string, any>;
}

async function sendDryRun(args: readonly string[], stdin?: string): Promise<DryRun> {
  const reportPath = join(directory, `send-${Math.random().toString(36).slice(2)}.json`);
  const result = await runCli(["send", "--dry-run", "--report", reportPath, ...args], { stdin });
  expect(result.stderr).not.toContain("error:");
  const requests = parseRequests(result.stdout);
  const entries = requests.reduce((total, request) => total + entryCount(request.body), 0);
  return { entries, requests: requests.length, report: JSON.parse(readFileSync(reportPath, "utf8")) as Record<string, any> };
}

function entryCount(body: Record<string, unknown>): number {
  return ((body["events"] as unknown[] | undefined)?.length ?? 0) + ((body["identifies"] as unknown[] | undefined)?.length ?? 0);
}

async function inspectJson(args: readonly string[], stdin?: string): Promise<Record<string, any>> {
  const result = await runCli(["inspect", "--json", ...args], { stdin });
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as Record<string, any>;
}

/** Returns inspect's "would be sent" count of each mapping that sends something, as send's `sentByMapping` lists them. */
function wouldSendByMapping(report: Record<string, any>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const mapping of report.mappings as Array<{ name: string; wouldSend: number }>) {
    if (mapping.wouldSend > 0) {
      counts[mapping.name] = mapping.wouldSend;
    }
  }
  return counts;
}

function skippedInMappings(report: Record<string, any>, reason: string): number {
  return (report.mappings as Array<{ skippedByReason: Record<string, number> }>).reduce((total, mapping) => total + (mapping.skippedByReason[reason] ?? 0), 0);
}

/** Returns the count of preview's closing line: "N entries would be sent from them". */
function previewWouldSend(stdout: string): number | undefined {
  const match = /([\d,]+) (?:entry|entries) would be sent from them\./.exec(stdout);
  return match === null ? undefined : Number(match[1]?.replace(/,/g, ""));
}

describe("inspect and preview count what send --dry-run sends", () => {
  test("stitched track events count as sent", async () => {
    const sent = await sendDryRun([tracks, identifies]);
    const report = await inspectJson([tracks, identifies]);

    // Four track events get their email from the identify calls; one (u-202) has none anywhere.
    expect(sent.entries).toBe(6);
    expect(wouldSendByMapping(report)).toEqual({ ...sent.report.sentByMapping });
    expect(skippedInMappings(report, "no-identity")).toBe(sent.report.skippedByReason["no-identity"]);
    expect(report.requests.estimated).toBe(sent.requests);
    expect(report.identityStitching.applied).toBe(true);
    expect(report.identityStitching.stitched).toBe(sent.report.identityStitching.stitched);
    expect(report.identityStitching.after).toEqual(sent.report.identityStitching.after);
  });

  test("--no-stitch counts as send --no-stitch", async () => {
    const sent = await sendDryRun(["--no-stitch", tracks, identifies]);
    const report = await inspectJson(["--no-stitch", tracks, identifies]);

    expect(sent.entries).toBe(2);
    expect(wouldSendByMapping(report)).toEqual({ ...sent.report.sentByMapping });
    expect(report.requests.estimated).toBe(sent.requests);
    expect(report.identityStitching.applied).toBe(false);
    expect(report.identityStitching.reason).toBe("no-stitch");
  });

  test("preview counts the stitched entries", async () => {
    const sent = await sendDryRun([tracks, identifies]);
    const result = await runCli(["preview", "--limit", "100", tracks, identifies]);

    expect(result.status).toBe(0);
    expect(previewWouldSend(result.stdout)).toBe(sent.entries);
    expect(result.stdout).toContain('"email": "grace@example.com"');
    expect(unwrapSummary(result.stdout)).toContain("no-identity: no email or profile_id (Koala cannot attach it to a person): 1 in the events read");
  });

  test("excluded emails count as send's", async () => {
    // u-200's track event gets grace@example.com only from an identify call.
    const exclude = ["--exclude-emails", "GRACE@example.com"];
    const sent = await sendDryRun([...exclude, tracks, identifies]);
    const report = await inspectJson([...exclude, tracks, identifies]);
    const preview = await runCli(["preview", "--limit", "100", ...exclude, tracks, identifies]);

    expect(sent.report.skippedByReason["excluded-email"]).toBe(2);
    expect(skippedInMappings(report, "excluded-email")).toBe(2);
    expect(wouldSendByMapping(report)).toEqual({ ...sent.report.sentByMapping });
    expect(report.requests.estimated).toBe(sent.requests);
    expect(previewWouldSend(preview.stdout)).toBe(sent.entries);
    expect(unwrapSummary(preview.stdout)).toContain("excluded-email: the person's email matches a pattern of --exclude-emails or excludeEmails in the config: 2 in the events read");
    expect(unwrapSummary(preview.stdout)).toContain('the request\'s email "grace@example.com" matches the email exclusion pattern "GRACE@example.com"');
  });

  test("preview --no-stitch counts as send --no-stitch", async () => {
    const sent = await sendDryRun(["--no-stitch", tracks, identifies]);
    const result = await runCli(["preview", "--no-stitch", "--limit", "100", tracks, identifies]);

    expect(previewWouldSend(result.stdout)).toBe(sent.entries);
  });

  test("stdin with --identities stitches as send does", async () => {
    const stdin = readFileSync(tracks, "utf8");
    const sent = await sendDryRun(["--identities", usersExport, "-"], stdin);
    const report = await inspectJson(["--identities", usersExport, "-"], stdin);
    const preview = await runCli(["preview", "--limit", "100", "--identities", usersExport, "-"], { stdin });

    expect(sent.entries).toBe(3);
    expect(wouldSendByMapping(report)).toEqual({ ...sent.report.sentByMapping });
    expect(report.identityStitching.identitiesFile).toBe(usersExport);
    expect(previewWouldSend(preview.stdout)).toBe(sent.entries);
  });

  test("stdin without --identities counts unstitched", async () => {
    const stdin = readFileSync(tracks, "utf8");
    const sendWithoutOption = await runCli(["send", "--dry-run", "-"], { stdin });
    const sent = await sendDryRun(["--no-stitch", "-"], stdin);
    const report = await inspectJson(["-"], stdin);
    const text = await runCli(["inspect", "-"], { stdin });
    const preview = await runCli(["preview", "--limit", "100", "-"], { stdin });

    expect(sendWithoutOption.status).toBe(2);
    expect(wouldSendByMapping(report)).toEqual({ ...sent.report.sentByMapping });
    expect(report.identityStitching.reason).toBe("stdin-without-identities");
    expect(unwrapSummary(text.stdout)).toContain("Counts are without identity stitching, as send --no-stitch sends: stitching reads the inputs twice, and standard input can be read only once.");
    expect(unwrapSummary(preview.stdout)).toContain("give --identities <file> here too to count with stitching");
    expect(previewWouldSend(preview.stdout)).toBe(sent.entries);
  });

  test("--identities with --no-stitch warns it is ignored", async () => {
    const result = await runCli(["inspect", "--no-stitch", "--identities", usersExport, tracks]);

    expect(unwrapSummary(result.stderr)).toContain(`warning: --identities ${usersExport} is ignored, because --no-stitch turns identity stitching off.`);
  });

  test("missing --identities file is a usage error", async () => {
    const result = await runCli(["inspect", "--identities", join(directory, "missing.csv"), tracks]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("missing.csv");
  });
});

describe("inspect and preview skip what is not UTF-8 as send does", () => {
  /** Builds a track event with an email, whose `note` property is given as raw bytes. */
  function trackLine(messageId: string, note: Buffer): Buffer {
    const before = `{"type":"track","event":"Signed Up","messageId":"${messageId}","userId":"u-${messageId}","timestamp":"2026-01-01T00:00:00Z","properties":{"email":"${messageId}@example.com","note":"`;
    return Buffer.concat([Buffer.from(before), note, Buffer.from('"}}')]);
  }
  /** Runs `inspect --json` on inputs with unreadable lines, for which it exits 1. */
  async function inspectJsonWithProblems(args: readonly string[]): Promise<Record<string, any>> {
    const result = await runCli(["inspect", "--json", ...args]);
    expect(result.status).toBe(1);
    return JSON.parse(result.stdout) as Record<string, any>;
  }
  const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
  const replacementCharacter = Buffer.from("caf\uFFFD", "utf8");

  test("JSONL with a Latin-1 line", async () => {
    const file = join(directory, "latin1.jsonl");
    const lines = [trackLine("m-1", Buffer.from("ada")), trackLine("m-2", latin1), trackLine("m-3", replacementCharacter)];
    writeFileSync(file, Buffer.concat(lines.flatMap((line) => [line, Buffer.from("\n")])));

    const sent = await sendDryRun(["--no-stitch", file]);
    const report = await inspectJsonWithProblems(["--no-stitch", file]);
    const preview = await runCli(["preview", "--no-stitch", "--limit", "100", file]);

    expect(sent.entries).toBe(2);
    expect(report.eventsRead).toBe(2);
    expect(wouldSendByMapping(report)).toEqual({ ...sent.report.sentByMapping });
    expect(report.unreadableByReason).toEqual({ "not-utf8": 1 });
    expect(report.unreadableExamples[0].line).toBe(2);
    expect(previewWouldSend(preview.stdout)).toBe(sent.entries);
    expect(unwrapSummary(preview.stderr)).toContain(`${file}:2: The line contains bytes that are not UTF-8 text`);
  });

  test("array with a Latin-1 element", async () => {
    const file = join(directory, "latin1.json");
    writeFileSync(file, Buffer.concat([Buffer.from("[\n"), trackLine("m-1", Buffer.from("ada")), Buffer.from(",\n"), trackLine("m-2", latin1), Buffer.from("\n]\n")]));

    const sent = await sendDryRun(["--no-stitch", file]);
    const report = await inspectJsonWithProblems(["--no-stitch", file]);

    expect(sent.entries).toBe(1);
    expect(report.eventsRead).toBe(1);
    expect(wouldSendByMapping(report)).toEqual({ ...sent.report.sentByMapping });
    expect(report.unreadableByReason).toEqual({ "not-utf8": 1 });
    expect(report.unreadableExamples[0].line).toBe(3);
  });
});

describe("inspect of an archive object and its decompressed copy", () => {
  /**
   * Writes a folder of S3 archive objects holding one gzip object and its decompressed copy, whose
   * name sorts first, so the directory walk reads the copy before the object.
   */
  function writeObjectAndCopy(browserEvents = false): { folder: string; object: string; copy: string } {
    const library = browserEvents ? { library: { name: "analytics.js" } } : {};
    const lines = [
      JSON.stringify({ type: "identify", messageId: "s3-1", userId: "u-1", timestamp: "2024-02-01T00:00:00.000Z", traits: { email: "ada@example.com" } }),
      JSON.stringify({ type: "track", messageId: "s3-2", userId: "u-1", event: "Opened", timestamp: "2024-02-01T00:01:00.000Z", context: { ...library, traits: { email: "ada@example.com" } } }),
      JSON.stringify({ type: "track", messageId: "s3-3", userId: "u-2", event: "Opened", timestamp: "2024-02-01T00:02:00.000Z", context: { ...library, traits: { email: "bob@example.com" } } }),
      JSON.stringify({ type: "track", messageId: "s3-4", userId: "u-1", event: "Closed", timestamp: "2024-02-01T00:03:00.000Z", context: { ...library } }),
    ];
    const text = `${lines.join("\n")}\n`;
    const folder = join(directory, "segment-logs", "1706745600000");
    mkdirSync(folder, { recursive: true });
    const object = join(folder, "1706745600000.events-archiver-1.gz");
    writeFileSync(object, gzipSync(text));
    const copy = join(folder, "1706745600000.events-archiver-1.decompressed.jsonl");
    writeFileSync(copy, text);
    return { folder: join(directory, "segment-logs"), object, copy };
  }

  test("duplicates count as send skips them", async () => {
    const { folder, object } = writeObjectAndCopy();
    const sent = await sendDryRun([folder]);
    const report = await inspectJson([folder]);

    expect(report.eventsRead).toBe(8);
    expect(sent.entries).toBe(4);
    expect(wouldSendByMapping(report)).toEqual({ ...sent.report.sentByMapping });
    expect(skippedInMappings(report, "duplicate-message-id")).toBe(sent.report.skippedByReason["duplicate-message-id"]);
    expect(report.requests.estimated).toBe(sent.requests);
    expect(report.duplicateEvents.count).toBe(4);
    expect(report.duplicateEvents.firstAt).toEqual({ input: object, line: 1 });
    expect(report.duplicateEvents.inputsOfDuplicatesOnly).toEqual([object]);
  });

  test("text names the duplicates and the copy", async () => {
    const { folder, object } = writeObjectAndCopy();
    const result = await runCli(["inspect", folder]);

    expect(unwrapSummary(result.stdout)).toContain(`4 events repeat the messageId of an event read before (the first at ${object}:1); send skips their entries as duplicates`);
    expect(unwrapSummary(result.stdout)).toContain(`every event of ${object} repeats an earlier one`);
    // Three track events in each file; the last one gets the email of u-1 from the identify call.
    expect(result.stdout).toMatch(/Track Event +6 matched +3 would be sent/);
    expect(result.stdout).toMatch(/\n +3 skipped: duplicate messageId/);
  });

  test("send --dry-run warns about the copy", async () => {
    const { folder, object, copy } = writeObjectAndCopy();
    const reportPath = join(directory, "send.json");
    const result = await runCli(["send", "--dry-run", "--report", reportPath, folder]);
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { delivery: { inputsOfDuplicatesOnly: string[] } };
    const stderr = unwrapSummary(result.stderr);

    expect(stderr).toContain(
      `warning: ${object} has the same content, once decompressed, as ${copy}, which is read before it: is it a copy, such as an S3 object and its decompressed copy?`,
    );
    expect(stderr).toContain("Each of its events is read and counted a second time, and the entries made from them are skipped as duplicates. Leave the copy out of the inputs.");
    expect(stderr.match(/is it a copy/g)).toHaveLength(1);
    expect(report.delivery.inputsOfDuplicatesOnly).toEqual([object]);
  });

  test.each([
    ["skipped as browser events", ["--browser-events", "skip"]],
    ["quiet run", ["--quiet"]],
  ])("send --dry-run, %s", async (name, options) => {
    const { folder, object, copy } = writeObjectAndCopy(true);
    const reportPath = join(directory, "send.json");
    const result = await runCli(["send", "--dry-run", "--report", reportPath, ...options, folder]);
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as { skippedByReason: Record<string, number> };
    const stderr = unwrapSummary(result.stderr);

    expect(report.skippedByReason["browser-event"]).toBe(6);
    if (name === "quiet run") {
      expect(stderr).toBe("");
    } else {
      expect(stderr).toContain(`warning: ${object} has the same content, once decompressed, as ${copy}, which is read before it: is it a copy`);
    }
  });

  test("send to Koala warns about the copy", async () => {
    const { folder, object } = writeObjectAndCopy();
    const publicKey = "pk_copied_input_0123456789";
    const koala = await startKoalaEmulator({ publicKey });
    try {
      const result = await runCli(["send", "--endpoint", koala.url, "--state", join(directory, "state.json"), folder], { env: { KOALA_PUBLIC_KEY: publicKey } });

      expect(result.status).toBe(0);
      expect(unwrapSummary(result.stderr)).toContain(`${object} has the same content, once decompressed, as`);
      expect(unwrapSummary(result.stderr)).not.toContain(`every entry of ${object}`);
    } finally {
      await koala.close();
    }
  });

  test("no warning without a copy", async () => {
    const { object } = writeObjectAndCopy();
    const result = await runCli(["send", "--dry-run", object]);

    expect(result.stderr).not.toContain("is it a copy");
  });

  test("preview samples the duplicates", async () => {
    const { folder } = writeObjectAndCopy();
    const sent = await sendDryRun([folder]);
    const result = await runCli(["preview", "--limit", "100", folder]);

    expect(previewWouldSend(result.stdout)).toBe(sent.entries);
    expect(unwrapSummary(result.stdout)).toContain("duplicate-message-id: duplicate messageId, already sent in this run: 4 in the events read");
  });
});

describe("inspect estimates the requests send makes", () => {
  // send closes a person's open batch once 2,000 records have been read after it opened, whether or
  // not those records made entries. These inputs put more than that between two entries of Ada.
  const ada = { userId: "u-ada", context: { traits: { email: "ada@example.com" } } };

  function track(messageId: string, person: Record<string, unknown>): string {
    return JSON.stringify({ type: "track", event: "Opened", messageId, timestamp: "2024-02-01T00:00:00.000Z", ...person });
  }

  test("records without entries count", async () => {
    // Page events match no preset mapping, so they make no entries.
    const pages = Array.from({ length: 2_100 }, (_, index) => JSON.stringify({ type: "page", messageId: `page-${index}`, userId: "u-page" }));
    const input = join(directory, "pages-between.jsonl");
    writeFileSync(input, `${[track("ada-1", ada), ...pages, track("ada-2", ada)].join("\n")}\n`);
    const sent = await sendDryRun([input]);
    const report = await inspectJson([input]);

    expect(sent.requests).toBe(2);
    expect(report.requests.estimated).toBe(sent.requests);
  });

  test("a record with two entries counts once", async () => {
    // Both mappings take every track event, so each event of Bob makes two entries.
    const config = join(directory, "two-mappings.json");
    const mapping = {
      email: { "@path": "$.context.traits.email" },
      event: { "@path": "$.event" },
      sent_at: { "@path": "$.timestamp" },
      message_id: { "@path": "$.messageId" },
    };
    const mappings = ["First", "Second"].map((name) => ({ name, enabled: true, trigger: 'type = "track"', action: "trackEvent", mapping }));
    writeFileSync(config, JSON.stringify({ mappings }));
    const bob = { userId: "u-bob", context: { traits: { email: "bob@example.com" } } };
    const bobTracks = Array.from({ length: 1_100 }, (_, index) => track(`bob-${index}`, bob));
    const input = join(directory, "bob-between.jsonl");
    writeFileSync(input, `${[track("ada-1", ada), ...bobTracks, track("ada-2", ada)].join("\n")}\n`);
    const sent = await sendDryRun(["--config", config, input]);
    const report = await inspectJson(["--config", config, input]);

    // Ada's two events, 1,102 records apart, share one request of 4 entries.
    expect(sent.requests).toBe(1 + Math.ceil(1_100 / 30) * 2);
    expect(report.requests.estimated).toBe(sent.requests);
  });
});
