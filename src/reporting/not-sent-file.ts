import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { writeAll } from "../files/write-all.js";
import type { RecordOrigin } from "../inputs/record.js";
import { maskSecret } from "./mask.js";

/** The count of the run report that a line of the not-sent file adds to. */
export type NotSentCategory = "skipped" | "invalid" | "unreadable";

/**
 * One event, or one mapping's entry for it, that the run did not send, or one unreadable line. Each
 * matches one count of `skippedByReason`, `invalidByReason` or `unreadableByReason`, and
 * `send --not-sent` writes those of one event on one line.
 */
export interface NotSentRecord {
  origin: RecordOrigin;
  category: NotSentCategory;
  /** The key the run report counts it under, before the first 100 distinct invalid reasons fold the rest into one key. */
  reason: string;
  /** The reason in words, with the value that an invalid reason found. */
  message: string;
  /** The mapping whose entry was not sent; absent for reasons about the whole event. */
  mapping?: string;
  /** The event's JSON text, when it was read. It must be valid JSON; line breaks between its tokens are allowed. */
  eventJson?: string;
  /** The line's text, for a line that could not be read as an event. */
  raw?: string;
  /** The line's bytes in base64, for a line that is not UTF-8 text. */
  rawBase64?: string;
  /**
   * The number of the event within the run, the same for every record of one event; absent for an
   * unreadable line. The file joins the records of one event that come one after the other.
   */
  eventNumber?: number;
}

/** Bytes gathered before one write(2): large enough that writes cost little, small enough to stay flat in memory. */
const FLUSH_BYTES = 64 * 1024;

/**
 * Writes the not-sent file as a stream of JSON lines, gathered and written synchronously in blocks.
 * Memory thus stays at one block whatever the run's size. A failed write (a full disk, a file-size
 * limit, a reader that closed its pipe) raises at once, in the call that caused it. After the first
 * failure nothing more is written, and `failure` keeps the error for the summary.
 */
export class NotSentFile {
  private descriptor: number | undefined;
  private pending: string[] = [];
  private pendingLength = 0;
  private closed = false;
  /** Records of the event whose line is not written yet, because more records of it may follow. */
  private currentEvent: NotSentRecord[] = [];
  /** Lines written to the file, or to be written at the next flush. */
  lines = 0;
  /** Lines that could not be written because an earlier write failed. */
  linesLost = 0;
  /** The error of the first write that failed. */
  failure: NodeJS.ErrnoException | undefined;
  /** Flushes the pending lines if the process exits before `close`, as on a second Ctrl-C. */
  private readonly flushOnExit = (): void => {
    this.endCurrentEvent();
    this.flush();
  };

  /**
   * Prepares the file at `path`. It is created or emptied only at the first write, with mode 0600
   * because events contain emails. A run rejected at start-up, such as one whose checkpoint another
   * run has locked, thus leaves the file of that run alone. Messages are written with `publicKey` masked.
   */
  constructor(
    readonly path: string,
    private readonly publicKey: string | undefined,
  ) {
    process.once("exit", this.flushOnExit);
  }

  /**
   * Adds one record. The records of one event, which come one after the other, make one line, so the
   * line of an event is written once a record of another event or line comes, or at `close`.
   */
  write(record: NotSentRecord): void {
    if (this.closed) {
      this.linesLost += 1;
      return;
    }
    const [first] = this.currentEvent;
    if (first !== undefined && !isSameEvent(first, record)) {
      this.endCurrentEvent();
    }
    this.currentEvent.push(record);
    if (record.eventNumber === undefined) {
      this.endCurrentEvent();
    }
  }

  /** Adds the line of the current event to the pending lines. Writes nothing once a write has failed, and counts the line as lost. */
  private endCurrentEvent(): void {
    const records = this.currentEvent;
    if (records.length === 0) {
      return;
    }
    this.currentEvent = [];
    if (this.failure !== undefined) {
      this.linesLost += 1;
      return;
    }
    const line = this.formatLine(records);
    this.pending.push(line);
    this.pendingLength += line.length;
    this.lines += 1;
    if (this.pendingLength >= FLUSH_BYTES) {
      this.flush();
    }
  }

  /**
   * Writes the pending lines, syncs a regular file to disk and closes it. `createEmpty` creates the
   * file when no line was written, so that an empty file shows that the run skipped nothing.
   */
  close(options: { createEmpty: boolean }): void {
    if (this.closed) {
      return;
    }
    process.off("exit", this.flushOnExit);
    this.endCurrentEvent();
    this.flush();
    this.closed = true;
    const descriptor = this.failure === undefined && options.createEmpty ? this.open() : this.descriptor;
    if (descriptor === undefined) {
      return;
    }
    try {
      if (this.failure === undefined && fstatSync(descriptor).isFile()) {
        fsyncSync(descriptor);
      }
    } catch (error) {
      this.failure = error as NodeJS.ErrnoException;
    } finally {
      closeSync(descriptor);
    }
  }

  /** Opens the file once, and returns undefined when that fails, keeping the error. */
  private open(): number | undefined {
    if (this.descriptor === undefined && this.failure === undefined) {
      try {
        // A missing folder is created, as those of --state, --dead-letter and --report are.
        mkdirSync(dirname(this.path), { recursive: true });
        this.descriptor = openSync(this.path, "w", 0o600);
      } catch (error) {
        this.failure = error as NodeJS.ErrnoException;
      }
    }
    return this.descriptor;
  }

  private flush(): void {
    if (this.pending.length === 0 || this.failure !== undefined) {
      return;
    }
    const text = this.pending.join("");
    const count = this.pending.length;
    this.pending = [];
    this.pendingLength = 0;
    try {
      const descriptor = this.open();
      if (descriptor === undefined) {
        throw this.failure;
      }
      writeAll(descriptor, Buffer.from(text, "utf8"));
    } catch (error) {
      this.failure = error as NodeJS.ErrnoException;
      // NOTE: a block that failed part-way may leave part of its lines in the file; they are all counted as lost.
      this.lines -= count;
      this.linesLost += count;
    }
  }

  /**
   * Formats the line of one event or unreadable line from its records. The first record gives the
   * line its `category`, `reason`, `message` and `mapping`, and `reasons` lists every record's.
   */
  private formatLine(records: readonly NotSentRecord[]): string {
    const record = records[0] as NotSentRecord;
    const fields: Record<string, unknown> = {
      input: record.origin.input,
      line: record.origin.line,
      ...this.describeReason(record),
      reasons: records.map((each) => this.describeReason(each)),
    };
    if (record.raw !== undefined) {
      fields["raw"] = record.raw;
    }
    if (record.rawBase64 !== undefined) {
      fields["rawBase64"] = record.rawBase64;
    }
    const head = JSON.stringify(fields);
    if (record.eventJson === undefined) {
      return `${head}\n`;
    }
    // The event's text goes in as read, so that numbers past 2^53 keep their digits. JSON allows a
    // line break only between tokens, where a space does as well, and a line must not contain one.
    const event = /[\r\n]/.test(record.eventJson) ? record.eventJson.replace(/[\r\n]/g, " ") : record.eventJson;
    return `${head.slice(0, -1)},"event":${event}}\n`;
  }

  /** Returns the `category`, `reason`, `message` and `mapping` of a record, with the public key masked. */
  private describeReason(record: NotSentRecord): Record<string, string> {
    const fields: Record<string, string> = {
      category: record.category,
      reason: maskSecret(record.reason, this.publicKey),
      message: maskSecret(record.message, this.publicKey),
    };
    if (record.mapping !== undefined) {
      fields["mapping"] = record.mapping;
    }
    return fields;
  }
}

/** Checks whether two records are of one event: the same event number and place in the input. */
function isSameEvent(left: NotSentRecord, right: NotSentRecord): boolean {
  return (
    left.eventNumber !== undefined &&
    left.eventNumber === right.eventNumber &&
    left.origin.input === right.origin.input &&
    left.origin.line === right.origin.line
  );
}
