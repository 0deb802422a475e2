import type { IdKey } from "./hash-id.js";
import { NO_NODE, type NodeStore } from "./node-store.js";
import { UNKNOWN_TIME } from "./event-identity.js";

const INITIAL_CAPACITY = 1024;
const INITIAL_EMAIL_BYTES = 64 * 1024;
/** Offset in `emailBytes` of a node without an email. */
const NO_EMAIL = 0xffffffff;
/** Bytes of the u32 header written before each email: its length in code units, and the flag below. */
const EMAIL_HEADER_BYTES = 4;
/** Header flag of an email stored as UTF-16 (2 bytes a code unit) rather than Latin-1 (1 byte). */
const UTF16_FLAG = 0x80000000;

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
 * addressing, linear probing, at most half full), and the emails as bytes with a 4-byte offset a
 * node. Holds at most `maxSize` nodes.
 *
 * The emails are kept out of V8's heap. As strings, 200,000 emails of about 35 characters took
 * 19.7 MB of it (test/identity/memory-nodes.test.ts), and the CLI lets V8's old generation grow to
 * twice its live size before a full collection (src/cli/heap-tuning.ts). `emailOf` decodes the
 * bytes on each call instead.
 */
export class MemoryNodes implements NodeStore {
  readonly maxSize: number;
  size = 0;

  private capacity = 0;
  private words = new Uint32Array(0);
  private signedWords = new Int32Array(0);
  private doubles = new Float64Array(0);
  /**
   * Each email set, in the order set: a u32 header (little-endian) with its length in UTF-16 code
   * units, then its code units, one byte each (Latin-1) when all are below U+0100, else two
   * (UTF-16LE, with `UTF16_FLAG` in the header). Both keep every string exactly, lone surrogates
   * included. An email replaced by a later one stays until the buffer is next grown.
   */
  private emailBytes = Buffer.allocUnsafeSlow(INITIAL_EMAIL_BYTES);
  private emailBytesUsed = 0;
  /** Bytes in `emailBytes` of the emails that no later one replaced. */
  private emailBytesSet = 0;
  /** Offset in `emailBytes` of the email of each root that has one, else NO_EMAIL. */
  private emailOffsets = new Uint32Array(0);
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
    this.emailOffsets[node] = NO_EMAIL;
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
    const offset = this.emailOffsets[node]!;
    if (offset === NO_EMAIL) return undefined;

    const header = this.emailBytes.readUInt32LE(offset);
    const start = offset + EMAIL_HEADER_BYTES;
    return (header & UTF16_FLAG) === 0
      ? this.emailBytes.toString("latin1", start, start + header)
      : this.emailBytes.toString("utf16le", start, start + (header & ~UTF16_FLAG) * 2);
  }

  emailTimeOf(node: number): number {
    return this.doubles[node * DOUBLES_PER_NODE + EMAIL_TIME]!;
  }

  setEmail(node: number, email: string, time: number): void {
    const latin1 = isLatin1(email);
    const bytes = latin1 ? email.length : email.length * 2;
    const replaced = this.emailOffsets[node]!;
    if (replaced !== NO_EMAIL) {
      this.emailBytesSet -= this.emailEntryBytes(replaced);
      // Cleared first, so that a copy made by reserveEmailBytes below leaves the replaced email out.
      this.emailOffsets[node] = NO_EMAIL;
    }
    this.reserveEmailBytes(EMAIL_HEADER_BYTES + bytes);

    const offset = this.emailBytesUsed;
    this.emailBytes.writeUInt32LE(latin1 ? email.length : (email.length | UTF16_FLAG) >>> 0, offset);
    this.emailBytes.write(email, offset + EMAIL_HEADER_BYTES, bytes, latin1 ? "latin1" : "utf16le");
    this.emailBytesUsed = offset + EMAIL_HEADER_BYTES + bytes;
    this.emailBytesSet += EMAIL_HEADER_BYTES + bytes;
    this.emailOffsets[node] = offset;
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
    this.emailBytes = Buffer.alloc(0);
    this.emailBytesUsed = 0;
    this.emailBytesSet = 0;
    this.growNodes(0);
    this.rebuildIndex(2);
  }

  private growNodes(capacity: number): void {
    const buffer = new ArrayBuffer(capacity * WORDS_PER_NODE * 4);
    const words = new Uint32Array(buffer);
    words.set(this.words.subarray(0, Math.min(this.words.length, words.length)));

    const emailOffsets = new Uint32Array(capacity);
    emailOffsets.set(this.emailOffsets.subarray(0, Math.min(this.emailOffsets.length, capacity)));

    this.capacity = capacity;
    this.words = words;
    this.signedWords = new Int32Array(buffer);
    this.doubles = new Float64Array(buffer);
    this.emailOffsets = emailOffsets;
  }

  /**
   * Makes room for `bytes` more bytes in `emailBytes`. When it is full, copies the emails still set
   * into a new buffer with at least as many bytes free as they take, which drops the replaced ones.
   */
  private reserveEmailBytes(bytes: number): void {
    if (this.emailBytesUsed + bytes <= this.emailBytes.length) return;

    let length = INITIAL_EMAIL_BYTES;
    while (length < (this.emailBytesSet + bytes) * 2) length *= 2;
    const copy = Buffer.allocUnsafeSlow(length);
    let used = 0;
    for (let node = 0; node < this.size; node++) {
      const offset = this.emailOffsets[node]!;
      if (offset === NO_EMAIL) continue;

      const entryBytes = this.emailEntryBytes(offset);
      this.emailBytes.copy(copy, used, offset, offset + entryBytes);
      this.emailOffsets[node] = used;
      used += entryBytes;
    }
    this.emailBytes = copy;
    this.emailBytesUsed = used;
  }

  /** Returns the bytes of the email entry at `offset`, its header included. */
  private emailEntryBytes(offset: number): number {
    const header = this.emailBytes.readUInt32LE(offset);
    return EMAIL_HEADER_BYTES + ((header & UTF16_FLAG) === 0 ? header : (header & ~UTF16_FLAG) * 2);
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

function isLatin1(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) > 0xff) return false;
  }
  return true;
}
