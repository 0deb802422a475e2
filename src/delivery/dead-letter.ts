import { createHash } from "node:crypto";
import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, statSync, truncateSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { RecordOrigin } from "../inputs/record.js";
import { maskSecret } from "../reporting/mask.js";
import type { EntryKind, KoalaEntry, PersonFields } from "./entry.js";
import type { DeadLetterReason, RetryReason } from "./outcome.js";

/** Key whose value 1 marks a JSON object as a koala-replay dead-letter line (format version 1). */
export const DEAD_LETTER_MARKER = "koalaReplayDeadLetter";

/** Maximum length of the response excerpt kept in a dead-letter line, in characters. */
export const RESPONSE_EXCERPT_LENGTH = 300;

/** Reason an entry was not delivered, with what the last attempt returned. */
export interface DeadLetterDetails {
  reason: DeadLetterReason;
  lastRetryReason?: RetryReason | undefined;
  status?: number | undefined;
  errorCode?: string | undefined;
  responseExcerpt?: string | undefined;
  attempts: number;
}

/**
 * Formats one dead-letter line. It carries the original event, where it came from, why it failed,
 * and the kind, person fields and entry needed to send that exact entry again.
 */
export function formatDeadLetterLine(entry: KoalaEntry, details: DeadLetterDetails, publicKey: string | undefined): string {
  const excerpt =
    details.responseExcerpt === undefined ? undefined : maskSecret(details.responseExcerpt, publicKey).slice(0, RESPONSE_EXCERPT_LENGTH);
  const header = {
    [DEAD_LETTER_MARKER]: 1,
    reason: details.reason,
    lastRetryReason: details.lastRetryReason,
    status: details.status,
    errorCode: details.errorCode,
    response: excerpt,
    attempts: details.attempts,
    at: new Date().toISOString(),
    source: { input: entry.origin.input, line: entry.origin.line },
    mapping: entry.mappingName,
    messageId: entry.messageId,
    kind: entry.kind,
  };
  // The person, entry and event are already JSON, so they are spliced in instead of parsed again.
  const headerJson = JSON.stringify(header).slice(0, -1);
  return `${headerJson},"person":${entry.personKey},"entry":${entry.entryJson},"event":${entry.eventJson}}\n`;
}

/** Returns the key of an entry's dead letter: its mapping and `message_id`. */
export function deadLetterKey(mappingName: string, messageId: string): string {
  return `${mappingName}\n${messageId}`;
}

/** Appends dead-letter lines to a file created with mode 0600, because the lines hold personal data. */
export class DeadLetterWriter {
  private descriptor: number | undefined;
  private unsynced = false;
  /** Bytes in the file: its size when this run opened it, plus what this run appended. */
  private bytes: number | undefined;
  /** Entries counted in this run, those already in the file included. */
  count = 0;
  /** The error of the write that failed, after which the writer writes nothing more. */
  private failure: Error | undefined;
  /** Whether the file already contained lines when this run first opened it. Lines are only ever appended. */
  hadEarlierLines = false;

  private readonly alreadyWritten: WrittenDeadLetters;

  /**
   * `alreadyWrittenFrom.keys` contains the `deadLetterKey`s of the lines after byte `fromByte` of this file,
   * which a run killed before its checkpoint covered them wrote. The resumed run fails those entries
   * again, and skips each key once instead of writing it twice. `uncutPieceStart` is where a piece
   * of a line starts that `cutOffPartialLastLine` could not cut off.
   */
  constructor(
    readonly path: string,
    private readonly publicKey: string | undefined,
    private readonly alreadyWrittenFrom?: { keys: WrittenDeadLetters; fromByte: number; uncutPieceStart?: number | undefined },
  ) {
    this.alreadyWritten = alreadyWrittenFrom?.keys ?? new WrittenDeadLetters(new BigUint64Array(0));
  }

  /**
   * Writes the line synchronously, so it is in the file before the checkpoint can mark its record
   * done. A write that fails part-way (disk full, EIO) is cut back off the file, so that no piece of
   * a line stays, and every later write raises: a resume writes the lines that are missing.
   */
  write(entry: KoalaEntry, details: DeadLetterDetails): void {
    if (this.failure !== undefined) {
      throw new Error(`an earlier write failed (${this.failure.message})`);
    }
    this.count += 1;
    if (this.alreadyWritten.remaining > 0 && this.alreadyWritten.take(deadLetterKey(entry.mappingName, entry.messageId))) {
      this.hadEarlierLines = true;
      return;
    }
    const line = Buffer.from(formatDeadLetterLine(entry, details, this.publicKey));
    try {
      const descriptor = this.open();
      writeFully(descriptor, line, () => this.cutBack(descriptor));
    } catch (error) {
      this.count -= 1;
      this.failure = error as Error;
      throw error;
    }
    this.bytes = (this.bytes ?? 0) + line.length;
    this.unsynced = true;
  }

  /** Truncates the file to the length before a failed write. When that fails too, the next run ends the piece of line with a newline. */
  private cutBack(descriptor: number): void {
    if (this.bytes === undefined) {
      return;
    }
    try {
      ftruncateSync(descriptor, this.bytes);
    } catch {
      // The error of the write is the one reported.
    }
  }

  /**
   * Returns the length in bytes that the checkpoint records: a resume reads the lines after it
   * back. While lines of a killed run that this run has not failed again remain, it is where they
   * start, so that a resume of this run still finds them. Before this run writes, a piece of a line
   * that could not be cut off stays after it, so that a resume can cut it off. Otherwise it is the
   * file's length, 0 for a file that does not exist.
   */
  get checkpointBytes(): number {
    if (this.alreadyWritten.remaining > 0 && this.alreadyWrittenFrom !== undefined) {
      return this.alreadyWrittenFrom.fromByte;
    }
    if (this.bytes === undefined && this.alreadyWrittenFrom?.uncutPieceStart !== undefined) {
      return this.alreadyWrittenFrom.uncutPieceStart;
    }
    if (this.bytes === undefined) {
      try {
        return statSync(this.path).size;
      } catch {
        return 0;
      }
    }
    return this.bytes;
  }

  /** Flushes written lines to disk; called before every checkpoint write. */
  sync(): void {
    if (this.descriptor !== undefined && this.unsynced) {
      fsyncSync(this.descriptor);
      this.unsynced = false;
    }
  }

  close(): void {
    const descriptor = this.descriptor;
    if (descriptor === undefined) {
      return;
    }
    this.descriptor = undefined;
    try {
      if (this.unsynced) {
        fsyncSync(descriptor);
      }
    } finally {
      closeSync(descriptor);
    }
  }

  private open(): number {
    if (this.descriptor === undefined) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.descriptor = openSync(this.path, "a", 0o600);
      const stats = fstatSync(this.descriptor);
      this.hadEarlierLines ||= stats.size > 0;
      this.bytes = stats.size;
      // A run killed, or a disk that filled up, in the middle of a line leaves that line without its
      // newline. The next line would be appended to it, and both would be one line of invalid JSON.
      if (stats.isFile() && stats.size > 0 && !endsWithNewline(this.path, stats.size)) {
        writeFully(this.descriptor, Buffer.from("\n"));
        this.bytes += 1;
      }
    }
    return this.descriptor;
  }
}

/**
 * The dead-letter keys of lines already in a file, each of which `take` finds once. Keys are kept
 * as 64-bit hashes in a sorted typed array, 9 bytes each, so that any number of lines fits.
 * NOTE: two keys with the same hash would pass for each other, and the second line would not be
 * written. For n lines read and m entries failed again the chance is about m × n / 2^64, an
 * estimated 1 in 18 million for a million of each.
 */
export class WrittenDeadLetters {
  private readonly hashes: BigUint64Array;
  /** 1 at the index of each hash taken. */
  private readonly takenFlags: Uint8Array;
  /** Keys not taken yet. */
  remaining: number;

  /** Takes `hashes` over, and sorts them in place. */
  constructor(hashes: BigUint64Array) {
    this.hashes = hashes.sort();
    this.takenFlags = new Uint8Array(this.hashes.length);
    this.remaining = this.hashes.length;
  }

  /** Takes one line of `key` not taken before, and returns whether there was one. */
  take(key: string): boolean {
    const hash = hashDeadLetterKey(key);
    let low = 0;
    let high = this.hashes.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.hashes[middle] as bigint) < hash) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    // The same key may be in the file more than once, and each line of it is taken once.
    for (let index = low; index < this.hashes.length && this.hashes[index] === hash; index += 1) {
      if (this.takenFlags[index] === 0) {
        this.takenFlags[index] = 1;
        this.remaining -= 1;
        return true;
      }
    }
    return false;
  }
}

function hashDeadLetterKey(key: string): bigint {
  return createHash("sha256").update(key).digest().readBigUInt64BE(0);
}

/** Bytes read at once from the end of a dead-letter file. */
const TAIL_CHUNK_BYTES = 1024 * 1024;

/**
 * Reads the `deadLetterKey`s of the dead-letter lines in the file at `path` from byte `offset` to
 * its end: the lines that a run wrote after its last checkpoint save, however many. A line that is
 * not a dead letter (one cut off by a crash) is passed over. A file shorter than `offset`, or
 * missing, was replaced since, so it gives no keys.
 */
export function readDeadLetterKeysAfter(path: string, offset: number): WrittenDeadLetters {
  const keys = new HashList();
  const descriptor = openForReading(path);
  if (descriptor === undefined) {
    return new WrittenDeadLetters(keys.toArray());
  }
  try {
    const size = fstatSync(descriptor).size;
    if (size <= offset) {
      return new WrittenDeadLetters(keys.toArray());
    }
    const chunk = Buffer.alloc(TAIL_CHUNK_BYTES);
    let pending: Buffer = Buffer.alloc(0);
    for (let position = offset; position < size; ) {
      const read = readSync(descriptor, chunk, 0, Math.min(chunk.length, size - position), position);
      if (read === 0) {
        break;
      }
      position += read;
      pending = Buffer.concat([pending, chunk.subarray(0, read)]);
      let start = 0;
      for (let end = pending.indexOf(0x0a); end !== -1; end = pending.indexOf(0x0a, start)) {
        addDeadLetterKey(keys, pending.toString("utf8", start, end));
        start = end + 1;
      }
      pending = pending.subarray(start);
    }
    // A run killed in the middle of a write leaves a last line without its newline, which fails to parse.
    if (pending.length > 0) {
      addDeadLetterKey(keys, pending.toString("utf8"));
    }
    return new WrittenDeadLetters(keys.toArray());
  } finally {
    closeSync(descriptor);
  }
}

/** Result of `cutOffPartialLastLine` for the end of a dead-letter file. */
export type PartialLineCut =
  /** The file ends with a newline, is missing or cannot be read, or the piece starts before `fromByte`. */
  | { outcome: "none" }
  | { outcome: "cut"; bytes: number }
  /** Truncating the file failed, as for a read-only file: the piece of `bytes` bytes from `pieceStart` stays. */
  | { outcome: "failed"; bytes: number; pieceStart: number; error: Error };

/**
 * Cuts off the end of the dead-letter file at `path` that follows its last newline, when that end
 * starts at or after byte `fromByte`, the length that the resumed checkpoint recorded. Such an end
 * is the start of a line that a run killed in the middle of a write left behind. Its entry's record
 * is not done in the checkpoint, so the resume sends the entry again, and writes its line whole if
 * it fails again.
 */
export function cutOffPartialLastLine(path: string, fromByte: number): PartialLineCut {
  const descriptor = openForReading(path);
  if (descriptor === undefined) {
    return { outcome: "none" };
  }
  let keptBytes: number | undefined;
  let size: number;
  try {
    size = fstatSync(descriptor).size;
    keptBytes = endOfLastLine(descriptor, size, fromByte);
  } finally {
    closeSync(descriptor);
  }
  if (keptBytes === undefined || keptBytes === size) {
    return { outcome: "none" };
  }
  try {
    truncateSync(path, keptBytes);
  } catch (error) {
    // The piece stays. A writer that can append ends it with a newline before its first line, so
    // that a resend of the file counts it as one unreadable line.
    return { outcome: "failed", bytes: size - keptBytes, pieceStart: keptBytes, error: error as Error };
  }
  return { outcome: "cut", bytes: size - keptBytes };
}

/**
 * Returns the length of the file of `descriptor` up to and including its last newline, or 0 when
 * `fromByte` is 0 and it has none. Reads back from the end no further than `fromByte` (and the byte
 * before it, which ends the lines that the checkpoint covers). Returns undefined when no newline
 * ends a line at or after that point, so that a piece of a line starting before it is left alone.
 */
function endOfLastLine(descriptor: number, size: number, fromByte: number): number | undefined {
  const lowest = Math.max(fromByte - 1, 0);
  const chunk = Buffer.alloc(Math.min(TAIL_CHUNK_BYTES, Math.max(size - lowest, 1)));
  for (let end = size; end > lowest; ) {
    const start = Math.max(end - chunk.length, lowest);
    const read = readSync(descriptor, chunk, 0, end - start, start);
    const newline = chunk.subarray(0, read).lastIndexOf(0x0a);
    if (newline !== -1) {
      return start + newline + 1;
    }
    end = start;
  }
  return fromByte === 0 ? 0 : undefined;
}

/** A list of 64-bit hashes that grows by doubling, without a heap object per hash. */
class HashList {
  private hashes = new BigUint64Array(1024);
  private length = 0;

  push(hash: bigint): void {
    if (this.length === this.hashes.length) {
      const larger = new BigUint64Array(this.hashes.length * 2);
      larger.set(this.hashes);
      this.hashes = larger;
    }
    this.hashes[this.length] = hash;
    this.length += 1;
  }

  toArray(): BigUint64Array {
    return this.hashes.subarray(0, this.length);
  }
}

function addDeadLetterKey(keys: HashList, line: string): void {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return;
  }
  if (isObject(value) && value[DEAD_LETTER_MARKER] === 1 && typeof value["mapping"] === "string" && typeof value["messageId"] === "string") {
    keys.push(hashDeadLetterKey(deadLetterKey(value["mapping"], value["messageId"])));
  }
}

/**
 * Writes all of `bytes`: one `write` may write only part of them, as when the disk fills up. Calls
 * `onPartialFailure` before raising when a write fails after part of them was written.
 */
function writeFully(descriptor: number, bytes: Buffer, onPartialFailure?: () => void): void {
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(descriptor, bytes, written, bytes.length - written);
    } catch (error) {
      if (written > 0) {
        onPartialFailure?.();
      }
      throw error;
    }
  }
}

/**
 * Checks whether the last of the `size` bytes of the file at `path` is a newline. A file that can be
 * appended to but not read counts as ending with one, because a line is still better written than not.
 */
function endsWithNewline(path: string, size: number): boolean {
  // The append descriptor is write-only, so the last byte is read through a descriptor of its own.
  const descriptor = openForReading(path);
  if (descriptor === undefined) {
    return true;
  }
  try {
    const last = Buffer.alloc(1);
    return readSync(descriptor, last, 0, 1, size - 1) === 1 && last[0] === 0x0a;
  } finally {
    closeSync(descriptor);
  }
}

/** Raised for an object that carries the dead-letter marker but lacks what is needed to resend it. */
export class InvalidDeadLetterLineError extends Error {
  readonly code = "INVALID_DEAD_LETTER_LINE";

  constructor(readonly field: string) {
    super(`Invalid dead-letter line: "${field}" is missing or has the wrong type. Was the line edited by hand?`);
    this.name = "InvalidDeadLetterLineError";
  }
}

/**
 * Reads a parsed dead-letter line back into the entry it failed to deliver, so it can be sent again
 * without mapping the event again. Returns undefined for an object without the marker (an ordinary
 * event) and raises `InvalidDeadLetterLineError` for a marked object with a missing field.
 */
export function readDeadLetterLine(value: unknown): KoalaEntry | undefined {
  if (!isObject(value) || value[DEAD_LETTER_MARKER] !== 1) {
    return undefined;
  }
  const kind = value.kind;
  if (kind !== "events" && kind !== "identifies") {
    throw new InvalidDeadLetterLineError("kind");
  }
  const person = readPerson(value.person);
  const entry = value.entry;
  if (!isObject(entry)) {
    throw new InvalidDeadLetterLineError("entry");
  }
  return {
    kind: kind satisfies EntryKind,
    person,
    personKey: JSON.stringify(person),
    entryJson: JSON.stringify(entry),
    messageId: requireString(value, "messageId"),
    mappingName: requireString(value, "mapping"),
    origin: readOrigin(value.source),
    eventJson: JSON.stringify(value.event ?? null),
  };
}

function readPerson(value: unknown): PersonFields {
  if (!isObject(value) || !isObject(value.traits)) {
    throw new InvalidDeadLetterLineError("person.traits");
  }
  // The person fields are resent as they were written, whatever their JSON type: a mapping can give
  // a numeric profile_id, and Segment's destination sends it as it is. The casts only narrow the type.
  const { profile_id: profileId, email, ip } = value;
  // The key order matches the original person key: profile_id, email, traits, ip.
  return { profile_id: profileId as string | undefined, email: email as string | undefined, traits: value.traits, ip: ip as string | undefined };
}

function readOrigin(value: unknown): RecordOrigin {
  if (!isObject(value) || typeof value.input !== "string" || typeof value.line !== "number") {
    throw new InvalidDeadLetterLineError("source");
  }
  return { input: value.input, line: value.line };
}

function requireString(value: Record<string, unknown>, field: string): string {
  const text = value[field];
  if (typeof text !== "string") {
    throw new InvalidDeadLetterLineError(field);
  }
  return text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Opens the file at `path` for reading, or returns undefined when it cannot be opened (missing, or not readable). */
function openForReading(path: string): number | undefined {
  try {
    return openSync(path, "r");
  } catch {
    return undefined;
  }
}
