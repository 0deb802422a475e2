import stringWidth from "string-width";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { archiveFiles, readFixtureEvents } from "../helpers/fixture-events.js";
import { parseRequests, printedCommand, projectRoot, runCli } from "../helpers/run-cli.js";
import { runInTerminal } from "../helpers/run-in-terminal.js";
import { unwrapSummary } from "../helpers/summary-text.js";

const archives = "fixtures/archives";

/** The keys of `inspect --json`, in order; a change here is a change of the documented layout. */
const inspectKeys = [
  "reportVersion",
  "tool",
  "command",
  "workingDirectory",
  "inputs",
  "filesRead",
  "filesSkipped",
  "eventsRead",
  "duplicateEvents",
  "unreadable",
  "unreadableByReason",
  "unreadableExamples",
  "unknownCsvTableFiles",
  "eventsByType",
  "topEventNames",
  "distinctEventNames",
  "trackEventsWithoutName",
  "trackEventsWithUnlistedNames",
  "libraries",
  "timeRange",
  "identity",
  "mappingSource",
  "browserEvents",
  "excludeEmails",
  "mappings",
  "resentDeadLetters",
  "noMappingMatched",
  "filteredOut",
  "passingFilters",
  "requests",
  "identityStitching",
];


/** Every fixture event, read independently of koala-replay's readers. */
const fixtureEvents = archiveFiles(join(projectRoot, archives)).flatMap((path) => readFixtureEvents(path));

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) {
    counts[value] = (counts[value] ?? 0) + 1;
  }
  return counts;
}

function nested(event: Record<string, unknown>, ...keys: string[]): unknown {
  let value: unknown = event;
  for (const key of keys) {
    value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

const present = (value: unknown): boolean => (typeof value === "string" && value.trim() !== "") || typeof value === "number";

async function inspectJson(args: readonly string[]): Promise<Record<string, any>> {
  const result = await runCli(["inspect", "--json", ...args]);
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout) as Record<string, any>;
}

describe("inspect --json on the fixture archives", () => {
  test("keys are stable", async () => {
    const report = await inspectJson([archives]);

    expect(Object.keys(report)).toEqual(inspectKeys);
    expect(report.reportVersion).toBe(2);
    expect(report.command).toBe("inspect");
    expect(Object.keys(report.identity)).toEqual(["email", "userId", "anonymousId", "profileId", "emailOrProfileId", "none"]);
    expect(Object.keys(report.timeRange)).toEqual(["earliest", "latest", "eventsWithoutTimestamp"]);
    expect(Object.keys(report.mappings[0])).toEqual(["name", "action", "trigger", "matched", "wouldSend", "skippedByReason", "invalidByReason"]);
  });

  test("events by type match the fixtures", async () => {
    const report = await inspectJson([archives]);

    expect(report.eventsRead).toBe(fixtureEvents.length);
    expect(report.eventsByType).toEqual(countBy(fixtureEvents.map((event) => String(event["type"]))));
  });

  test("libraries and event names match the fixtures", async () => {
    const report = await inspectJson(["--top", "3", archives]);
    const names = countBy(fixtureEvents.filter((event) => event["type"] === "track").map((event) => String(event["event"])));
    const topThree = Object.entries(names)
      .sort((left, right) => right[1] - left[1])
      .slice(0, 3);

    expect(report.libraries).toEqual(countBy(fixtureEvents.map((event) => String(nested(event, "context", "library", "name") ?? "(missing)"))));
    expect(report.distinctEventNames).toBe(Object.keys(names).length);
    expect(report.topEventNames).toHaveLength(3);
    expect(report.topEventNames[0]).toEqual({ name: topThree[0]?.[0], count: topThree[0]?.[1] });
  });

  test("time range is the min and max timestamp", async () => {
    const report = await inspectJson([archives]);
    const times = fixtureEvents.map((event) => Date.parse(String(event["timestamp"]))).filter((time) => Number.isFinite(time));

    expect(report.timeRange.earliest).toBe(new Date(Math.min(...times)).toISOString());
    expect(report.timeRange.latest).toBe(new Date(Math.max(...times)).toISOString());
    expect(report.timeRange.eventsWithoutTimestamp).toBe(fixtureEvents.length - times.length);
  });

  test("time range skips text that is no timestamp", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-inspect-"));
    const path = join(directory, "events.jsonl");
    // Date.parse reads the first two as dates of 2001 and 2024, but --since and --until never match them.
    const timestamps = ["not a date 1", "foo 2024", "2024-13-01", "2024-02-03T04:05:06Z", "2024-02-01T00:00:00+01:00"];
    writeFileSync(path, timestamps.map((timestamp, index) => JSON.stringify({ type: "track", event: "E", messageId: `t-${index}`, timestamp })).join("\n"));

    const report = await inspectJson(["--no-stitch", path]);
    rmSync(directory, { recursive: true, force: true });

    expect(report.timeRange).toEqual({ earliest: "2024-01-31T23:00:00.000Z", latest: "2024-02-03T04:05:06.000Z", eventsWithoutTimestamp: 3 });
  });

  test("identity coverage matches the fixtures", async () => {
    const report = await inspectJson([archives]);
    const email = (event: Record<string, unknown>): boolean =>
      present(nested(event, "traits", "email")) || present(nested(event, "context", "traits", "email")) || present(nested(event, "properties", "email"));

    expect(report.identity.email).toBe(fixtureEvents.filter(email).length);
    expect(report.identity.userId).toBe(fixtureEvents.filter((event) => present(event["userId"])).length);
    expect(report.identity.anonymousId).toBe(fixtureEvents.filter((event) => present(event["anonymousId"])).length);
  });

  test.each([["skip"], ["include"]])("mappings agree with send --dry-run (--browser-events %s)", async (policy) => {
    const report = await inspectJson(["--browser-events", policy, archives]);
    const dryRun = await runCli(["send", "--dry-run", "--browser-events", policy, archives]);
    const requests = parseRequests(dryRun.stdout);
    const wouldSend = report.mappings.reduce((total: number, mapping: { wouldSend: number }) => total + mapping.wouldSend, 0);

    expect(wouldSend).toBe(requests.length);
    expect(report.requests).toEqual({ estimated: requests.length, method: "per-person batches of up to 30 entries of each kind, as send batches them" });
    expect(report.identityStitching.applied).toBe(true);
    expect(report.identityStitching.note).toContain("Counts include identity stitching, as send applies it");
    expect(report.browserEvents).toBe(policy);
  });

  test("browser events skipped under skip", async () => {
    const report = await inspectJson([archives]);
    const track = report.mappings.find((mapping: { name: string }) => mapping.name === "Track Event");

    expect(track.skippedByReason["browser-event"]).toBeGreaterThan(0);
  });

  test("--filter narrows what the mappings take", async () => {
    const all = await inspectJson([archives]);
    const filtered = await inspectJson(["--filter", 'type = "identify"', archives]);
    const identifies = fixtureEvents.filter((event) => event["type"] === "identify").length;
    const track = filtered.mappings.find((mapping: { name: string }) => mapping.name === "Track Event");

    expect(filtered.eventsRead).toBe(all.eventsRead);
    expect(filtered.filteredOut).toBe(fixtureEvents.length - identifies);
    expect(track.matched).toBe(0);
    expect(all.filteredOut).toBe(0);
  });

  test("--filter counts the events that pass", async () => {
    const filtered = await inspectJson(["--filter", 'type = "identify"', archives]);
    const identifies = fixtureEvents.filter((event) => event["type"] === "identify");
    const times = identifies.map((event) => Date.parse(String(event["timestamp"]))).filter((time) => Number.isFinite(time));

    expect(filtered.passingFilters.options).toEqual(["--filter"]);
    expect(filtered.passingFilters.eventsRead).toBe(identifies.length);
    expect(filtered.passingFilters.eventsByType).toEqual({ identify: identifies.length });
    expect(filtered.passingFilters.topEventNames).toEqual([]);
    expect(filtered.passingFilters.timeRange.earliest).toBe(new Date(Math.min(...times)).toISOString());
    expect(filtered.passingFilters.identity.userId).toBe(identifies.filter((event) => present(event["userId"])).length);
    expect(filtered.eventsByType).toEqual(countBy(fixtureEvents.map((event) => String(event["type"]))));
  });

  test("no filter, no passingFilters", async () => {
    const report = await inspectJson([archives]);

    expect(report.passingFilters).toBeNull();
  });

  test("working directory of relative inputs", async () => {
    const result = await runCli(["inspect", "--json", `${archives}/spec`]);
    const report = JSON.parse(result.stdout) as Record<string, any>;

    expect(report.workingDirectory).toBe(resolve(projectRoot));
    expect(report.inputs).toEqual([`${archives}/spec`]);
  });

  test("unreadable file is counted with exit 1", async () => {
    const result = await runCli(["inspect", "--json", "fixtures/bad"]);
    const report = JSON.parse(result.stdout) as Record<string, any>;

    expect(result.status).toBe(1);
    expect(report.unreadable).toBe(1);
    expect(Object.values(report.unreadableByReason)).toEqual([1]);
  });
});

describe("inspect text", () => {
  test("--since and --until: tables count the events that pass", async () => {
    const result = await runCli(["inspect", "--no-stitch", "--since", "2015-06-01", "--until", "2016-01-01", `${archives}/spec`], { env: { COLUMNS: "200" } });
    const text = result.stdout;

    expect(result.status).toBe(0);
    expect(text).toContain("7 events in 1 file\n");
    expect(text).toContain("  2 of the 7 pass --since and --until (5 excluded), and the tables below count only those\n");
    expect(text).toContain("    from 2015-12-10T04:08:31.905Z to 2015-12-12T19:11:01.249Z\n");
    expect(text).toMatch(/Events by type\n {2}track +2 +100\.0%\n\n/);
    expect(text).toMatch(/Libraries \(context\.library\.name\)\n {2}analytics\.js +2 +100\.0%\n\n/);
  });


  test("plain text in a pipe", async () => {
    const result = await runCli(["inspect", archives]);

    expect(result.status).toBe(0);
    expect(result.stdout).not.toMatch(/\u001b\[/);
    for (const title of ["Events by type", "Top track event names", "Libraries (context.library.name)", "Identity coverage", "Mappings (presets, --browser-events skip)"]) {
      expect(result.stdout).toContain(title);
    }
    expect(unwrapSummary(result.stdout)).toMatch(/A send would make about \d+ requests \(per-person batches of up to 30 entries of each kind, as send batches them\)\./);
  });

  test("wide event names keep counts aligned", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-inspect-"));
    const path = join(directory, "wide.jsonl");
    const names = ["漢字の名前", "plain"];
    writeFileSync(path, names.map((event, index) => JSON.stringify({ type: "track", event, messageId: `wide-${index}` })).join("\n"));
    const result = await runCli(["inspect", "--no-stitch", path]);
    rmSync(directory, { recursive: true, force: true });

    // The column where each row's count ends, measured in terminal columns.
    const countEnds = names.map((name) => {
      const row = result.stdout.split("\n").find((line) => line.startsWith(`  ${name} `)) ?? "";
      return stringWidth(row.replace(/(\d)\s*$/, "$1"));
    });
    expect(countEnds[0]).toBeGreaterThan(0);
    expect(countEnds[0]).toBe(countEnds[1]);
  });

  test("unknown CSV table gets the --csv-table advice", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-inspect-"));
    writeFileSync(join(directory, "dbt-model.csv"), "event_id,foo\n1,2\n");
    const result = await runCli(["inspect", directory]);

    expect(result.status).toBe(1);
    expect(unwrapSummary(result.stdout)).toContain("1 CSV file is of a table that koala-replay does not recognise, so it cannot tell the event type of its rows and read none of them:");
    expect(result.stdout).toContain("Pass --csv-table <table>");
    expect(unwrapSummary(result.stdout)).toContain("or --csv-type <type>");
  });

  test("unknown CSV table whose name hints at a standard one gets that table's option", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-inspect-"));
    const pages = join(directory, "dbt-segment_example_segment_pages.csv");
    writeFileSync(pages, "event_id,foo\n1,2\n");
    writeFileSync(join(directory, "dbt-model.csv"), "event_id,foo\n1,2\n");
    const result = await runCli(["inspect", "--no-stitch", directory]);
    rmSync(directory, { recursive: true, force: true });
    const text = unwrapSummary(result.stdout);

    expect(text).toContain(`${pages}: its name suggests the pages table, which --csv-table pages=${pages} gives it`);
    expect(text).toContain(`${join(directory, "dbt-model.csv")} ${pages}`);
  });

  test("unknown CSV tables named once", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-inspect-"));
    writeFileSync(join(directory, "dbt-model.csv"), "event_id,foo\n1,2\n");
    writeFileSync(join(directory, "dbt-other.csv"), "event_id,foo\n1,2\n");
    writeFileSync(join(directory, "events.jsonl"), `${JSON.stringify({ type: "track", event: "A", messageId: "m-1" })}\nnot json\n`);
    const result = await runCli(["inspect", "--no-stitch", directory]);
    rmSync(directory, { recursive: true, force: true });
    const text = unwrapSummary(result.stdout);

    expect(result.status).toBe(1);
    expect(text.split("unknown-csv-table").length - 1).toBe(1);
    expect(text).toContain("3 unreadable: unknown-csv-table 2, malformed-json 1");
    expect(text).toContain(`${join(directory, "events.jsonl")}:2 malformed-json`);
    expect(text).toContain(`2 CSV files are of a table that koala-replay does not recognise, so it cannot tell the event type of their rows and read none of them: ${join(directory, "dbt-model.csv")} ${join(directory, "dbt-other.csv")} Pass --csv-table <table>`);
  });

  test("unknown CSV table named past examples", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-inspect-"));
    // The walk reads a.jsonl first, so its 12 bad lines take every unreadable example.
    writeFileSync(join(directory, "a.jsonl"), "{bad\n".repeat(12));
    writeFileSync(join(directory, "dbt-model.csv"), "event_id,foo\n1,2\n");
    const result = await runCli(["inspect", "--no-stitch", directory]);
    const json = await runCli(["inspect", "--no-stitch", "--json", directory]);
    rmSync(directory, { recursive: true, force: true });
    const text = unwrapSummary(result.stdout);
    const report = JSON.parse(json.stdout) as { unknownCsvTableFiles: string[] };

    expect(text).toContain("13 unreadable: malformed-json 12, unknown-csv-table 1");
    expect(text).toContain(`read none of them: ${join(directory, "dbt-model.csv")} Pass --csv-table <table>`);
    expect(text).not.toContain("… and 1 more");
    expect(report.unknownCsvTableFiles).toEqual([join(directory, "dbt-model.csv")]);
  });

  test("unreadable examples say what is wrong", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-inspect-"));
    writeFileSync(join(directory, "tracks.csv"), 'type,event,user_id\ntrack,A,u1\ntrack,"B,u2\n');
    writeFileSync(join(directory, "events.jsonl"), `${JSON.stringify({ type: "track", event: "A", messageId: "m-1" })}\n{not json\n`);
    const result = await runCli(["inspect", "--no-stitch", directory]);
    rmSync(directory, { recursive: true, force: true });
    const text = unwrapSummary(result.stdout);

    expect(result.status).toBe(1);
    expect(text).toContain(`${join(directory, "tracks.csv")}:3 malformed-csv-row: A quoted cell opened in this row is never closed`);
    expect(text).toContain(`${join(directory, "events.jsonl")}:2 malformed-json: invalid JSON (`);
    expect(text).toContain("fix or remove the line and run again");
  });

  test("unreadable counts with thousands separators", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-inspect-"));
    const path = join(directory, "broken.jsonl");
    writeFileSync(path, `${Array.from({ length: 1_500 }, () => "{not json").join("\n")}\n`);
    const result = await runCli(["inspect", path]);
    rmSync(directory, { recursive: true, force: true });

    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/ 1,500 unreadable: [\w-]+ 1,500\n/);
  });

  test("notes counts include stitching", async () => {
    const result = await runCli(["inspect", "fixtures/identity/server-tracks.jsonl"]);

    expect(result.stdout).toContain("Counts include identity stitching, as send applies it:");
    expect(result.stdout).toContain("Add --no-stitch to leave it out.");
  });

  test("notes counts without stitching under --no-stitch", async () => {
    const result = await runCli(["inspect", "--no-stitch", "fixtures/identity/server-tracks.jsonl"]);

    expect(result.stdout).toContain("Counts are without identity stitching (--no-stitch), as send --no-stitch sends.");
  });

  test("colour on a terminal", async () => {
    const result = await runInTerminal(["inspect", archives]);

    expect(result.output).toContain("\u001b[1mEvents by type\u001b[22m");
  });

  test("NO_COLOR on a terminal", async () => {
    const result = await runInTerminal(["inspect", archives], { env: { NO_COLOR: "1" } });

    expect(result.output).toContain("Events by type");
    expect(result.output).not.toMatch(/\u001b\[[0-9;]*m/);
  });

  test("FORCE_COLOR in a pipe", async () => {
    const result = await runCli(["inspect", archives], { env: { FORCE_COLOR: "1" } });

    expect(result.stdout).toContain("\u001b[1mEvents by type\u001b[22m");
  });

  test("stdin named in the headline", async () => {
    const line = JSON.stringify({ type: "identify", messageId: "m-1", traits: { email: "a@example.com" } });
    const result = await runCli(["inspect", "-"], { stdin: `${line}\n` });

    expect(result.stdout.split("\n")[0]).toBe("1 event from stdin");
  });

  test("files and stdin in the headline", async () => {
    const line = JSON.stringify({ type: "identify", messageId: "m-1", traits: { email: "a@example.com" } });
    const result = await runCli(["inspect", "-", `${archives}/spec`], { stdin: `${line}\n` });

    expect(result.stdout.split("\n")[0]).toMatch(/^\d+ events in 1 file and stdin$/);
  });

  test("files alone in the headline", async () => {
    const result = await runCli(["inspect", `${archives}/spec`]);

    expect(result.stdout.split("\n")[0]).toBe("7 events in 1 file");
  });

  test("config path relative to the working directory", async () => {
    const directory = realpathSync(mkdtempSync(join(tmpdir(), "koala-replay-inspect-")));
    try {
      await runCli(["init"], { cwd: directory });
      const configPath = join(directory, "koala-replay.config.json");
      const result = await runCli(["inspect", "--config", configPath, join(projectRoot, archives, "spec")], { cwd: directory });

      expect(result.stdout).toContain("Mappings (koala-replay.config.json, --browser-events skip)");
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test("mapping name control characters escaped", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-inspect-"));
    const mapping = { event: { "@path": "$.event" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
    const config = { mappings: [{ name: "Track\u001b[31m", trigger: 'type = "track"', action: "trackEvent", mapping }] };
    const configPath = join(directory, "config.json");
    writeFileSync(configPath, JSON.stringify(config));
    const result = await runCli(["inspect", "--config", configPath, `${archives}/spec`]);
    rmSync(directory, { recursive: true, force: true });

    expect(result.stdout).toMatch(/\n {2}Track\\u001b\[31m +\d+ matched/);
    expect(result.stdout).not.toContain("\u001b");
  });

  test("invalid --top exits 2", async () => {
    const result = await runCli(["inspect", "--top", "0", archives]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('invalid --top "0"');
    expect(result.stdout).toBe("");
  });
});

describe("inspect user errors", () => {
  test("missing input names the command to run", async () => {
    const result = await runCli(["inspect", "fixtures/no-such-file.jsonl"]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: input not found: fixtures/no-such-file.jsonl");
    expect(unwrapSummary(result.stderr)).toContain(`run ${printedCommand()} inspect --help`);
    expect(result.stderr).not.toContain("    at ");
  });
});

describe("inspect of an archive with many distinct values", () => {
  // 40 types of 1 event each next to 100 track events with 100 different bad timestamps.
  const lines = [
    ...Array.from({ length: 100 }, (_, index) => JSON.stringify({ type: "track", event: "Signed Up", messageId: `t-${index}`, timestamp: `bad ${index}`, properties: { email: `u${index}@example.com` } })),
    ...Array.from({ length: 40 }, (_, index) => JSON.stringify({ type: `custom-${String(index).padStart(2, "0")}`, messageId: `c-${index}` })),
  ];

  test("text folds types past twenty", async () => {
    const result = await runCli(["inspect", "-"], { stdin: `${lines.join("\n")}\n` });

    expect(result.status).toBe(0);
    const typeRows = result.stdout.split("Events by type\n")[1]?.split("\n\n")[0]?.split("\n") ?? [];
    expect(typeRows).toHaveLength(21);
    expect(typeRows[0]).toMatch(/^ {2}track +100 +71\.4%$/);
    expect(typeRows[20]).toMatch(/^ {2}\(other values\) +21 +15\.0%$/);
  });

  test("groups invalid reasons by value", async () => {
    const result = await runCli(["inspect", "--json", "-"], { stdin: `${lines.join("\n")}\n` });
    const report = JSON.parse(result.stdout) as { mappings: Array<{ name: string; invalidByReason: Record<string, number> }> };

    expect(report.mappings.find((mapping) => mapping.name === "Track Event")?.invalidByReason).toEqual({
      "sent_at: must be an ISO-8601 date-time such as 2024-01-31T12:00:00Z": 100,
    });
  });
});

describe("track events without a name", () => {
  const lines = [
    { type: "track", event: "Signed Up", messageId: "n-1" },
    { type: "track", messageId: "n-2" },
    { type: "track", event: "", messageId: "n-3" },
    { type: "track", event: 42, messageId: "n-4" },
    { type: "track", event: "Signed Up", messageId: "n-5" },
    { type: "identify", messageId: "n-6" },
  ].map((event) => JSON.stringify(event));
  const stdin = `${lines.join("\n")}\n`;

  test("counted apart from the names", async () => {
    const result = await runCli(["inspect", "--json", "--no-stitch", "-"], { stdin });
    const report = JSON.parse(result.stdout) as { topEventNames: Array<{ name: string; count: number }>; distinctEventNames: number; trackEventsWithoutName: number };

    expect(report.topEventNames).toEqual([{ name: "Signed Up", count: 2 }]);
    expect(report.distinctEventNames).toBe(1);
    expect(report.trackEventsWithoutName).toBe(3);
  });

  test("text says how many", async () => {
    const result = await runCli(["inspect", "--no-stitch", "-"], { stdin });
    const text = unwrapSummary(result.stdout);

    expect(text).toContain("Top track event names (1 distinct) Signed Up 2 ");
    expect(text).toContain("3 track events without a name (event missing, empty or not a string) are not counted above");
    expect(text).not.toContain("(missing) 1");
  });
});

describe("inspect of more event names than it keeps", () => {
  const names = 10_005;
  const stdin = Array.from({ length: names }, (_, index) => `${JSON.stringify({ type: "track", event: `e${index}`, messageId: `m${index}` })}\n`).join("");

  test("leaves the overflow out of the names", async () => {
    const result = await runCli(["inspect", "--json", "--no-stitch", "-"], { stdin });
    const report = JSON.parse(result.stdout) as { topEventNames: Array<{ name: string; count: number }>; distinctEventNames: number; trackEventsWithUnlistedNames: number };

    expect(report.topEventNames.map((name) => name.name)).not.toContain("(other values)");
    expect(report.distinctEventNames).toBe(10_000);
    expect(report.trackEventsWithUnlistedNames).toBe(5);
  });

  test("text says the count is a lower bound", async () => {
    const result = await runCli(["inspect", "--no-stitch", "-"], { stdin });
    const text = unwrapSummary(result.stdout);

    expect(text).toContain("Top track event names (more than 10,000 distinct)");
    expect(text).toContain("5 track events have a name past the first 10,000 distinct ones, which inspect counts but does not list");
  });

  test("event named like the overflow row is listed", async () => {
    const stdin = `${JSON.stringify({ type: "track", event: "(other values)", messageId: "m1" })}\n`;
    const result = await runCli(["inspect", "--json", "--no-stitch", "-"], { stdin });
    const report = JSON.parse(result.stdout) as { topEventNames: Array<{ name: string; count: number }>; distinctEventNames: number; trackEventsWithUnlistedNames: number };

    expect(report.topEventNames).toEqual([{ name: "(other values)", count: 1 }]);
    expect(report.distinctEventNames).toBe(1);
    expect(report.trackEventsWithUnlistedNames).toBe(0);
  });
});

describe("inspect of events that a send would not send", () => {
  test("says no request, not about 0", async () => {
    const line = JSON.stringify({ type: "page", messageId: "p-1" });

    const result = await runCli(["inspect", "-"], { stdin: `${line}\n` });

    expect(unwrapSummary(result.stdout)).toContain("A send would make no request.");
  });
});
