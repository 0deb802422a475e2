import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { segmentPresetRequests } from "../../bench/baselines/segment-presets.js";
import { archiveLines } from "../../bench/generate/archive.js";

// The throughput figures compare koala-replay's dry run with a jq program and with Segment's
// packages. The comparison is fair only if all three print the same requests for the same archive.

const repositoryRoot = join(import.meta.dirname, "..", "..");
const jqProgram = join(repositoryRoot, "bench", "baselines", "koala-presets.jq");
const cliEntry = join(repositoryRoot, "dist", "cli", "main.js");
const url = "https://api2.getkoala.com/web/projects/<public-key>/batch";

const jqMissing = spawnSync("jq", ["--version"]).error !== undefined;
const cliMissing = !existsSync(cliEntry);

const directory = mkdtempSync(join(tmpdir(), "koala-bench-equivalence-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const archivePath = join(directory, "archive.jsonl");
const archiveText = [...archiveLines({ events: 3_000, users: 60, seed: 11 })].map((line) => line + "\n").join("");
writeFileSync(archivePath, archiveText);

/** Re-serialises each JSON line with sorted keys, then sorts the lines, so only content is compared. */
function canonicalLines(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.stringify(sortKeys(JSON.parse(line))))
    .sort();
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(record).sort().map((key) => [key, sortKeys(record[key])]));
}

function jqOutput(): string {
  const result = spawnSync("jq", ["-c", "--arg", "url", url, "-f", jqProgram], { input: archiveText, encoding: "utf8", maxBuffer: 1 << 28 });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return result.stdout;
}

function segmentOutput(): string {
  const requestsFor = segmentPresetRequests(url);
  return archiveText
    .split("\n")
    .filter((line) => line !== "")
    .flatMap((line) => requestsFor(JSON.parse(line)))
    .join("\n");
}

describe("dry-run baselines", () => {
  it.skipIf(jqMissing)("jq program equals Segment's packages", () => {
    const fromJq = canonicalLines(jqOutput());
    const fromSegment = canonicalLines(segmentOutput());
    expect(fromJq.length).toBeGreaterThan(100);
    expect(fromJq).toEqual(fromSegment);
  });

  it.skipIf(jqMissing || cliMissing)("jq program equals unbatched koala-replay", () => {
    const result = spawnSync(process.execPath, [join(repositoryRoot, "bin", "koala-replay.js"), "send", "--dry-run", "--browser-events", "skip", "--no-stitch", "--max-batch-size", "1", archivePath], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    // koala-replay sends a repeated messageId once; jq, like Segment, sends it again.
    const uniqueJqLines = [...new Set(canonicalLines(jqOutput()))];
    expect(result.status).toBe(0);
    expect(canonicalLines(result.stdout)).toEqual(uniqueJqLines);
  });

  if (jqMissing) it.skip("needs jq on the PATH to compare with the jq program", () => {});
  if (cliMissing) it.skip("needs a built CLI (npm run build) to compare with koala-replay", () => {});
});
