import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { hashMessageId } from "../../src/delivery/dedupe.js";
import type { KoalaEntry } from "../../src/delivery/entry.js";
import { presetMappings } from "../../src/koala/presets.js";
import { ChunkEncoder, ChunkReader, processChunk, takeSpareResults, type ChunkReaderOptions, type ResultBuffers } from "../../src/pipeline/chunk-codec.js";
import { extractIdentityFacts } from "../../src/identity/identity-facts.js";
import { ElementChunkBuilder, type ElementChunk } from "../../src/inputs/element-chunks.js";
import { itemsFromPart, JsonEventNumbers } from "../../src/inputs/json-document.js";
import { JsonSequenceSplitter, MAX_DOCUMENT_BYTES } from "../../src/inputs/json-sequence.js";
import { readInput, type InputBatch } from "../../src/inputs/read-input.js";
import type { InputItem } from "../../src/inputs/record.js";
import { eventDepthProblem, isNestedTooDeeply } from "../../src/pipeline/event-depth.js";
import { decodeChunkFacts, extractElementFacts } from "../../src/pipeline/identity-codec.js";
import { collectLineOutcomes, type ReadOutcome } from "../../src/pipeline/process-lines.js";
import { processEvent } from "../../src/pipeline/processor.js";
import { buildProcessorRules, mappingNames, type ProcessorConfig } from "../../src/pipeline/processor-config.js";
import { archiveFiles, readFixtureEvents } from "../helpers/fixture-events.js";
import { WorkerPool } from "../../dist/pipeline/worker-pool.js";
import { startWorkersEarly, takeEarlyWorker, WORKER_POOL_THRESHOLD_BYTES } from "../../dist/pipeline/early-workers.js";

// The worker threads send each chunk's outcomes to the main thread as numbers and UTF-8 bytes.
// Whatever the main thread reads back must be what it would have computed itself.

const handMadeLines = [
  `{"timestamp":"2024-05-01T10:00:00.000Z","type":"track","event":"Unicode ✓ 漢字 😀","userId":"u-1","properties":{"email":"zoë@example.com","note":"\\u0000 and \\"quotes\\""},"messageId":"m-1"}`,
  `{"timestamp":"2024-05-01T10:00:00.000Z","type":"identify","userId":"u-2","traits":{"email":"two@example.com","name":"Brontë"},"messageId":"m-2"}`,
  `{"timestamp":"2024-05-01T10:00:00.000Z","type":"track","event":"No email","userId":"u-3","anonymousId":"a-3","messageId":"m-3"}`,
  `{"timestamp":"2024-05-01T10:00:00.000Z","type":"track","event":"Profile only","properties":{"profile_id":"p-4"},"messageId":"m-4"}`,
  `{"timestamp":"2024-05-01T10:00:00.000Z","type":"track","event":"Browser","context":{"library":{"name":"analytics.js"}},"userId":"u-5","properties":{"email":"five@example.com"}}`,
  `{"timestamp":"2024-05-01T10:00:00.000Z","type":"page","name":"Home","userId":"u-6"}`,
  `{"type":"track","event":"cut short"`,
  `[1,2,3]`,
  ``,
  `{"type":"track","event":"Bad time","timestamp":"not a date","properties":{"email":"bad@example.com"},"messageId":"m-9"}\r`,
  `{"timestamp":"2024-05-01T10:00:00.000Z","type":"identify","traits":{"email":"numbers@example.com","profile_id":42},"messageId":"m-10"}`,
  `{"koalaReplayDeadLetter":1,"reason":"rejected","attempts":1,"at":"2024-01-01T00:00:00.000Z","source":{"input":"a.jsonl","line":3},"mapping":"Track Event","messageId":"m-11","kind":"events","person":{"email":"dead@example.com","traits":{}},"entry":{"type":"track","event":"Again","message_id":"m-11"},"event":{"type":"track"}}`,
  `{"timestamp":"2024-05-01T10:00:00.000Z","type":"identify","userId":"u-12","traits":{"email":"twelve@example.com"}}`,
  // Lone surrogates, which UTF-8 cannot carry: each id must stay distinct from its U+FFFD twin.
  String.raw`{"timestamp":"2024-05-01T10:00:00.000Z","type":"track","event":"Lone","userId":"x\ud800","messageId":"m\udc00","properties":{"email":"lone\ud800@example.com"}}`,
  String.raw`{"timestamp":"2024-05-01T10:00:00.000Z","type":"track","event":"Twin","userId":"x\ufffd","messageId":"m\ufffd","properties":{"note":"no email"}}`,
  String.raw`{"timestamp":"2024-05-01T10:00:00.000Z","type":"track","event":"Lone only","userId":"x\ud800","anonymousId":"\udbff","messageId":"m-15"}`,
  // A dead letter of a mapping that the current config does not have, and one that is invalid.
  `{"koalaReplayDeadLetter":1,"reason":"rejected","attempts":1,"at":"2024-01-01T00:00:00.000Z","source":{"input":"a.jsonl","line":4},"mapping":"Renamed Orders","messageId":"m-16","kind":"events","person":{"email":"dead@example.com","traits":{}},"entry":{"type":"track","event":"Again","message_id":"m-16"},"event":{"type":"track"}}`,
  `{"koalaReplayDeadLetter":1,"reason":"rejected"}`,
];

function fixtureLines(): string[] {
  return archiveFiles(new URL("../../fixtures/archives", import.meta.url).pathname).flatMap((path) =>
    readFixtureEvents(path).map((event) => JSON.stringify(event)),
  );
}

/** Returns every outcome of a chunk reader, in order. */
function readAll(reader: { next(): ReadOutcome | undefined }): ReadOutcome[] {
  const outcomes: ReadOutcome[] = [];
  for (let outcome = reader.next(); outcome !== undefined; outcome = reader.next()) {
    outcomes.push(outcome);
  }
  return outcomes;
}

function roundTrip(bytes: Buffer, config: ProcessorConfig, options?: ChunkReaderOptions, spare?: ResultBuffers): ReadOutcome[] {
  const rules = buildProcessorRules(config);
  const names = mappingNames(config);
  const encoder = new ChunkEncoder(names, 64, spare);
  for (const outcome of collectLineOutcomes("input.jsonl", 1, bytes, rules)) {
    encoder.add(outcome);
  }
  const encoded = encoder.finish();
  // The worker posts copies of these, so the reader must not depend on the encoder's own buffers.
  const copied = { ints: encoded.ints.slice(), text: Uint8Array.from(encoded.text) };
  return readAll(new ChunkReader(copied, "input.jsonl", bytes, names, options));
}

/** Picks the fields of an entry that delivery, stitching and dead letters read. */
function entryView(entry: KoalaEntry): Record<string, unknown> {
  return { ...deliveredView(entry), eventJson: JSON.parse(entry.eventJson) as unknown };
}

/** Picks the fields of an entry that delivery and stitching read: all but its event. */
function deliveredView(entry: KoalaEntry): Record<string, unknown> {
  return {
    kind: entry.kind,
    mappingName: entry.mappingName,
    origin: entry.origin,
    person: entry.person,
    personKey: entry.personKey,
    personId: String(entry.personId ?? entry.person.profile_id ?? entry.person.email),
    entryJson: entry.entryJson,
    messageId: entry.messageId,
  };
}

function outcomeView(outcome: ReadOutcome): Record<string, unknown> {
  if (outcome.kind === "problem") {
    const { origin, reason, message } = outcome.problem;
    return { problem: { origin, reason, message } };
  }
  const { result } = outcome;
  return {
    origin: result.origin,
    skipped: result.skipped,
    resentDeadLetter: result.resentDeadLetter,
    unmatchedType: result.unmatchedType,
    matched: result.matched,
    verdicts: result.verdicts,
    entriesWithEmail: result.entriesWithEmail,
    // The encoder keeps the ids only where stitching may read them.
    identity: result.unidentified.length > 0 ? result.identity : {},
    entries: result.entries.map(entryView),
    unidentified: result.unidentified.map(entryView),
    unidentifiedNotBuilt: result.unidentifiedNotBuilt,
  };
}

const presets: ProcessorConfig = { mappings: presetMappings(), browserEvents: { kind: "skip" }, filters: [] };
const presetsWithoutStitching: ProcessorConfig = { ...presets, stitching: false };

describe("chunk codec", () => {
  test.each([
    ["hand-made lines", handMadeLines, presets],
    ["fixture archives", fixtureLines(), presets],
    ["hand-made lines without stitching", handMadeLines, presetsWithoutStitching],
    ["fixture archives without stitching", fixtureLines(), presetsWithoutStitching],
  ])("%s decode as processed", (_name, lines, config) => {
    const bytes = Buffer.from(`\uFEFF${lines.join("\n")}\n`);
    const expected = collectLineOutcomes("input.jsonl", 1, bytes, buildProcessorRules(config));

    const decoded = roundTrip(bytes, config);

    expect(expected.length).toBeGreaterThan(5);
    expect(decoded.map(outcomeView)).toEqual(expected.map(outcomeView));
  });

  test("unidentified entries without stitching are counted only", () => {
    const bytes = Buffer.from(`${handMadeLines[2]}\n`);

    const [stitching] = roundTrip(bytes, presets);
    const [notStitching] = roundTrip(bytes, presetsWithoutStitching);
    if (stitching?.kind !== "result" || notStitching?.kind !== "result") {
      throw new Error("expected the line to be read as an event");
    }

    expect(stitching.result.unidentified.length).toBe(1);
    expect(stitching.result.unidentifiedNotBuilt).toBe(0);
    expect(notStitching.result.unidentified.length).toBe(0);
    expect(notStitching.result.unidentifiedNotBuilt).toBe(1);
    expect(notStitching.result.matched).toEqual(["Track Event"]);
  });

  test("entry bytes and hashes match the text", () => {
    const bytes = Buffer.from(`${handMadeLines.join("\n")}\n`);

    const entries = roundTrip(bytes, presets).flatMap((outcome) => (outcome.kind === "result" ? [...outcome.result.entries, ...outcome.result.unidentified] : []));

    expect(entries.length).toBeGreaterThan(5);
    expect(entries.map((entry) => entry.messageId)).toContain("m\udc00");
    expect(entries.map((entry) => entry.mappingName)).toContain("Renamed Orders");
    for (const entry of entries) {
      expect(Buffer.from(entry.entryBytes ?? []).toString("utf8")).toBe(entry.entryJson);
      expect(entry.messageIdHash).toEqual(hashMessageId(entry.mappingName, entry.messageId));
    }
  });

  test("verdicts and filter survive", () => {
    const config: ProcessorConfig = {
      mappings: [
        ...presetMappings(),
        { name: "Needs revenue", enabled: true, action: "trackEvent", trigger: 'type = "track"', mapping: { event: { "@path": "$.properties.revenue" } } },
      ],
      browserEvents: { kind: "include" },
      filters: [{ label: "--filter", text: '!(event = "Browser")' }],
    };
    const bytes = Buffer.from(`${handMadeLines.join("\n")}\n`);
    const expected = collectLineOutcomes("input.jsonl", 1, bytes, buildProcessorRules(config));

    const decoded = roundTrip(bytes, config);

    expect(expected.some((outcome) => outcome.kind === "result" && outcome.result.verdicts.some((verdict) => verdict.kind === "invalid"))).toBe(true);
    expect(expected.some((outcome) => outcome.kind === "result" && outcome.result.skipped === "filtered-out")).toBe(true);
    expect(decoded.map(outcomeView)).toEqual(expected.map(outcomeView));
  });

  test("without event lines, entries are the same but have no event", () => {
    const bytes = Buffer.from(`${handMadeLines.join("\n")}\n`);
    const withLines = roundTrip(bytes, presets);
    const withoutLines = roundTrip(bytes, presets, { keepEventLines: false, separateEntryBuffers: true });
    const sharing = roundTrip(bytes, presets, { keepEventLines: false, separateEntryBuffers: false });

    const entriesOf = (outcomes: ReadOutcome[]): KoalaEntry[] =>
      outcomes.flatMap((outcome) => (outcome.kind === "result" ? [...outcome.result.entries, ...outcome.result.unidentified] : []));
    expect(entriesOf(withoutLines).map(deliveredView)).toEqual(entriesOf(withLines).map(deliveredView));
    expect(entriesOf(sharing).map(deliveredView)).toEqual(entriesOf(withLines).map(deliveredView));
    const slabs = new Set(entriesOf(sharing).map((entry) => entry.entryBytes?.buffer));
    expect(slabs.size).toBe(1);
    const mapped = entriesOf(withoutLines).find((entry) => entry.mappingName === "Track Event" && entry.messageId === "m-1");
    expect(() => mapped?.eventJson).toThrow(/input\.jsonl:1 was not kept/);
    // A resent dead letter carries its event, which is kept either way.
    const resent = entriesOf(withoutLines).find((entry) => entry.messageId === "m-11");
    expect(JSON.parse(resent?.eventJson ?? "")).toEqual({ type: "track" });
  });

  test("shared slabs fit an entry longer than a slab", () => {
    const long = JSON.stringify({ timestamp: "2024-05-01T10:00:00.000Z", type: "track", event: "Long", userId: "u-1", messageId: "m-long", properties: { email: "long@example.com", note: "x".repeat(100_000) } });
    const short = JSON.stringify({ timestamp: "2024-05-01T10:00:00.000Z", type: "track", event: "Short", userId: "u-2", messageId: "m-short", properties: { email: "short@example.com" } });
    const bytes = Buffer.from(`${short}\n${long}\n${short.replace("m-short", "m-short-2")}\n`);

    const separate = roundTrip(bytes, presets, { keepEventLines: false, separateEntryBuffers: true });
    const sharing = roundTrip(bytes, presets, { keepEventLines: false, separateEntryBuffers: false });

    const entriesOf = (outcomes: ReadOutcome[]): KoalaEntry[] => outcomes.flatMap((outcome) => (outcome.kind === "result" ? outcome.result.entries : []));
    expect(entriesOf(sharing)).toHaveLength(3);
    expect(entriesOf(sharing).map(deliveredView)).toEqual(entriesOf(separate).map(deliveredView));
    expect(entriesOf(sharing)[1]?.entryJson).toContain("x".repeat(100_000));
  });

  test("buffers of a released chunk encode the next one", () => {
    const names = mappingNames(presets);
    const rules = buildProcessorRules(presets);
    const first = Buffer.from(`${handMadeLines.join("\n")}\n`);
    const second = Buffer.from(`${fixtureLines().join("\n")}\n`);
    const expected = roundTrip(second, presets).map(outcomeView);

    const reader = new ChunkReader(processChunk({ kind: "lines", input: "input.jsonl", firstLine: 1, bytes: first }, rules, names), "input.jsonl", first, names);
    while (reader.next() !== undefined) {
      // Read every outcome, as the replay does before it releases a chunk.
    }
    reader.release();
    reader.release();
    const spare = takeSpareResults();
    expect(spare).toBeDefined();
    expect(takeSpareResults()).toBeUndefined();

    const decoded = roundTrip(second, presets, undefined, spare);
    expect(decoded.map(outcomeView)).toEqual(expected);
  });
});

// The pool starts the compiled worker (dist/pipeline/chunk-worker.js), so it is imported from the
// build, which `npm test` makes first. The CLI tests' inputs are often read by the main thread
// alone, because it processes the chunks itself until a worker has started.
describe("worker pool", () => {
  async function whenReady(pool: WorkerPool): Promise<void> {
    for (let waited = 0; pool.busy; waited += 10) {
      if (waited > 20_000) {
        throw new Error("the worker did not start within 20 s");
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Runs `use` with a pool of one worker once the worker has started, and closes the pool. */
  async function withReadyPool(config: ProcessorConfig, use: (pool: WorkerPool) => Promise<void>): Promise<void> {
    const pool = new WorkerPool(config, 1);
    try {
      await whenReady(pool);
      await use(pool);
    } finally {
      await pool.close();
    }
  }

  test("busy until a worker has started", async () => {
    const pool = new WorkerPool(presets, 1);
    try {
      expect(pool.busy).toBe(true);

      await whenReady(pool);

      expect(pool.busy).toBe(false);
    } finally {
      await pool.close();
    }
  });

  test.each([
    ["stitching", presets],
    ["no stitching", presetsWithoutStitching],
  ])("worker outcomes equal the main thread's, %s", async (_name, config) => {
    const text = `${[...handMadeLines, ...fixtureLines()].join("\n")}\n`;
    const expected = collectLineOutcomes("input.jsonl", 1, Buffer.from(text), buildProcessorRules(config));
    await withReadyPool(config, async (pool) => {
      // The bytes move to the worker, so the pool gets a copy of its own.
      const reader = await pool.process({ kind: "lines", input: "input.jsonl", firstLine: 1, bytes: Buffer.from(text) }, { keepEventLines: true, separateEntryBuffers: true });

      expect(readAll(reader).map(outcomeView)).toEqual(expected.map(outcomeView));
    });
  });

  describe("workers started early", () => {
    /** Runs `use` with the path of a file of `bytes` bytes, then removes it. */
    async function withFileOfSize(bytes: number, use: (path: string) => Promise<void> | void): Promise<void> {
      const directory = mkdtempSync(join(tmpdir(), "koala-replay-early-"));
      const path = join(directory, "events.jsonl");
      writeFileSync(path, Buffer.alloc(bytes, "\n"));
      try {
        await use(path);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    }

    test("none for a small input", () =>
      withFileOfSize(WORKER_POOL_THRESHOLD_BYTES - 1, (path) => {
        startWorkersEarly([path, "missing.jsonl", "-"]);

        expect(takeEarlyWorker()).toBeUndefined();
      }));

    test("started for a large input", () =>
      withFileOfSize(WORKER_POOL_THRESHOLD_BYTES, async (path) => {
        startWorkersEarly([path]);
        const workers = [];
        for (let worker = takeEarlyWorker(); worker !== undefined; worker = takeEarlyWorker()) {
          workers.push(worker);
        }

        expect(workers.length).toBeGreaterThan(0);
        await Promise.all(workers.map((worker) => worker.terminate()));
      }));

    test("taken by the pool", () =>
      withFileOfSize(WORKER_POOL_THRESHOLD_BYTES, async (path) => {
        const text = `${[...handMadeLines, ...fixtureLines()].join("\n")}\n`;
        const expected = collectLineOutcomes("input.jsonl", 1, Buffer.from(text), buildProcessorRules(presets));
        startWorkersEarly([path]);
        const pool = new WorkerPool(presets);
        try {
          expect(takeEarlyWorker()).toBeUndefined();

          await whenReady(pool);
          const reader = await pool.process({ kind: "lines", input: "input.jsonl", firstLine: 1, bytes: Buffer.from(text) }, { keepEventLines: true, separateEntryBuffers: true });

          expect(readAll(reader).map(outcomeView)).toEqual(expected.map(outcomeView));
        } finally {
          await pool.close();
        }
      }));
  });

  test.each([
    ["stitching", presets],
    ["no stitching", presetsWithoutStitching],
  ])("worker elements equal parsed items, %s", async (_name, config) => {
    const text = arrayOfTrickyElements();
    const directory = mkdtempSync(join(tmpdir(), "koala-replay-elements-"));
    const path = join(directory, "events.json");
    writeFileSync(path, text);
    const rules = buildProcessorRules(config);
    const expected = parsedItems(text, path).map((item) => outcomeOfItem(item, rules));
    try {
      await withReadyPool(config, async (pool) => {
        const outcomes: ReadOutcome[] = [];
        const kinds: Array<InputBatch["kind"]> = [];
        for await (const batch of readInput(path)) {
          kinds.push(batch.kind);
          if (batch.kind === "elements") {
            outcomes.push(...readAll(await pool.process(batch, { keepEventLines: true, separateEntryBuffers: true })));
          } else if (batch.kind === "items") {
            outcomes.push(...batch.items.map((item) => outcomeOfItem(item, rules)));
          }
        }

        expect(kinds).toEqual(["elements", "items", "elements"]);
        const problems = expected.flatMap((outcome) => (outcome.kind === "problem" ? [outcome.problem.message.replace(/^\S+: /, "")] : []));
        expect(problems).toEqual([
          "element 7 of the array that starts at line 1 is an array, expected an event object",
          "the event is nested too deeply to process (more than 1,000 levels); flatten or remove the line",
          "invalid JSON in element 19 of the array that starts at line 1 (Expected ',' or '}' after property value in JSON, at line 28), so the element was skipped; fix or remove it",
          "element 20 of the array that starts at line 1 is a string, expected an event object",
          "element 21 of the array that starts at line 1 is a number, expected an event object",
          "unexpected comma in the array that starts at line 1, where an element is missing; remove the comma",
        ]);
        expect(outcomes.map(outcomeWithEventText)).toEqual(expected.map(outcomeWithEventText));
      });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test("element identity facts equal items'", () => {
    const text = arrayOfTrickyElements();
    const splitter = new JsonSequenceSplitter(MAX_DOCUMENT_BYTES);
    const parts = [...splitter.push(Buffer.from(text)), ...splitter.end()];
    const elements = parts.filter((part) => part.kind === "element");
    const builder = new ElementChunkBuilder();
    elements.forEach((part, index) => builder.add(part.bytes, index + 1, part.firstLine, part.place));
    const chunk = builder.take() as ElementChunk;
    const numbers = new JsonEventNumbers();
    const expected = elements
      .flatMap((part) => itemsFromPart(part, "events.json", numbers))
      .flatMap((item) => (item.kind === "record" && !isNestedTooDeeply(item.event) ? [extractIdentityFacts(item.event)] : []))
      .filter((facts) => facts !== undefined);

    const facts = decodeChunkFacts(extractElementFacts(chunk.bytes, chunk.elements));

    expect(expected.length).toBeGreaterThan(10);
    expect(facts).toEqual(expected);
  });
});

/**
 * Builds a JSON array of the hand-made lines and the fixture events. Some elements are broken, not
 * objects, pretty-printed, nested too deeply, or without a messageId. A stray comma between elements
 * makes the reader yield a problem item between two chunks of elements.
 */
function arrayOfTrickyElements(): string {
  const lines = handMadeLines.filter((line) => line !== "" && !line.endsWith('"cut short"')).map((line) => line.replace(/\r$/, ""));
  const deep = `{"type":"track","event":"Deep","userId":"u","properties":${"[".repeat(1000)}${"]".repeat(1000)}}`;
  const pretty = JSON.stringify({ type: "identify", userId: "u-p", traits: { email: "pretty@example.com" }, timestamp: "2024-05-01T10:00:00.000Z" }, null, 2);
  const broken = `{"type":"track"\n  "event":"Broken"}`;
  const first = [...lines, deep, pretty, broken, '"a string"', "42"];
  const second = fixtureLines().slice(0, 200);
  return `[\n${first.join(",\n")},\n,\n${second.join(",\n")}\n]\n`;
}

/** Reads a JSON input as it was read before its array elements went to the worker threads: as parsed items. */
function parsedItems(text: string, input: string): InputItem[] {
  const splitter = new JsonSequenceSplitter(MAX_DOCUMENT_BYTES);
  const numbers = new JsonEventNumbers();
  return [...splitter.push(Buffer.from(text)), ...splitter.end()].flatMap((part) => itemsFromPart(part, input, numbers));
}

/** Processes an item on this thread, as `runReplay` does. */
function outcomeOfItem(item: InputItem, rules: ReturnType<typeof buildProcessorRules>): ReadOutcome {
  if (item.kind === "problem") {
    return { kind: "problem", problem: item };
  }
  const problem = eventDepthProblem(item.event, item.origin);
  if (problem !== undefined) {
    return { kind: "problem", problem };
  }
  return { kind: "result", result: processEvent(item.event, item.origin, undefined, rules) };
}

/** Adds each entry's event text, exactly as a dead letter would write it, to `outcomeView`. */
function outcomeWithEventText(outcome: ReadOutcome): Record<string, unknown> {
  if (outcome.kind === "problem") {
    return outcomeView(outcome);
  }
  const { entries, unidentified } = outcome.result;
  return { ...outcomeView(outcome), eventTexts: [...entries, ...unidentified].map((entry) => entry.eventJson) };
}
