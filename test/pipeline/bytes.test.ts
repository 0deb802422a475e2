import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import { describe, expect, test } from "vitest";
import { buildBatchBody, writeBatchBody } from "../../src/delivery/body.js";
import type { KoalaEntry } from "../../src/delivery/entry.js";
import { ChunkBuffers } from "../../src/inputs/chunk-buffers.js";
import { readFileLineChunks, readLineChunks, type LineChunk, type OversizedLine } from "../../src/inputs/line-chunks.js";
import { BufferedOutput } from "../../src/pipeline/buffered-output.js";
import { decodeChunkFacts, extractChunkFacts } from "../../src/pipeline/identity-codec.js";

// The byte-level pieces of a large replay: chunks cut at line breaks, request bodies assembled from
// UTF-8 pieces, and the dry-run output gathered into blocks.

async function* pieces(parts: readonly string[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    yield Buffer.from(part);
  }
}

async function chunksOf(parts: readonly string[], targetBytes: number, buffers?: ChunkBuffers): Promise<Array<{ firstLine: number; text: string; bytes: Buffer }>> {
  const chunks = [];
  for await (const chunk of readLineChunks(pieces(parts), targetBytes, undefined, buffers)) {
    if (chunk.kind !== "lines") {
      throw new Error(`unexpected oversized line ${chunk.line}`);
    }
    chunks.push({ firstLine: chunk.firstLine, text: chunk.bytes.toString("utf8"), bytes: chunk.bytes });
  }
  return chunks;
}

describe("readLineChunks", () => {
  test("cuts at the last line break", async () => {
    const chunks = await chunksOf(["a\nb", "b\ncc", "c\nd", "d"], 4);

    expect(chunks.map((chunk) => chunk.text)).toEqual(["a\nbb\n", "ccc\n", "dd"]);
    expect(chunks.map((chunk) => chunk.firstLine)).toEqual([1, 3, 4]);
  });

  test("joins pieces without a line break", async () => {
    const chunks = await chunksOf(["aaaa", "bbbb", "cc\ndd", "\n"], 3);

    expect(chunks.map((chunk) => chunk.text)).toEqual(["aaaabbbbcc\n", "dd\n"]);
  });

  test("keeps multi-byte characters whole", async () => {
    const text = "é😀\n漢字\nzoë\n";
    const bytes = Buffer.from(text);
    const parts = [...bytes].map((byte) => Buffer.from([byte]).toString("latin1"));

    const chunks: string[] = [];
    for await (const chunk of readLineChunks((async function* () {
      for (const part of parts) {
        yield Buffer.from(part, "latin1");
      }
    })(), 5)) {
      if (chunk.kind === "lines") {
        chunks.push(chunk.bytes.toString("utf8"));
      }
    }

    expect(chunks.join("")).toBe(text);
    expect(chunks.every((chunk) => chunk.endsWith("\n"))).toBe(true);
  });

  test.each([
    ["in the middle", ["a\n", "b".repeat(40), "b".repeat(40), "b\nc\n"], ["lines 1: a\n", "oversized 2: 81 bytes", "lines 3: c\n"]],
    ["at the end", ["a\n", "b".repeat(40), "b".repeat(40)], ["lines 1: a\n", "oversized 2: 80 bytes"]],
    ["with its break in a later piece", ["a\n" + "b".repeat(50), "b".repeat(50), "bb", "b\nc"], ["lines 1: a\n", "oversized 2: 103 bytes", "lines 3: c"]],
  ])("skips a line too long %s", async (_where, parts, expected) => {
    const seen: string[] = [];
    for await (const chunk of readLineChunks(pieces(parts), 16, 64)) {
      seen.push(chunk.kind === "lines" ? `lines ${chunk.firstLine}: ${chunk.bytes.toString("utf8")}` : `oversized ${chunk.line}: ${chunk.bytes} bytes`);
    }

    expect(seen).toEqual(expected);
  });

  test.each([
    ["with a CR", ["a\n", `${"b".repeat(39)}\r`, "b".repeat(40), "b\n"], true],
    ["without a CR", ["a\n", "b".repeat(40), "b".repeat(40), "b\n"], undefined],
  ])("notes a too long line %s", async (_case, parts, carriageReturns) => {
    const oversized: OversizedLine[] = [];
    for await (const chunk of readLineChunks(pieces(parts), 16, 64)) {
      if (chunk.kind === "oversized") {
        oversized.push(chunk);
      }
    }

    expect(oversized).toHaveLength(1);
    expect(oversized[0]?.carriageReturns).toBe(carriageReturns);
  });

  test("gives each chunk its own buffer", async () => {
    const buffers = new ChunkBuffers(16_384);
    const chunks = await chunksOf(["x".repeat(10_000), "\n", "y".repeat(9_000), "\nz"], 8_192, buffers);

    expect(chunks.map((chunk) => chunk.text.length)).toEqual([10_001, 9_001, 1]);
    expect(chunks.every((chunk) => buffers.holdsAlone(chunk.bytes) && chunk.bytes.byteOffset === 0)).toBe(true);
    expect(new Set(chunks.map((chunk) => chunk.bytes.buffer)).size).toBe(3);
  });

  test("reuses the buffer of a chunk given back", async () => {
    const buffers = new ChunkBuffers(16_384);
    const chunks: Buffer[] = [];
    for await (const chunk of readLineChunks(pieces(["a".repeat(9_000), "\n", "b".repeat(9_000), "\n", "c".repeat(20_000), "\n"]), 8_192, undefined, buffers)) {
      if (chunk.kind === "lines") {
        chunks.push(chunk.bytes);
        // Given back as soon as it is read, as the replay does once a chunk's outcomes are handled.
        buffers.give(chunk.bytes);
      }
    }

    expect(chunks[1]?.buffer).toBe(chunks[0]?.buffer);
    expect(chunks[1]?.toString("utf8")).toBe(`${"b".repeat(9_000)}\n`);
    // Longer than the reused buffers: a buffer of its own size, which is not kept.
    expect(chunks[2]?.length).toBe(20_001);
    expect(chunks[2]?.buffer.byteLength).toBe(20_001);
  });

  test("ignores buffers it did not hand out, and a buffer given twice", () => {
    const buffers = new ChunkBuffers(1024);
    const first = buffers.take(10);
    buffers.give(Buffer.alloc(1024).subarray(1));
    buffers.give(first);
    buffers.give(first);

    const second = buffers.take(10);
    const third = buffers.take(10);
    expect(second.buffer).toBe(first.buffer);
    expect(third.buffer).not.toBe(first.buffer);
  });
});

describe("readFileLineChunks", () => {
  /** Lists chunks as their first line number and text, and each oversized line by its number and length. */
  async function describeChunks(chunks: AsyncIterable<LineChunk | OversizedLine>): Promise<string[]> {
    const seen: string[] = [];
    for await (const chunk of chunks) {
      seen.push(chunk.kind === "lines" ? `lines ${chunk.firstLine}: ${chunk.bytes.toString("utf8")}` : `oversized ${chunk.line}: ${chunk.bytes} bytes`);
    }
    return seen;
  }

  /** Runs `use` with the path of a file of `text`, then removes it. */
  async function withFile(text: string, use: (path: string) => Promise<void>): Promise<void> {
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-lines-"));
    try {
      const path = join(directory, "events.jsonl");
      writeFileSync(path, text);
      await use(path);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }

  test.each([
    ["lines cut by reads", "a\nbb\nccc\ndddd\ne\n"],
    ["no final line break", "a\nbb\nccc"],
    ["multi-byte characters", "é😀\n漢字\nzoë\n"],
    ["a line longer than a read", `a\n${"b".repeat(30)}\nc\n`],
    ["an empty file", ""],
  ])("same lines as the whole file, %s", async (_name, text) => {
    await withFile(text, async (path) => {
      const file = { handle: await open(path, "r"), bytesRead: 0 };
      const seen = await describeChunks(readFileLineChunks(file, 4, 64));

      expect(seen.map((chunk) => chunk.replace(/^lines \d+: /, "")).join("")).toBe(text);
      expect(seen.every((chunk) => chunk.startsWith("lines "))).toBe(true);
      expect(file.bytesRead).toBe(Buffer.byteLength(text));
    });
  });

  test("numbers the first line of each chunk", async () => {
    await withFile("a\nb\nc\nd\ne\n", async (path) => {
      const seen = await describeChunks(readFileLineChunks({ handle: await open(path, "r"), bytesRead: 0 }, 4));

      expect(seen).toEqual(["lines 1: a\nb\n", "lines 3: c\nd\n", "lines 5: e\n"]);
    });
  });

  test.each([
    ["in the middle", `a\n${"b".repeat(200)}\nc\n`, ["lines 1: a\n", "oversized 2: 200 bytes", "lines 3: c\n"]],
    ["at the end", `a\n${"b".repeat(200)}`, ["lines 1: a\n", "oversized 2: 200 bytes"]],
  ])("skips a line too long %s", async (_where, text, expected) => {
    await withFile(text, async (path) => {
      const seen = await describeChunks(readFileLineChunks({ handle: await open(path, "r"), bytesRead: 0 }, 16, 64));

      expect(seen).toEqual(expected);
    });
  });

  test("gives each chunk a buffer of the pool", async () => {
    const buffers = new ChunkBuffers(16_384);
    const chunks: Buffer[] = [];
    await withFile(`${"x".repeat(5_000)}\n${"y".repeat(5_000)}\nz`, async (path) => {
      for await (const chunk of readFileLineChunks({ handle: await open(path, "r"), bytesRead: 0 }, 8_192, undefined, buffers)) {
        if (chunk.kind === "lines") {
          chunks.push(chunk.bytes);
        }
      }
    });

    expect(chunks.map((chunk) => chunk.length)).toEqual([5_001, 5_001, 1]);
    expect(chunks.every((chunk) => buffers.holdsAlone(chunk) && chunk.byteOffset === 0)).toBe(true);
    expect(new Set(chunks.map((chunk) => chunk.buffer)).size).toBe(3);
  });
});

describe("ChunkBuffers.give", () => {
  test.each([
    ["the capacity", 1024],
    ["a pooled buffer's memory", new ChunkBuffers(1024).take(1).buffer.byteLength],
  ])("ignores a foreign buffer the size of %s", (_size, byteLength) => {
    const buffers = new ChunkBuffers(1024);
    const foreign = Buffer.allocUnsafeSlow(byteLength).fill(0x41);

    buffers.give(foreign);

    expect(buffers.take(10).buffer).not.toBe(foreign.buffer);
  });

  test("ignores a buffer of another pool", () => {
    const pool = new ChunkBuffers(1024);
    const otherPool = new ChunkBuffers(1024);
    const other = otherPool.take(10);

    pool.give(other);

    expect(pool.take(10).buffer).not.toBe(other.buffer);
    expect(otherPool.take(10).buffer).not.toBe(other.buffer);
  });

  test("keeps a buffer back from a worker thread", async () => {
    const buffers = new ChunkBuffers(1024);
    const chunk = buffers.take(5);
    chunk.write("hello");
    // Echoes the chunk back, transferring its memory both ways as the worker pool does.
    const worker = new Worker(
      `const { parentPort } = require("node:worker_threads");
       parentPort.on("message", (bytes) => parentPort.postMessage(bytes, [bytes.buffer]));`,
      { eval: true },
    );
    try {
      const returned = new Promise<Uint8Array>((resolve) => worker.once("message", resolve));
      worker.postMessage(chunk, [chunk.buffer as ArrayBuffer]);
      const back = await returned;
      expect(chunk.buffer.byteLength).toBe(0);

      buffers.give(back);

      expect(Buffer.from(back).toString("utf8")).toBe("hello");
      expect(buffers.take(10).buffer).toBe(back.buffer);
    } finally {
      await worker.terminate();
    }
  });
});

function entry(kind: KoalaEntry["kind"], json: string, asBytes: boolean): KoalaEntry {
  return {
    kind,
    person: { email: "ada@example.com", traits: {} },
    personKey: '{"email":"ada@example.com","traits":{}}',
    entryJson: json,
    ...(asBytes ? { entryBytes: Buffer.from(json) } : {}),
    messageId: "m",
    mappingName: "Track Event",
    origin: { input: "a.jsonl", line: 1 },
    eventJson: "{}",
  };
}

describe("batch body", () => {
  test.each([true, false])("entry bytes %s give same JSON", (asBytes) => {
    const entries = [entry("events", '{"event":"A ✓"}', asBytes), entry("identifies", '{"type":"identify"}', asBytes), entry("events", '{"event":"B"}', asBytes)];

    const body = JSON.parse(buildBatchBody('{"email":"ada@example.com","traits":{}}', entries).toString("utf8"));

    expect(body).toEqual({ email: "ada@example.com", traits: {}, events: [{ event: "A ✓" }, { event: "B" }], identifies: [{ type: "identify" }] });
  });

  test("empty person gets no comma", () => {
    const body = buildBatchBody(Buffer.from("{}"), [entry("identifies", "{}", true)]);

    expect(body.toString("utf8")).toBe('{"identifies":[{}]}');
  });

  test("pieces join to the built body", () => {
    const entries = [entry("events", '{"a":1}', true), entry("events", '{"b":2}', false)];
    const pieces: Buffer[] = [];

    writeBatchBody("{\"email\":\"é@example.com\"}", entries, (piece) => pieces.push(Buffer.from(piece)));

    expect(Buffer.concat(pieces).toString("utf8")).toBe(buildBatchBody('{"email":"é@example.com"}', entries).toString("utf8"));
  });
});

/** A stream that reads each chunk a few milliseconds after it is given, as a slow pipe does. */
class SlowSink extends Writable {
  readonly received: Buffer[] = [];

  constructor() {
    super({ highWaterMark: 16 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    void delay(2).then(() => {
      this.received.push(Buffer.from(chunk));
      callback();
    });
  }
}

describe("BufferedOutput", () => {
  test("blocks held by a slow stream stay intact", async () => {
    const sink = new SlowSink();
    const output = new BufferedOutput(sink, 64);
    const lines = Array.from({ length: 200 }, (_, index) => `line ${index} ${"é".repeat(index % 7)}\n`);

    for (const line of lines) {
      output.write(index(line) % 2 === 0 ? line : Buffer.from(line));
    }
    output.flush();
    await new Promise<void>((resolve) => sink.end(resolve));

    expect(Buffer.concat(sink.received).toString("utf8")).toBe(lines.join(""));
  });

  test("reports backpressure", () => {
    const sink = new SlowSink();
    const output = new BufferedOutput(sink, 32);

    const accepted = [output.write("x".repeat(40)), output.write("y".repeat(40))];

    expect(accepted).toContain(false);
  });
});

function index(line: string): number {
  return Number(line.split(" ")[1]);
}

describe("identity first pass", () => {
  const facts = (lines: readonly string[]): ReturnType<typeof decodeChunkFacts> => decodeChunkFacts(extractChunkFacts(Buffer.from(lines.join("\n")), 1));

  test("escaped key still read", () => {
    const found = facts([String.raw`{"type":"identify","userId":"u-1","traits":{"\u0065mail":"ada@example.com"}}`]);

    expect(found.map((fact) => fact.email)).toEqual(["ada@example.com"]);
  });

  test("lines without facts skipped", () => {
    const found = facts([
      `{"type":"track","userId":"u-1","event":"A"}`,
      `{"type":"page","anonymousId":"a-1"}`,
      `{"type":"track","userId":"u-2","anonymousId":"a-2"}`,
      `{"type":"alias","userId":"u-3","previousId":"a-3"}`,
      `{"type":"track","properties":{"email":"bob@example.com"}}`,
    ]);

    expect(found.map((fact) => [fact.userId, fact.anonymousId, fact.aliasOf, fact.email])).toEqual([
      ["u-2", "a-2", undefined, undefined],
      ["u-3", undefined, "a-3", undefined],
      [undefined, undefined, undefined, "bob@example.com"],
    ]);
  });
});
