import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { binPath } from "../helpers/run-cli.js";
import { runMergedWithSlowReader } from "../helpers/merged-output.js";

/**
 * Writes 12 people with 30 track events each and 4 kB of properties per event, so that each dry-run
 * request is a line of about 125 kB, larger than a pipe's buffer: a pipe takes it in parts. With
 * `extraLine`, the events of every other person start with the line it returns, 6 lines in all.
 */
function writeLargeRequestsArchive(extraLine?: (person: number) => string): string {
  const directory = mkdtempSync(join(tmpdir(), "koala-replay-merged-output-"));
  const padding = "x".repeat(4000);
  const lines: string[] = [];
  for (let person = 0; person < 12; person += 1) {
    if (extraLine !== undefined && person % 2 === 1) {
      lines.push(extraLine(person));
    }
    for (let index = 0; index < 30; index += 1) {
      const event = {
        type: "track",
        event: "Report Exported",
        userId: `user-${person}`,
        messageId: `message-${person}-${index}`,
        timestamp: "2024-03-01T00:00:00.000Z",
        context: { library: { name: "analytics-node" } },
        properties: { email: `person-${person}@example.com`, padding },
      };
      lines.push(JSON.stringify(event));
    }
  }
  const path = join(directory, "events.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

/** Returns a line of invalid JSON. */
function invalidJsonLine(person: number): string {
  return `{"type": "track", broken ${person}`;
}

/** Returns a track event without its event name, which the Track Event mapping finds invalid. */
function unnamedTrackLine(person: number): string {
  return JSON.stringify({ type: "track", userId: `user-${person}`, messageId: `unnamed-${person}`, timestamp: "2024-03-01T00:00:00.000Z", properties: { email: `person-${person}@example.com` } });
}

/** Runs `send --dry-run … >file 2>&1` through sh and returns its status and what the file holds. */
function runMergedIntoFile(args: readonly string[]): { status: number | null; output: string } {
  const output = join(mkdtempSync(join(tmpdir(), "koala-replay-merged-file-")), "out.log");
  const result = spawnSync("sh", ["-c", 'out="$0"; shift; exec "$@" >"$out" 2>&1', output, process.execPath, binPath, ...args], {
    env: { PATH: process.env["PATH"] },
    stdio: "ignore",
  });
  return { status: result.status, output: readFileSync(output, "utf8") };
}

/** Lists the warnings of an output, each with the number of its line, and the lines that contain one elsewhere than at their start. */
function findWarnings(lines: readonly string[]): { atLineStart: string[]; insideLines: number[] } {
  const atLineStart: string[] = [];
  const insideLines: number[] = [];
  lines.forEach((line, index) => {
    const position = line.indexOf("warning: ");
    if (position === 0) {
      atLineStart.push(line);
    } else if (position > 0) {
      insideLines.push(index + 1);
    }
  });
  return { atLineStart, insideLines };
}

/** Checks that an output is 12 whole request lines with the 6 warnings between them, then the summary. */
function expectWarningsBetweenRequests(output: string): void {
  const lines = output.split("\n");
  const summaryStart = lines.findIndex((line) => line.startsWith("koala-replay: "));
  const beforeSummary = lines.slice(0, summaryStart);
  const requestLines = beforeSummary.filter((line) => line.startsWith("{"));
  // A warning is wrapped to 80 columns, and its continuation lines are indented.
  const otherLines = beforeSummary.filter((line) => !line.startsWith("{") && !line.startsWith("warning: ") && !line.startsWith("  "));
  const { atLineStart, insideLines } = findWarnings(lines);

  expect(insideLines).toEqual([]);
  expect(otherLines).toEqual([]);
  expect(requestLines).toHaveLength(12);
  for (const line of requestLines) {
    expect(() => JSON.parse(line)).not.toThrow();
  }
  expect(atLineStart.map((line) => /events\.jsonl:(\d+):/.exec(line)?.[1])).toEqual(["31", "92", "153", "214", "275", "336"]);
  expect(beforeSummary.filter((line) => line.startsWith("warning: "))).toHaveLength(6);
}

describe("send --dry-run with stderr merged into stdout", () => {
  test("summary follows the last request", async () => {
    const archive = writeLargeRequestsArchive();

    // Without the wait for stdout, the summary broke into a request line in about half of such runs.
    for (let run = 0; run < 6; run += 1) {
      const result = await runMergedWithSlowReader(["send", "--dry-run", "--no-stitch", archive]);
      const lines = result.output.split("\n");
      const summaryStart = lines.findIndex((line) => line.startsWith("koala-replay: "));
      const requestLines = lines.slice(0, summaryStart);

      expect(result.status).toBe(0);
      expect(summaryStart).toBe(12);
      for (const line of requestLines) {
        expect(() => JSON.parse(line)).not.toThrow();
      }
      expect(lines.slice(summaryStart).some((line) => line.startsWith("{"))).toBe(false);
    }
  });

  test("warnings fall between request lines", async () => {
    const archive = writeLargeRequestsArchive(invalidJsonLine);

    // Without the fix, every warning landed inside a request line, in each of 5 runs.
    for (let run = 0; run < 3; run += 1) {
      const result = await runMergedWithSlowReader(["send", "--dry-run", "--no-stitch", archive]);

      expect(result.status).toBe(1);
      expectWarningsBetweenRequests(result.output);
    }
  });

  test("warnings fall between request lines in a file", () => {
    const archive = writeLargeRequestsArchive(invalidJsonLine);

    const result = runMergedIntoFile(["send", "--dry-run", "--no-stitch", archive]);

    expect(result.status).toBe(1);
    expectWarningsBetweenRequests(result.output);
  });

  test("verbose lines fall between request lines", async () => {
    const archive = writeLargeRequestsArchive(unnamedTrackLine);

    const result = await runMergedWithSlowReader(["send", "--dry-run", "--no-stitch", "--verbose", archive]);
    const lines = result.output.split("\n");
    const requestLines = lines.filter((line) => line.startsWith("{"));
    const verboseLines = lines.filter((line) => line.includes(`(mapping "Track Event")`));

    expect(result.status).toBe(1);
    expect(requestLines).toHaveLength(12);
    for (const line of requestLines) {
      expect(() => JSON.parse(line)).not.toThrow();
    }
    expect(verboseLines).toHaveLength(6);
    for (const line of verboseLines) {
      expect(line).toMatch(/^invalid: /);
    }
  });
});
