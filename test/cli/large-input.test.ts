import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants as zlibConstants, createGzip, gzipSync } from "node:zlib";
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

function groupByPerson(requests: ReturnType<typeof parseRequests>): Map<string, string[]> {
  const byPerson = new Map<string, string[]>();
  for (const request of requests) {
    const person = String(request.body["email"]);
    const entries = (request.body["events"] ?? request.body["identifies"]) as Array<{ message_id: string }>;
    byPerson.set(person, [...(byPerson.get(person) ?? []), ...entries.map((entry) => entry.message_id)]);
  }
  return byPerson;
}

describe("large input through worker threads", () => {
  const directory = mkdtempSync(join(tmpdir(), "koala-replay-large-"));
  const { text, expectedIds } = buildArchive();
  const plainPath = join(directory, "events.jsonl");
  const gzipPath = join(directory, "events.gz");
  writeFileSync(plainPath, text);
  writeFileSync(gzipPath, gzipSync(text));

  test.each([plainPath, gzipPath])("%s keeps order and line numbers", async (path) => {
    const result = await runCli(["send", "--dry-run", "--max-batch-size", "1", path]);
    const requests = parseRequests(result.stdout);
    const ids = requests.map((request) => {
      const entries = (request.body["events"] ?? request.body["identifies"]) as Array<{ message_id: string }>;
      return entries[0]?.message_id;
    });

    // Delivery keeps each person's order; requests of different persons may interleave.
    expect(text.length).toBeGreaterThan(3 * 1024 * 1024);
    expect([...ids].sort()).toEqual(expectedIds);
    for (const [person, personIds] of groupByPerson(requests)) {
      expect(personIds, person).toEqual([...personIds].sort());
    }
    for (const line of BAD_LINES) {
      expect(result.stderr).toContain(`${path}:${line}: invalid JSON`);
    }
    // 12,000 lines less the 3 bad ones.
    expect(result.stderr).toMatch(/events read\s+11,997\n/);
    expect(result.status).toBe(1);
  });
});

describe("identity first pass through worker threads", () => {
  test("large archive gets every track event its email", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-large-stitch-"));
    const lines: string[] = [];
    for (let index = 1; index <= 12_000; index += 1) {
      lines.push(
        JSON.stringify({
          type: "track",
          event: "Report Exported",
          messageId: `t-${index}`,
          timestamp: "2024-05-01T10:00:00.000Z",
          userId: `user-${index % 300}`,
          context: { library: { name: "analytics-node", version: "2.0.0" } },
          properties: { index, padding: "z".repeat(200) },
        }),
      );
    }
    for (let user = 0; user < 300; user += 1) {
      lines.push(JSON.stringify({ type: "identify", messageId: `i-${user}`, timestamp: "2024-06-01T10:00:00.000Z", userId: `user-${user}`, traits: { email: `user${user}@example.com` } }));
    }
    const path = join(directory, "events.jsonl");
    writeFileSync(path, `${lines.join("\n")}\n`);

    const result = await runCli(["send", "--dry-run", path]);
    const emails = new Map<string, unknown>();
    for (const request of parseRequests(result.stdout)) {
      for (const entry of (request.body["events"] ?? []) as Array<{ message_id: string }>) {
        emails.set(entry.message_id, request.body["email"]);
      }
    }

    expect(statSync(path).size).toBeGreaterThan(3 * 1024 * 1024);
    expect(emails.size).toBe(12_000);
    expect(emails.get("t-1")).toBe("user1@example.com");
    expect(emails.get("t-12000")).toBe(`user${12_000 % 300}@example.com`);
    expect(result.stderr).toMatch(/\(12,000 stitched\)/);
  });
});

/**
 * Gzips `text` and cuts the file right after a flush point that follows `keptBytes` of it, so that the
 * stream fails exactly at a line break, after a first chunk that goes to a worker thread.
 */
async function gzipCutAfter(text: string, keptBytes: number): Promise<Buffer> {
  const gzip = createGzip();
  const parts: Buffer[] = [];
  gzip.on("data", (part: Buffer) => parts.push(part));
  gzip.write(text.slice(0, keptBytes));
  await new Promise<void>((resolve) => gzip.flush(zlibConstants.Z_SYNC_FLUSH, () => resolve()));
  const cut = Buffer.concat(parts).length;
  gzip.end(text.slice(keptBytes));
  await new Promise<void>((resolve) => gzip.on("end", () => resolve()));
  return Buffer.concat(parts).subarray(0, cut);
}

describe("truncated gzip through worker threads", () => {
  // Lines of exactly 1,024 bytes, so the first 1,024 lines fill one 1 MiB chunk.
  function paddedLine(fields: Record<string, unknown>): string {
    const base = JSON.stringify({ ...fields, properties: { padding: "" } });
    return `${base.replace('"padding":""', `"padding":"${"p".repeat(1023 - base.length)}"`)}\n`;
  }

  test("lines before the cut are kept", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-cut-"));
    let text = "";
    for (let index = 0; index < 1_200; index += 1) {
      const userId = `user-${index % 50}`;
      text += index < 50
        ? paddedLine({ type: "identify", messageId: `i-${index}`, timestamp: "2024-01-01T00:00:00.000Z", userId, traits: { email: `${userId}@example.com` } })
        : paddedLine({ type: "track", event: "Exported", messageId: `t-${index}`, timestamp: "2024-01-01T00:00:00.000Z", userId, context: { library: { name: "analytics-node" } } });
    }
    const path = join(directory, "cut.jsonl.gz");
    writeFileSync(path, await gzipCutAfter(text, 1_124 * 1_024));

    const result = await runCli(["send", "--dry-run", path]);
    const sent = parseRequests(result.stdout).flatMap((request) => [...((request.body["events"] ?? []) as unknown[]), ...((request.body["identifies"] ?? []) as unknown[])]);

    expect(result.stderr).toContain(`${path}:1125`);
    expect(result.stderr).toContain("truncated-gzip");
    expect(result.stderr.replace(/\s+/g, " ")).toContain("download it again and send the new copy on its own, with its own --state, because --resume refuses a file that changed");
    expect(result.stderr).not.toContain("detached");
    expect(sent).toHaveLength(1_124);
    expect(result.stderr).toMatch(/events read\s+1,124\b/);
  });
});
