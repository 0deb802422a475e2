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

// Reasons travel as their index in these lists. `listsEvery` fails to compile when a reason is added
// to its type but not here, where it would be decoded as another one.
const SKIP_REASONS = ["filtered-out", "no-mapping-matched", "browser-event", "no-identity", "duplicate-message-id", "already-delivered", "excluded-email", "skipped-earlier", "done-earlier"] as const;
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

  constructor(mappingNames: readonly string[], expectedTextBytes = 1 << 16, spare?: ResultBuffers) {
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
      this.int(verdict.kind === "skipped" ? 0 : 1);
      this.mapping(verdict.mapping);
      this.string(verdict.reason);
    }
    this.int(result.entriesWithEmail);
    // Only identity stitching reads the ids, and only for entries that have no email or profile_id.
    const needsIdentity = result.unidentified.length > 0;
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
      this.json(entry.personKey);
      const personId = entry.personId ?? entry.person.profile_id ?? entry.person.email;
      this.string(personId === undefined ? undefined : String(personId));
      this.json(entry.entryJson);
      this.string(entry.messageId);
      const hash = hashMessageId(entry.mappingName, entry.messageId);
      this.int(hash.high);
      this.int(hash.low);
      // The event is the line itself, which the main thread has, except for a resent dead letter.
      this.string(entry.eventJson === lineText ? undefined : entry.eventJson);
    }
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
    const escaped = !isWellFormed(value);
    const text = escaped ? JSON.stringify(value) : value;
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    this.reserve(text.length * 3);
    const written = this.text.write(text, this.textLength);
    this.int(this.textLength);
    this.int(escaped ? -written - 1 : written);
    this.textLength += written;
  }

  /** Adds JSON text that `JSON.stringify` produced, which never contains a lone surrogate, as UTF-8. */
  private json(value: string): void {
    this.reserve(value.length * 3);
    const written = this.text.write(value, this.textLength);
    this.int(this.textLength);
    this.int(written);
    this.textLength += written;
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
  const encoder = new ChunkEncoder(mappingNames, expectedTextBytes, spare);
  processRawChunk(chunk, rules, (outcome) => encoder.add(outcome));
  return encoder.finish();
}

/**
 * An entry decoded on the main thread. Its person key, its JSON and its event's line stay UTF-8 in one
 * buffer of its own, and they are decoded only when asked for, because most entries are delivered
 * without anyone reading them. The copy costs about a microsecond. In exchange, an entry that waits
 * for Koala (slow responses, a person's requests being retried) keeps a few kilobytes in memory, not
 * the megabytes of its chunk's buffers.
 */
class DecodedEntry implements KoalaEntry {
  private personKeyText: string | undefined;
  private personFields: PersonFields | undefined;
  private entryText: string | undefined;
  private eventText: string | undefined;
  personKeyBytes: Buffer | undefined;
  readonly entryBytes: Buffer;
  personId: string | undefined;

  constructor(
    readonly kind: EntryKind,
    readonly mappingName: string,
    readonly messageId: string,
    readonly messageIdHash: MessageIdHash,
    readonly origin: RecordOrigin,
    /** The person key, the entry's JSON and then the event's line, unless the event was given as text or not kept. */
    private readonly bytes: Buffer,
    personKeyEnd: number,
    private readonly entryEnd: number,
    private readonly hasEventLine: boolean,
  ) {
    this.personKeyBytes = bytes.subarray(0, personKeyEnd);
    this.entryBytes = bytes.subarray(personKeyEnd, entryEnd);
  }

  get personKey(): string {
    this.personKeyText ??= this.personKeyBytes?.toString("utf8") ?? "{}";
    return this.personKeyText;
  }

  set personKey(value: string) {
    this.personKeyText = value;
    this.personKeyBytes = undefined;
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
    if (this.eventText === undefined && !this.hasEventLine) {
      throw new Error(`the event of ${this.origin.input}:${this.origin.line} was not kept: a dry run reads no event back`);
    }
    this.eventText ??= this.bytes.toString("utf8", this.entryEnd);
    return this.eventText;
  }

  set eventJson(value: string) {
    this.eventText = value;
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
    if (tag === PROBLEM) {
      const reason = UNREADABLE_REASONS[this.int()] ?? "unreadable-file";
      const problem: InputProblem = { origin, reason, message: this.string() ?? "" };
      return { kind: "problem", problem };
    }
    return this.readRecord(origin);
  }

  private readRecord(origin: RecordOrigin): ReadOutcome {
    const lineStart = this.int();
    const lineEnd = this.int();
    const skippedIndex = this.int();
    const result: RecordResult = { origin, entries: NONE, unidentified: NONE, unidentifiedNotBuilt: 0, entriesWithEmail: 0, matched: NONE, verdicts: NONE, identity: NO_IDS };
    if (skippedIndex !== -1) {
      result.skipped = SKIP_REASONS[skippedIndex];
    }
    const filterFieldsPresent = this.int();
    if (result.skipped === "filtered-out") {
      result.filterFieldsPresent = filterFieldsPresent;
    }
    if (this.int() === 1) {
      result.resentDeadLetter = true;
    }
    const unmatchedType = this.string();
    if (unmatchedType !== undefined) {
      result.unmatchedType = unmatchedType;
    }
    const matchedCount = this.int();
    if (matchedCount > 0) {
      result.matched = [];
    }
    for (let count = matchedCount; count > 0; count -= 1) {
      result.matched.push(this.mappingName());
    }
    const verdictCount = this.int();
    if (verdictCount > 0) {
      result.verdicts = [];
    }
    for (let count = verdictCount; count > 0; count -= 1) {
      const kind = this.int();
      const mapping = this.mappingName();
      const reason = this.string() ?? "";
      const verdict: MappingVerdict = kind === 0 ? { kind: "skipped", mapping, reason: reason as SkipReason } : { kind: "invalid", mapping, reason };
      result.verdicts.push(verdict);
    }
    result.entriesWithEmail = this.int();
    const userId = this.string();
    const anonymousId = this.string();
    if (userId !== undefined || anonymousId !== undefined) {
      result.identity = {};
      if (userId !== undefined) {
        result.identity.userId = userId;
      }
      if (anonymousId !== undefined) {
        result.identity.anonymousId = anonymousId;
      }
    }
    result.entries = this.readEntries(origin, lineStart, lineEnd);
    result.unidentified = this.readEntries(origin, lineStart, lineEnd);
    result.unidentifiedNotBuilt = this.int();
    return { kind: "result", result };
  }

  private readEntries(origin: RecordOrigin, lineStart: number, lineEnd: number): KoalaEntry[] {
    const { text, input } = this.buffers;
    const count = this.int();
    if (count === 0) {
      return NONE;
    }
    const entries: KoalaEntry[] = [];
    for (let left = count; left > 0; left -= 1) {
      const kind = ENTRY_KINDS[this.int()] ?? "events";
      const mapping = this.mappingName();
      const personKeyStart = this.int();
      const personKeyLength = this.int();
      const personId = this.string();
      const entryStart = this.int();
      const entryLength = this.int();
      const messageId = this.string() ?? "";
      const messageIdHash = { high: this.int() >>> 0, low: this.int() >>> 0 };
      const eventJson = this.string();

      const keepsLine = eventJson === undefined && this.options.keepEventLines;
      const lineLength = keepsLine ? lineEnd - lineStart : 0;
      const bytes = this.entryBuffer(personKeyLength + entryLength + lineLength);
      text.copy(bytes, 0, personKeyStart, personKeyStart + personKeyLength);
      text.copy(bytes, personKeyLength, entryStart, entryStart + entryLength);
      if (lineLength > 0) {
        input.copy(bytes, personKeyLength + entryLength, lineStart, lineEnd);
      }
      const entry = new DecodedEntry(kind, mapping, messageId, messageIdHash, origin, bytes, personKeyLength, personKeyLength + entryLength, keepsLine);
      if (personId !== undefined) {
        entry.personId = personId;
      }
      if (eventJson !== undefined) {
        entry.eventJson = eventJson;
      }
      entries.push(entry);
    }
    return entries;
  }

  private entryBuffer(length: number): Buffer {
    if (this.options.separateEntryBuffers) {
      // Not from Buffer's shared pool, whose 8 KiB slabs a waiting entry would keep whole.
      return Buffer.allocUnsafeSlow(length);
    }
    if (this.slab.used + length > this.slab.bytes.length) {
      this.slab = { bytes: Buffer.allocUnsafeSlow(Math.max(length, ENTRY_SLAB_BYTES)), used: 0 };
    }
    const start = this.slab.used;
    this.slab.used += length;
    return this.slab.bytes.subarray(start, this.slab.used);
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
