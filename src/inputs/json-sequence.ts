import { constants } from "node:buffer";
import { lostBytesInDecoding } from "./utf8.js";

/**
 * A top-level JSON value cut from an input that contains one or several of them one after another,
 * as some export tools write pretty-printed events, or an element of a top-level array, which is
 * cut out on its own. Lines are 1-based lines of the input.
 */
export type JsonSequencePart =
  /**
   * The bytes of one value, or of text between values that is not one, to be parsed. For a
   * `/v1/batch` request body whose batch array was streamed, `batch` is set and the text contains the
   * body with that array emptied.
   */
  | { kind: "document"; text: string; firstLine: number; batch?: StreamedBatch; notUtf8?: true }
  /**
   * The bytes of one element of a streamed array, to be parsed. They may be a view of a chunk given
   * to `push`, so they are valid as long as that chunk is.
   */
  | { kind: "element"; bytes: Buffer; firstLine: number; place: ElementPlace; defaults?: BatchDefaults }
  /** An object, array or string whose closing character never came. Its bytes are not kept. */
  | { kind: "not-closed"; firstLine: number; lastLine: number; ending: UnclosedEnding; place?: ElementPlace; batch?: StreamedBatch }
  /** A value longer than the limit, skipped to its end without being kept in memory. */
  | {
      kind: "too-large";
      firstLine: number;
      lastLine: number;
      bytes: number;
      ending: UnclosedEnding | { kind: "closed" };
      place?: ElementPlace;
      batch?: StreamedBatch;
    }
  /** A streamed array whose closing bracket never came. Its `elements` complete elements before the break were emitted. */
  | { kind: "array-not-closed"; arrayLine: number; lastLine: number; elements: number; inBatch: boolean; ending: UnclosedEnding }
  /** A comma or other character that breaks JSON between the elements of a streamed array. */
  | { kind: "array-syntax"; line: number; arrayLine: number; problem: ArraySyntaxProblem };

/**
 * The end of a value that was not closed: the end of the input, a new document starting at `line`,
 * or, for an element of a streamed array, the next element starting at `line`.
 */
export type UnclosedEnding = { kind: "end-of-input" } | { kind: "new-document"; line: number } | { kind: "next-element"; line: number };

/** The place of an element: its 1-based position in its array, and the lines where the array and its top-level document start. */
export interface ElementPlace {
  position: number;
  arrayLine: number;
  documentLine: number;
}

/**
 * The streamed `batch` arrays of a request body: how many elements were emitted, and where their
 * bytes were cut out of the body's text, so that an error after them can be given its line.
 */
export interface StreamedBatch {
  elements: number;
  /** For each array, the byte offset in the body's text right after its `[`, and the line breaks cut out there. */
  cuts: Array<{ byteOffset: number; lines: number }>;
  /** The arrays whose elements got the body's `context` or `integrations`, which came before them; absent when none did. */
  applied?: Array<{ keys: BatchDefaultKey[]; elements: number }>;
}

/** The keys of a `/v1/batch` request body that apply to every event of its batch array. */
export const BATCH_DEFAULT_KEYS = ["context", "integrations"] as const;
export type BatchDefaultKey = (typeof BATCH_DEFAULT_KEYS)[number];

/** The objects under the `context` and `integrations` keys of a request body, read before its batch array. */
export type BatchDefaults = Partial<Record<BatchDefaultKey, Record<string, unknown>>>;

export type ArraySyntaxProblem =
  /** A value follows the previous element without a comma. The value is still read as the element at `position`. */
  | { kind: "missing-comma"; position: number }
  /** A comma after the opening bracket or after another comma. */
  | { kind: "unexpected-comma" }
  /** A comma right before the closing bracket. */
  | { kind: "trailing-comma" }
  /** A `}` or `:` where an element, a comma or the closing bracket was expected. */
  | { kind: "unexpected-character"; character: string };

/**
 * Maximum length of one JSON document or array element, in bytes. A value is parsed at once, so it
 * is held in memory whole, as bytes and as text, and a longer one is skipped. The text must also
 * fit in a V8 string (`MAX_STRING_LENGTH`, 2^29 - 24 characters on 64-bit Node 20), and a character
 * takes at least one byte. A streamed array has no limit of its own, and a JSONL file is read a
 * line at a time instead.
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
const BATCH_KEY = Buffer.from("batch");
const BATCH_DEFAULT_KEY_BYTES = BATCH_DEFAULT_KEYS.map((key) => Buffer.from(`"${key}"`));

/** Part of the input being read: whitespace between values, an object or array, a string value, or any other token. */
type Mode = "between" | "container" | "string" | "token";

/** The bytes of a value being cut out, kept while it is within the limit. */
interface ValueBuffer {
  firstLine: number;
  pieces: Buffer[];
  bytes: number;
  /** Whether the value is still within the limit, so that its pieces are stored. */
  stored: boolean;
}

interface OpenDocument extends ValueBuffer {
  batch?: StreamedBatch;
}

/** A top-level array, or the array under a top-level `batch` key, whose elements are emitted one at a time. */
interface StreamedArray {
  arrayLine: number;
  documentLine: number;
  /** Nesting depth of the elements' own brackets: the array's depth, 1 for a top-level array. */
  depth: number;
  inBatch: boolean;
  /** Elements started so far, broken ones included. */
  elements: number;
  /** The token expected next between elements: the first element, an element after a comma, or a comma after an element. */
  expecting: "first" | "element" | "comma";
  commaLine: number;
  /** Line of the array's `[`, for counting the lines of a batch array cut out of its body. */
  openedOnLine: number;
  /** The body's `context` and `integrations` read before the array, which its elements carry. */
  defaults?: BatchDefaults;
}

interface OpenElement {
  buffer: ValueBuffer;
  place: ElementPlace;
  kind: "container" | "string" | "token";
}

/**
 * Cuts a byte stream into its top-level JSON values without parsing them, so that each can be
 * parsed on its own and memory is bounded by the largest value, not by the input. It follows
 * strings and brackets only, so a value with a syntax error inside is still cut where its brackets
 * close, and JSON.parse then reports the error.
 *
 * A top-level array, and the array under the `batch` key of a top-level object (a `/v1/batch`
 * request body), is not kept whole. Each of its elements is emitted as soon as it closes, so an
 * array of any size is read in the memory of one element. The rest of a request body is kept and
 * emitted as a document whose batch array is empty, so that it is still checked.
 *
 * One syntax error is detected here: an object or array that starts, first on its line, where JSON
 * allows none (after a complete value, or after a comma in an object). That is a new document
 * starting before the previous one was closed, typically a cut-short write, so the previous one is
 * reported as `not-closed` and reading goes on with the new one. In a streamed array, an indented
 * object there starts the next element instead, because elements are indented and documents one
 * after another are not: the open element is reported as `not-closed`, or, between elements, the
 * missing comma is reported.
 *
 * NOTE: a document cut right after a comma in an array is not detected, because an object may
 * follow there. In a streamed array, the objects after it are then read as its elements. Outside
 * one, the documents after it are read as part of it, up to the end of the input, and reported
 * with it as one document that is not closed.
 */
export class JsonSequenceSplitter {
  private mode: Mode = "between";
  private line = 1;
  /** Whether a byte other than whitespace came before on the current line. */
  private lineHasContent = false;
  /** Whether whitespace came before the first byte of content on the current line. */
  private lineIndented = false;
  /** Line of the last byte outside strings that is not whitespace, or of the last closing quote. */
  private lastContentLine = 1;
  /** The open brackets of the current document, innermost last. */
  private readonly containers: number[] = [];
  private inString = false;
  private escaped = false;
  /** The last byte outside strings that is not whitespace, or a quote after a string. */
  private lastSignificant = 0;
  private document: OpenDocument | undefined;
  private array: StreamedArray | undefined;
  private element: OpenElement | undefined;
  /** The destination of the bytes being read: the open document, the open element, or none (between elements). */
  private sink: ValueBuffer | undefined;
  /** Offset in the current chunk from which bytes are still to be added to `sink`. */
  private sinkStart = 0;
  /** Offset in the current chunk where the key being read starts, or -1 when no key of a top-level object is read. */
  private keyStart = -1;
  /** The key's bytes from earlier chunks, kept only while they may still spell `batch`. */
  private keyPrefix: Buffer | undefined;
  private keyLength = 0;
  /**
   * Offset in the current chunk of the first line break at or after the last string read, or
   * `chunk.length` when there is none, or -1 before the first string of the chunk. Strings look it
   * up once a line, not once each.
   */
  private nextLineBreak = -1;
  /** Whether the last key of the top-level object was `batch`, so that an array after its colon is streamed. */
  private lastKeyIsBatch = false;
  private batchArrayCount = 0;
  /** The first bytes of the input, kept until they show whether it starts with a UTF-8 byte order mark. */
  private head: Buffer | undefined = Buffer.alloc(0);

  constructor(private readonly maxValueBytes: number) {}

  /** The line of the input that the last byte read is on. */
  get currentLine(): number {
    return this.line;
  }

  /** The number of arrays under the `batch` key of a top-level object that were opened so far. */
  get batchArraysOpened(): number {
    return this.batchArrayCount;
  }

  /** Reads the next bytes of the input and returns the values they complete. */
  push(chunk: Buffer): JsonSequencePart[] {
    const bytes = this.skipByteOrderMark(chunk);
    return bytes === undefined ? [] : this.scan(bytes);
  }

  /** Returns the parts that the end of the input completes. */
  end(): JsonSequencePart[] {
    const parts = this.head !== undefined && this.head.length > 0 ? this.scan(this.head) : [];
    this.head = undefined;
    const empty = Buffer.alloc(0);
    if (this.array !== undefined) {
      this.cutArray(empty, 0, { kind: "end-of-input" }, parts);
      return parts;
    }
    const document = this.document;
    if (document === undefined) {
      return parts;
    }
    if (this.mode === "token") {
      parts.push(this.finishDocument(empty, 0));
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
    this.sinkStart = 0;
    this.nextLineBreak = -1;
    if (this.keyStart !== -1) {
      this.keyStart = 0;
    }
    for (let index = 0; index < chunk.length; index += 1) {
      const byte = chunk[index] as number;

      // Fast paths for most of the bytes of an array or of pretty-printed JSON: string contents,
      // the digits and letters of an element that is not an object, and indentation.
      if (this.mode === "container") {
        if (this.inString) {
          index = this.skipStringContents(chunk, index);
          if (!this.inString) {
            this.closeString(chunk, index, parts);
          }
          continue;
        }
        if (this.element?.kind === "token") {
          if (!endsToken(byte)) {
            continue;
          }
          parts.push(this.finishElement(chunk, index));
        }
        if (byte === SPACE) {
          this.lineIndented ||= !this.lineHasContent;
          continue;
        }
        if (byte === NEWLINE) {
          this.startLine();
          continue;
        }
        if (this.array !== undefined) {
          this.readArrayByte(chunk, index, byte, parts);
          this.noteByte(byte);
          continue;
        }
      }

      if (this.mode === "token" && (isWhitespace(byte) || byte === OPEN_BRACE || byte === OPEN_BRACKET || byte === QUOTE)) {
        parts.push(this.finishDocument(chunk, index));
        this.mode = "between";
      }

      switch (this.mode) {
        case "between":
          if (!isWhitespace(byte)) {
            this.open(chunk, index, byte);
          }
          break;
        case "string":
          if (this.readStringByte(byte)) {
            this.lastContentLine = this.line;
            parts.push(this.finishDocument(chunk, index + 1));
            this.mode = "between";
          }
          break;
        case "container":
          this.readDocumentByte(chunk, index, byte, parts);
          break;
        case "token":
          break;
        default: {
          const unknownMode: never = this.mode;
          throw new Error(`unknown mode ${String(unknownMode)}`);
        }
      }
      this.noteByte(byte);
    }
    this.flushSink(chunk, chunk.length);
    this.keepKeyPrefix(chunk);
    return parts;
  }

  /** Updates the line counters after a byte outside strings. */
  private noteByte(byte: number): void {
    if (byte === NEWLINE) {
      this.startLine();
    } else if (!isWhitespace(byte)) {
      this.lineHasContent = true;
      this.lastContentLine = this.line;
    } else if (!this.lineHasContent) {
      this.lineIndented = true;
    }
  }

  private startLine(): void {
    this.line += 1;
    this.lineHasContent = false;
    this.lineIndented = false;
  }

  /** Starts a document at `byte`, the first byte of a value that is not whitespace. */
  private open(chunk: Buffer, index: number, byte: number): void {
    const document: OpenDocument = newBuffer(this.line);
    this.document = document;
    this.escaped = false;
    this.inString = false;
    this.containers.length = 0;
    this.keyStart = -1;
    this.lastKeyIsBatch = false;
    if (byte === OPEN_BRACKET) {
      // A top-level array is emitted element by element, and nothing of it is kept.
      this.mode = "container";
      this.switchSink(chunk, index, undefined);
      this.openArray(document.firstLine, false);
      return;
    }
    this.switchSink(chunk, index, document);
    if (byte === OPEN_BRACE) {
      this.mode = "container";
      this.containers.push(byte);
      this.lastSignificant = byte;
    } else if (byte === QUOTE) {
      this.mode = "string";
    } else {
      this.mode = "token";
    }
  }

  /** Reads a byte of an object or array that is not streamed, outside strings. */
  private readDocumentByte(chunk: Buffer, index: number, byte: number, parts: JsonSequencePart[]): void {
    if (isWhitespace(byte)) {
      return;
    }
    if (this.startsNewDocument(byte)) {
      this.flushSink(chunk, index);
      parts.push(this.finishUnclosed(this.document as OpenDocument, { kind: "new-document", line: this.line }));
      this.open(chunk, index, byte);
    } else if (byte === OPEN_BRACKET && this.opensBatchArray()) {
      // The body keeps its `[`, and the elements' bytes are cut out up to the closing `]`.
      this.flushSink(chunk, index + 1);
      this.switchSink(chunk, index + 1, undefined);
      const document = this.document as OpenDocument;
      document.batch ??= { elements: 0, cuts: [] };
      document.batch.cuts.push({ byteOffset: document.bytes, lines: 0 });
      this.batchArrayCount += 1;
      this.openArray(document.firstLine, true);
      const defaults = document.stored ? batchDefaultsBefore(bytesOf(document)) : undefined;
      if (defaults !== undefined) {
        (this.array as StreamedArray).defaults = defaults;
      }
    } else if (this.readStructure(chunk, index, byte) && this.containers.length === 0) {
      parts.push(this.finishDocument(chunk, index + 1));
      this.mode = "between";
    }
  }

  /** Tests whether a `[` read now is the value of the `batch` key of a top-level object. */
  private opensBatchArray(): boolean {
    return this.containers.length === 1 && this.containers[0] === OPEN_BRACE && this.lastSignificant === COLON && this.lastKeyIsBatch;
  }

  private openArray(documentLine: number, inBatch: boolean): void {
    this.containers.push(OPEN_BRACKET);
    this.lastSignificant = OPEN_BRACKET;
    this.array = {
      arrayLine: this.line,
      documentLine,
      depth: this.containers.length,
      inBatch,
      elements: 0,
      expecting: "first",
      commaLine: this.line,
      openedOnLine: this.line,
    };
  }

  /** Reads a byte of a streamed array outside strings and tokens: a byte of an element, or one between elements. */
  private readArrayByte(chunk: Buffer, index: number, byte: number, parts: JsonSequencePart[]): void {
    if (isWhitespace(byte)) {
      return;
    }
    const array = this.array as StreamedArray;
    if (this.containers.length > array.depth) {
      if (this.startsNewDocument(byte)) {
        this.recoverInArray(chunk, index, byte, parts);
      } else if (this.readStructure(chunk, index, byte) && this.containers.length === array.depth) {
        parts.push(this.finishElement(chunk, index + 1));
      }
      return;
    }

    switch (byte) {
      case COMMA:
        if (array.expecting !== "comma") {
          parts.push({ kind: "array-syntax", line: this.line, arrayLine: array.arrayLine, problem: { kind: "unexpected-comma" } });
        }
        array.expecting = "element";
        array.commaLine = this.line;
        return;
      case CLOSE_BRACKET:
        if (array.expecting === "element" && array.elements > 0) {
          parts.push({ kind: "array-syntax", line: array.commaLine, arrayLine: array.arrayLine, problem: { kind: "trailing-comma" } });
        }
        this.closeArray(chunk, index);
        return;
      case CLOSE_BRACE:
      case COLON:
        parts.push({ kind: "array-syntax", line: this.line, arrayLine: array.arrayLine, problem: { kind: "unexpected-character", character: String.fromCharCode(byte) } });
        return;
      default:
        break;
    }

    if (array.expecting === "comma") {
      if (this.startsDocumentAfterElement(byte)) {
        this.cutArray(chunk, index, { kind: "new-document", line: this.line }, parts);
        this.open(chunk, index, byte);
        return;
      }
      const position = array.elements + 1;
      parts.push({ kind: "array-syntax", line: this.line, arrayLine: array.arrayLine, problem: { kind: "missing-comma", position } });
    }
    this.startElement(chunk, index, byte);
  }

  /**
   * Tests whether `byte`, read between elements where a comma was expected, starts a new document
   * rather than an element after a missing comma: an array, or an object that is not indented,
   * first on its line.
   */
  private startsDocumentAfterElement(byte: number): boolean {
    return !this.lineHasContent && (byte === OPEN_BRACKET || (byte === OPEN_BRACE && !this.lineIndented));
  }

  /** Handles an object or array that starts, inside an element, where JSON allows none. */
  private recoverInArray(chunk: Buffer, index: number, byte: number, parts: JsonSequencePart[]): void {
    const array = this.array as StreamedArray;
    if (byte === OPEN_BRACE && this.lineIndented) {
      this.flushSink(chunk, index);
      parts.push(this.finishUnclosedElement({ kind: "next-element", line: this.line }));
      this.containers.length = array.depth;
      this.startElement(chunk, index, byte);
      return;
    }
    this.cutArray(chunk, index, { kind: "new-document", line: this.line }, parts);
    this.open(chunk, index, byte);
  }

  private startElement(chunk: Buffer, index: number, byte: number): void {
    const array = this.array as StreamedArray;
    array.elements += 1;
    array.expecting = "comma";
    const buffer = newBuffer(this.line);
    const place: ElementPlace = { position: array.elements, arrayLine: array.arrayLine, documentLine: array.documentLine };
    this.switchSink(chunk, index, buffer);
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      this.element = { buffer, place, kind: "container" };
      this.containers.push(byte);
      this.lastSignificant = byte;
    } else if (byte === QUOTE) {
      this.element = { buffer, place, kind: "string" };
      this.inString = true;
      this.escaped = false;
    } else {
      this.element = { buffer, place, kind: "token" };
    }
  }

  /** Ends the open element before `end`, an offset in `chunk`. */
  private finishElement(chunk: Buffer, end: number): JsonSequencePart {
    const { buffer, place } = this.element as OpenElement;
    this.switchSink(chunk, end, undefined);
    this.element = undefined;
    if (!buffer.stored) {
      return { kind: "too-large", firstLine: buffer.firstLine, lastLine: this.lastContentLine, bytes: buffer.bytes, ending: { kind: "closed" }, place };
    }
    const defaults = this.array?.defaults;
    if (defaults !== undefined) {
      return { kind: "element", bytes: bytesOf(buffer), firstLine: buffer.firstLine, place, defaults };
    }
    return { kind: "element", bytes: bytesOf(buffer), firstLine: buffer.firstLine, place };
  }

  /** Ends the open element, whose bytes were flushed, as not closed. */
  private finishUnclosedElement(ending: UnclosedEnding): JsonSequencePart {
    const { buffer, place } = this.element as OpenElement;
    this.sink = undefined;
    this.element = undefined;
    this.inString = false;
    const { firstLine, bytes } = buffer;
    const lastLine = this.lastContentLine;
    return buffer.stored ? { kind: "not-closed", firstLine, lastLine, ending, place } : { kind: "too-large", firstLine, lastLine, bytes, ending, place };
  }

  /** Closes the streamed array at its `]`, at `index` in `chunk`. */
  private closeArray(chunk: Buffer, index: number): void {
    const array = this.array as StreamedArray;
    this.array = undefined;
    this.containers.pop();
    this.lastSignificant = CLOSE_BRACKET;
    const document = this.document as OpenDocument;
    if (!array.inBatch) {
      this.document = undefined;
      this.mode = "between";
      return;
    }
    const batch = document.batch as StreamedBatch;
    batch.elements += array.elements;
    if (array.defaults !== undefined) {
      batch.applied ??= [];
      batch.applied.push({ keys: BATCH_DEFAULT_KEYS.filter((key) => array.defaults?.[key] !== undefined), elements: array.elements });
    }
    (batch.cuts[batch.cuts.length - 1] as { lines: number }).lines = this.line - array.openedOnLine;
    this.switchSink(chunk, index, document);
  }

  /**
   * Ends the streamed array, and its document, before `index` in `chunk`: the open element is
   * reported as not closed, then the array. A token element is complete where the input ends.
   */
  private cutArray(chunk: Buffer, index: number, ending: UnclosedEnding, parts: JsonSequencePart[]): void {
    const array = this.array as StreamedArray;
    let elements = array.elements;
    if (this.element?.kind === "token") {
      parts.push(this.finishElement(chunk, index));
    } else if (this.element !== undefined) {
      this.flushSink(chunk, index);
      parts.push(this.finishUnclosedElement(ending));
      elements -= 1;
    }
    parts.push({ kind: "array-not-closed", arrayLine: array.arrayLine, lastLine: this.lastContentLine, elements, inBatch: array.inBatch, ending });
    this.array = undefined;
    this.document = undefined;
    this.sink = undefined;
    this.inString = false;
    this.containers.length = 0;
    this.mode = "between";
  }

  /**
   * Reads the string of the open container from `start` up to its closing quote, and returns the
   * offset of that quote, or the offset of the last byte of `chunk` when the string goes on. It
   * looks for quotes with `indexOf`, because most bytes of an event are in strings and a native
   * search is faster than a loop over them. A quote after an odd number of backslashes is escaped.
   */
  private skipStringContents(chunk: Buffer, start: number): number {
    // A backslash at the end of the previous chunk escapes the first byte of this one.
    let from = this.escaped ? start + 1 : start;
    this.escaped = false;
    for (;;) {
      const quote = chunk.indexOf(QUOTE, from);
      const end = quote === -1 ? chunk.length : quote;
      this.countLineBreaksInString(chunk, from, end);
      const escaped = countBackslashesBefore(chunk, end, from) % 2 === 1;
      if (quote === -1) {
        this.escaped = escaped;
        return chunk.length - 1;
      }
      if (!escaped) {
        this.inString = false;
        this.lastSignificant = QUOTE;
        this.lineHasContent = true;
        this.lastContentLine = this.line;
        return quote;
      }
      from = quote + 1;
    }
  }

  /**
   * Counts the line breaks in `chunk[from, end)`, part of a string. They are invalid in a JSON
   * string, but counted, so that the lines of later errors stay right.
   */
  private countLineBreaksInString(chunk: Buffer, from: number, end: number): void {
    if (this.nextLineBreak < from) {
      this.nextLineBreak = indexOrLength(chunk, NEWLINE, from);
    }
    while (this.nextLineBreak < end) {
      this.line += 1;
      this.nextLineBreak = indexOrLength(chunk, NEWLINE, this.nextLineBreak + 1);
    }
  }

  /** Handles the closing quote at `index` of a string in a container: the end of a key, or of a string element. */
  private closeString(chunk: Buffer, index: number, parts: JsonSequencePart[]): void {
    if (this.keyStart !== -1) {
      this.keyLength += index - this.keyStart;
      const key = this.keyPrefix === undefined ? chunk.subarray(this.keyStart, index) : Buffer.concat([this.keyPrefix, chunk.subarray(this.keyStart, index)]);
      this.lastKeyIsBatch = this.keyLength === BATCH_KEY.length && key.equals(BATCH_KEY);
      this.keyStart = -1;
      this.keyPrefix = undefined;
    }
    if (this.element?.kind === "string") {
      parts.push(this.finishElement(chunk, index + 1));
    }
  }

  /** Keeps the start of a key that goes on in the next chunk, as long as it may still be `batch`. */
  private keepKeyPrefix(chunk: Buffer): void {
    if (this.keyStart === -1) {
      return;
    }
    this.keyLength += chunk.length - this.keyStart;
    if (this.keyLength <= BATCH_KEY.length) {
      const rest = chunk.subarray(this.keyStart);
      this.keyPrefix = this.keyPrefix === undefined ? Buffer.from(rest) : Buffer.concat([this.keyPrefix, rest]);
    } else {
      this.keyPrefix = undefined;
    }
  }

  /** Reads a byte inside a top-level string. Returns true when it is the closing quote. */
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

  /**
   * Reads a byte of an object or array outside strings, at `index` in `chunk`. Returns true when it
   * closes a level. A quote in the place of a key of a top-level object starts reading the key.
   */
  private readStructure(chunk: Buffer, index: number, byte: number): boolean {
    const previous = this.lastSignificant;
    this.lastSignificant = byte;
    this.lastContentLine = this.line;
    if (byte === QUOTE) {
      this.inString = true;
      if (this.containers.length === 1 && this.containers[0] === OPEN_BRACE && (previous === OPEN_BRACE || previous === COMMA)) {
        this.keyStart = index + 1;
        this.keyLength = 0;
      }
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      this.containers.push(byte);
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      // A closing bracket of the wrong kind still closes a level, and JSON.parse then reports the mismatch.
      this.containers.pop();
      return true;
    }
    return false;
  }

  /** Adds the bytes read since the last flush, up to `end`, to the current sink, and sends the next bytes to `next`. */
  private switchSink(chunk: Buffer, end: number, next: ValueBuffer | undefined): void {
    this.flushSink(chunk, end);
    this.sink = next;
  }

  /** Adds `chunk[sinkStart, end)` to the current sink, or only counts it once the value is too large. */
  private flushSink(chunk: Buffer, end: number): void {
    const sink = this.sink;
    const start = this.sinkStart;
    this.sinkStart = end;
    if (sink === undefined || end <= start) {
      return;
    }
    sink.bytes += end - start;
    if (sink.stored && sink.bytes > this.maxValueBytes) {
      sink.stored = false;
      sink.pieces = [];
    }
    if (sink.stored) {
      sink.pieces.push(chunk.subarray(start, end));
    }
  }

  /** Ends the document before `end`, an offset in `chunk`: after a closing quote or bracket, or before the byte that ends a token. */
  private finishDocument(chunk: Buffer, end: number): JsonSequencePart {
    const document = this.document as OpenDocument;
    this.switchSink(chunk, end, undefined);
    this.document = undefined;
    const batch = document.batch;
    if (!document.stored) {
      const part: JsonSequencePart = { kind: "too-large", firstLine: document.firstLine, lastLine: this.lastContentLine, bytes: document.bytes, ending: { kind: "closed" } };
      return batch === undefined ? part : { ...part, batch };
    }
    const bytes = bytesOf(document);
    const text = bytes.toString("utf8");
    const part: JsonSequencePart = { kind: "document", text, firstLine: document.firstLine, ...(lostBytesInDecoding(text, bytes, 0, bytes.length) ? { notUtf8: true as const } : {}) };
    return batch === undefined ? part : { ...part, batch };
  }

  /** Ends the document, whose bytes were flushed, as not closed. */
  private finishUnclosed(document: OpenDocument, ending: UnclosedEnding): JsonSequencePart {
    this.document = undefined;
    this.sink = undefined;
    const { firstLine, bytes, batch } = document;
    const lastLine = this.lastContentLine;
    const part: JsonSequencePart = document.stored ? { kind: "not-closed", firstLine, lastLine, ending } : { kind: "too-large", firstLine, lastLine, bytes, ending };
    return batch === undefined ? part : { ...part, batch };
  }
}

function newBuffer(firstLine: number): ValueBuffer {
  return { firstLine, pieces: [], bytes: 0, stored: true };
}

function bytesOf(buffer: ValueBuffer): Buffer {
  const [first] = buffer.pieces;
  if (buffer.pieces.length === 1 && first !== undefined) {
    return first;
  }
  return Buffer.concat(buffer.pieces, buffer.bytes);
}

/** Counts the backslashes right before `end` in `chunk`, down to `from` at most. */
function countBackslashesBefore(chunk: Buffer, end: number, from: number): number {
  let index = end - 1;
  while (index >= from && chunk[index] === BACKSLASH) {
    index -= 1;
  }
  return end - 1 - index;
}

function indexOrLength(chunk: Buffer, byte: number, from: number): number {
  const index = chunk.indexOf(byte, from);
  return index === -1 ? chunk.length : index;
}

function isWhitespace(byte: number): boolean {
  return byte === SPACE || byte === NEWLINE || byte === CARRIAGE_RETURN || byte === TAB;
}

/** Tests whether `byte` ends a number or literal element: whitespace, or a character of JSON's structure. */
function endsToken(byte: number): boolean {
  return isWhitespace(byte) || byte === COMMA || byte === CLOSE_BRACKET || byte === CLOSE_BRACE || byte === OPEN_BRACKET || byte === OPEN_BRACE || byte === QUOTE || byte === COLON;
}

/**
 * Reads the `context` and `integrations` objects of a request body from its bytes up to the `[` of
 * its batch array, or returns undefined when it has neither there. Only bodies that name one of the
 * keys are parsed, so the usual body (`{"batch": [...], "sentAt": …}`) costs one byte search per key.
 */
function batchDefaultsBefore(prefix: Buffer): BatchDefaults | undefined {
  if (!BATCH_DEFAULT_KEY_BYTES.some((key) => prefix.includes(key))) {
    return undefined;
  }
  let body: unknown;
  try {
    body = JSON.parse(`${prefix.toString("utf8")}]}`);
  } catch {
    // The body is reported with its error once it ends, and its elements are read without defaults.
    return undefined;
  }
  const defaults: BatchDefaults = {};
  for (const key of BATCH_DEFAULT_KEYS) {
    const value = (body as Record<string, unknown>)[key];
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      defaults[key] = value as Record<string, unknown>;
    }
  }
  return Object.keys(defaults).length > 0 ? defaults : undefined;
}

/**
 * Tests whether a line opens a `/v1/batch` request body: an object whose `batch` key has an array
 * value that starts on this line. The body may end on the line or go on over the next ones.
 */
export function opensBatchBody(line: Buffer): boolean {
  const splitter = new JsonSequenceSplitter(line.length);
  splitter.push(line);
  return splitter.batchArraysOpened > 0;
}
