import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runMergedWithSlowReader } from "../helpers/merged-output.js";

// `check` lists the mappings on stdout and then warns on stderr. Under `2>&1` into a slow pipe,
// stdout still queues most of a large list when the warning is written, so a warning written to
// stderr directly reached the pipe first and landed inside a line of the list.

const MAPPING_COUNT = 50;
/** Each trigger names an event of 20,000 characters, a word that is never wrapped: about 1 MB of list in all. */
const EVENT_NAME_LENGTH = 20_000;

let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-merged-check-"));
  const mapping = { event: { "@path": "$.event" }, sent_at: { "@path": "$.timestamp" }, message_id: { "@path": "$.messageId" } };
  const mappings = Array.from({ length: MAPPING_COUNT }, (_, index) => ({
    name: `Mapping ${index}`,
    enabled: false,
    action: "trackEvent",
    trigger: `type = "track" and event = "${"x".repeat(EVENT_NAME_LENGTH)}${index}"`,
    mapping,
  }));
  writeFileSync(join(directory, "config.json"), JSON.stringify({ mappings }));
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe("check with stderr merged into stdout", () => {
  test("warning follows the whole mapping list", async () => {
    // Without routing the warning through stdout, it landed inside a trigger in each of 3 runs.
    for (let run = 0; run < 3; run += 1) {
      const result = await runMergedWithSlowReader(["check", "--config", "config.json"], directory);
      const lines = result.output.split("\n");
      const warningLine = lines.findIndex((line) => line.includes("warning: every mapping"));
      const triggerLines = lines.filter((line) => line.includes("x".repeat(100)));

      expect(result.status).toBe(0);
      expect(warningLine).toBeGreaterThan(0);
      expect(lines[warningLine]).toMatch(/^warning: every mapping of config\.json is disabled/);
      expect(triggerLines).toHaveLength(MAPPING_COUNT);
      for (const [index, line] of triggerLines.entries()) {
        expect(line).toMatch(new RegExp(`^ +"x{${EVENT_NAME_LENGTH}}${index}"$`));
      }
      expect(lines.slice(warningLine).some((line) => line.includes("x".repeat(100)))).toBe(false);
    }
  });
});
