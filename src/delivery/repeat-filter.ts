import { DEAD_LETTER_MARKER } from "./dead-letter.js";
import { deriveMessageId } from "../inputs/message-id.js";
import type { SegmentEvent } from "../inputs/record.js";
import { createIdKey, hashId } from "../identity/hash-id.js";
import type { MappingDefinition } from "../koala/presets.js";
import { rootDirectiveKey } from "../mappings/compile.js";

/**
 * Bits of the filter of ids seen once per byte of input, rounded up to a power of two. For events
 * of 800 bytes that is 12.5 to 25 bits an event. A Bloom filter with 4 hashes then takes about 1 id
 * in 180 to 1 in 2,100 for one it has seen, by the usual estimate (1 - e^(-4n/m))^4.
 */
const BITS_PER_INPUT_BYTE = 1 / 64;
const MIN_BITS = 1 << 16;
/** 2^27 bits, 16 MB, the most the filter of ids seen once takes, reached at about 8.6 GB of input. */
const MAX_BITS = 1 << 27;
/**
 * The filter of repeated ids has an eighth of the bits, because it gets only the repeats and the
 * few ids the other one errs on. With many repeats it errs more often, which costs memory only.
 */
const REPEATED_BITS_SHARE = 8;
/** Bits set per id. */
const HASHES = 4;

/**
 * The messageIds that may occur more than once in the inputs, found in the stitching first pass, so
 * that the duplicate check of the second pass remembers only those and not every id it sends.
 *
 * Two Bloom filters: `seen` gets every id of the first pass, and `repeated` every
 * id that `seen` already contained. A Bloom filter never misses an id it was given, so an id that
 * occurs twice is always in `repeated`, and `mayRepeat` returns true for it. It also returns true
 * for a few ids that occur once, which the duplicate check then remembers for nothing. `seen` is
 * dropped once the first pass ends.
 *
 * The ids are those that the mappings make an entry's message_id from, as long as each of them
 * takes the event's `messageId` unchanged (`{"@path": "$.messageId"}`). When that is not so, or an
 * event of the second pass cannot have been observed, `giveUp` turns the filter off and every id
 * may repeat.
 *
 * NOTE: the filter trusts that the second pass reads the same events as the first. An input that
 * grew between the passes can repeat an id that the first pass did not see twice, and that repeat
 * is taken for a new id.
 */
export class RepeatFilter {
  private seen: Uint32Array | undefined;
  private readonly seenMask: number;
  private repeated: Uint32Array;
  private readonly repeatedMask: number;
  private off = false;
  private readonly key = createIdKey();

  /**
   * `inputBytes` sizes the filters; with more ids than it suits, `mayRepeat` errs more often but never
   * misses a repeat. NOTE: a gzip input counts with its compressed size, so its filters are smaller
   * than its events need, and more single ids are remembered.
   */
  constructor(inputBytes: number) {
    const targetBits = Math.min(MAX_BITS, Math.max(MIN_BITS, inputBytes * BITS_PER_INPUT_BYTE));
    const bits = 2 ** Math.ceil(Math.log2(targetBits));
    const repeatedBits = Math.max(MIN_BITS, bits / REPEATED_BITS_SHARE);
    this.seen = new Uint32Array(bits / 32);
    this.seenMask = bits - 1;
    this.repeated = new Uint32Array(repeatedBits / 32);
    this.repeatedMask = repeatedBits - 1;
  }

  /** Whether the filter was turned off, so that `mayRepeat` returns true for every id. */
  get isOff(): boolean {
    return this.off;
  }

  /** Turns the filter off and frees its memory. */
  giveUp(): void {
    this.off = true;
    this.seen = undefined;
    this.repeated = new Uint32Array(0);
  }

  /** Adds one id of the first pass by its key (`hashId`), as two 32-bit words at `offset` of `keys`. */
  observeKey(keys: Uint32Array, offset: number): void {
    const seen = this.seen;
    if (seen === undefined) return;

    const high = keys[offset]!;
    const low = keys[offset + 1]!;
    if (setBits(seen, this.seenMask, high, low)) {
      setBits(this.repeated, this.repeatedMask, high, low);
    }
  }

  /** Ends the first pass: frees the filter of ids seen once. */
  finishFirstPass(): void {
    this.seen = undefined;
  }

  /**
   * Returns false only for a message_id that the first pass saw at most once: a Bloom filter has no
   * false negatives. An input that changed between the passes is the exception (NOTE on the class).
   */
  mayRepeat(messageId: string): boolean {
    if (this.off) return true;

    hashId(messageId, this.key);
    return hasBits(this.repeated, this.repeatedMask, this.key[0]!, this.key[1]!);
  }
}

/**
 * Checks whether every enabled mapping makes an entry's message_id from the event's `messageId`
 * unchanged (`{"@path": "$.messageId"}`, as the presets do), which `defaultMessageIdOf` assumes.
 */
export function mapsEventMessageIds(mappings: readonly MappingDefinition[]): boolean {
  return mappings.every((mapping) => {
    if (!mapping.enabled) return true;
    if (mapping.mapping[rootDirectiveKey] !== undefined) return false;

    const value = mapping.mapping["message_id"];
    return typeof value === "object" && value !== null && JSON.stringify(value) === '{"@path":"$.messageId"}';
  });
}

/**
 * Returns the message_id that the default mapping gives an entry of `event`, as `processEvent` and
 * `mapToEntry` make it, or undefined for a line of a dead-letter file, whose entry keeps its own.
 */
export function defaultMessageIdOf(event: SegmentEvent): string | undefined {
  if (event[DEAD_LETTER_MARKER] !== undefined) return undefined;

  const messageId = event["messageId"];
  return messageId === undefined || messageId === null || messageId === "" ? deriveMessageId(event) : String(messageId);
}

/**
 * Sets the id's bits and returns whether all of them were set before. Bit i of the id is
 * `high + i * low` (double hashing), with `low` made odd so that the bits differ.
 */
function setBits(filter: Uint32Array, bitMask: number, high: number, low: number): boolean {
  let wasPresent = true;
  const step = low | 1;
  for (let hash = 0; hash < HASHES; hash++) {
    const bit = (high + Math.imul(hash, step)) & bitMask;
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    if ((filter[word]! & mask) === 0) {
      wasPresent = false;
      filter[word] = filter[word]! | mask;
    }
  }
  return wasPresent;
}

function hasBits(filter: Uint32Array, bitMask: number, high: number, low: number): boolean {
  const step = low | 1;
  for (let hash = 0; hash < HASHES; hash++) {
    const bit = (high + Math.imul(hash, step)) & bitMask;
    if ((filter[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
  }
  return true;
}
