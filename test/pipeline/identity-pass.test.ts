import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { defaultMessageIdOf, RepeatFilter } from "../../src/delivery/repeat-filter.js";
import { buildIdentityGraph } from "../../src/pipeline/identity-pass.js";

/** Writes a JSONL file of identify calls, each linking its own userId to an email, of about `bytes` bytes. */
function writeIdentifies(bytes: number): string {
  const path = join(mkdtempSync(join(tmpdir(), "koala-replay-first-pass-")), "events.jsonl");
  const lines: string[] = [];
  let length = 0;
  while (length < bytes) {
    const line = JSON.stringify({ type: "identify", messageId: `m-${lines.length}`, userId: `u-${lines.length}`, traits: { email: `user${lines.length}@example.com` } });
    lines.push(line);
    length += line.length + 1;
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

describe("identity first pass", () => {
  test("reports the share of bytes read", async () => {
    const path = writeIdentifies(3 * 1024 * 1024);
    const shares: number[] = [];
    const graph = await buildIdentityGraph([{ path }], { readOptions: {}, warn: () => undefined, onShareRead: (share) => shares.push(share) });

    expect(shares.length).toBeGreaterThan(2);
    expect(shares).toEqual([...shares].sort((first, second) => first - second));
    expect(shares.at(-1)).toBe(1);
    graph.close();
  });

  test("stops reading a file at Ctrl-C", async () => {
    const path = writeIdentifies(3 * 1024 * 1024);
    const controller = new AbortController();
    // Ctrl-C as soon as the file is open, before its first chunk is read.
    const graph = await buildIdentityGraph([{ path }], { readOptions: { onOpen: () => controller.abort() }, warn: () => undefined, signal: controller.signal });

    expect(graph.stats().emailObservations).toBe(0);
    graph.close();
  });

  test("stops loading the identities file at Ctrl-C", async () => {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-first-pass-"));
    const identitiesFile = join(directory, "users.csv");
    const rows = Array.from({ length: 10_000 }, (_, index) => `u-${index},user${index}@example.com`);
    writeFileSync(identitiesFile, `user_id,email\n${rows.join("\n")}\n`);
    const controller = new AbortController();
    controller.abort();
    const graph = await buildIdentityGraph([], { identitiesFile, readOptions: {}, warn: () => undefined, signal: controller.signal });

    expect(graph.stats().emailObservations).toBe(0);
    graph.close();
  });

  test("finds repeated message_ids", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "koala-replay-first-pass-")), "events.jsonl");
    const lines = Array.from({ length: 2_000 }, (_, index) => JSON.stringify({ type: "track", event: "A", messageId: `m-${index}` }));
    // A repeat far from its first line, one next to it, and an event without messageId twice.
    lines.push(lines[0]!, lines[1_999]!, JSON.stringify({ type: "page", name: "Home" }), JSON.stringify({ type: "page", name: "Home" }));
    writeFileSync(path, `${lines.join("\n")}\n`);
    const repeats = new RepeatFilter(1024 * 1024);

    const graph = await buildIdentityGraph([{ path }], { readOptions: {}, warn: () => undefined, repeats });

    expect(repeats.isOff).toBe(false);
    expect(repeats.mayRepeat("m-0")).toBe(true);
    expect(repeats.mayRepeat("m-1999")).toBe(true);
    expect(repeats.mayRepeat(defaultMessageIdOf({ type: "page", name: "Home" })!)).toBe(true);
    const singles = Array.from({ length: 1_998 }, (_, index) => `m-${index + 1}`).filter((id) => repeats.mayRepeat(id));
    expect(singles.length).toBeLessThan(20);
    graph.close();
  });

  test("read-once input turns repeat filter off", async () => {
    const path = writeIdentifies(10_000);
    const repeats = new RepeatFilter(1024 * 1024);

    const graph = await buildIdentityGraph([{ path }, { path: "-", readOnce: "standard input" }], { readOptions: {}, warn: () => undefined, repeats });

    expect(repeats.isOff).toBe(true);
    graph.close();
  });
});
