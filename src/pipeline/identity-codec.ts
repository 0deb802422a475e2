import { defaultMessageIdOf } from "../delivery/repeat-filter.js";
import { createIdKey, hashId } from "../identity/hash-id.js";
import { extractIdentityFacts, type IdentityFacts } from "../identity/identity-facts.js";
import { forEachElement } from "../inputs/element-chunks.js";
import type { SegmentEvent } from "../inputs/record.js";
import { lostBytesInDecoding } from "../inputs/utf8.js";
import { isNestedTooDeeply } from "./event-depth.js";

const NEWLINE = 0x0a;

/** Identity facts of a chunk, as posted by a worker: strings by index, ints and times per fact. */
export interface EncodedFacts {
  strings: string[];
  /** Per fact: flags (1: alias, 2: invalid email), then the string indexes of userId, anonymousId, aliasOf, email (-1: none). */
  ints: Int32Array;
  times: Float64Array;
  /** With `withMessageIds`: the `hashId` key of each event's message_id, two words an event, for `RepeatFilter`. */
  messageIdKeys?: Uint32Array;
  /** With `withMessageIds`: events whose message_id the first pass cannot know (dead-letter lines). */
  eventsWithoutKey?: number;
}

/** A chunk's identity facts, decoded, and the keys of its events' message_ids when they were asked for. */
export interface ChunkFacts {
  facts: IdentityFacts[];
  messageIdKeys: Uint32Array | undefined;
  eventsWithoutKey: number;
}

const INTS_PER_FACT = 5;
const ALIAS_FLAG = 1;
const INVALID_EMAIL_FLAG = 2;
const EMAIL_IN_PROPERTIES_FLAG = 4;

/**
 * Reads the identity facts of a chunk of JSONL lines for the first pass. `firstLine` is the line
 * number of the chunk's first line in its input. Lines that do not parse are skipped here, because
 * the second pass reports and counts each of them once. A byte order mark is skipped only before
 * line 1, as in the second pass.
 */
export function extractChunkFacts(bytes: Buffer, firstLine: number, withMessageIds = false): EncodedFacts {
  const encoder = new FactsEncoder(withMessageIds);
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) {
      end = bytes.length;
    }
    const line = bytes.toString("utf8", start, end);
    // The second pass reports a line that is not UTF-8 and sends nothing of it, so its ids count for nothing.
    if (!lostBytesInDecoding(line, bytes, start, end)) {
      encoder.addLine(line, firstLine === 1 && start === 0);
    }
    start = end + 1;
  }
  return encoder.finish();
}

/** Reads the identity facts of a chunk of array elements, which `elements` locates, as `extractChunkFacts` does for lines. */
export function extractElementFacts(bytes: Buffer, elements: Int32Array, withMessageIds = false): EncodedFacts {
  const encoder = new FactsEncoder(withMessageIds);
  forEachElement(elements, (element) => {
    const text = bytes.toString("utf8", element.start, element.end);
    if (!lostBytesInDecoding(text, bytes, element.start, element.end)) {
      encoder.addLine(text, false);
    }
  });
  return encoder.finish();
}

class FactsEncoder {
  private readonly strings: string[] = [];
  private readonly ints: number[] = [];
  private readonly times: number[] = [];
  /** Keys of the events' message_ids, while they are asked for. */
  private readonly messageIdKeys: number[] | undefined;
  private eventsWithoutKey = 0;
  private readonly key = createIdKey();

  constructor(withMessageIds: boolean) {
    this.messageIdKeys = withMessageIds ? [] : undefined;
  }

  addLine(line: string, isInputsFirstLine: boolean): void {
    if (this.messageIdKeys === undefined) {
      this.add(mayHoldIdentityFacts(line) ? factsOfEvent(parseEvent(line, isInputsFirstLine)) : undefined);
      return;
    }
    // Every event is parsed here, because each one has a message_id.
    const event = parseEvent(line, isInputsFirstLine);
    if (event === undefined) {
      return;
    }
    const messageId = defaultMessageIdOf(event);
    if (messageId === undefined) {
      this.eventsWithoutKey += 1;
    } else {
      hashId(messageId, this.key);
      this.messageIdKeys.push(this.key[0]!, this.key[1]!);
    }
    this.add(factsOfEvent(event));
  }

  add(facts: IdentityFacts | undefined): void {
    if (facts === undefined) {
      return;
    }
    const flags = (facts.isAlias ? ALIAS_FLAG : 0) | (facts.email === null ? INVALID_EMAIL_FLAG : 0) | (facts.emailInProperties === true ? EMAIL_IN_PROPERTIES_FLAG : 0);
    this.ints.push(flags, this.intern(facts.userId), this.intern(facts.anonymousId), this.intern(facts.aliasOf), this.intern(facts.email));
    this.times.push(facts.time);
  }

  finish(): EncodedFacts {
    const encoded: EncodedFacts = { strings: this.strings, ints: Int32Array.from(this.ints), times: Float64Array.from(this.times) };
    if (this.messageIdKeys !== undefined) {
      encoded.messageIdKeys = Uint32Array.from(this.messageIdKeys);
      encoded.eventsWithoutKey = this.eventsWithoutKey;
    }
    return encoded;
  }

  private intern(value: string | null | undefined): number {
    if (value === undefined || value === null) {
      return -1;
    }
    this.strings.push(value);
    return this.strings.length - 1;
  }
}

/** Parses a line into an event, or returns undefined for a line that the second pass reports as unreadable. */
function parseEvent(line: string, isInputsFirstLine: boolean): SegmentEvent | undefined {
  if (line.length < 2) {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(isInputsFirstLine && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line);
    // The second pass reports an event nested too deeply as unreadable, so its ids count for nothing.
    if (typeof value !== "object" || value === null || Array.isArray(value) || isNestedTooDeeply(value as Record<string, unknown>, line)) {
      return undefined;
    }
    return value as SegmentEvent;
  } catch {
    // Malformed or nested too deeply: the second pass reports the line.
    return undefined;
  }
}

function factsOfEvent(event: SegmentEvent | undefined): IdentityFacts | undefined {
  return event === undefined ? undefined : extractIdentityFacts(event);
}

/**
 * Checks, without parsing, whether a line can tell the graph anything: an email (every field read
 * is named `email`), an alias call, or both a userId and an anonymousId. About a quarter of the
 * lines of a typical archive have none of these and skip the parse. A key can be spelled with a
 * `\u` escape that only a parse resolves, so such lines are always parsed.
 */
function mayHoldIdentityFacts(line: string): boolean {
  if (line.includes('"email"') || line.includes('"alias"') || line.includes("\\u")) {
    return true;
  }
  return line.includes('"userId"') && line.includes('"anonymousId"');
}

/** Turns what `extractChunkFacts` posted back into facts, in line order, with the message_id keys if any. */
export function decodeChunk(encoded: EncodedFacts): ChunkFacts {
  return { facts: decodeChunkFacts(encoded), messageIdKeys: encoded.messageIdKeys, eventsWithoutKey: encoded.eventsWithoutKey ?? 0 };
}

/** Turns what `extractChunkFacts` posted back into facts, in line order. */
export function decodeChunkFacts(encoded: EncodedFacts): IdentityFacts[] {
  const { strings, ints, times } = encoded;
  const text = (index: number | undefined): string | undefined => (index === undefined || index === -1 ? undefined : strings[index]);
  const facts: IdentityFacts[] = [];
  for (let fact = 0; fact * INTS_PER_FACT < ints.length; fact += 1) {
    const base = fact * INTS_PER_FACT;
    const flags = ints[base] ?? 0;
    const decoded: IdentityFacts = {
      isAlias: (flags & ALIAS_FLAG) !== 0,
      userId: text(ints[base + 1]),
      anonymousId: text(ints[base + 2]),
      aliasOf: text(ints[base + 3]),
      email: (flags & INVALID_EMAIL_FLAG) !== 0 ? null : text(ints[base + 4]),
      time: times[fact] ?? Number.NaN,
    };
    if ((flags & EMAIL_IN_PROPERTIES_FLAG) !== 0) {
      decoded.emailInProperties = true;
    }
    facts.push(decoded);
  }
  return facts;
}
