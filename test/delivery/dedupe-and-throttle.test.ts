import { describe, expect, it } from "vitest";
import { MessageIdSet } from "../../src/delivery/dedupe.js";
import { ConcurrencyController, RateLimiter } from "../../src/delivery/throttle.js";

describe("MessageIdSet", () => {
  it("stores a million ids compactly", () => {
    const ids = new MessageIdSet();
    const heapBefore = process.memoryUsage().arrayBuffers;
    let added = 0;
    for (let index = 0; index < 1_000_000; index += 1) {
      added += ids.add("Track Event", `ajs-next-${index.toString(36)}-5f1b2c3d`) ? 1 : 0;
    }
    const tableBytes = process.memoryUsage().arrayBuffers - heapBefore;

    expect(added).toBe(1_000_000);
    expect(ids.size).toBe(1_000_000);
    // 1,482,910 slots of 8 bytes (11.9 MB), and the 8 MB table before the last growth if not yet freed.
    expect(ids.capacity).toBe(1_482_910);
    expect(tableBytes).toBeLessThan(40 * 1024 * 1024);
    let addedAgain = 0;
    for (let index = 0; index < 1_000_000; index += 97) {
      addedAgain += ids.add("Track Event", `ajs-next-${index.toString(36)}-5f1b2c3d`) ? 1 : 0;
    }
    expect(addedAgain).toBe(0);
  });

  it("grows by √2 at three quarters full", () => {
    const ids = new MessageIdSet(1 << 10, 1 << 13);
    // [ids added, slots afterwards] at each growth: the id that takes a table past three quarters full grows it.
    const growths: Array<[number, number]> = [];
    for (let index = 0; index < 6_000; index += 1) {
      const before = ids.capacity;
      ids.add("Track Event", `m-${index}`);
      if (ids.capacity !== before) {
        growths.push([ids.size, ids.capacity]);
      }
    }

    expect(growths).toEqual([
      [769, 1448],
      [1087, 2048],
      [1537, 2896],
      [2173, 4096],
      [3073, 5793],
      [4345, 8192],
    ]);
    for (let index = 0; index < 6_000; index += 1) {
      expect(ids.add("Track Event", `m-${index}`)).toBe(false);
    }
    expect(ids.size).toBe(6_000);
  });

  it("rejects a table size that is not a power of two", () => {
    expect(() => new MessageIdSet(16, 100)).toThrow(RangeError);
    expect(() => new MessageIdSet(16, 1 << 22)).toThrow(RangeError);
  });

  it("remembers at least the last window of ids", () => {
    // A table of 16 slots is full at its 13th id, which starts the next table.
    const ids = new MessageIdSet(16, 16);
    for (let index = 0; index < 24; index += 1) {
      expect(ids.add("Track Event", `m-${index}`)).toBe(true);
    }
    expect(ids.window).toBeUndefined();
    // Every id is still in one of the two tables.
    expect(ids.add("Track Event", "m-0")).toBe(false);

    for (let index = 24; index < 36; index += 1) {
      ids.add("Track Event", `m-${index}`);
    }
    expect(ids.window).toBe(12);
    expect(ids.size).toBe(36);
    // m-0 was seen again at 24 ids, so it moved to a later table; m-1 was forgotten with the first table.
    expect(ids.add("Track Event", "m-0")).toBe(false);
    expect(ids.add("Track Event", "m-1")).toBe(true);
    // The 12 ids added before m-1 are still known.
    for (let index = 25; index < 36; index += 1) {
      expect(ids.add("Track Event", `m-${index}`)).toBe(false);
    }
    expect(ids.add("Track Event", "m-0")).toBe(false);
  });

  it("matches a model of recent ids", () => {
    // Checks every add against a list of ids by recency: an id among the last `window` distinct ones
    // must be found, and an id never added must not be. Ids in between may go either way.
    for (const maxSlots of [16, 64]) {
      const window = (maxSlots * 3) / 4;
      const ids = new MessageIdSet(16, maxSlots);
      const recency: string[] = [];
      const added = new Set<string>();
      let seed = maxSlots;
      for (let step = 0; step < 5_000; step += 1) {
        seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
        const id = `m-${seed % (window * 3)}`;
        const fresh = ids.add("Track Event", id);
        const position = recency.lastIndexOf(id);

        if (!added.has(id)) {
          expect(fresh, `${id} at step ${step}`).toBe(true);
        }
        if (position !== -1 && recency.length - position <= window) {
          expect(fresh, `${id} at step ${step}`).toBe(false);
        }

        if (position !== -1) {
          recency.splice(position, 1);
        }
        recency.push(id);
        added.add(id);
      }
      expect(ids.window).toBe(window);
    }
  });

  it("stays within two tables however many ids", () => {
    const ids = new MessageIdSet(16, 1 << 12);
    const before = process.memoryUsage().arrayBuffers;
    for (let index = 0; index < 200_000; index += 1) {
      ids.add("Track Event", `m-${index}`);
    }

    expect(ids.capacity).toBe(1 << 12);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThanOrEqual(2 * (1 << 12) * 8);
    expect(ids.size).toBe(200_000);
  });

  it("keeps mappings apart", () => {
    const ids = new MessageIdSet(16);
    expect(ids.add("Track Event", "m1")).toBe(true);
    expect(ids.add("Identify Visitor", "m1")).toBe(true);
    expect(ids.add("Track Event", "m1")).toBe(false);
    // The separator keeps ("ab", "c") apart from ("a", "bc").
    expect(ids.add("ab", "c")).toBe(true);
    expect(ids.add("a", "bc")).toBe(true);
  });
});

describe("ConcurrencyController", () => {
  it("climbs by one per window", () => {
    const controller = new ConcurrencyController(8, true);
    expect(controller.limit).toBe(1);
    controller.recordSuccess(10, 0);
    expect(controller.limit).toBe(2);
    controller.recordSuccess(10, 1);
    controller.recordSuccess(10, 2);
    expect(controller.limit).toBe(3);
    for (let index = 0; index < 100; index += 1) {
      controller.recordSuccess(10, 3 + index);
    }
    expect(controller.limit).toBe(8);
  });

  it("halves on overload once per window", () => {
    const controller = new ConcurrencyController(8, true);
    for (let index = 0; index < 100; index += 1) {
      controller.recordSuccess(10, index);
    }
    controller.recordOverload(1_000);
    expect(controller.limit).toBe(4);
    controller.recordOverload(1_001);
    expect(controller.limit).toBe(4);
    controller.recordOverload(2_000);
    expect(controller.limit).toBe(2);
  });

  it("undoes a decrease since a time", () => {
    const controller = new ConcurrencyController(8, true);
    for (let index = 0; index < 100; index += 1) {
      controller.recordSuccess(10, index);
    }
    controller.recordOverload(1_000);
    controller.undoDecreaseSince(1_001);
    expect(controller.limit).toBe(4);
    controller.undoDecreaseSince(1_000);
    expect(controller.limit).toBe(8);
    controller.undoDecreaseSince(0);
    expect(controller.limit).toBe(8);
  });

  it("steps down when latency doubles", () => {
    const controller = new ConcurrencyController(8, true);
    for (let index = 0; index < 100; index += 1) {
      controller.recordSuccess(10, index);
    }
    expect(controller.limit).toBe(8);
    for (let index = 0; index < 5; index += 1) {
      controller.recordSuccess(100, 1_000 + index * 200);
    }
    expect(controller.limit).toBeLessThan(8);
  });

  it("stays fixed when not adaptive", () => {
    const controller = new ConcurrencyController(6, false);
    controller.recordOverload(0);
    expect(controller.limit).toBe(6);
  });
});

describe("RateLimiter", () => {
  it("spaces request starts", () => {
    const limiter = new RateLimiter(10);
    expect(limiter.delayMs(1_000)).toBe(0);
    limiter.take(1_000);
    expect(limiter.delayMs(1_000)).toBe(100);
    expect(limiter.delayMs(1_100)).toBe(0);
  });

  it("never waits without a limit", () => {
    const limiter = new RateLimiter(undefined);
    limiter.take(0);
    limiter.take(0);
    expect(limiter.delayMs(0)).toBe(0);
  });
});
