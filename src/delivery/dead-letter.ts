import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, writeSync } from "node:fs";
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

/** Appends dead-letter lines to a file created with mode 0600, because the lines hold personal data. */
export class DeadLetterWriter {
  private descriptor: number | undefined;
  private unsynced = false;
  count = 0;
  /** Whether the file already contained lines when this run first opened it. Lines are only ever appended. */
  hadEarlierLines = false;

  constructor(
    readonly path: string,
    private readonly publicKey: string | undefined,
  ) {}

  /** Writes the line synchronously, so it is in the file before the checkpoint can mark its record done. */
  write(entry: KoalaEntry, details: DeadLetterDetails): void {
    writeFully(this.open(), Buffer.from(formatDeadLetterLine(entry, details, this.publicKey)));
    this.unsynced = true;
    this.count += 1;
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
      this.hadEarlierLines = stats.size > 0;
      // A run killed, or a disk that filled up, in the middle of a line leaves that line without its
      // newline. The next line would be appended to it, and both would be one line of invalid JSON.
      if (stats.isFile() && stats.size > 0 && !endsWithNewline(this.path, stats.size)) {
        writeFully(this.descriptor, Buffer.from("\n"));
      }
    }
    return this.descriptor;
  }
}

/** Writes all of `bytes`: one `write` may write only part of them, as when the disk fills up. */
function writeFully(descriptor: number, bytes: Buffer): void {
  let written = 0;
  while (written < bytes.length) {
    written += writeSync(descriptor, bytes, written, bytes.length - written);
  }
}

/**
 * Checks whether the last of the `size` bytes of the file at `path` is a newline. A file that can be
 * appended to but not read counts as ending with one, because a line is still better written than not.
 */
function endsWithNewline(path: string, size: number): boolean {
  // The append descriptor is write-only, so the last byte is read through a descriptor of its own.
  let descriptor: number;
  try {
    descriptor = openSync(path, "r");
  } catch {
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
