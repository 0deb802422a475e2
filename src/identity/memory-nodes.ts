import type { IdKey } from "./hash-id.js";
import { NO_NODE, type NodeStore } from "./node-store.js";
import { UNKNOWN_TIME } from "./event-identity.js";

const INITIAL_CAPACITY = 1024;
const INITIAL_EMAIL_BYTES = 64 * 1024;
const INITIAL_EMAIL_SLOTS = 1024;
/** Offset in `emailBytes` of a node without an email. */
const NO_EMAIL = 0xffffffff;
/**
 * Bytes of the two u32 words written before each email: its length in code units with the flags
 * below, and the number of nodes that have it.
 */
const EMAIL_HEADER_BYTES = 8;
const EMAIL_REFERENCES = 4;
/** Header flag of an email stored as UTF-16 (2 bytes a code unit) rather than Latin-1 (1 byte). */
const UTF16_FLAG = 0x80000000;
/**
 * Header flag of an email already copied while the buffer is compacted; its reference count then
 * holds its new offset. A string has fewer than 2^30 code units in V8, so the flag is never part of
 * a length.
 */
const MOVED_FLAG = 0x40000000;
const LENGTH_MASK = 0x3fffffff;
/** The buffer of emails is compacted into one of this many times the bytes of the emails in use. */
const EMAIL_BYTES_GROWTH = 1.5;

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
 * bytes on each call instead. Each distinct email is stored once, however many roots have it: a
 * user's userId and anonymousId are often two roots with one email.
 */
export class MemoryNodes implements NodeStore {
  readonly maxSize: number;
  size = 0;

  private capacity = 0;
  private words = new Uint32Array(0);
  private signedWords = new Int32Array(0);
  private doubles = new Float64Array(0);
  /**
   * Each distinct email, in the order first set. A u32 header (little-endian) contains its length in
   * UTF-16 code units, and a u32 count the nodes that have it. Its code units follow, one byte each
   * (Latin-1) when all are below U+0100, else two (UTF-16LE, with `UTF16_FLAG` in the header). Both
   * keep every string exactly, lone surrogates included. An email that no node has any longer stays
   * until the buffer is next compacted.
   */
  private emailBytes = Buffer.allocUnsafeSlow(INITIAL_EMAIL_BYTES);
  private emailBytesUsed = 0;
  /** Bytes in `emailBytes` of the emails that some node has. */
  private emailBytesInUse = 0;
  /** Emails in `emailBytes`, those no node has included. */
  private emailCount = 0;
  /** Offset in `emailBytes` of the email of each root that has one, else NO_EMAIL. */
  private emailOffsets = new Uint32Array(0);
  /** Hash index of the emails in `emailBytes`: offset + 1 in each used slot, 0 in an empty one. */
  private emailSlots = new Int32Array(INITIAL_EMAIL_SLOTS);
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
      ? this.emailBytes.toString("latin1", start, start + (header & LENGTH_MASK))
      : this.emailBytes.toString("utf16le", start, start + (header & LENGTH_MASK) * 2);
  }

  emailTimeOf(node: number): number {
    return this.doubles[node * DOUBLES_PER_NODE + EMAIL_TIME]!;
  }

  setEmail(node: number, email: string, time: number): void {
    const replaced = this.emailOffsets[node]!;
    // Cleared first, so that compacting the buffer in `internEmail` drops the replaced email when no other node has it.
    this.emailOffsets[node] = NO_EMAIL;
    if (replaced !== NO_EMAIL) {
      this.releaseEmail(replaced);
    }
    this.emailOffsets[node] = this.internEmail(email);
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
    this.emailBytesInUse = 0;
    this.emailCount = 0;
    this.emailSlots = new Int32Array(2);
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

  /** Returns the offset of `email` in `emailBytes`, stored there first if no node has had it, and counts one more node that has it. */
  private internEmail(email: string): number {
    const latin1 = isLatin1(email);
    const hash = hashText(email);
    const mask = this.emailSlots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const stored = this.emailSlots[slot]!;
      if (stored === 0) break;

      const offset = stored - 1;
      if (this.emailEquals(offset, email, latin1)) {
        const references = this.emailBytes.readUInt32LE(offset + EMAIL_REFERENCES);
        if (references === 0) this.emailBytesInUse += this.emailEntryBytes(offset);
        this.emailBytes.writeUInt32LE(references + 1, offset + EMAIL_REFERENCES);
        return offset;
      }
    }
    return this.appendEmail(email, latin1, hash);
  }

  private appendEmail(email: string, latin1: boolean, hash: number): number {
    const entryBytes = EMAIL_HEADER_BYTES + (latin1 ? email.length : email.length * 2);
    this.reserveEmailBytes(entryBytes);
    if ((this.emailCount + 1) * 2 > this.emailSlots.length) {
      this.rebuildEmailIndex(this.emailSlots.length * 2);
    }

    const offset = this.emailBytesUsed;
    this.emailBytes.writeUInt32LE(latin1 ? email.length : (email.length | UTF16_FLAG) >>> 0, offset);
    this.emailBytes.writeUInt32LE(1, offset + EMAIL_REFERENCES);
    this.emailBytes.write(email, offset + EMAIL_HEADER_BYTES, entryBytes - EMAIL_HEADER_BYTES, latin1 ? "latin1" : "utf16le");
    this.emailBytesUsed = offset + entryBytes;
    this.emailBytesInUse += entryBytes;
    this.emailCount += 1;
    this.insertIntoEmailIndex(offset, hash);
    return offset;
  }

  /** Counts one node fewer that has the email at `offset`. */
  private releaseEmail(offset: number): void {
    const references = this.emailBytes.readUInt32LE(offset + EMAIL_REFERENCES) - 1;
    this.emailBytes.writeUInt32LE(references, offset + EMAIL_REFERENCES);
    if (references === 0) this.emailBytesInUse -= this.emailEntryBytes(offset);
  }

  /**
   * Makes room for `bytes` more bytes in `emailBytes`. When it is full, copies the emails that some
   * node has into a new buffer of `EMAIL_BYTES_GROWTH` times their bytes and the new ones, which
   * drops the others, and rebuilds the hash index of the emails.
   */
  private reserveEmailBytes(bytes: number): void {
    if (this.emailBytesUsed + bytes <= this.emailBytes.length) return;

    const length = Math.max(INITIAL_EMAIL_BYTES, Math.ceil((this.emailBytesInUse + bytes) * EMAIL_BYTES_GROWTH));
    const copy = Buffer.allocUnsafeSlow(length);
    const previous = this.emailBytes;
    let used = 0;
    let count = 0;
    for (let node = 0; node < this.size; node++) {
      const offset = this.emailOffsets[node]!;
      if (offset === NO_EMAIL) continue;

      const header = previous.readUInt32LE(offset);
      if ((header & MOVED_FLAG) !== 0) {
        this.emailOffsets[node] = previous.readUInt32LE(offset + EMAIL_REFERENCES);
        continue;
      }
      const entryBytes = this.emailEntryBytes(offset);
      previous.copy(copy, used, offset, offset + entryBytes);
      // The previous buffer is dropped below, so its header and count can record where the email went.
      previous.writeUInt32LE((header | MOVED_FLAG) >>> 0, offset);
      previous.writeUInt32LE(used, offset + EMAIL_REFERENCES);
      this.emailOffsets[node] = used;
      used += entryBytes;
      count += 1;
    }
    this.emailBytes = copy;
    this.emailBytesUsed = used;
    this.emailCount = count;
    this.rebuildEmailIndex(this.emailSlots.length);
  }

  /** Returns the bytes of the email entry at `offset`, its header included. */
  private emailEntryBytes(offset: number): number {
    const header = this.emailBytes.readUInt32LE(offset);
    const length = header & LENGTH_MASK;
    return EMAIL_HEADER_BYTES + ((header & UTF16_FLAG) === 0 ? length : length * 2);
  }

  /** Checks whether the email at `offset` has the code units of `email`. */
  private emailEquals(offset: number, email: string, latin1: boolean): boolean {
    const header = this.emailBytes.readUInt32LE(offset);
    if ((header & LENGTH_MASK) !== email.length || ((header & UTF16_FLAG) === 0) !== latin1) return false;

    const start = offset + EMAIL_HEADER_BYTES;
    for (let index = 0; index < email.length; index++) {
      const unit = latin1 ? this.emailBytes[start + index]! : this.emailBytes.readUInt16LE(start + index * 2);
      if (unit !== email.charCodeAt(index)) return false;
    }
    return true;
  }

  /** Rebuilds the hash index of the emails in `emailBytes`, with at least `slotCount` slots and at most half of them used. */
  private rebuildEmailIndex(slotCount: number): void {
    let slots = slotCount;
    while (this.emailCount * 2 > slots) slots *= 2;
    this.emailSlots = new Int32Array(slots);

    for (let offset = 0; offset < this.emailBytesUsed; offset += this.emailEntryBytes(offset)) {
      this.insertIntoEmailIndex(offset, this.hashEmailAt(offset));
    }
  }

  private insertIntoEmailIndex(offset: number, hash: number): void {
    const mask = this.emailSlots.length - 1;
    let slot = hash & mask;
    while (this.emailSlots[slot] !== 0) {
      slot = (slot + 1) & mask;
    }
    this.emailSlots[slot] = offset + 1;
  }

  /** Hashes the email at `offset` as `hashText` hashes its string. */
  private hashEmailAt(offset: number): number {
    const header = this.emailBytes.readUInt32LE(offset);
    const length = header & LENGTH_MASK;
    const latin1 = (header & UTF16_FLAG) === 0;
    const start = offset + EMAIL_HEADER_BYTES;
    let hash = FNV_OFFSET_BASIS;
    for (let index = 0; index < length; index++) {
      const unit = latin1 ? this.emailBytes[start + index]! : this.emailBytes.readUInt16LE(start + index * 2);
      hash = Math.imul(hash ^ unit, FNV_PRIME);
    }
    return finishHash(hash);
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

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the UTF-16 code units of `text`, mixed so that its low bits can pick a slot. */
function hashText(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (let index = 0; index < text.length; index++) {
    hash = Math.imul(hash ^ text.charCodeAt(index), FNV_PRIME);
  }
  return finishHash(hash);
}

function finishHash(hash: number): number {
  let mixed = hash ^ (hash >>> 16);
  mixed = Math.imul(mixed, 0x85ebca6b);
  return (mixed ^ (mixed >>> 13)) >>> 0;
}
