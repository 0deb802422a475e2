import type { IdKey } from "./hash-id.js";
import { NO_NODE, type NodeStore } from "./node-store.js";
import { UNKNOWN_TIME } from "./event-identity.js";

const INITIAL_CAPACITY = 1024;

/*
 * Each node is one 32-byte record, so that the fields read together on one event share a cache line:
 *   words 0-1: key high, key low (u32) | word 2: parent (i32) | word 3: link (i32)
 *   doubles 2-3 (bytes 16-31): email time, link time
 */
const WORDS_PER_NODE = 8;
const DOUBLES_PER_NODE = 4;
const KEY_HIGH = 0;
const KEY_LOW = 1;
const PARENT = 2;
const LINK = 3;
const EMAIL_TIME = 2;
const LINK_TIME = 3;

/**
 * Nodes held in one ArrayBuffer of 32-byte records, a hash index of 8 to 16 bytes a node (open
 * addressing, linear probing, at most half full), and an array of references to the email strings.
 * Holds at most `maxSize` nodes.
 */
export class MemoryNodes implements NodeStore {
  readonly maxSize: number;
  size = 0;

  private capacity = 0;
  private words = new Uint32Array(0);
  private signedWords = new Int32Array(0);
  private doubles = new Float64Array(0);
  /** Email of each root that has one. The strings are the ones read from the input, not copies. */
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

      const base = (stored - 1) * WORDS_PER_NODE;
      if (this.words[base + KEY_LOW] === low && this.words[base + KEY_HIGH] === high) return stored - 1;
      slot = (slot + 1) & this.slotMask;
    }
  }

  add(key: IdKey): number {
    if (this.size >= this.maxSize) {
      throw new RangeError(`The in-memory identity graph is full at ${this.maxSize} ids; spill to disk before adding.`);
    }
    if (this.size === this.capacity) {
      this.growNodes(Math.min(this.size * 2, this.maxSize));
    }
    if ((this.size + 1) * 2 > this.slots.length) {
      this.rebuildIndex(this.slots.length * 2);
    }

    const node = this.size++;
    const base = node * WORDS_PER_NODE;
    this.words[base + KEY_HIGH] = key[0]!;
    this.words[base + KEY_LOW] = key[1]!;
    this.signedWords[base + PARENT] = NO_NODE;
    this.signedWords[base + LINK] = NO_NODE;
    this.doubles[node * DOUBLES_PER_NODE + EMAIL_TIME] = UNKNOWN_TIME;
    this.doubles[node * DOUBLES_PER_NODE + LINK_TIME] = UNKNOWN_TIME;
    // push keeps the array packed. Growing it by setting `length` leaves holes, and a later write far
    // beyond the filled part can switch V8 to slow dictionary elements.
    this.emails.push(undefined);
    this.insertIntoIndex(node);
    return node;
  }

  keyOf(node: number, key: IdKey): void {
    key[0] = this.words[node * WORDS_PER_NODE + KEY_HIGH]!;
    key[1] = this.words[node * WORDS_PER_NODE + KEY_LOW]!;
  }

  parentOf(node: number): number {
    return this.signedWords[node * WORDS_PER_NODE + PARENT]!;
  }

  setParent(node: number, parent: number): void {
    this.signedWords[node * WORDS_PER_NODE + PARENT] = parent;
  }

  emailOf(node: number): string | undefined {
    return this.emails[node];
  }

  emailTimeOf(node: number): number {
    return this.doubles[node * DOUBLES_PER_NODE + EMAIL_TIME]!;
  }

  setEmail(node: number, email: string, time: number): void {
    this.emails[node] = email;
    this.doubles[node * DOUBLES_PER_NODE + EMAIL_TIME] = time;
  }

  setEmailTime(node: number, time: number): void {
    this.doubles[node * DOUBLES_PER_NODE + EMAIL_TIME] = time;
  }

  linkOf(node: number): number {
    return this.signedWords[node * WORDS_PER_NODE + LINK]!;
  }

  linkTimeOf(node: number): number {
    return this.doubles[node * DOUBLES_PER_NODE + LINK_TIME]!;
  }

  setLink(node: number, linked: number, time: number): void {
    this.signedWords[node * WORDS_PER_NODE + LINK] = linked;
    this.doubles[node * DOUBLES_PER_NODE + LINK_TIME] = time;
  }

  /** Releases the memory; the store is empty afterwards. */
  close(): void {
    this.size = 0;
    this.emails = [];
    this.growNodes(0);
    this.rebuildIndex(2);
  }

  private growNodes(capacity: number): void {
    const buffer = new ArrayBuffer(capacity * WORDS_PER_NODE * 4);
    const words = new Uint32Array(buffer);
    words.set(this.words.subarray(0, Math.min(this.words.length, words.length)));

    this.capacity = capacity;
    this.words = words;
    this.signedWords = new Int32Array(buffer);
    this.doubles = new Float64Array(buffer);
  }

  private rebuildIndex(slotCount: number): void {
    this.slots = new Int32Array(slotCount);
    this.slotMask = slotCount - 1;
    for (let node = 0; node < this.size; node++) {
      this.insertIntoIndex(node);
    }
  }

  private insertIntoIndex(node: number): void {
    let slot = this.words[node * WORDS_PER_NODE + KEY_LOW]! & this.slotMask;
    while (this.slots[slot] !== 0) {
      slot = (slot + 1) & this.slotMask;
    }
    this.slots[slot] = node + 1;
  }
}
