import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IdentityGraph } from "../../src/identity/index.js";
import type { SegmentEvent } from "../../src/inputs/record.js";

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so a failure can be replayed. */
function randomNumbers(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Events of `users` users, each with two devices: identifies (some with conflicting emails),
 * tracks with either id or both, aliases to renamed userIds, and numeric userIds.
 */
function generateEvents(users: number, seed: number): SegmentEvent[] {
  const random = randomNumbers(seed);
  const pick = (count: number) => Math.floor(random() * count);
  const events: SegmentEvent[] = [];

  for (let eventNumber = 0; eventNumber < users * 6; eventNumber++) {
    const user = pick(users);
    const userId: string | number = user % 10 === 0 ? user : `user-${user}`;
    const anonymousId = `device-${user}-${pick(2)}`;
    const timestamp = new Date(Date.UTC(2024, 0, 1) + pick(1000) * 60_000).toISOString();
    const kind = pick(10);

    if (kind === 0) {
      events.push({ type: "identify", userId, anonymousId, traits: { email: `person${user}.${pick(2)}@example.com` }, timestamp });
    } else if (kind === 1) {
      events.push({ type: "identify", anonymousId, traits: { email: `visitor${user}@example.com` }, timestamp });
    } else if (kind === 2) {
      events.push({ type: "alias", previousId: userId, userId: `renamed-${user}`, timestamp });
    } else if (kind < 5) {
      events.push({ type: "track", userId, anonymousId, event: "Clicked", timestamp });
    } else if (kind < 8) {
      events.push({ type: "track", userId, event: "Server Event", timestamp });
    } else {
      events.push({ type: "page", anonymousId, timestamp });
    }
  }
  return events;
}

function allIds(events: readonly SegmentEvent[]): unknown[] {
  return events.flatMap((event) => [event["userId"], event["anonymousId"], event["previousId"]]).filter((id) => id !== undefined);
}

function buildGraph(events: readonly SegmentEvent[], options: ConstructorParameters<typeof IdentityGraph>[0]): IdentityGraph {
  const graph = new IdentityGraph(options);
  for (const event of events) graph.observe(event);
  return graph;
}

describe("spill to disk", () => {
  let spillDirectory: string;
  const graphs: IdentityGraph[] = [];

  beforeEach(() => {
    spillDirectory = mkdtempSync(join(tmpdir(), "identity-spill-test-"));
  });

  afterEach(() => {
    for (const graph of graphs.splice(0)) graph.close();
    rmSync(spillDirectory, { recursive: true, force: true });
  });

  it("answers like the in-memory graph", () => {
    const events = generateEvents(500, 7);
    const inMemory = buildGraph(events, {});
    const spilled = buildGraph(events, { maxMemoryEntries: 37, spillDirectory });
    graphs.push(inMemory, spilled);

    expect(spilled.stats().idsOnDisk).toBeGreaterThan(0);
    expect(spilled.stats().idsInMemory).toBe(37);
    let resolved = 0;
    for (const event of events) {
      const email = inMemory.resolveEmail(event);
      if (email !== undefined) resolved++;
      expect(spilled.resolveEmail(event)).toBe(email);
    }
    expect(resolved).toBeGreaterThan(events.length / 2);
    for (const id of allIds(events)) {
      expect(spilled.resolveId(id)).toBe(inMemory.resolveId(id));
    }
  });

  it("counts the same conflicts and ids", () => {
    const events = generateEvents(500, 11);
    const inMemory = buildGraph(events, {});
    const spilled = buildGraph(events, { maxMemoryEntries: 10, spillDirectory });
    graphs.push(inMemory, spilled);

    const { idsInMemory: _memory, idsOnDisk: _disk, spilledToDisk, ...spilledCounts } = spilled.stats();
    const { idsInMemory: _memory2, idsOnDisk: _disk2, spilledToDisk: inMemorySpilled, ...inMemoryCounts } = inMemory.stats();
    expect(spilledToDisk).toBe(true);
    expect(inMemorySpilled).toBe(false);
    expect(inMemoryCounts.conflicts).toBeGreaterThan(0);
    expect(spilledCounts).toEqual(inMemoryCounts);
  });

  it("grows the disk index past its first size", () => {
    // The disk index starts with 65,536 slots and doubles at half full, so 40,000 ids rebuild it once.
    const events: SegmentEvent[] = [];
    for (let user = 0; user < 20_000; user++) {
      events.push({ type: "identify", userId: `u${user}`, anonymousId: `a${user}`, traits: { email: `p${user}@example.com` } });
    }
    const spilled = buildGraph(events, { maxMemoryEntries: 100, spillDirectory });
    graphs.push(spilled);

    expect(spilled.stats().idsOnDisk).toBe(39_900);
    for (let user = 0; user < 20_000; user += 97) {
      expect(spilled.resolveId(`u${user}`)).toBe(`p${user}@example.com`);
      expect(spilled.resolveEmail({ anonymousId: `a${user}` })).toBe(`p${user}@example.com`);
    }
    expect(spilled.resolveId("u20000")).toBeUndefined();
  });

  it("keeps non-ASCII emails intact on disk", () => {
    const spilled = buildGraph(
      [
        { type: "identify", userId: "memory-id", traits: { email: "first@example.com" } },
        { type: "identify", userId: "disk-id", traits: { email: "zoë.ångström@exämple.com" } },
        { type: "identify", userId: "disk-id-2", traits: { email: "東京@example.jp" } },
      ],
      { maxMemoryEntries: 1, spillDirectory },
    );
    graphs.push(spilled);

    expect(spilled.stats().idsOnDisk).toBe(2);
    expect(spilled.resolveId("disk-id")).toBe("zoë.ångström@exämple.com");
    expect(spilled.resolveId("disk-id-2")).toBe("東京@example.jp");
  });

  it("deletes its files on close", () => {
    const exitListeners = process.listenerCount("exit");
    const spilled = buildGraph(generateEvents(200, 3), { maxMemoryEntries: 5, spillDirectory });
    expect(process.listenerCount("exit")).toBe(exitListeners + 1);
    const directory = spilled.spillDirectory;

    expect(directory).toBeDefined();
    expect(existsSync(directory!)).toBe(true);
    spilled.close();
    expect(existsSync(directory!)).toBe(false);
    expect(readdirSync(spillDirectory)).toEqual([]);
    expect(process.listenerCount("exit")).toBe(exitListeners);
    spilled.close();
  });

  it("in-memory graph makes no temporary directory", () => {
    const graph = buildGraph(generateEvents(200, 3), { spillDirectory });
    graphs.push(graph);
    expect(graph.spillDirectory).toBeUndefined();
    expect(readdirSync(spillDirectory)).toEqual([]);
  });
});
