import { randomUUID } from "node:crypto";

/** A row that `RowSizeGuard` left out because it is longer than the limit. */
export interface OversizedRow {
  /** Length of the row in bytes, without its line break. */
  bytes: number;
  /** Line breaks inside the row's quoted cells: the row covers this many lines after its first. */
  innerLineBreaks: number;
  /** Whether the input ended inside a quoted cell of the row, so that the row has no end. */
  quoteNotClosed: boolean;
}

interface DroppedRow {
  bytes: number;
  innerLineBreaks: number;
  /** Line breaks since the last other byte, which end no line of the row when the input ends there. */
  trailingLineBreaks: number;
  /** Whether the last byte dropped is a carriage return, so that a line feed right after it is the same line break. */
  endsWithCarriageReturn: boolean;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CARRIAGE_RETURN = 0x0d;
const LINE_FEED = 0x0a;
const UTF8_BYTE_ORDER_MARK = Buffer.from([0xef, 0xbb, 0xbf]);
const UTF16LE_BYTE_ORDER_MARK = Buffer.from([0xff, 0xfe]);

/**
 * Cuts every CSV row longer than `maxRowBytes` out of the bytes given to csv-parse, so that the
 * rows after it are still read. csv-parse (6.2) cannot resume after its own `max_record_size`
 * error. The guard passes on complete rows only and keeps the current row until its line break
 * comes, so that a row can be dropped before csv-parse has seen any of it. A dropped row is replaced
 * by a marker row (`marker`, a cell no file contains) followed by one empty line per line break
 * of the row, so that csv-parse's line numbers stay right. `takeOversized` then describes it.
 *
 * It finds rows as csv-parse does with the options of `createCsvParser`: commas, double quotes
 * doubled inside quoted cells, CR, LF or CRLF line breaks, and `relax_quotes`. A double quote
 * then opens a quoted cell only at the start of a cell, and a quote in a quoted cell closes it
 * unless another quote follows.
 *
 * A UTF-16LE input, recognised by its byte order mark as csv-parse recognises it, is read in code
 * units of 2 bytes, and its marker rows are written in UTF-16LE. Lengths are in bytes of the input
 * in both encodings.
 */
export class RowSizeGuard {
  readonly marker = `koala-replay oversized row ${randomUUID()}`;
  private readonly oversized: OversizedRow[] = [];
  private encoding: "unknown" | "utf8" | "utf16" = "unknown";
  /** The first bytes of the input, kept until they show its byte order mark, if any. */
  private head: Buffer = Buffer.alloc(0);
  /** The first byte of a UTF-16 code unit whose second byte is in the next chunk. */
  private splitUnit: Buffer | undefined;

  private quoting = false;
  /** Whether the next byte starts a cell, where a double quote opens a quoted cell. */
  private atCellStart = true;
  /** Whether the last byte read was a double quote inside a quoted cell, which the next byte closes or escapes. */
  private quotePending = false;
  /** Whether a line feed that starts the next chunk belongs to the line break of a dropped row. */
  private swallowLineFeed = false;

  /** Bytes of the current row from earlier chunks, not yet passed on. */
  private pendingPieces: Buffer[] = [];
  private pendingBytes = 0;
  /** The row being dropped, once it is longer than the limit. */
  private dropping: DroppedRow | undefined;

  constructor(private readonly maxRowBytes: number) {}

  /** Reads the next bytes of the input and returns the bytes to parse: every row they complete. */
  push(chunk: Buffer): Buffer {
    if (this.encoding !== "unknown") {
      return this.scanUnits(chunk, 0);
    }
    const rowsStart = this.detectEncoding(chunk, false);
    if (rowsStart === undefined) {
      return Buffer.alloc(0);
    }
    return this.scanUnits(this.head, rowsStart);
  }

  /** Returns the bytes left to parse at the end of the input: the last row, or the marker of a dropped one. */
  end(): Buffer {
    // A quote as the last byte of the input closes its cell.
    if (this.quotePending) {
      this.quotePending = false;
      this.quoting = false;
    }
    if (this.encoding !== "unknown") {
      return this.finish();
    }
    const rowsStart = this.detectEncoding(Buffer.alloc(0), true) ?? 0;
    return Buffer.concat([this.scanUnits(this.head, rowsStart), this.finish()]);
  }

  /** Returns the oldest dropped row whose marker has not been described yet. */
  takeOversized(): OversizedRow | undefined {
    return this.oversized.shift();
  }

  /**
   * Gathers the first bytes of the input until they show its encoding. Returns the offset in
   * `head` where the rows start, after a byte order mark, or undefined while more bytes are needed.
   */
  private detectEncoding(chunk: Buffer, ended: boolean): number | undefined {
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    if (this.head.length < UTF8_BYTE_ORDER_MARK.length && !ended) {
      return undefined;
    }
    if (this.head.subarray(0, UTF16LE_BYTE_ORDER_MARK.length).equals(UTF16LE_BYTE_ORDER_MARK)) {
      this.encoding = "utf16";
      return UTF16LE_BYTE_ORDER_MARK.length;
    }
    this.encoding = "utf8";
    // csv-parse drops the byte order mark, so a quote right after it starts a quoted cell.
    return this.head.subarray(0, UTF8_BYTE_ORDER_MARK.length).equals(UTF8_BYTE_ORDER_MARK) ? UTF8_BYTE_ORDER_MARK.length : 0;
  }

  /** Scans the whole code units of `chunk` from `start`, keeping back the first byte of a UTF-16 code unit cut in two. */
  private scanUnits(chunk: Buffer, start: number): Buffer {
    if (this.encoding !== "utf16") {
      return this.scan(chunk, start, 1);
    }
    let units = this.splitUnit === undefined ? chunk : Buffer.concat([this.splitUnit, chunk]);
    this.splitUnit = undefined;
    if ((units.length - start) % 2 === 1) {
      this.splitUnit = units.subarray(units.length - 1);
      units = units.subarray(0, units.length - 1);
    }
    return this.scan(units, start, 2);
  }

  /** Scans `chunk` from `start` in code units of `unitBytes` (1 for UTF-8, 2 for UTF-16LE); the chunk ends with a whole unit. */
  private scan(chunk: Buffer, start: number, unitBytes: number): Buffer {
    const output: Buffer[] = [];
    // Bytes of `chunk` before `passedUpTo` are passed on or dropped. Those from there to
    // `rowStart` are complete rows, and the current row starts at `rowStart`.
    let passedUpTo = 0;
    // A byte order mark before `start` is passed on, but is not part of the first row.
    let rowStart = start;
    let index = start;
    if (this.swallowLineFeed && index < chunk.length) {
      this.swallowLineFeed = false;
      if (codeUnitAt(chunk, index, unitBytes) === LINE_FEED) {
        index += unitBytes;
        passedUpTo = index;
        rowStart = index;
      }
    }

    for (; index < chunk.length; index += unitBytes) {
      // UTF-8, the usual case, is read inline, without a call per byte.
      const byte = unitBytes === 1 ? (chunk[index] as number) : codeUnitAt(chunk, index, unitBytes);
      if (!this.readByte(byte)) {
        continue;
      }
      // `byte` is a line break outside quoted cells, which ends the current row.
      const rowBytes = (this.dropping?.bytes ?? this.pendingBytes) + (index - rowStart);
      if (this.dropping === undefined && rowBytes <= this.maxRowBytes) {
        output.push(...this.pendingPieces);
        this.pendingPieces = [];
        this.pendingBytes = 0;
      } else {
        output.push(chunk.subarray(passedUpTo, rowStart));
        this.drop(chunk, rowStart, index);
        output.push(this.markerRow(false));
        this.swallowLineFeed = byte === CARRIAGE_RETURN;
        if (this.swallowLineFeed && index + unitBytes < chunk.length) {
          this.swallowLineFeed = false;
          if (codeUnitAt(chunk, index + unitBytes, unitBytes) === LINE_FEED) {
            index += unitBytes;
          }
        }
        passedUpTo = index + unitBytes;
      }
      rowStart = index + unitBytes;
    }

    const rowBytes = (this.dropping?.bytes ?? this.pendingBytes) + (chunk.length - rowStart);
    output.push(chunk.subarray(passedUpTo, rowStart));
    if (this.dropping !== undefined || rowBytes > this.maxRowBytes) {
      this.drop(chunk, rowStart, chunk.length);
    } else if (rowStart < chunk.length) {
      this.pendingPieces.push(chunk.subarray(rowStart));
      this.pendingBytes = rowBytes;
    }
    return output.length === 1 ? (output[0] as Buffer) : Buffer.concat(output);
  }

  /**
   * Follows the quoting of one byte (one code unit, in UTF-16), as csv-parse does. Returns true when
   * it is a line break that ends the current row.
   */
  private readByte(byte: number): boolean {
    if (this.quoting) {
      if (!this.quotePending) {
        this.quotePending = byte === QUOTE;
        return false;
      }
      this.quotePending = false;
      if (byte === QUOTE) {
        // Two quotes in a quoted cell are one quote of the text.
        return false;
      }
      // The quote closed the cell. With relax_quotes, text after it joins the cell.
      this.quoting = false;
    }
    if (byte === LINE_FEED || byte === CARRIAGE_RETURN) {
      // The line feed of a CRLF ends an empty row here, which is passed on unchanged.
      this.atCellStart = true;
      return true;
    }
    if (byte === QUOTE && this.atCellStart) {
      this.quoting = true;
    }
    this.atCellStart = byte === COMMA;
    return false;
  }

  /** Adds `chunk[start, end)` to the row being dropped, starting to drop it (and its pending pieces) if needed. */
  private drop(chunk: Buffer, start: number, end: number): void {
    if (this.dropping === undefined) {
      const dropping: DroppedRow = { bytes: this.pendingBytes, innerLineBreaks: 0, trailingLineBreaks: 0, endsWithCarriageReturn: false };
      for (const piece of this.pendingPieces) {
        countLineBreaks(dropping, piece, 0, piece.length, this.unitBytes());
      }
      this.dropping = dropping;
      this.pendingPieces = [];
      this.pendingBytes = 0;
    }
    this.dropping.bytes += end - start;
    countLineBreaks(this.dropping, chunk, start, end, this.unitBytes());
  }

  private unitBytes(): number {
    return this.encoding === "utf16" ? 2 : 1;
  }

  /**
   * Records the row being dropped and returns its marker row. Before the end of the input, the
   * marker row has a line break and one empty line per inner line break of the dropped row.
   */
  private markerRow(atEndOfInput: boolean): Buffer {
    const dropped = this.dropping as DroppedRow;
    this.dropping = undefined;
    const innerLineBreaks = atEndOfInput ? dropped.innerLineBreaks - dropped.trailingLineBreaks : dropped.innerLineBreaks;
    this.oversized.push({ bytes: dropped.bytes, innerLineBreaks, quoteNotClosed: this.quoting });
    // CRLF is one line break for csv-parse whatever came before, and every row after it starts on a new line.
    const lineBreaks = atEndOfInput ? "" : "\r\n".repeat(innerLineBreaks + 1);
    return Buffer.from(`${this.marker}${lineBreaks}`, this.encoding === "utf16" ? "utf16le" : "utf8");
  }

  private finish(): Buffer {
    // An odd last byte of UTF-16 input belongs to the last row, which csv-parse then reads as it is.
    const splitUnit = this.splitUnit;
    this.splitUnit = undefined;
    if (splitUnit !== undefined && this.dropping !== undefined) {
      this.dropping.bytes += splitUnit.length;
    } else if (splitUnit !== undefined) {
      this.pendingPieces.push(splitUnit);
      this.pendingBytes += splitUnit.length;
    }
    if (this.dropping !== undefined) {
      return this.markerRow(true);
    }
    const rest = Buffer.concat(this.pendingPieces, this.pendingBytes);
    this.pendingPieces = [];
    this.pendingBytes = 0;
    return rest;
  }
}

/** Adds the line breaks in `bytes[start, end)` to the dropped row's count, a CRLF once, even across chunks. */
function countLineBreaks(row: DroppedRow, bytes: Buffer, start: number, end: number, unitBytes: number): void {
  for (let index = start; index + unitBytes <= end; index += unitBytes) {
    const byte = codeUnitAt(bytes, index, unitBytes);
    if (byte === CARRIAGE_RETURN || (byte === LINE_FEED && !row.endsWithCarriageReturn)) {
      row.innerLineBreaks += 1;
      row.trailingLineBreaks += 1;
    } else if (byte !== LINE_FEED) {
      row.trailingLineBreaks = 0;
    }
    row.endsWithCarriageReturn = byte === CARRIAGE_RETURN;
  }
}

/** Returns the code unit at `index`: a byte, or a UTF-16LE unit of 2 bytes, which matches an ASCII byte only when its high byte is 0. */
function codeUnitAt(bytes: Buffer, index: number, unitBytes: number): number {
  const low = bytes[index] as number;
  return unitBytes === 1 ? low : low | ((bytes[index + 1] as number) << 8);
}
