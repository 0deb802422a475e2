import { constants } from "node:buffer";

/**
 * A top-level JSON value cut from an input that contains one or several of them one after another,
 * as some export tools write pretty-printed events. Lines are 1-based lines of the input.
 */
export type JsonSequencePart =
  /** The bytes of one value, or of text between values that is not one, to be parsed. */
  | { kind: "document"; text: string; firstLine: number }
  /** An object, array or string whose closing character never came. Its bytes are not kept. */
  | { kind: "not-closed"; firstLine: number; lastLine: number; ending: UnclosedEnding }
  /** A value longer than the limit, skipped to its end without being kept in memory. */
  | { kind: "too-large"; firstLine: number; lastLine: number; bytes: number; ending: UnclosedEnding | { kind: "closed" } };

/** The end of a value that was not closed: the end of the input, or a new document starting at `line`. */
export type UnclosedEnding = { kind: "end-of-input" } | { kind: "new-document"; line: number };

/**
 * Maximum length of one JSON document, in bytes. A document is parsed at once, so it is held in
 * memory whole, as bytes and as text, and a longer one is skipped. The text must also fit in a
 * V8 string (`MAX_STRING_LENGTH`, 2^29 - 24 characters on 64-bit Node 20), and a character takes
 * at least one byte. A JSONL file is read a line at a time instead.
 */
export const MAX_DOCUMENT_BYTES = Math.min(512 * 1024 * 1024, constants.MAX_STRING_LENGTH);

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const BYTE_ORDER_MARK = Buffer.from([0xef, 0xbb, 0xbf]);

/** Part of the input being read: whitespace between values, an object or array, a string value, or any other token. */
type Mode = "between" | "container" | "string" | "token";

interface OpenDocument {
  firstLine: number;
  /** Line of the last byte that is not whitespace. */
  lastLine: number;
  pieces: Buffer[];
  bytes: number;
  /** Whether the document is still within the limit, so that its pieces are stored. */
  stored: boolean;
}

/**
 * Cuts a byte stream into its top-level JSON values without parsing them, so that each can be
 * parsed on its own and memory is bounded by the largest value, not by the input. It follows
 * strings and brackets only, so a value with a syntax error inside is still cut where its brackets
 * close, and JSON.parse then reports the error.
 *
 * One syntax error is detected here: an object or array that starts, first on its line, where JSON
 * allows none (after a complete value, or after a comma in an object). That is a new document
 * starting before the previous one was closed, typically a cut-short write, so the previous one is
 * reported as `not-closed` and reading goes on with the new one.
 *
 * NOTE: a document cut right after a comma in an array is not detected, because an object may
 * follow there. The documents after it are then read as part of it, up to the end of the input,
 * and reported with it as one document that is not closed.
 */
export class JsonSequenceSplitter {
  private mode: Mode = "between";
  private line = 1;
  /** Whether a byte other than whitespace came before on the current line. */
  private lineHasContent = false;
  /** The open brackets of the current document, innermost last. */
  private readonly containers: number[] = [];
  private inString = false;
  private escaped = false;
  /** The last byte outside strings that is not whitespace, or a quote after a string. */
  private lastSignificant = 0;
  private document: OpenDocument | undefined;
  /** The first bytes of the input, kept until they show whether it starts with a UTF-8 byte order mark. */
  private head: Buffer | undefined = Buffer.alloc(0);

  constructor(private readonly maxDocumentBytes: number) {}

  /** Reads the next bytes of the input and returns the values they complete. */
  push(chunk: Buffer): JsonSequencePart[] {
    const bytes = this.skipByteOrderMark(chunk);
    return bytes === undefined ? [] : this.scan(bytes);
  }

  /** Returns the parts that the end of the input completes. */
  end(): JsonSequencePart[] {
    const parts = this.head !== undefined && this.head.length > 0 ? this.scan(this.head) : [];
    this.head = undefined;
    const document = this.document;
    if (document === undefined) {
      return parts;
    }
    if (this.mode === "token") {
      parts.push(this.finish(document));
    } else {
      parts.push(this.finishUnclosed(document, { kind: "end-of-input" }));
    }
    this.mode = "between";
    return parts;
  }

  private skipByteOrderMark(chunk: Buffer): Buffer | undefined {
    if (this.head === undefined) {
      return chunk;
    }
    const head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    if (head.length < BYTE_ORDER_MARK.length && BYTE_ORDER_MARK.subarray(0, head.length).equals(head)) {
      this.head = head;
      return undefined;
    }
    this.head = undefined;
    return head.subarray(0, BYTE_ORDER_MARK.length).equals(BYTE_ORDER_MARK) ? head.subarray(BYTE_ORDER_MARK.length) : head;
  }

  private scan(chunk: Buffer): JsonSequencePart[] {
    const parts: JsonSequencePart[] = [];
    // Offset in `chunk` where the open document's bytes start.
    let documentStart = 0;
    for (let index = 0; index < chunk.length; index += 1) {
      const byte = chunk[index] as number;

      // Fast paths for most of the bytes of pretty-printed JSON: indentation and string contents.
      if (this.mode === "container") {
        if (this.inString) {
          index = this.skipStringContents(chunk, index);
          continue;
        }
        if (byte === SPACE) {
          continue;
        }
        if (byte === NEWLINE) {
          this.line += 1;
          this.lineHasContent = false;
          continue;
        }
      }

      if (this.mode === "token" && (isWhitespace(byte) || byte === OPEN_BRACE || byte === OPEN_BRACKET || byte === QUOTE)) {
        parts.push(this.finish(this.keep(chunk, documentStart, index)));
        this.mode = "between";
      }

      switch (this.mode) {
        case "between":
          if (!isWhitespace(byte)) {
            documentStart = index;
            this.open(byte);
          }
          break;
        case "string":
          if (this.readStringByte(byte)) {
            parts.push(this.finish(this.keep(chunk, documentStart, index + 1), this.line));
            this.mode = "between";
          }
          break;
        case "container":
          if (isWhitespace(byte)) {
            break;
          } else if (this.startsNewDocument(byte)) {
            parts.push(this.finishUnclosed(this.keep(chunk, documentStart, index), { kind: "new-document", line: this.line }));
            documentStart = index;
            this.open(byte);
          } else if (this.readStructure(byte)) {
            parts.push(this.finish(this.keep(chunk, documentStart, index + 1), this.line));
            this.mode = "between";
          }
          break;
        case "token":
          break;
        default: {
          const unknownMode: never = this.mode;
          throw new Error(`unknown mode ${String(unknownMode)}`);
        }
      }

      if (this.document !== undefined && !isWhitespace(byte)) {
        this.document.lastLine = this.line;
      }
      if (byte === NEWLINE) {
        this.line += 1;
        this.lineHasContent = false;
      } else if (!isWhitespace(byte)) {
        this.lineHasContent = true;
      }
    }
    if (this.document !== undefined) {
      this.keep(chunk, documentStart, chunk.length);
    }
    return parts;
  }

  /** Starts a document at `byte`, the first byte of a value that is not whitespace. */
  private open(byte: number): void {
    this.document = { firstLine: this.line, lastLine: this.line, pieces: [], bytes: 0, stored: true };
    this.escaped = false;
    this.inString = false;
    this.containers.length = 0;
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      this.mode = "container";
      this.containers.push(byte);
      this.lastSignificant = byte;
    } else if (byte === QUOTE) {
      this.mode = "string";
    } else {
      this.mode = "token";
    }
  }

  /**
   * Reads the string of the open container from `start` up to its closing quote, and returns the
   * offset of that quote, or the offset of the last byte of `chunk` when the string goes on.
   */
  private skipStringContents(chunk: Buffer, start: number): number {
    let escaped = this.escaped;
    for (let index = start; index < chunk.length; index += 1) {
      const byte = chunk[index] as number;
      if (escaped) {
        escaped = false;
      } else if (byte === BACKSLASH) {
        escaped = true;
      } else if (byte === QUOTE) {
        this.escaped = false;
        this.inString = false;
        this.lastSignificant = QUOTE;
        this.lineHasContent = true;
        (this.document as OpenDocument).lastLine = this.line;
        return index;
      } else if (byte === NEWLINE) {
        // Invalid in a JSON string, but counted, so that the lines of later errors stay right.
        this.line += 1;
      }
    }
    this.escaped = escaped;
    return chunk.length - 1;
  }

  /** Reads a byte inside a string. Returns true when it is the closing quote. */
  private readStringByte(byte: number): boolean {
    if (this.escaped) {
      this.escaped = false;
    } else if (byte === BACKSLASH) {
      this.escaped = true;
    } else if (byte === QUOTE) {
      return true;
    }
    return false;
  }

  /**
   * Tests whether `byte` opens an object or array, first on its line, where the open container
   * allows no value: JSON allows one only after a colon in an object, and after the opening
   * bracket or a comma in an array.
   */
  private startsNewDocument(byte: number): boolean {
    if ((byte !== OPEN_BRACE && byte !== OPEN_BRACKET) || this.lineHasContent) {
      return false;
    }
    const innermost = this.containers[this.containers.length - 1];
    const allowed = innermost === OPEN_BRACE ? this.lastSignificant === COLON : this.lastSignificant === OPEN_BRACKET || this.lastSignificant === COMMA;
    return !allowed;
  }

  /** Reads a byte of an object or array outside strings. Returns true when it closes the document. */
  private readStructure(byte: number): boolean {
    this.lastSignificant = byte;
    if (byte === QUOTE) {
      this.inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      this.containers.push(byte);
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      // A closing bracket of the wrong kind still closes a level, and JSON.parse then reports the mismatch.
      this.containers.pop();
      return this.containers.length === 0;
    }
    return false;
  }

  /** Adds `chunk[start, end)` to the open document, or only counts it once the document is too large. */
  private keep(chunk: Buffer, start: number, end: number): OpenDocument {
    const document = this.document as OpenDocument;
    document.bytes += end - start;
    if (document.stored && document.bytes > this.maxDocumentBytes) {
      document.stored = false;
      document.pieces = [];
    }
    if (document.stored && end > start) {
      document.pieces.push(chunk.subarray(start, end));
    }
    return document;
  }

  /** Ends the document at the byte just read (a closing quote or bracket), or before it (a token). */
  private finish(document: OpenDocument, lastLine = document.lastLine): JsonSequencePart {
    this.document = undefined;
    if (!document.stored) {
      return { kind: "too-large", firstLine: document.firstLine, lastLine, bytes: document.bytes, ending: { kind: "closed" } };
    }
    return { kind: "document", text: Buffer.concat(document.pieces, document.bytes).toString("utf8"), firstLine: document.firstLine };
  }

  private finishUnclosed(document: OpenDocument, ending: UnclosedEnding): JsonSequencePart {
    this.document = undefined;
    const { firstLine, lastLine, bytes } = document;
    return document.stored ? { kind: "not-closed", firstLine, lastLine, ending } : { kind: "too-large", firstLine, lastLine, bytes, ending };
  }
}

function isWhitespace(byte: number): boolean {
  return byte === SPACE || byte === NEWLINE || byte === CARRIAGE_RETURN || byte === TAB;
}
