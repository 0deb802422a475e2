import { closeSync, createReadStream, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { readCsvRecords, tableFromFileName } from "../../src/inputs/csv/index.js";
import { deriveMessageId } from "../../src/inputs/message-id.js";
import { parseRequests, printedCommand, projectRoot, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";
import { segmentRequestBody, sortByMessageId, uniqueByMessageId } from "../helpers/segment-reference.js";

// The CSV reader's events are checked field by field in test/csv; here the whole pipeline must turn
// each CSV sample into exactly the requests Segment's destination would send for those events.

const csvRoot = join(projectRoot, "fixtures/csv");

function csvFiles(directory: string): string[] {
  return readdirSync(directory)
    .sort()
    .flatMap((name) => {
      const path = join(directory, name);
      return statSync(path).isDirectory() ? csvFiles(path) : name.endsWith(".csv") ? [path] : [];
    });
}

/** The dbt sample's file name is not a table name, so it is read with --csv-table pages. */
function tableFor(path: string): string | undefined {
  return path.includes("dbt-segment_example_segment_pages") ? "pages" : tableFromFileName(path);
}

async function expectedBodies(path: string, input: string): Promise<unknown[]> {
  const bodies: unknown[] = [];
  for await (const item of readCsvRecords(createReadStream(path), { input, table: tableFor(path), convertNumbers: false })) {
    if (item.kind !== "record") {
      continue;
    }
    const event = item.event;
    if (event["messageId"] === undefined) {
      event["messageId"] = deriveMessageId(event);
    }
    const body = segmentRequestBody(event, { includeBrowserEvents: true });
    if (body !== undefined) {
      bodies.push(body);
    }
  }
  return bodies;
}

describe("send --dry-run on CSV samples", () => {
  test.each(csvFiles(csvRoot).map((path) => relative(projectRoot, path)))("%s matches Segment's requests", async (file) => {
    const table = tableFor(file);
    const args = ["send", "--dry-run", "--no-stitch", "--max-batch-size", "1", "--browser-events", "include", ...(table === undefined ? [] : ["--csv-table", table]), file];
    const result = await runCli(args);

    expect(result.stderr).not.toContain("internal error");
    expect(sortByMessageId(parseRequests(result.stdout).map((request) => request.body))).toEqual(sortByMessageId(uniqueByMessageId(await expectedBodies(join(projectRoot, file), file))));
  });

  test("CSV named .txt is detected by its content", async () => {
    const input = "type,event,userId,timestamp,messageId,traits.email\nidentify,,u1,2024-01-01T00:00:00Z,m-1,ada@example.com\n";
    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: input });

    expect(parseRequests(result.stdout).map((request) => request.body["email"])).toEqual(["ada@example.com"]);
  });
});

describe("--csv-table typo", () => {
  test.each([["send", "--dry-run", "--no-stitch"], ["inspect"], ["preview"]])("%s warns and names the table", async (...command) => {
    const result = await runCli([...command, "--csv-table", "pagez", "fixtures/csv/warehouse/dbt-segment_example_segment_pages.csv"]);

    expect(result.status).toBe(0);
    expect(result.stderr).toContain("warning: --csv-table pagez is not a standard table");
    expect(result.stderr).toContain("Did you mean --csv-table pages?");
  });
});

describe("numeric trigger on CSV text", () => {
  const header = "event,userId,properties.total,context.traits.email,timestamp";
  const orders = [header, "Order Completed,u1,12,a@example.com,2024-01-01T00:00:00Z", "Order Completed,u2,0,b@example.com,2024-01-01T00:00:00Z"];

  /** Runs a dry run of `rows` as orders.csv, with the Track Event preset under `trigger`. */
  async function dryRun(options: { trigger?: string; rows?: readonly string[]; extra?: readonly string[] } = {}): Promise<{ status: number | null; stderr: string; requests: number }> {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-csv-numbers-"));
    try {
      writeFileSync(join(directory, "orders.csv"), `${(options.rows ?? orders).join("\n")}\n`);
      await runCli(["init", "config.json"], { cwd: directory });
      const config = JSON.parse(readFileSync(join(directory, "config.json"), "utf8")) as { mappings: Array<{ action: string; trigger: string }> };
      config.mappings = config.mappings.filter((mapping) => mapping.action === "trackEvent");
      (config.mappings[0] as { trigger: string }).trigger = options.trigger ?? 'type = "track" and properties.total > 0';
      writeFileSync(join(directory, "config.json"), JSON.stringify(config));
      const result = await runCli(["send", "--dry-run", "--no-stitch", "--config", "config.json", ...(options.extra ?? []), "orders.csv"], { cwd: directory });
      return { status: result.status, stderr: unwrapSummary(result.stderr), requests: parseRequests(result.stdout).length };
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }

  test("summary names the cell and the trigger", async () => {
    const result = await dryRun();

    expect(result.status).toBe(0);
    expect(result.requests).toBe(0);
    expect(result.stderr).toContain("2 of 2 matched no mapping's trigger");
    expect(result.stderr).toContain(
      'CSV cells are text without --csv-numbers: properties.total is "12" at orders.csv:2, and mapping "Track Event" compares it with a number, which text never matches.',
    );
    expect(result.stderr).toContain("Add --csv-numbers to read number-like cells as numbers.");
  });

  test("hint for a --filter comparison", async () => {
    const result = await dryRun({ trigger: 'type = "track"', extra: ["--filter", "properties.total >= 10"] });

    expect(result.requests).toBe(0);
    expect(result.stderr).toContain('properties.total is "12" at orders.csv:2, and --filter compares it with a number');
  });

  test("no hint with --csv-numbers", async () => {
    const result = await dryRun({ extra: ["--csv-numbers"] });

    expect(result.requests).toBe(1);
    expect(result.stderr).not.toContain("--csv-numbers");
  });

  test("no hint without a number comparison", async () => {
    // Identify rows match no Track Event trigger, so the summary explains the unmatched events.
    const rows = ["type,userId,traits.email,traits.age,timestamp", "identify,u1,a@example.com,41,2024-01-01T00:00:00Z"];
    const result = await dryRun({ trigger: 'type = "track"', rows });

    expect(result.stderr).toContain("1 of 1 matched no mapping's trigger");
    expect(result.stderr).not.toContain("--csv-numbers");
  });

  test("no hint when no cell is number-like", async () => {
    const rows = [header, "Order Completed,u1,n/a,a@example.com,2024-01-01T00:00:00Z", "Order Completed,u2,,b@example.com,2024-01-01T00:00:00Z"];
    const result = await dryRun({ rows });

    expect(result.stderr).toContain("2 of 2 matched no mapping's trigger");
    expect(result.stderr).not.toContain("--csv-numbers");
  });

  test("no hint for text --csv-numbers keeps", async () => {
    // --csv-numbers converts plain decimals only, so 1,200 stays text with it and the option cannot help.
    const rows = [header, 'Order Completed,u1,"1,200",a@example.com,2024-01-01T00:00:00Z'];
    const result = await dryRun({ rows });

    expect(result.stderr).not.toContain("--csv-numbers");
  });
});

describe("Engage audience downloads", () => {
  test("summary says how to map sent_at", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "fixtures/csv/engage"]);
    const summary = unwrapSummary(result.stderr);

    expect(summary).toContain("invalid: see the reasons below. Events without a timestamp (Engage audience CSV downloads have none) need sent_at mapped");
    expect(summary).toContain('{"@literal": "2024-01-01T00:00:00Z"}');
    expect(summary).toContain(`in a config (${printedCommand()} init writes one).`);
  });

  test("no advice when timestamps are there", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "fixtures/archives/spec"]);

    expect(unwrapSummary(result.stderr)).not.toContain("Events without a timestamp");
  });
});

describe("--csv-table over a file named after another table", () => {
  const directory = mkdtempSync(join(tmpdir(), "koala-replay-csv-table-"));
  writeFileSync(join(directory, "identifies.csv"), "id,user_id,email,timestamp\n1,u1,a@example.com,2024-01-01T00:00:00Z\n");
  writeFileSync(join(directory, "export-2024.csv"), "id,user_id,email,timestamp\n2,u2,b@example.com,2024-01-01T00:00:00Z\n");
  const warning = `--csv-table pages reads ${join(directory, "identifies.csv")} as the pages table, though its name gives the identifies table`;

  test.each([["send", "--dry-run"], ["inspect"], ["preview"]])("%s warns for that file only", async (...command) => {
    const result = await runCli([...command, "--no-stitch", "--csv-table", "pages", directory]);
    const warnings = unwrapSummary(result.stderr);

    expect(warnings).toContain(warning);
    expect(warnings).not.toContain("export-2024.csv as the pages table");
  });

  test("no warning for the table the name gives", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--csv-table", "identifies", join(directory, "identifies.csv")]);

    expect(result.stderr).not.toContain("though its name gives");
  });
});

describe("columns that fill one field", () => {
  test("joined id columns are not sent", async () => {
    // A join of tracks and users exported with SELECT *: the second id is the user's, not the messageId.
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-csv-join-"));
    const file = join(directory, "tracks.csv");
    writeFileSync(file, "id,user_id,event_text,timestamp,context_traits_email,id\nm1,u1,Signed Up,2024-01-01,a@example.com,u1\nm2,u2,Signed Up,2024-01-01,b@example.com,\n");
    const result = await runCli(["send", "--dry-run", "--no-stitch", "--report", join(directory, "report.json"), file]);
    const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8")) as { counts: Record<string, number> };
    rmSync(directory, { recursive: true, force: true });

    expect(result.status).toBe(1);
    expect(parseRequests(result.stdout).map((request) => (request.body["events"] as Array<{ message_id: string }>)[0]!.message_id)).toEqual(["m2"]);
    expect(report.counts["unreadable"]).toBe(1);
    expect(unwrapSummary(result.stderr)).toContain(`${file}:2: Columns 1 (id) and 6 (id) both give messageId, and this row has different values in them`);
  });
});

describe("wide CSV rows", () => {
  test("wide rows read with a small heap", async () => {
    // 1,000 rows of 2,000 columns make about 150 MB of events, which a 128 MB heap cannot hold at once.
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-csv-wide-"));
    const path = join(directory, "wide.csv");
    const columnCount = 2_000;
    const rowCount = 1_500;
    const file = openSync(path, "w");
    writeSync(file, `type,event,userId,timestamp,email,${Array.from({ length: columnCount }, (_, index) => `p${index}`).join(",")}\n`);
    const cells = Array.from({ length: columnCount }, () => "x".repeat(10)).join(",");
    for (let row = 0; row < rowCount; row += 1) {
      writeSync(file, `track,Viewed,u${row},2024-01-01,u${row}@example.com,${cells}\n`);
    }
    closeSync(file);

    const result = await runCli(["inspect", "--json", "--no-stitch", path], { env: { NODE_OPTIONS: "--max-old-space-size=128" } });
    rmSync(directory, { recursive: true, force: true });

    expect(result.stderr).not.toContain("heap out of memory");
    expect((JSON.parse(result.stdout) as { eventsRead: number }).eventsRead).toBe(rowCount);
    expect(result.status).toBe(0);
  }, 120_000);
});
