import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { archiveLines } from "../../bench/generate/archive.js";
import { writeArchive } from "../../bench/generate/write.js";

const shape = { events: 5_000, users: 125, seed: 7 };
const lines = [...archiveLines(shape)];
const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);

function digest(texts: readonly string[]): string {
  return createHash("sha256").update(texts.join("\n")).digest("hex");
}

function count(predicate: (event: Record<string, unknown>) => boolean): number {
  return events.filter(predicate).length;
}

const libraryName = (event: Record<string, unknown>): unknown =>
  ((event["context"] as { library?: { name?: unknown } } | undefined)?.library?.name);

describe("archiveLines", () => {
  it("repeats itself for the same seed", () => {
    expect(digest([...archiveLines(shape)])).toBe(digest(lines));
  });

  it("differs for another seed", () => {
    expect(digest([...archiveLines({ ...shape, seed: 8 })])).not.toBe(digest(lines));
  });

  it("yields the requested number of lines", () => {
    expect(lines).toHaveLength(shape.events);
  });

  it("sorts keys as S3 objects do", () => {
    for (const event of events.slice(0, 200)) {
      const keys = Object.keys(event);
      expect(keys).toEqual([...keys].sort());
    }
  });

  it("mixes all six types, mostly track", () => {
    const types = new Map<unknown, number>();
    for (const event of events) types.set(event["type"], (types.get(event["type"]) ?? 0) + 1);
    expect([...types.keys()].sort()).toEqual(["alias", "group", "identify", "page", "screen", "track"]);
    expect(types.get("track") ?? 0).toBeGreaterThan(shape.events * 0.6);
  });

  it("mixes browser, server and mobile libraries", () => {
    const libraries = new Set(events.map(libraryName));
    expect(libraries).toContain("analytics.js");
    expect(libraries).toContain("analytics-node");
    expect([...libraries].some((name) => name === "analytics-ios" || name === "analytics-android" || name === "analytics-swift" || name === "analytics-kotlin")).toBe(true);
  });

  it("gives analytics.js events an anonymousId and server events a userId", () => {
    for (const event of events) {
      if (libraryName(event) === "analytics.js") expect(typeof event["anonymousId"]).toBe("string");
      if (libraryName(event) === "analytics-node") expect(event["userId"]).toBeDefined();
    }
  });

  it("identifies each user once with an email before other events", () => {
    const identifiesWithEmail = count((event) => event["type"] === "identify" && typeof (event["traits"] as Record<string, unknown>)["email"] === "string");
    expect(identifiesWithEmail).toBeGreaterThan(0);
    expect(count((event) => event["type"] === "identify")).toBeLessThan(shape.events * 0.2);
    expect(events[0]?.["type"]).toBe("identify");
  });

  it("contains the messy values of real archives", () => {
    expect(count((event) => typeof event["userId"] === "number")).toBeGreaterThan(0);
    expect(count((event) => event["userId"] === null)).toBeGreaterThan(0);
    expect(count((event) => event["version"] === "1.1")).toBeGreaterThan(0);
    expect(count((event) => event["version"] === 2)).toBeGreaterThan(0);
    expect(count((event) => event["sentAt"] === null)).toBeGreaterThan(0);
    expect(count((event) => !("sentAt" in event))).toBeGreaterThan(0);
    expect(count((event) => /^[$€₹£¥]\d/.test(String((event["properties"] as Record<string, unknown> | undefined)?.["revenue"])))).toBeGreaterThan(0);
    expect(lines.some((line) => /[^\x00-\x7f]/.test(line))).toBe(true);
    expect(count((event) => String(event["messageId"]).startsWith("personas_"))).toBeGreaterThan(0);
  });

  it("repeats a few messageIds", () => {
    const messageIds = events.map((event) => event["messageId"]);
    const duplicates = messageIds.length - new Set(messageIds).size;
    expect(duplicates).toBeGreaterThan(0);
    expect(duplicates).toBeLessThan(shape.events * 0.01);
  });

  it("averages 700 to 1,000 bytes per event", () => {
    const bytes = lines.reduce((total, line) => total + Buffer.byteLength(line) + 1, 0);
    expect(bytes / lines.length).toBeGreaterThan(700);
    expect(bytes / lines.length).toBeLessThan(1_000);
  });

  it("rejects zero users", () => {
    expect(() => [...archiveLines({ events: 1, users: 0, seed: 1 })]).toThrow("users must be a whole number ≥ 1, got 0");
  });
});

describe("writeArchive", () => {
  const directory = mkdtempSync(join(tmpdir(), "koala-bench-generate-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const small = { events: 300, users: 10, seed: 3 };
  const expected = [...archiveLines(small)].map((line) => line + "\n").join("");

  it("writes one line per event, newline-terminated", async () => {
    const out = join(directory, "plain.jsonl");
    const written = await writeArchive({ ...small, gzip: false, out });
    expect(readFileSync(out, "utf8")).toBe(expected);
    expect(written.uncompressedBytes).toBe(Buffer.byteLength(expected));
  });

  it("writes gzip with its magic bytes", async () => {
    const out = join(directory, "archive.jsonl.gz");
    await writeArchive({ ...small, gzip: true, out });
    const compressed = readFileSync(out);
    expect([compressed[0], compressed[1]]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(compressed).toString("utf8")).toBe(expected);
  });
});
