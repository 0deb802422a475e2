import { createReadStream, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { readCsvRecords, tableFromFileName } from "../../src/inputs/csv/index.js";
import { deriveMessageId } from "../../src/inputs/message-id.js";
import { parseRequests, projectRoot, runCli } from "../helpers/run-cli.js";
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
