import type { IdKey } from "./hash-id.js";
import { NO_NODE, type NodeStore } from "./node-store.js";
import { UNKNOWN_TIME } from "./event-identity.js";

const INITIAL_CAPACITY = 1024;

/**
 * Nodes held in typed arrays: 40 bytes a node plus 4 to 8 bytes of hash index (open addressing,
 * linear probing, at most half full), and the email strings themselves. Holds at most `maxSize` nodes.
 */
export class MemoryNodes implements NodeStore {
  readonly maxSize: number;
  size = 0;

  private keyHigh = new Uint32Array(0);
  private keyLow = new Uint32Array(0);
  private parents = new Int32Array(0);
  private links = new Int32Array(0);
  private emailTimes = new Float64Array(0);
  private linkTimes = new Float64Array(0);
  /** Email of each root that has one; the array holds references to strings read from the input. */
  private emails: (string | undefined)[] = [];
  /** Hash index: node number + 1 in each used slot, 0 in an empty one. */
  private slots = new Int32Array(0);
  private slotMask = 0;

  constructor(maxSize: number) {
    this.maxSize = maxSize;
    this.growNodes(Math.min(INITIAL_CAPACITY, maxSize));
    this.rebuildIndex(INITIAL_CAPACITY * 2);
  }

  find(key: IdKey): number {
    const high = key[0]!;
    const low = key[1]!;
    let slot = low & this.slotMask;

    for (;;) {
      const stored = this.slots[slot]!;
      if (stored === 0) return NO_NODE;

      const node = stored - 1;
      if (this.keyLow[node] === low && this.keyHigh[node] === high) return node;
      slot = (slot + 1) & this.slotMask;
    }
  }

  add(key: IdKey): number {
    if (this.size >= this.maxSize) {
      throw new RangeError(`The in-memory identity graph is full at ${this.maxSize} ids; spill to disk before adding.`);
    }
    if (this.size === this.keyHigh.length) {
      this.growNodes(Math.min(this.size * 2, this.maxSize));
    }
    if ((this.size + 1) * 2 > this.slots.length) {
      this.rebuildIndex(this.slots.length * 2);
    }

    const node = this.size++;
    this.keyHigh[node] = key[0]!;
    this.keyLow[node] = key[1]!;
    this.parents[node] = NO_NODE;
    this.links[node] = NO_NODE;
    this.emailTimes[node] = UNKNOWN_TIME;
    this.linkTimes[node] = UNKNOWN_TIME;
    this.emails.push(undefined);
    this.insertIntoIndex(node);
    return node;
  }

  parentOf(node: number): number {
    return this.parents[node]!;
  }

  setParent(node: number, parent: number): void {
    this.parents[node] = parent;
  }

  emailOf(node: number): string | undefined {
    return this.emails[node];
  }

  emailTimeOf(node: number): number {
    return this.emailTimes[node]!;
  }

  setEmail(node: number, email: string, time: number): void {
    this.emails[node] = email;
    this.emailTimes[node] = time;
  }

  setEmailTime(node: number, time: number): void {
    this.emailTimes[node] = time;
  }

  linkOf(node: number): number {
    return this.links[node]!;
  }

  linkTimeOf(node: number): number {
    return this.linkTimes[node]!;
  }

  setLink(node: number, linked: number, time: number): void {
    this.links[node] = linked;
    this.linkTimes[node] = time;
  }

  /** Releases the arrays; the store is empty afterwards. */
  close(): void {
    this.size = 0;
    this.growNodes(0);
    this.emails = [];
    this.rebuildIndex(2);
  }

  private growNodes(capacity: number): void {
    this.keyHigh = resized(this.keyHigh, capacity);
    this.keyLow = resized(this.keyLow, capacity);
    this.parents = resized(this.parents, capacity);
    this.links = resized(this.links, capacity);
    this.emailTimes = resized(this.emailTimes, capacity);
    this.linkTimes = resized(this.linkTimes, capacity);
  }

  private rebuildIndex(slotCount: number): void {
    this.slots = new Int32Array(slotCount);
    this.slotMask = slotCount - 1;
    for (let node = 0; node < this.size; node++) {
      this.insertIntoIndex(node);
    }
  }

  private insertIntoIndex(node: number): void {
    let slot = this.keyLow[node]! & this.slotMask;
    while (this.slots[slot] !== 0) {
      slot = (slot + 1) & this.slotMask;
    }
    this.slots[slot] = node + 1;
  }
}

function resized<T extends Uint32Array | Int32Array | Float64Array>(array: T, length: number): T {
  const next = new (array.constructor as new (length: number) => T)(length);
  next.set(array.subarray(0, Math.min(array.length, length)));
  return next;
}
