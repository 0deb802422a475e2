import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import stringWidth from "string-width";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { printedCommand, runCli } from "../helpers/run-cli.js";
import { runInTerminal } from "../helpers/run-in-terminal.js";
import { unwrapSummary } from "../helpers/summary-text.js";
import { appendNote, wrapMessage, wrapText } from "../../src/reporting/wrap-text.js";

/** Lines of `text` wider than `width` columns; string-width leaves colour codes out. */
function linesWiderThan(text: string, width: number): string[] {
  return text.split("\n").filter((line) => stringWidth(line) > width);
}

/** A Segment S3 archive folder, and its object whose name is wider than a 60-column line. */
const S3_ARCHIVE = "fixtures/archives/s3/segment-logs";
const S3_OBJECT = "1700680092417.events-archiver-480-41..5591e831-bc4c-4944-874e-6655fb78010c.gz";

let directory: string;
let archive: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-output-width-"));
  // A deep folder and long file names make the skipped-file warning, the duplicate notes of inspect
  // and the sample headings of preview far wider than 80 columns unless they are wrapped.
  archive = join(directory, "exports-of-the-marketing-workspace", "segment-logs", "a-source-with-a-long-identifier");
  mkdirSync(archive, { recursive: true });
  const event = (messageId: string, email: string | undefined): string =>
    JSON.stringify({
      type: "track",
      event: "Order Completed",
      messageId,
      timestamp: "2024-05-01T00:00:00.000Z",
      properties: { total: 12, ...(email === undefined ? {} : { email }) },
    });
  const events = `${event("w-1", "ada@example.com")}\n${event("w-2", undefined)}\n`;
  writeFileSync(join(archive, "events-exported-on-the-first-of-may-from-the-warehouse.jsonl"), events);
  writeFileSync(join(archive, "events-exported-on-the-first-of-may-from-the-warehouse-copy.jsonl"), events);
  writeFileSync(join(archive, "notes-about-this-export-written-by-the-data-team.txt"), "not events\n");
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe("text output width in a pipe", () => {
  test("send warnings fit 80 columns", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", archive]);

    expect(result.status).toBe(0);
    expect(result.stderr).toContain("warning: skipped ");
    expect(linesWiderThan(result.stderr, 80)).toEqual([]);
    expect(unwrapSummary(result.stderr)).toContain(`warning: skipped ${archive}/notes-about-this-export-written-by-the-data-team.txt: not an archive`);
  });

  test("dry-run requests stay one line each", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", archive]);
    const lines = result.stdout.split("\n").filter((line) => line !== "");

    expect(lines).toHaveLength(1);
    expect(stringWidth(lines[0] as string)).toBeGreaterThan(80);
    expect(() => JSON.parse(lines[0] as string)).not.toThrow();
  });

  test("inspect text and warnings fit 80 columns", async () => {
    const result = await runCli(["inspect", "--no-stitch", archive]);

    expect(result.status).toBe(0);
    expect(linesWiderThan(result.stdout, 80)).toEqual([]);
    expect(linesWiderThan(result.stderr, 80)).toEqual([]);
    const text = unwrapSummary(result.stdout);
    expect(text).toContain("every event of");
    expect(text).toContain("repeats an earlier one: is it a copy of another input, such as an S3 object and its decompressed copy?");
    expect(text).toContain(`${archive}/notes-about-this-export-written-by-the-data-team.txt: not an archive`);
  });

  test("inspect --json keeps long values on one line", async () => {
    const result = await runCli(["inspect", "--json", "--no-stitch", archive]);
    const report = JSON.parse(result.stdout) as { duplicateEvents: { inputsOfDuplicatesOnly: string[] } };

    expect(report.duplicateEvents.inputsOfDuplicatesOnly).toHaveLength(1);
    expect(result.stdout).toContain(JSON.stringify(report.duplicateEvents.inputsOfDuplicatesOnly[0]));
  });

  test("preview text and warnings fit 80 columns", async () => {
    const result = await runCli(["preview", "--no-stitch", archive]);

    expect(result.status).toBe(0);
    expect(linesWiderThan(result.stdout, 80)).toEqual([]);
    expect(linesWiderThan(result.stderr, 80)).toEqual([]);
    const text = unwrapSummary(result.stdout);
    expect(text).toContain(`── example 1 · ${archive}/events-exported-on-the-first-of-may-from-the-warehouse-copy.jsonl:1`);
    expect(text).toContain("no-identity: no email or profile_id (Koala cannot attach it to a person)");
    expect(text).toContain("4 events read: the whole input. 1 entry would be sent from them.");
  });

  test("check warning fits 80 columns", async () => {
    // The key check that follows fails when nothing listens on port 9; only the warning before its error is checked.
    const result = await runCli(["check", "--public-key", "pk_1234", "--endpoint", "http://127.0.0.1:9"]);
    const warning = result.stderr.slice(0, result.stderr.indexOf("error:"));

    expect(warning).toContain("warning: the public key");
    expect(linesWiderThan(warning, 80)).toEqual([]);
  });
});

describe("text output width on a terminal", () => {
  test("inspect wraps to the terminal's width", async () => {
    const result = await runInTerminal(["inspect", "--no-stitch", archive], { columns: 100, env: { NO_COLOR: "1" } });

    expect(result.status).toBe(0);
    expect(linesWiderThan(result.output, 100)).toEqual([]);
    expect(linesWiderThan(result.output, 80).length).toBeGreaterThan(0);
  });

  test("preview wraps to a narrow terminal", async () => {
    const result = await runInTerminal(["preview", "--no-stitch", archive], { columns: 60, env: { NO_COLOR: "1" } });

    expect(result.status).toBe(0);
    // The file names are 60 and 65 columns wide, so their lines are wider than 60 with the line number.
    for (const line of linesWiderThan(result.output, 60)) {
      expect(line.trim(), line).toMatch(/^events-exported-on-the-first-of-may-from-the-warehouse(-copy)?\.jsonl:\d$/);
    }
  });

  test("inspect keeps S3 object names whole", async () => {
    const result = await runInTerminal(["inspect", "--no-stitch", S3_ARCHIVE], { columns: 60, env: { NO_COLOR: "1" } });
    const lines = result.output.split("\n").map((line) => line.trim());

    expect(result.status).toBe(0);
    expect(lines).toContain("r9QxNCpUszLY641VRaszNv/1700611200000/");
    expect(lines).toContain(`${S3_OBJECT}:1);`);
    expect(lines).toContain(S3_OBJECT);
    for (const line of linesWiderThan(result.output, 60)) {
      expect(line.trim(), line).toMatch(/^\d{13}\.events-archiver-[^ /]*\.gz(:1\);)?$/);
    }
  });

  test("inspect tables fit a 50-column terminal", async () => {
    const result = await runInTerminal(["inspect", "--no-stitch", S3_ARCHIVE], { columns: 50, env: { NO_COLOR: "1" } });
    const lines = result.output.split("\n");

    expect(result.status).toBe(0);
    for (const line of linesWiderThan(result.output, 50)) {
      expect(line.trim(), line).toMatch(/^\d{13}\.events-archiver-[^ /]*\.gz(:1\);)?$/);
    }
    expect(lines).toContain("  email or profile_id (Koala can attach these): 0");
    expect(lines).toContain("  Track Event: 18 matched, 0 would be sent");
    expect(lines).toContain("    18 skipped: analytics.js track event, skipped");
    expect(lines).toContain("  no mapping matched: 0");
  });

  test("inspect keeps table columns where they fit", async () => {
    const result = await runInTerminal(["inspect", "--no-stitch", S3_ARCHIVE], { columns: 100, env: { NO_COLOR: "1" } });

    expect(result.status).toBe(0);
    expect(result.output).toMatch(/\n {2}Track Event {2,}18 matched {2,}0 would be sent {2}type = "track"\n/);
    expect(result.output).toMatch(/\n {2}userId {2,}\d+ +\d+\.\d%\n/);
  });
});

describe("send summary width", () => {
  /** Returns the summary that a dry run of the test archive writes to a terminal of `columns` columns. */
  async function summaryOnTerminal(columns: number): Promise<string> {
    const result = await runInTerminal(["send", "--dry-run", "--no-stitch", "--no-progress", archive], { columns, redirectStdout: "/dev/null", env: { NO_COLOR: "1" } });

    expect(result.status).toBe(0);
    return result.output.slice(result.output.indexOf("koala-replay:"));
  }

  test("fits a narrow terminal", async () => {
    const summary = await summaryOnTerminal(44);

    expect(linesWiderThan(summary, 44)).toEqual([]);
    expect(summary).toContain("\n  events read: 4\n");
    expect(summary).toContain("\n  would be sent: 1\n");
    expect(unwrapSummary(summary)).toContain("no-identity: 2 no email or profile_id (Koala cannot attach it to a person)");
  });

  test("keeps the value column from 60 columns", async () => {
    const summary = await summaryOnTerminal(60);

    expect(linesWiderThan(summary, 60)).toEqual([]);
    expect(summary).toMatch(/\n {2}events read {12}4\n/);
  });

  test("widens on a wide terminal", async () => {
    const summary = await summaryOnTerminal(130);

    expect(linesWiderThan(summary, 130)).toEqual([]);
    expect(linesWiderThan(summary, 80).length).toBeGreaterThan(0);
  });

  test("keeps 80 columns in a pipe", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", archive], { env: { COLUMNS: "" } });
    const summary = result.stderr.slice(result.stderr.indexOf("koala-replay:"));

    expect(result.status).toBe(0);
    expect(linesWiderThan(summary, 80)).toEqual([]);
    expect(summary).toMatch(/\n {2}events read {12}4\n/);
  });

  test("follows COLUMNS in a pipe, as warnings do", async () => {
    const result = await runCli(["send", "--dry-run", "--no-stitch", archive], { env: { COLUMNS: "44" } });
    const summary = result.stderr.slice(result.stderr.indexOf("koala-replay:"));

    expect(result.status).toBe(0);
    expect(result.stderr).toContain("warning: skipped");
    // Only a word wider than the line, such as a long file name, may go past it.
    for (const line of linesWiderThan(result.stderr, 44)) {
      expect(line.trim(), line).not.toContain(" ");
    }
    expect(summary).toContain("\n  events read: 4\n");
  });
});

describe("error width", () => {
  test.each([
    [["send", "--dry-runn", "x.jsonl"], "error: unknown option '--dry-runn' Did you mean --dry-run? Add --help to the command for its usage."],
    [["sendd"], "error: unknown command 'sendd' Did you mean send? Add --help to the command for its usage."],
    [["help", "sendd"], "error: unknown command 'sendd' Did you mean send? Add --help to the command for its usage."],
    [["sendd", "--help"], "error: unknown command 'sendd' Did you mean send? Add --help to the command for its usage."],
    [["send", "--config"], "error: option '-c, --config <path>' argument missing Add --help to the command for its usage."],
    [["init", "a.json", "b.json"], "error: too many arguments for 'init'. Expected 1 argument but got 2. Add --help to the command for its usage."],
  ])("commander error %j keeps its suggestion and status 2", async (args, expected) => {
    const result = await runCli(args, { env: { COLUMNS: "30" } });

    expect(result.status).toBe(2);
    expect(unwrapSummary(result.stderr).trim()).toBe(expected);
    expect(linesWiderThan(result.stderr, 30)).toEqual([]);
  });

  test("usage error wraps to COLUMNS", async () => {
    const config = join(directory, "a-folder-that-does-not-exist", "with-a-rather-long-name", "koala-replay.config.json");
    const result = await runCli(["send", "--dry-run", "--config", config, archive], { env: { COLUMNS: "50" } });
    const lines = result.stderr.split("\n");

    expect(result.status).toBe(2);
    expect(lines[0]).toMatch(/^error: config file not found: /);
    // The command to create the config is kept whole, so that it can be pasted into a shell.
    expect(lines).toContain(`    ${printedCommand()} init ${config}`);
    for (const line of linesWiderThan(result.stderr, 50)) {
      expect(line, line).toBe(`    ${printedCommand()} init ${config}`);
    }
    expect(unwrapSummary(result.stderr)).toContain(`error: config file not found: ${config}`);
  });

  test("key check error wraps on a narrow terminal", async () => {
    // Nothing listens on port 9, so the key check fails before any request.
    const result = await runInTerminal(["check", "--public-key", "pk_1234567890ab", "--endpoint", "http://127.0.0.1:9"], { columns: 40, env: { NO_COLOR: "1" } });

    // The mapping list that check prints to stdout before the error is a table, which is not wrapped.
    const error = result.output.slice(result.output.indexOf("error:"));

    expect(result.status).toBe(3);
    expect(error).toMatch(/^error: Koala could not be reached at/);
    expect(linesWiderThan(error, 40)).toEqual([]);
    expect(unwrapSummary(error)).toContain("check the --endpoint URL (default https://api2.getkoala.com), that the server is up");
  });

  test("trigger error keeps its caret under the error", async () => {
    const trigger = 'type = "track" and event = "Order Completed" and properties.total >';
    const result = await runCli(["check", "--trigger", trigger], { env: { COLUMNS: "40" } });
    const lines = result.stderr.split("\n");
    const triggerLine = lines.indexOf(`  ${trigger}`);

    expect(result.status).toBe(2);
    expect(triggerLine).toBeGreaterThan(0);
    expect(lines[triggerLine + 1]).toBe(`  ${" ".repeat(trigger.length)}^`);
    expect(linesWiderThan(lines.slice(0, triggerLine).join("\n"), 40)).toEqual([]);
  });
});

describe("wrapText", () => {
  test.each([
    ["breaks a path after the last fitting /", "file segment-logs/source-id/1700611200000/x.gz read", 24, ["file segment-logs/", "  source-id/", "  1700611200000/x.gz", "  read"]],
    ["keeps a segment wider than a line whole", `in ${"x".repeat(20)}/y.gz`, 12, ["in", `  ${"x".repeat(20)}/`, "  y.gz"]],
    ["keeps a word without / whole", `a ${"x".repeat(20)} b`, 12, ["a", `  ${"x".repeat(20)}`, "  b"]],
    ["starts a path on the line when a segment fits", "read segment-logs/source/1700680092417.events.gz", 30, ["read segment-logs/source/", "  1700680092417.events.gz"]],
    ["never cuts after a leading or trailing /", `/${"x".repeat(14)}/`, 10, [`/${"x".repeat(14)}/`]],
  ])("%s", (_case, text, width, expected) => {
    expect(wrapText(text, width, "", "  ")).toEqual(expected);
  });
});

describe("wrapMessage", () => {
  test("indents continuation lines by two spaces", () => {
    expect(wrapMessage("warning: one two three four", 14)).toBe("warning: one\n  two three\n  four");
  });

  test("keeps the indentation of an indented line", () => {
    expect(wrapMessage("error: x\n    alpha beta gamma", 16)).toBe("error: x\n    alpha beta\n    gamma");
  });

  test("keeps a caret under its character", () => {
    const text = "error: at column 20\n  alpha beta gamma delta\n                     ^";

    expect(wrapMessage(text, 16)).toBe("error: at column\n  20\n  alpha beta gamma delta\n                     ^");
  });

  test("keeps lines that keepWhole selects", () => {
    const text = "error: run this to resume\n  tool send --resume alpha beta";

    expect(wrapMessage(text, 16, (line) => line.includes("--resume"))).toBe("error: run this\n  to resume\n  tool send --resume alpha beta");
  });
});

describe("appendNote", () => {
  const brackets = (text: string): string => `[${text}]`;

  test("beside the row when it fits", () => {
    expect(appendNote("  row 1", "  ", "note", 80, brackets)).toEqual(["  row 1  [note]"]);
  });

  test("wrapped beside the row when the columns left suffice", () => {
    const lines = appendNote("  row", " ", "alpha beta gamma delta epsilon zeta", 30, (text) => text);

    expect(lines).toEqual(["  row alpha beta gamma delta", "      epsilon zeta"]);
  });

  test("below the row when few columns are left", () => {
    const lines = appendNote(`  ${"x".repeat(60)}`, "  ", "alpha beta", 70, (text) => text);

    expect(lines).toEqual([`  ${"x".repeat(60)}`, "    alpha beta"]);
  });
});
