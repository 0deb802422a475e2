import { chunkBuffers } from "./chunk-buffers.js";
import type { ElementPlace } from "./json-sequence.js";

/**
 * The position of an element of a JSON array in its chunk, and the numbers that its event or its
 * problem gets. Lines are 1-based lines of the input.
 */
export interface ChunkElement {
  /** Byte range of the element's text within the chunk's bytes. */
  start: number;
  end: number;
  /** The event's number (its `RecordOrigin.line`) from `JsonEventNumbers`, which the checkpoint tracks. */
  eventLine: number;
  /** The line where the element starts, which a problem with the element names. */
  firstLine: number;
  place: ElementPlace;
}

/** Integers per element in a chunk's `elements`: start, end, event line, first line, position, array line, document line. */
const FIELDS = 7;

/**
 * Elements of streamed JSON arrays, copied into one buffer from `chunkBuffers`, so that a worker
 * thread can parse them as it parses a chunk of JSONL lines. `elements` locates and numbers them.
 */
export interface ElementChunk {
  bytes: Buffer;
  elements: Int32Array;
}

/** Gathers elements for a chunk. It keeps views of their bytes, not copies, until `take` copies them into one buffer. */
export class ElementChunkBuilder {
  private pieces: Buffer[] = [];
  private numbers: number[] = [];
  private byteCount = 0;

  /** The length in bytes of the elements added since the last `take`. */
  get byteLength(): number {
    return this.byteCount;
  }

  add(bytes: Buffer, eventLine: number, firstLine: number, place: ElementPlace): void {
    const start = this.byteCount;
    this.byteCount += bytes.length;
    this.pieces.push(bytes);
    this.numbers.push(start, this.byteCount, eventLine, firstLine, place.position, place.arrayLine, place.documentLine);
  }

  /** Returns the elements added since the last call in one chunk, or undefined when there are none. */
  take(): ElementChunk | undefined {
    if (this.pieces.length === 0) {
      return undefined;
    }
    const bytes = chunkBuffers.take(this.byteCount);
    let offset = 0;
    for (const piece of this.pieces) {
      piece.copy(bytes, offset);
      offset += piece.length;
    }
    const chunk: ElementChunk = { bytes, elements: Int32Array.from(this.numbers) };
    this.pieces = [];
    this.numbers = [];
    this.byteCount = 0;
    return chunk;
  }
}

/** Calls `visit` for each element of a chunk, in input order. */
export function forEachElement(elements: Int32Array, visit: (element: ChunkElement) => void): void {
  for (let base = 0; base + FIELDS <= elements.length; base += FIELDS) {
    const field = (index: number): number => elements[base + index] as number;
    visit({ start: field(0), end: field(1), eventLine: field(2), firstLine: field(3), place: { position: field(4), arrayLine: field(5), documentLine: field(6) } });
  }
}
