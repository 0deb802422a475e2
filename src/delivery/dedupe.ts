/**
 * Slots of the largest table. At three quarters full it contains 1,572,864 ids in 16 MB, so the two
 * tables of a `MessageIdSet` never take more than 32 MB, however many entries a run has.
 */
export const MAX_TABLE_SLOTS = 1 << 21;

/**
 * A set of (mapping name, messageId) pairs stored as 64-bit hashes in an open-addressing table of
 * 32-bit halves, so a million ids take 12 MB instead of the hundreds a `Set<string>` would.
 *
 * The table grows by a factor of √2 at three quarters full, alternating between a power of two and
 * about 1.41 times one, so it is never less than 53 % full once grown, and growing keeps both tables
 * for a moment in 2.4 times the memory of the old one, not 3 times.
 *
 * The set remembers recent ids, not all of them. When the table reaches `maxSlots` and is three quarters
 * full, it becomes the previous table, the one before it is forgotten, and a new table starts. An id
 * is found while it is in either table, so a duplicate is always caught within the last
 * `maxSlots * 3 / 4` distinct ids, and a repeat further apart is taken for a new id. Koala records an
 * entry once per message_id anyway, and Segment's own duplicates come from retries close together.
 *
 * NOTE: two different ids whose two 32-bit MurmurHash3 values both collide are taken for
 * duplicates. For a million ids the chance of any such pair is about 3 in 100 million.
 */
export class MessageIdSet {
  private table: Uint32Array;
  /** Slots in `table`. */
  private slots: number;
  /** Ids in `table`. */
  private tableCount = 0;
  /** The table before `table`, once the first one filled up. */
  private previous: Uint32Array | undefined;
  private count = 0;
  private forgotten = false;

  constructor(
    initialCapacity = 1 << 16,
    private readonly maxSlots = MAX_TABLE_SLOTS,
  ) {
    if (!Number.isInteger(Math.log2(maxSlots)) || maxSlots < 16 || maxSlots > MAX_TABLE_SLOTS) {
      throw new RangeError(`maxSlots must be a power of two from 16 to ${MAX_TABLE_SLOTS}, got ${String(maxSlots)}.`);
    }
    this.slots = 2 ** Math.ceil(Math.log2(Math.min(maxSlots, Math.max(16, initialCapacity))));
    this.table = new Uint32Array(this.slots * 2);
  }

  /** Distinct ids added, the forgotten ones included. */
  get size(): number {
    return this.count;
  }

  /** Slots in the current table, 8 bytes each. */
  get capacity(): number {
    return this.slots;
  }

  /**
   * The fewest recent ids that are always remembered, once older ones have been forgotten, or
   * undefined while every id added is remembered.
   */
  get window(): number | undefined {
    return this.forgotten ? (this.maxSlots * 3) / 4 : undefined;
  }

  /** Adds the pair and returns true, or returns false when it was already present. */
  add(mappingName: string, messageId: string): boolean {
    return this.addHash(hashMessageId(mappingName, messageId));
  }

  /** Adds a pair by the hash `hashMessageId` returned for it, as `add` does. */
  addHash(hash: MessageIdHash): boolean {
    const previous = this.previous;
    if (previous !== undefined && find(previous, previous.length / 2, hash.high, hash.low)) {
      // Seen again, so it is recent again: it moves to the current table, to be remembered longer.
      this.insertAndGrow(hash);
      return false;
    }
    if (!this.insertAndGrow(hash)) {
      return false;
    }
    this.count += 1;
    return true;
  }

  /** Inserts into the current table, then grows it or starts a new one when it is three quarters full. */
  private insertAndGrow(hash: MessageIdHash): boolean {
    if (!this.insert(hash.high, hash.low)) {
      return false;
    }
    this.tableCount += 1;
    // Grows at three quarters full rather than half, and by √2 rather than 2: 546,000 ids then take
    // 5.9 MB, not 8 MB, and briefly 10 MB while both tables exist. Probes stay short because the
    // hashes are uniform.
    if (this.tableCount * 4 > this.slots * 3) {
      if (this.slots < this.maxSlots) {
        this.grow();
      } else {
        this.startNewTable();
      }
    }
    return true;
  }

  private insert(high: number, low: number): boolean {
    const table = this.table;
    const slots = this.slots;
    let slot = homeSlot(high, low, slots);
    for (;;) {
      const index = slot * 2;
      const storedLow = table[index + 1];
      if (storedLow === 0) {
        table[index] = high;
        table[index + 1] = low;
        return true;
      }
      if (storedLow === low && table[index] === high) {
        return false;
      }
      slot = slot + 1 === slots ? 0 : slot + 1;
    }
  }

  private grow(): void {
    const previous = this.table;
    this.slots = Math.min(this.maxSlots, nextSlotCount(this.slots));
    this.table = new Uint32Array(this.slots * 2);
    for (let index = 0; index < previous.length; index += 2) {
      const low = previous[index + 1] ?? 0;
      if (low !== 0) {
        this.insert(previous[index] ?? 0, low);
      }
    }
  }

  /** Makes the full table the previous one and reuses the memory of the one before it, cleared. */
  private startNewTable(): void {
    const reused = this.previous;
    this.forgotten ||= reused !== undefined;
    this.previous = this.table;
    this.table = reused === undefined ? new Uint32Array(this.table.length) : reused.fill(0);
    this.tableCount = 0;
  }
}

/** Checks whether a table of `MessageIdSet` with `slots` slots contains the hash. */
function find(table: Uint32Array, slots: number, high: number, low: number): boolean {
  let slot = homeSlot(high, low, slots);
  for (;;) {
    const index = slot * 2;
    const storedLow = table[index + 1];
    if (storedLow === 0) {
      return false;
    }
    if (storedLow === low && table[index] === high) {
      return true;
    }
    slot = slot + 1 === slots ? 0 : slot + 1;
  }
}

/**
 * Returns the slot where a hash's probe sequence starts: 32 bits of the hash scaled to `slots`,
 * which need not be a power of two. The product is below 2^53, so exact, while `slots` is at most
 * 2^21.
 */
function homeSlot(high: number, low: number, slots: number): number {
  return Math.floor((((high ^ low) >>> 0) * slots) / 4_294_967_296);
}

/** Returns the slot count after `slots`: about √2 times a power of two, then the next power of two. */
function nextSlotCount(slots: number): number {
  const power = 2 ** Math.floor(Math.log2(slots));
  return slots === power ? Math.round(power * Math.SQRT2) : power * 2;
}

/** The two 32-bit halves of the 64-bit hash that identifies a (mapping name, messageId) pair. */
export interface MessageIdHash {
  high: number;
  /** Never 0, because slot (0, 0) of the table means empty. */
  low: number;
}

/**
 * Hashes a (mapping name, messageId) pair for `MessageIdSet`. A low half of 0 is stored as 1, which
 * costs one bit of one hash.
 */
export function hashMessageId(mappingName: string, messageId: string): MessageIdHash {
  return { high: hashPair(mappingName, messageId, 0x9747b28c), low: hashPair(mappingName, messageId, 0x2f8e1a5d) || 1 };
}

/** MurmurHash3 (32-bit) over the UTF-16 code units of `first`, a separator and `second`. */
function hashPair(first: string, second: string, seed: number): number {
  let hash = mixString(seed, first);
  hash = mixUnit(hash, 0);
  hash = mixString(hash, second);
  hash ^= first.length + second.length + 1;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

function mixString(hash: number, text: string): number {
  let result = hash;
  for (let index = 0; index < text.length; index += 1) {
    result = mixUnit(result, text.charCodeAt(index));
  }
  return result;
}

function mixUnit(hash: number, unit: number): number {
  let block = Math.imul(unit, 0xcc9e2d51);
  block = (block << 15) | (block >>> 17);
  block = Math.imul(block, 0x1b873593);
  let result = hash ^ block;
  result = (result << 13) | (result >>> 19);
  return (Math.imul(result, 5) + 0xe6546b64) | 0;
}
