import type { EntryKind, KoalaEntry, PersonFields } from "../delivery/entry.js";
import { hashMessageId, type MessageIdHash } from "../delivery/dedupe.js";
import { chunkBuffers } from "../inputs/chunk-buffers.js";
import type { InputProblem, RecordOrigin, UnreadableReason } from "../inputs/record.js";
import type { RawChunk } from "../inputs/read-input.js";
import { processRawChunk, type LineOutcome, type ReadOutcome } from "./process-lines.js";
import type { ProcessorRules } from "./processor.js";
import type { MappingVerdict, SkipReason } from "./outcomes.js";
import type { EventIdentity, RecordResult } from "./processor.js";

// A worker thread returns the outcomes of a chunk as one Int32Array and one buffer of UTF-8 text,
// both transferred without a copy. The main thread reads the numbers it needs and decodes only the
// short strings that batching looks at. An entry's JSON stays UTF-8 from the worker to the request
// body, where it is copied as bytes, so the main thread never decodes or encodes it.

const RECORD = 1;
const PROBLEM = 2;
const SKIPPED_VERDICT = 0;
const INVALID_VERDICT = 1;
/** Bytes of a messageId hash in an entry's block: its two halves, unsigned, little-endian. */
const HASH_BYTES = 8;

// Reasons travel as their index in these lists. `listsEvery` fails to compile when a reason is added
// to its type but not here, where it would be decoded as another one.
const SKIP_REASONS = ["filtered-out", "no-mapping-matched", "browser-event", "no-identity", "duplicate-message-id", "already-delivered", "excluded-email", "skipped-earlier", "done-earlier", "unreadable-earlier"] as const;
const UNREADABLE_REASONS = [
  "malformed-json",
  "not-an-object",
  "truncated-gzip",
  "unreadable-file",
  "not-an-archive",
  "malformed-csv-row",
  "unknown-csv-table",
  "line-too-long",
  "not-utf8",
] as const;
listsEvery<SkipReason, (typeof SKIP_REASONS)[number]>(true);
listsEvery<UnreadableReason, (typeof UNREADABLE_REASONS)[number]>(true);

function listsEvery<All extends string, Listed extends All>(complete: [Exclude<All, Listed>] extends [never] ? true : never): void {
  void complete;
}
const ENTRY_KINDS: readonly EntryKind[] = ["events", "identifies"];

/**
 * The value of every empty list of a decoded result, so that the many events that produce nothing
 * allocate no arrays. Frozen, because a result's lists are only read once decoded.
 */
const NONE: never[] = Object.freeze([]) as never[];
const NO_IDS: EventIdentity = Object.freeze({});

/**
 * Checks that a string has no surrogate that is not half of a pair. `String.prototype.isWellFormed`
 * took 4 to 13 ns for an id of 40 characters on Node 20, against about 60 ns for a `\p{Surrogate}`
 * regex. TypeScript declares it from ES2024 only, which this project does not take: Node 20 lacks
 * other parts of it.
 */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/** A chunk's outcomes: numbers, and byte ranges of `text` for the strings. */
export interface EncodedChunk {
  ints: Int32Array;
  /** UTF-8 of the chunk's strings. A string is two integers: its start in `text` (-1 for none) and its byte length. */
  text: Uint8Array;
}

/** The memory of an `EncodedChunk` that has been read, to encode another chunk's outcomes in. */
export interface ResultBuffers {
  ints: ArrayBuffer;
  text: ArrayBuffer;
}

/** Buffers of read chunks kept for the next ones, for the same reason as `chunkBuffers`. */
const spareResults: ResultBuffers[] = [];
const MAX_SPARE_RESULTS = 4;

/** Returns the buffers of a chunk already read, if one is spare, to encode the next chunk in. */
export function takeSpareResults(): ResultBuffers | undefined {
  return spareResults.pop();
}

/**
 * Encodes a chunk's outcomes one at a time, so that each event and its entries become garbage as
 * soon as its line is done. The worker threads use it, and `mappingNames` gives each mapping its index.
 */
export class ChunkEncoder {
  private readonly mappingIndex: Map<string, number>;
  private ints: Int32Array;
  private intCount = 0;
  private text: Buffer;
  private textLength = 0;

  constructor(
    mappingNames: readonly string[],
    expectedTextBytes = 1 << 16,
    spare?: ResultBuffers,
    /** Whether the ids of every event with entries are encoded, not only of those that stitching needs. */
    private readonly keepsIdentity = false,
  ) {
    this.mappingIndex = new Map(mappingNames.map((name, index) => [name, index]));
    this.ints = spare === undefined ? new Int32Array(4096) : new Int32Array(spare.ints);
    const textBytes = Math.max(1024, expectedTextBytes);
    // Not from Buffer's shared pool, because the buffer is transferred to another thread.
    this.text = spare !== undefined && spare.text.byteLength >= textBytes ? Buffer.from(spare.text) : Buffer.allocUnsafeSlow(textBytes);
  }

  /** Adds one line's outcome. */
  add(outcome: LineOutcome): void {
    if (outcome.kind === "problem") {
      const { problem } = outcome;
      this.int(PROBLEM);
      this.int(problem.origin.line);
      this.int((UNREADABLE_REASONS as readonly string[]).indexOf(problem.reason));
      this.string(problem.message);
      this.string(problem.raw);
      this.string(problem.rawBase64);
      return;
    }
    this.addRecord(outcome.result, outcome.text, outcome.lineStart, outcome.lineEnd);
  }

  /** Returns the encoded chunk. Its buffers are meant to be transferred, so the encoder cannot be used again. */
  finish(): EncodedChunk {
    return { ints: this.ints.subarray(0, this.intCount), text: this.text.subarray(0, this.textLength) };
  }

  private addRecord(result: RecordResult, lineText: string, lineStart: number, lineEnd: number): void {
    this.int(RECORD);
    this.int(result.origin.line);
    this.int(lineStart);
    this.int(lineEnd);
    this.int(result.skipped === undefined ? -1 : (SKIP_REASONS as readonly string[]).indexOf(result.skipped));
    this.int(result.filterFieldsPresent ?? 0);
    this.int(result.resentDeadLetter === true ? 1 : 0);
    this.string(result.unmatchedType);
    this.int(result.matched.length);
    for (const name of result.matched) {
      this.mapping(name);
    }
    this.int(result.verdicts.length);
    for (const verdict of result.verdicts) {
      this.mapping(verdict.mapping);
      if (verdict.kind === "skipped") {
        this.int(SKIPPED_VERDICT);
        this.int(SKIP_REASONS.indexOf(verdict.reason));
      } else {
        this.int(INVALID_VERDICT);
        this.string(verdict.reason);
      }
    }
    this.int(result.entriesWithEmail);
    // Identity stitching reads the ids for entries that have no email or profile_id, and the email
    // exclusion for every entry when it checks the email that the ids are linked to.
    const needsIdentity = result.unidentified.length > 0 || (this.keepsIdentity && result.entries.length > 0);
    this.string(needsIdentity ? result.identity.userId : undefined);
    this.string(needsIdentity ? result.identity.anonymousId : undefined);
    this.addEntries(result.entries, lineText);
    this.addEntries(result.unidentified, lineText);
    this.int(result.unidentifiedNotBuilt);
  }

  private addEntries(entries: readonly KoalaEntry[], lineText: string): void {
    this.int(entries.length);
    for (const entry of entries) {
      this.int(ENTRY_KINDS.indexOf(entry.kind));
      this.mapping(entry.mappingName);
      const personId = entry.personId ?? entry.person.profile_id ?? entry.person.email;
      this.string(personId === undefined ? undefined : String(personId));
      this.addEntryBlock(entry);
      // The event is the line itself, which the main thread has, except for a resent dead letter.
      this.string(entry.eventJson === lineText ? undefined : entry.eventJson);
    }
  }

  /**
   * Adds the bytes that the main thread copies into the entry's own memory, one after the other so
   * that one copy takes them all (see `DecodedEntry`): the hash of its messageId, its person key, its
   * JSON and its messageId. The integers give where the block starts and the length of each part.
   */
  private addEntryBlock(entry: KoalaEntry): void {
    const start = this.textLength;
    const hash = hashMessageId(entry.mappingName, entry.messageId);
    this.reserve(HASH_BYTES);
    writeUint32(this.text, start, hash.high);
    writeUint32(this.text, start + 4, hash.low);
    this.textLength += HASH_BYTES;
    this.int(start);
    this.int(this.appendJson(entry.personKey));
    this.int(this.appendJson(entry.entryJson));
    this.int(this.appendString(entry.messageId));
  }

  /**
   * Adds a mapping name as its index in the config, or as -1 and the name itself for a name the
   * config does not have (a dead letter resent with another config, the "dead letter" verdict).
   */
  private mapping(name: string): void {
    const index = this.mappingIndex.get(name);
    if (index === undefined) {
      this.int(-1);
      this.string(name);
    } else {
      this.int(index);
    }
  }

  private int(value: number): void {
    if (this.intCount === this.ints.length) {
      const grown = new Int32Array(this.ints.length * 2);
      grown.set(this.ints);
      this.ints = grown;
    }
    this.ints[this.intCount++] = value;
  }

  /**
   * Adds a string as UTF-8. UTF-8 cannot carry a lone surrogate (an id cut in the middle of an emoji,
   * say), which it would replace with U+FFFD and so make two ids one. Such a string goes as its JSON
   * text instead, whose escapes keep it exact, with its length negated to say so.
   */
  private string(value: string | undefined): void {
    if (value === undefined) {
      this.int(-1);
      this.int(0);
      return;
    }
    const start = this.textLength;
    const length = this.appendString(value);
    this.int(start);
    this.int(length);
  }

  /** Appends a string as `string` encodes it. Returns its byte length, or -1 minus it when the string went as JSON text. */
  private appendString(value: string): number {
    if (isWellFormed(value)) {
      return this.appendJson(value);
    }
    return -this.appendJson(JSON.stringify(value)) - 1;
  }

  /** Appends text without a lone surrogate, such as what `JSON.stringify` produces, as UTF-8. Returns its byte length. */
  private appendJson(value: string): number {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    this.reserve(value.length * 3);
    const written = this.text.write(value, this.textLength);
    this.textLength += written;
    return written;
  }

  private reserve(bytes: number): void {
    if (this.textLength + bytes <= this.text.length) {
      return;
    }
    const grown = Buffer.allocUnsafeSlow(Math.max(this.text.length * 2, this.textLength + bytes));
    this.text.copy(grown, 0, 0, this.textLength);
    this.text = grown;
  }
}

/** Writes an unsigned 32-bit integer, little-endian, as `readUInt32LE` reads it, without `writeUInt32LE`'s range checks. */
function writeUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = value >>> 24;
}

/**
 * Processes a chunk of JSONL lines or array elements and encodes the outcomes, as a worker does. The
 * main thread uses it too when it takes a chunk from busy workers, because a chunk's outcomes kept as
 * objects until their turn would outlive young-generation collections and burden the old generation.
 */
export function processChunk(
  chunk: RawChunk,
  rules: ProcessorRules,
  mappingNames: readonly string[],
  expectedTextBytes?: number,
  spare?: ResultBuffers,
): EncodedChunk {
  const encoder = new ChunkEncoder(mappingNames, expectedTextBytes, spare, rules.keepsIdentity === true);
  processRawChunk(chunk, rules, (outcome) => encoder.add(outcome));
  return encoder.finish();
}

/**
 * An entry decoded on the main thread. Its parts stay UTF-8 in memory of its own, or in a slab that
 * entries share, and they are decoded only when asked for, because most entries are delivered
 * without anyone reading them. The copy costs about a microsecond. In exchange, an entry that waits
 * for Koala (slow responses, a person's requests being retried) keeps a few kilobytes in memory, not
 * the megabytes of its chunk's buffers. Few objects are made per entry, because entries that wait
 * for their batch outlive young-generation collections, which copy every object that is still alive.
 */
class DecodedEntry implements KoalaEntry {
  private personKeyText: string | undefined;
  private personKeyReplaced = false;
  private personFields: PersonFields | undefined;
  private entryText: string | undefined;
  private eventText: string | undefined;
  private messageIdText: string | undefined;
  personId: string | undefined;

  /**
   * The entry's memory in `bytes` contains the hash of its messageId, its person key, its JSON and its
   * messageId, one after the other from `start`, then its event's line unless `lineLength` is 0. A
   * messageId that had a lone surrogate is its JSON text, and `messageIdLength` is then -1 minus
   * its byte length. No view of the JSON is kept, because one would outlive collections with the
   * entry: `entryBytes` makes it when the request is written.
   */
  constructor(
    readonly kind: EntryKind,
    readonly mappingName: string,
    readonly origin: RecordOrigin,
    private readonly bytes: Buffer,
    private readonly start: number,
    private readonly personKeyLength: number,
    readonly entryByteLength: number,
    private readonly messageIdLength: number,
    private readonly lineLength: number,
  ) {}

  get entryBytes(): Buffer {
    const entryStart = this.start + HASH_BYTES + this.personKeyLength;
    return this.bytes.subarray(entryStart, entryStart + this.entryByteLength);
  }

  get messageIdHash(): MessageIdHash {
    return { high: this.bytes.readUInt32LE(this.start), low: this.bytes.readUInt32LE(this.start + 4) };
  }

  get messageId(): string {
    if (this.messageIdText === undefined) {
      const start = this.messageIdStart();
      const text = this.bytes.toString("utf8", start, start + this.messageIdByteLength());
      this.messageIdText = this.messageIdLength < 0 ? (JSON.parse(text) as string) : text;
    }
    return this.messageIdText;
  }

  get personKeyBytes(): Buffer | undefined {
    if (this.personKeyReplaced) {
      return undefined;
    }
    const start = this.start + HASH_BYTES;
    return this.bytes.subarray(start, start + this.personKeyLength);
  }

  get personKey(): string {
    this.personKeyText ??= this.personKeyBytes?.toString("utf8") ?? "{}";
    return this.personKeyText;
  }

  set personKey(value: string) {
    this.personKeyText = value;
    this.personKeyReplaced = true;
  }

  get person(): PersonFields {
    this.personFields ??= JSON.parse(this.personKey) as PersonFields;
    return this.personFields;
  }

  set person(value: PersonFields) {
    this.personFields = value;
  }

  get entryJson(): string {
    this.entryText ??= this.entryBytes.toString("utf8");
    return this.entryText;
  }

  get eventJson(): string {
    if (this.eventText === undefined) {
      if (this.lineLength === 0) {
        throw new Error(`the event of ${this.origin.input}:${this.origin.line} was not kept: a dry run reads no event back`);
      }
      const start = this.messageIdStart() + this.messageIdByteLength();
      this.eventText = this.bytes.toString("utf8", start, start + this.lineLength);
    }
    return this.eventText;
  }

  set eventJson(value: string) {
    this.eventText = value;
  }

  private messageIdStart(): number {
    return this.start + HASH_BYTES + this.personKeyLength + this.entryByteLength;
  }

  private messageIdByteLength(): number {
    return this.messageIdLength < 0 ? -this.messageIdLength - 1 : this.messageIdLength;
  }
}

export interface ChunkReaderOptions {
  /**
   * Whether entries keep a copy of their event's line, which only a dead letter reads. A dry run
   * writes no dead letters, and spares the copy.
   */
  keepEventLines: boolean;
  /**
   * Whether each entry's bytes get a buffer of their own. An entry of a send may wait for Koala for
   * minutes, and must not keep other entries' bytes in memory meanwhile. A dry run writes each entry
   * within a few thousand lines, so its entries share slabs of 64 KiB: fewer allocations, and a
   * stitching dry run of 1 million events peaked about 6 MB lower.
   */
  separateEntryBuffers: boolean;
}

const ENTRY_SLAB_BYTES = 64 * 1024;

/**
 * Reads back, one line at a time, what `ChunkEncoder` wrote for the chunk `inputBytes` of `input`.
 * Outcomes are decoded as they are asked for, so a chunk never exists as an array of objects.
 */
export class ChunkReader {
  private cursor = 0;
  private readonly ints: Int32Array;
  /** The chunk's text from the worker, and its input bytes, which entries copy their line from. */
  private readonly buffers: { text: Buffer; input: Buffer };
  private released = false;
  /** The slab that entries share when `separateEntryBuffers` is off, and how much of it is used. */
  private slab = { bytes: Buffer.alloc(0), used: 0 };
  /** Start, in its buffer, of the memory that `entryMemory` returned last. */
  private entryStart = 0;
  /** The origin of the record being read, for its entries. */
  private recordOrigin: RecordOrigin = { input: "", line: 0 };
  /** The byte range in the input of the event that `next` returned last, for `eventText`; -1 after a problem. */
  private lastLineStart = -1;
  private lastLineEnd = -1;

  constructor(
    private readonly encoded: EncodedChunk,
    private readonly input: string,
    inputBytes: Buffer,
    private readonly mappingNames: readonly string[],
    private readonly options: ChunkReaderOptions = { keepEventLines: true, separateEntryBuffers: true },
  ) {
    this.ints = encoded.ints;
    this.buffers = { text: Buffer.from(encoded.text.buffer, encoded.text.byteOffset, encoded.text.byteLength), input: inputBytes };
  }

  /**
   * Gives the chunk's input bytes and the worker's buffers back for reuse. Call it once every outcome
   * is read: what the outcomes hold is copied out of them, so nothing read keeps them.
   */
  release(): void {
    if (this.released) {
      return;
    }
    this.released = true;
    chunkBuffers.give(this.buffers.input);
    const { ints, text } = this.encoded;
    if (ints.buffer instanceof ArrayBuffer && text.buffer instanceof ArrayBuffer && spareResults.length < MAX_SPARE_RESULTS) {
      spareResults.push({ ints: ints.buffer, text: text.buffer });
    }
  }

  /** Returns the next line's outcome, or undefined after the last one. */
  next(): ReadOutcome | undefined {
    if (this.cursor >= this.ints.length) {
      return undefined;
    }
    const tag = this.int();
    const origin = { input: this.input, line: this.int() };
    this.lastLineStart = -1;
    if (tag === PROBLEM) {
      const reason = UNREADABLE_REASONS[this.int()] ?? "unreadable-file";
      const problem: InputProblem = { origin, reason, message: this.string() ?? "" };
      const raw = this.string();
      const rawBase64 = this.string();
      if (raw !== undefined) {
        problem.raw = raw;
      }
      if (rawBase64 !== undefined) {
        problem.rawBase64 = rawBase64;
      }
      return { kind: "problem", problem };
    }
    return this.readRecord(origin);
  }

  /**
   * Returns the JSON text of the event of the outcome `next` returned last, read from the chunk's
   * input bytes, or undefined after a problem. Call it before `release`.
   */
  eventText(): string | undefined {
    return this.lastLineStart === -1 ? undefined : this.buffers.input.toString("utf8", this.lastLineStart, this.lastLineEnd);
  }

  /**
   * Reads a record's fields in their encoded order, then builds its result as one object literal,
   * so that every result has the same shape and no property is added later. Records make most of
   * the main thread's allocations, which its young-generation collections pay for.
   */
  private readRecord(origin: RecordOrigin): ReadOutcome {
    const lineStart = this.int();
    const lineEnd = this.int();
    this.lastLineStart = lineStart;
    this.lastLineEnd = lineEnd;
    const skippedIndex = this.int();
    const skipped = skippedIndex === -1 ? undefined : SKIP_REASONS[skippedIndex];
    const filterFieldsPresent = this.int();
    const resentDeadLetter = this.int() === 1 ? true : undefined;
    const unmatchedType = this.string();
    const matched = this.readList(this.readMappingName);
    const verdicts = this.readList(this.readVerdict);
    const entriesWithEmail = this.int();
    const identity = this.readIdentity();
    this.recordOrigin = origin;
    const entries = this.readList(this.readEntry);
    const unidentified = this.readList(this.readEntry);
    const unidentifiedNotBuilt = this.int();
    const result: RecordResult = {
      origin,
      entries,
      unidentified,
      unidentifiedNotBuilt,
      entriesWithEmail,
      matched,
      verdicts,
      skipped,
      filterFieldsPresent: skipped === "filtered-out" ? filterFieldsPresent : undefined,
      resentDeadLetter,
      unmatchedType,
      identity,
    };
    return { kind: "result", result };
  }

  /**
   * Reads a count, then that many items. A list starts as a literal of its first item, because `push`
   * on an empty array allocates room for 17 elements (V8 11, Node 20), and most lists have one.
   */
  private readList<T>(readItem: () => T): T[] {
    const count = this.int();
    if (count === 0) {
      return NONE;
    }
    const list = [readItem()];
    for (let left = count - 1; left > 0; left -= 1) {
      list.push(readItem());
    }
    return list;
  }

  // The readers of list items are made once per chunk, not once per list.
  private readonly readMappingName = (): string => this.mappingName();

  private readonly readVerdict = (): MappingVerdict => {
    const mapping = this.mappingName();
    return this.int() === SKIPPED_VERDICT ? { kind: "skipped", mapping, reason: SKIP_REASONS[this.int()] ?? "skipped-earlier" } : { kind: "invalid", mapping, reason: this.string() ?? "" };
  };

  private readIdentity(): EventIdentity {
    const userId = this.string();
    const anonymousId = this.string();
    if (userId === undefined && anonymousId === undefined) {
      return NO_IDS;
    }
    const identity: EventIdentity = {};
    if (userId !== undefined) {
      identity.userId = userId;
    }
    if (anonymousId !== undefined) {
      identity.anonymousId = anonymousId;
    }
    return identity;
  }

  /** Reads an entry of the record being read, whose origin is `recordOrigin` and line `lastLineStart` to `lastLineEnd`. */
  private readonly readEntry = (): KoalaEntry => {
    const { text, input } = this.buffers;
    const origin = this.recordOrigin;
    const lineStart = this.lastLineStart;
    const lineEnd = this.lastLineEnd;
    const kind = ENTRY_KINDS[this.int()] ?? "events";
    const mapping = this.mappingName();
    const personId = this.string();
    const blockStart = this.int();
    const personKeyLength = this.int();
    const entryLength = this.int();
    const messageIdLength = this.int();
    const eventJson = this.string();

    const blockLength = HASH_BYTES + personKeyLength + entryLength + (messageIdLength < 0 ? -messageIdLength - 1 : messageIdLength);
    const lineLength = eventJson === undefined && this.options.keepEventLines ? lineEnd - lineStart : 0;
    const bytes = this.entryMemory(blockLength + lineLength);
    const start = this.entryStart;
    text.copy(bytes, start, blockStart, blockStart + blockLength);
    if (lineLength > 0) {
      input.copy(bytes, start + blockLength, lineStart, lineEnd);
    }
    const entry = new DecodedEntry(kind, mapping, origin, bytes, start, personKeyLength, entryLength, messageIdLength, lineLength);
    if (personId !== undefined) {
      entry.personId = personId;
    }
    if (eventJson !== undefined) {
      entry.eventJson = eventJson;
    }
    return entry;
  };

  /**
   * Returns the buffer for an entry of `length` bytes, which start at `entryStart` in it. It is a
   * buffer of its own, or the slab that entries share.
   */
  private entryMemory(length: number): Buffer {
    if (this.options.separateEntryBuffers) {
      // Not from Buffer's shared pool, whose 8 KiB slabs a waiting entry would keep whole.
      this.entryStart = 0;
      return Buffer.allocUnsafeSlow(length);
    }
    if (this.slab.used + length > this.slab.bytes.length) {
      this.slab = { bytes: Buffer.allocUnsafeSlow(Math.max(length, ENTRY_SLAB_BYTES)), used: 0 };
    }
    this.entryStart = this.slab.used;
    this.slab.used += length;
    return this.slab.bytes;
  }

  private mappingName(): string {
    const index = this.int();
    return index === -1 ? (this.string() ?? "") : (this.mappingNames[index] ?? "");
  }

  private int(): number {
    return this.ints[this.cursor++] as number;
  }

  private string(): string | undefined {
    const start = this.int();
    const length = this.int();
    if (start === -1) {
      return undefined;
    }
    if (length < 0) {
      return JSON.parse(this.buffers.text.toString("utf8", start, start - length - 1)) as string;
    }
    return this.buffers.text.toString("utf8", start, start + length);
  }

}
