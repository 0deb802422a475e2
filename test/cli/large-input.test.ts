import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { parseRequests, runCli } from "../helpers/run-cli.js";

// Inputs larger than one 1 MiB chunk go through the worker threads; these tests check that the
// results keep input order and line numbers across chunks.

const EVENT_COUNT = 12_000;
const BAD_LINES = new Set([2_500, 7_001, 11_999]);

function buildArchive(): { text: string; expectedIds: string[] } {
  const lines: string[] = [];
  const expectedIds: string[] = [];
  for (let index = 1; index <= EVENT_COUNT; index += 1) {
    if (BAD_LINES.has(index)) {
      lines.push(`{"type":"track","event":"cut short at line ${index}"`);
      continue;
    }
    const messageId = `m-${String(index).padStart(6, "0")}`;
    expectedIds.push(messageId);
    lines.push(
      JSON.stringify({
        type: index % 5 === 0 ? "identify" : "track",
        event: "Order Completed",
        messageId,
        timestamp: "2024-05-01T10:00:00.000Z",
        userId: `user-${index % 97}`,
        traits: { email: `user${index % 97}@example.com`, name: "A. Person", note: "x".repeat(40) },
        context: { library: { name: "analytics-node", version: "2.0.0" }, traits: { email: `user${index % 97}@example.com` } },
        properties: { total: index, currency: "EUR", padding: "y".repeat(60) },
      }),
    );
  }
  return { text: `${lines.join("\n")}\n`, expectedIds };
}

describe("large input through worker threads", () => {
  const directory = mkdtempSync(join(tmpdir(), "koala-replay-large-"));
  const { text, expectedIds } = buildArchive();
  const plainPath = join(directory, "events.jsonl");
  const gzipPath = join(directory, "events.gz");
  writeFileSync(plainPath, text);
  writeFileSync(gzipPath, gzipSync(text));

  test.each([plainPath, gzipPath])("%s keeps order and line numbers", async (path) => {
    const result = await runCli(["send", "--dry-run", path]);
    const requests = parseRequests(result.stdout);
    const ids = requests.map((request) => {
      const entries = (request.body["events"] ?? request.body["identifies"]) as Array<{ message_id: string }>;
      return entries[0]?.message_id;
    });

    expect(text.length).toBeGreaterThan(3 * 1024 * 1024);
    expect(ids).toEqual(expectedIds);
    for (const line of BAD_LINES) {
      expect(result.stderr).toContain(`${path}:${line}: invalid JSON`);
    }
    expect(result.stderr).toMatch(new RegExp(`events read\\s+${EVENT_COUNT - BAD_LINES.size}\\b`));
    expect(result.status).toBe(1);
  });
});
