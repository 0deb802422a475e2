import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parseRequests, projectRoot, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// A CSV whose name is no table name is not read. Its warning suggests the table that the words of
// its name point to, and --csv-table <table>=<file> reads that one file as a table, so that the
// other files of a folder keep the tables their names give.

const PAGES_EXPORT = "dbt-segment_example_segment_pages.csv";

/** Copies the pages export beside a tracks.csv of one event, and returns the folder. */
function writeArchive(): string {
  const directory = mkdtempSync(join(tmpdir(), "koala-replay-csv-table-"));
  copyFileSync(join(projectRoot, "fixtures/csv/warehouse", PAGES_EXPORT), join(directory, PAGES_EXPORT));
  writeFileSync(join(directory, "tracks.csv"), "id,user_id,event,timestamp,context_traits_email\nt-1,u-1,Signed Up,2024-01-01T00:00:00Z,ada@example.com\n");
  return directory;
}

/** Returns the kind of each entry a dry run printed: "event" for a track entry, "identify" for an identify entry. */
function requestTypes(stdout: string): string[] {
  return parseRequests(stdout).flatMap((request) => [
    ...((request.body["events"] as unknown[] | undefined) ?? []).map(() => "event"),
    ...((request.body["identifies"] as unknown[] | undefined) ?? []).map(() => "identify"),
  ]);
}

describe("CSV named after no table", () => {
  test("warning suggests the table its name hints at", async () => {
    const directory = writeArchive();

    const result = await runCli(["send", "--dry-run", "--no-stitch", "."], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(1);
    expect(text).toContain(`Its name suggests the pages table: if that is right, pass --csv-table pages=${PAGES_EXPORT} to read this file alone as pages, or rename it to pages.csv.`);
    expect(text).not.toContain("(identifies.csv)");
  });

  test("name without a table word: generic advice", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-csv-table-"));
    writeFileSync(join(directory, "export-2024.csv"), "id,user_id,timestamp\nx-1,u-1,2024-01-01T00:00:00Z\n");

    const result = await runCli(["send", "--dry-run", "--no-stitch", "export-2024.csv"], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(result.status).toBe(1);
    expect(text).toContain("Pass --csv-table <table>=export-2024.csv with the warehouse table it was exported from");
    expect(text).toContain("or rename the file after its table (such as identifies.csv)");
  });
});

describe("--csv-table <table>=<file>", () => {
  test("reads one file of a folder as that table", async () => {
    const directory = writeArchive();

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--csv-table", `pages=${PAGES_EXPORT}`, "."], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(text).not.toContain("This CSV is not a table");
    expect(text).not.toContain("warning:");
    expect(text).toMatch(/unreadable\s+0\b/);
    expect(text).toContain("Event types seen: page 1");
    // tracks.csv is still read as the tracks table: its event is sent.
    expect(result.stdout).toContain('"event":"Signed Up"');
    expect(requestTypes(result.stdout)).toContain("event");
  });

  test("a path through another folder matches", async () => {
    const directory = writeArchive();

    const result = await runCli(["inspect", "--no-stitch", "--csv-table", `pages=${join(directory, PAGES_EXPORT)}`, directory], { cwd: projectRoot });

    expect(result.status).toBe(0);
    expect(unwrapSummary(result.stderr)).not.toContain("This CSV is not a table");
    expect(unwrapSummary(result.stdout)).not.toContain("unknown-csv-table");
  });

  test("beside a table for every file", async () => {
    const directory = writeArchive();

    const result = await runCli(["preview", "--no-stitch", "--csv-table", "tracks", "--csv-table", `pages=${PAGES_EXPORT}`, "."], { cwd: directory });

    expect(result.status).toBe(0);
    expect(unwrapSummary(result.stderr)).not.toContain("This CSV is not a table");
  });

  test("missing file is a usage error", async () => {
    const directory = writeArchive();

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--csv-table", "pages=missing.csv", "."], { cwd: directory });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain('invalid --csv-table "pages=missing.csv": the file missing.csv does not exist');
  });

  test("invalid table name is a usage error", async () => {
    const directory = writeArchive();

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--csv-table", `page-views=${PAGES_EXPORT}`, "."], { cwd: directory });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain('invalid --csv-table "page-views=dbt-segment_example_segment_pages.csv"');
  });

  test("two tables for every file are rejected", async () => {
    const directory = writeArchive();

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--csv-table", "pages", "--csv-table", "tracks", "."], { cwd: directory });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr)).toContain("--csv-table is given twice for every CSV file (pages and tracks)");
  });

  test("close name of one file warns", async () => {
    const directory = writeArchive();

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--csv-table", `pagez=${PAGES_EXPORT}`, "."], { cwd: directory });

    expect(unwrapSummary(result.stderr)).toContain("--csv-table pagez is not a standard table");
  });
});

describe("--csv-table over a name that gives a table", () => {
  test("warning offers a table for the one file", async () => {
    const directory = writeArchive();

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--csv-table", "pages", "."], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(text).toContain("--csv-table pages reads tracks.csv as the pages table, though its name gives the tracks table");
    expect(text).toContain("give this file its own table with --csv-table tracks=tracks.csv");
  });

  test("no warning once the file has its own table", async () => {
    const directory = writeArchive();

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--csv-table", "pages", "--csv-table", "tracks=tracks.csv", "."], { cwd: directory });
    const text = unwrapSummary(result.stderr);

    expect(text).not.toContain("though its name gives");
    expect(result.stdout).toContain('"event":"Signed Up"');
  });
});
