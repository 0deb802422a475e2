import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { createIdKey, hashId } from "../../src/identity/hash-id.js";
import { MemoryNodes } from "../../src/identity/memory-nodes.js";

function addNode(nodes: MemoryNodes, id: string): number {
  const key = createIdKey();
  hashId(id, key);
  return nodes.add(key);
}

/** Runs a full collection through the `gc` function of a new context. */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  const collect = runInNewContext("gc") as () => void;
  collect();
}

/** Returns V8's used heap after a full collection. */
function heapUsedAfterCollection(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/**
 * Returns the memory of live ArrayBuffers after full collections, which free the buffers that
 * growing replaced. V8 sweeps dead ArrayBuffers on a background thread, so under load the count
 * falls only some time after a collection: this collects and waits until two readings agree.
 */
async function arrayBuffersAfterCollection(): Promise<number> {
  let previous = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 50; attempt++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 10));
    const current = process.memoryUsage().arrayBuffers;
    if (current >= previous) {
      return current;
    }
    previous = current;
  }
  return previous;
}

describe("MemoryNodes emails", () => {
  it("reads back every email exactly", () => {
    const nodes = new MemoryNodes(100);
    const emails = [
      "ana@example.com",
      "Zoë.Müller@example.de",
      "用户@例子.广告",
      "smile😀@example.com",
      // A lone surrogate, as JSON.parse makes of "\ud800": kept as it is, not replaced by U+FFFD.
      "lone\ud800@example.com",
      "",
    ];
    const nodesByEmail = emails.map((email, index) => {
      const node = addNode(nodes, `user-${index}`);
      nodes.setEmail(node, email, index);
      return node;
    });
    const withoutEmail = addNode(nodes, "no-email");

    expect(nodesByEmail.map((node) => nodes.emailOf(node))).toEqual(emails);
    expect(nodesByEmail.map((node) => nodes.emailTimeOf(node))).toEqual(emails.map((_email, index) => index));
    expect(nodes.emailOf(withoutEmail)).toBeUndefined();
  });

  it("keeps emails across growth", () => {
    const nodes = new MemoryNodes(100_000);
    for (let index = 0; index < 20_000; index++) {
      nodes.setEmail(addNode(nodes, `user-${index}`), `user-${index}@example.com`, index);
    }

    for (let node = 0; node < 20_000; node++) {
      expect(nodes.emailOf(node)).toBe(`user-${node}@example.com`);
    }
  });

  it("drops replaced emails when the buffer fills", async () => {
    const nodes = new MemoryNodes(10);
    const first = addNode(nodes, "first");
    const second = addNode(nodes, "second");
    nodes.setEmail(second, "second@example.com", 0);
    const before = await arrayBuffersAfterCollection();

    // With their headers, these 200,000 emails take 25 to 30 bytes each: 5.8 MB if every replaced one were kept.
    for (let index = 0; index < 200_000; index++) {
      nodes.setEmail(first, `changed-${index}@example.com`, index);
    }

    expect(nodes.emailOf(first)).toBe("changed-199999@example.com");
    expect(nodes.emailOf(second)).toBe("second@example.com");
    expect((await arrayBuffersAfterCollection()) - before).toBeLessThan(1024 * 1024);
  });

  it("keeps emails out of V8's heap", () => {
    const nodes = new MemoryNodes(200_000);
    const before = heapUsedAfterCollection();

    // Built one by one, as strings read from the input are: each is its own string in V8's heap.
    for (let index = 0; index < 200_000; index++) {
      nodes.setEmail(addNode(nodes, `user-${index}`), `visitor.number-${index}@example.com`, index);
    }
    const heapGrowth = heapUsedAfterCollection() - before;

    // Kept as strings, these 200,000 emails took 19.7 MB of V8's heap after a full collection
    // (Node.js 20), against 2 KB since they are kept as bytes.
    expect(heapGrowth).toBeLessThan(2 * 1024 * 1024);
    expect(nodes.emailOf(123_456)).toBe("visitor.number-123456@example.com");
  });

  it("matches a map under random replacement", () => {
    const nodes = new MemoryNodes(3_000);
    const emails = Array.from({ length: 300 }, (_, index) => (index % 7 === 0 ? `用户-${index}@例子.广告` : `person-${index}@example.com`));
    const expected = new Map<number, string>();
    for (let index = 0; index < 2_000; index++) {
      addNode(nodes, `user-${index}`);
    }

    // A fixed linear congruential sequence, so that a failure can be replayed.
    let state = 12_345;
    const next = (bound: number): number => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return state % bound;
    };
    for (let step = 0; step < 60_000; step++) {
      const node = next(2_000);
      const email = emails[next(emails.length)]!;
      nodes.setEmail(node, email, step);
      expected.set(node, email);
    }

    for (let node = 0; node < 2_000; node++) {
      expect(nodes.emailOf(node)).toBe(expected.get(node));
    }
  });

  it("stores a shared email once", async () => {
    const count = 50_000;
    const withoutEmails = new MemoryNodes(count);
    const before = await arrayBuffersAfterCollection();
    for (let index = 0; index < count; index++) {
      addNode(withoutEmails, `user-${index}`);
    }
    const nodesOnly = (await arrayBuffersAfterCollection()) - before;
    withoutEmails.close();

    const nodes = new MemoryNodes(count);
    const start = await arrayBuffersAfterCollection();
    // 500 emails, each the email of 100 ids: 1.7 MB if every id kept its own copy.
    for (let index = 0; index < count; index++) {
      nodes.setEmail(addNode(nodes, `user-${index}`), `shared.visitor-${index % 500}@example.com`, index);
    }
    const withEmails = (await arrayBuffersAfterCollection()) - start;

    expect(withEmails - nodesOnly).toBeLessThan(128 * 1024);
    expect(nodes.emailOf(12_345)).toBe("shared.visitor-345@example.com");
  });
});
