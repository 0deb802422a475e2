import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writeFileAtomically } from "../../src/delivery/checkpoint.js";
import { CannotResumeError, createDelivery, defaultStatePath, StateMismatchError, type DeliveryOptions, type InputNotRead } from "../../src/delivery/index.js";
import type { KoalaEntry } from "../../src/delivery/entry.js";
import { type KoalaEmulator, startKoalaEmulator } from "../emulator/koala-emulator.js";
import { forEachElement } from "../../src/inputs/element-chunks.js";
import { itemFromElementText } from "../../src/inputs/json-document.js";
import { readInput } from "../../src/inputs/read-input.js";
import type { InputItem, RecordOrigin } from "../../src/inputs/record.js";
import { makeEntry, makeRecords, TEST_KEY, temporaryDirectory, testOptions } from "./helpers.js";

const emulators: KoalaEmulator[] = [];

afterEach(async () => {
  for (const emulator of emulators.splice(0)) {
    await emulator.close();
  }
});

async function startEmulator(faults = {}): Promise<KoalaEmulator> {
  const emulator = await startKoalaEmulator({ publicKey: TEST_KEY, faults });
  emulators.push(emulator);
  return emulator;
}

/** Writes an input file with one line per record, so fingerprints have something to read. */
function writeInput(folder: string, records: readonly KoalaEntry[]): string {
  writeFileSync(join(folder, "events.jsonl"), records.map((entry) => entry.eventJson).join("\n"));
  return "events.jsonl";
}

/**
 * Rewrites the endpoint that a state file records, so that a resume to a second emulator, which
 * stands for the same Koala after a crash, is not rejected as a resume to another destination.
 */
function moveCheckpointTo(statePath: string, endpoint: string): void {
  const state = JSON.parse(readFileSync(statePath, "utf8")) as Record<string, unknown>;
  writeFileSync(statePath, JSON.stringify({ ...state, endpoint }));
}

async function yieldToIo(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

describe("checkpoint", () => {
  it("leaves no temporary file after a failed save", () => {
    const folder = temporaryDirectory();
    // A folder created in place of the state file after the run started makes the rename fail.
    mkdirSync(join(folder, "state.json"));

    expect(() => writeFileAtomically(join(folder, "state.json"), "state\n")).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(folder)).toEqual(["state.json"]);
  });

  it("writes the state file atomically", () => {
    const folder = temporaryDirectory();
    const path = join(folder, "nested", "state.json");
    writeFileAtomically(path, "first\n");
    const firstInode = statSync(path).ino;
    writeFileAtomically(path, "second\n");

    expect(readFileSync(path, "utf8")).toBe("second\n");
    // A new inode shows the file was replaced by rename, never rewritten in place.
    expect(statSync(path).ino).not.toBe(firstInode);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(folder, "nested"))).toEqual(["state.json"]);
  });

  it("records a finished run as done", async () => {
    const emulator = await startEmulator();
    const folder = temporaryDirectory();
    const records = makeRecords(50, 5);
    const input = writeInput(folder, records);
    const delivery = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: [input] }));
    for (const entry of records) {
      await delivery.submit(entry.origin, entry.origin.line % 10 === 0 ? [] : [entry]);
    }
    const result = await delivery.finish();

    const statePath = defaultStatePath([input], folder);
    expect(result.statePath).toBe(statePath);
    const state = JSON.parse(readFileSync(statePath, "utf8"));
    expect(state.version).toBe(2);
    expect(state.inputs[join(folder, input)]).toMatchObject({ doneThrough: 50, watermark: 50, notDone: [] });
    expect(state.inputs[join(folder, input)].fingerprint.size).toBeGreaterThan(0);
  });

  it.each([0.2, 0.5, 0.8])("resume after a crash at %s delivers everything", async (crashPoint) => {
    const folder = temporaryDirectory();
    const records = makeRecords(600, 40);
    const input = writeInput(folder, records);
    const statePath = join(folder, "state.json");
    const first = await startEmulator({ slowRate: 0.3, slowDelayMs: 20, serverErrorRate: 0.05 });
    const crashed = createDelivery(
      testOptions(first.url, { cwd: folder, inputs: [input], statePath, maxBatchSize: 4, flushAfterRecords: 50, checkpointIntervalMs: 0 }),
    );

    const crashAt = Math.floor(records.length * crashPoint);
    for (const entry of records.slice(0, crashAt)) {
      await crashed.submit(entry.origin, [entry]);
      if (entry.origin.line % 20 === 0) {
        await yieldToIo();
      }
    }
    // Some requests must have completed, so the crash leaves a checkpoint to resume from. On a busy
    // machine the first file can be written before any request has come back, so wait for a done line.
    const deadline = Date.now() + 5_000;
    const hasDoneLine = (): boolean => existsSync(statePath) && JSON.parse(readFileSync(statePath, "utf8")).inputs[join(folder, input)].watermark > 0;
    while (!hasDoneLine() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // The crash: what is on disk now and what the server has now is all that survives.
    const crashState = join(folder, "crash-state.json");
    copyFileSync(statePath, crashState);
    const receivedBeforeCrash = new Set(first.accepted.keys());
    const doneBeforeCrash = JSON.parse(readFileSync(crashState, "utf8")).inputs[join(folder, input)];
    expect(doneBeforeCrash.doneThrough).toBeGreaterThan(0);
    void crashed.stop();

    const second = await startEmulator();
    moveCheckpointTo(crashState, second.url);
    const resumed = createDelivery(testOptions(second.url, { cwd: folder, inputs: [input], statePath: crashState, resume: true }));
    let skipped = 0;
    for (const entry of records) {
      if (resumed.isDone(entry.origin)) {
        skipped += 1;
        continue;
      }
      await resumed.submit(entry.origin, [entry]);
    }
    const result = await resumed.finish();

    expect(skipped).toBeGreaterThan(0);
    expect(result.fatal).toBeUndefined();
    expect(result.deadLetteredTotal).toBe(0);
    const missing = records.filter((entry) => !receivedBeforeCrash.has(entry.messageId) && !second.accepted.has(entry.messageId));
    expect(missing.map((entry) => entry.messageId)).toEqual([]);
    const finalState = JSON.parse(readFileSync(crashState, "utf8")).inputs[join(folder, input)];
    expect(finalState).toMatchObject({ doneThrough: 600, watermark: 600, notDone: [] });
  });

  it("stop cancels backoff and resumes", async () => {
    const folder = temporaryDirectory();
    const records = makeRecords(200, 10);
    const input = writeInput(folder, records);
    const statePath = join(folder, "state.json");
    const throttled = await startEmulator({ rateLimitEvery: 5, retryAfterSeconds: 30 });
    const first = createDelivery(
      testOptions(throttled.url, { cwd: folder, inputs: [input], statePath, retryAfterCapMs: 30_000, maxBatchSize: 5 }),
    );
    for (const entry of records) {
      await first.submit(entry.origin, [entry]);
    }
    void first.finish();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stopStartedAt = Date.now();
    await first.stop();
    const firstResult = await first.finish();

    expect(Date.now() - stopStartedAt).toBeLessThan(1_000);
    expect(firstResult.stopped).toBe(true);
    expect(firstResult.undelivered).toBeGreaterThan(0);
    expect(firstResult.delivered + firstResult.undelivered).toBe(200);
    expect(firstResult.submitted).toBe(200);

    const second = await startEmulator();
    moveCheckpointTo(statePath, second.url);
    const resumed = createDelivery(testOptions(second.url, { cwd: folder, inputs: [input], statePath, resume: true }));
    for (const entry of records) {
      if (!resumed.isDone(entry.origin)) {
        await resumed.submit(entry.origin, [entry]);
      }
    }
    const result = await resumed.finish();

    expect(result.delivered).toBeGreaterThanOrEqual(firstResult.undelivered);
    const all = new Set([...throttled.accepted.keys(), ...second.accepted.keys()]);
    expect(all.size).toBe(200);
  });

  it("stop aborts slow requests after grace", async () => {
    const folder = temporaryDirectory();
    const records = makeRecords(20, 4);
    const input = writeInput(folder, records);
    const statePath = join(folder, "state.json");
    const slow = await startEmulator({ slowRate: 1, slowDelayMs: 5_000 });
    const delivery = createDelivery(testOptions(slow.url, { cwd: folder, inputs: [input], statePath, stopGraceMs: 200, timeoutMs: 10_000 }));
    for (const entry of records) {
      await delivery.submit(entry.origin, [entry]);
    }
    void delivery.finish();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopStartedAt = Date.now();
    await delivery.stop();
    const result = await delivery.finish();

    expect(Date.now() - stopStartedAt).toBeLessThan(1_000);
    expect(result.undelivered).toBe(20);
    expect(result.deadLetteredTotal).toBe(0);
    const state = JSON.parse(readFileSync(statePath, "utf8")).inputs[join(folder, input)];
    expect(state.watermark).toBe(0);
    expect(state.notDone).toHaveLength(20);
  });

  it("resume skips delivered entries of unfinished records", async () => {
    const folder = temporaryDirectory();
    // Each record makes an entry for each of two persons, so the two go in separate requests, and
    // the emulator fails every request of the second person until the run is stopped.
    const records = makeRecords(10, 1).map((entry) => {
      const second = { ...makeEntry({ email: "buyer@example.com", traits: {} }, `orders-${entry.origin.line}`, entry.origin), mappingName: "Orders" };
      return [entry, second];
    });
    const input = writeInput(folder, records.map(([entry]) => entry as KoalaEntry));
    const statePath = join(folder, "state.json");
    const failing = await startEmulator({ serverErrorEntry: (entry: Record<string, unknown>) => String(entry["message_id"]).startsWith("orders-") });
    const stopped = createDelivery(testOptions(failing.url, { cwd: folder, inputs: [input], statePath, maxAttempts: 1_000, flushAfterRecords: 1 }));
    for (const [entry, second] of records) {
      await stopped.submit((entry as KoalaEntry).origin, [entry as KoalaEntry, second as KoalaEntry]);
    }
    void stopped.finish();
    const deadline = Date.now() + 10_000;
    while (failing.accepted.size < records.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await stopped.stop();
    const stoppedResult = await stopped.finish();
    const state = JSON.parse(readFileSync(statePath, "utf8")).inputs[join(folder, input)];

    const second = await startEmulator();
    moveCheckpointTo(statePath, second.url);
    const resumed = createDelivery(testOptions(second.url, { cwd: folder, inputs: [input], statePath, resume: true }));
    for (const [entry, other] of records) {
      await resumed.submit((entry as KoalaEntry).origin, [entry as KoalaEntry, other as KoalaEntry]);
    }
    const result = await resumed.finish();
    const finalState = JSON.parse(readFileSync(statePath, "utf8")).inputs[join(folder, input)];

    expect(stoppedResult.delivered).toBe(10);
    expect(stoppedResult.undelivered).toBe(10);
    expect(state.notDone).toHaveLength(10);
    expect(state.delivered["4"]).toEqual(["Track Event\nmessage-4"]);
    expect(result.alreadyDone).toBe(10);
    expect(result.delivered).toBe(10);
    expect([...second.accepted.keys()].sort()).toEqual(records.map(([, other]) => (other as KoalaEntry).messageId).sort());
    expect(finalState.notDone).toEqual([]);
    expect(finalState.delivered).toBeUndefined();
  });

  it("rejects resume of a changed input", async () => {
    const emulator = await startEmulator();
    const folder = temporaryDirectory();
    const records = makeRecords(20, 2);
    const input = writeInput(folder, records);
    const delivery = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: [input] }));
    for (const entry of records.slice(0, 10)) {
      await delivery.submit(entry.origin, [entry]);
    }
    await delivery.finish();
    writeFileSync(join(folder, input), `${readFileSync(join(folder, input), "utf8")}\n{"type":"track"}`);

    expect(() => createDelivery(testOptions(emulator.url, { cwd: folder, inputs: [input], resume: true }))).toThrow(StateMismatchError);
    expect(() => createDelivery(testOptions(emulator.url, { cwd: folder, inputs: [input], resume: true }))).toThrow(
      /events\.jsonl changed .*size changed/,
    );
  });

  it("resumes files read from a folder", async () => {
    const emulator = await startEmulator();
    const folder = temporaryDirectory();
    mkdirSync(join(folder, "archive"));
    const records = makeRecords(30, 3, "archive/day-1.jsonl");
    writeFileSync(join(folder, "archive", "day-1.jsonl"), records.map((entry) => entry.eventJson).join("\n"));
    const first = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: ["archive"] }));
    for (const entry of records.slice(0, 20)) {
      await first.submit(entry.origin, [entry]);
    }
    await first.finish();

    const resumed = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: ["archive"], resume: true }));
    expect(records.filter((entry) => resumed.isDone(entry.origin))).toHaveLength(20);
    await resumed.finish();

    writeFileSync(join(folder, "archive", "day-1.jsonl"), "changed\n");
    expect(() => createDelivery(testOptions(emulator.url, { cwd: folder, inputs: ["archive"], resume: true }))).toThrow(
      /archive\/day-1\.jsonl changed/,
    );
  });

  it("rejects resume from stdin", () => {
    expect(() => createDelivery(testOptions("http://127.0.0.1:9", { inputs: ["-"], resume: true }))).toThrow(CannotResumeError);
    expect(() => createDelivery(testOptions("http://127.0.0.1:9", { inputs: ["-"], resume: true }))).toThrow(/standard input cannot be read again/);
  });

  it("rejects a corrupt state file", () => {
    const folder = temporaryDirectory();
    const statePath = join(folder, "state.json");
    writeFileSync(statePath, "{half");
    expect(() => createDelivery(testOptions("http://127.0.0.1:9", { cwd: folder, statePath, resume: true }))).toThrow(
      `the checkpoint ${statePath} is not valid JSON (`,
    );
  });

  it("resume without a state file starts over", async () => {
    const emulator = await startEmulator();
    const folder = temporaryDirectory();
    const records = makeRecords(5, 1);
    const input = writeInput(folder, records);
    const missing: string[] = [];
    const delivery = createDelivery(
      testOptions(emulator.url, { cwd: folder, inputs: [input], resume: true, events: { onNothingToResume: (path) => missing.push(path) } }),
    );

    expect(records.some((entry) => delivery.isDone(entry.origin))).toBe(false);
    expect(missing).toEqual([defaultStatePath([input], folder)]);
    await delivery.finish();
  });

  it.each([
    ["./events.jsonl", "a relative path"],
    ["", "an absolute path"],
  ])("resume finds the input as %s", async (spelling) => {
    const emulator = await startEmulator();
    const folder = temporaryDirectory();
    const records = makeRecords(20, 4);
    const input = writeInput(folder, records);
    const first = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: [input] }));
    for (const entry of records) {
      await first.submit(entry.origin, [entry]);
    }
    await first.finish();

    const respelled = spelling === "" ? join(folder, input) : spelling;
    const resumed = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: [respelled], resume: true }));

    expect(records.every((entry) => resumed.isDone({ input: respelled, line: entry.origin.line }))).toBe(true);
    await resumed.finish();
  });

  it("resume finds the input through a link", async () => {
    const emulator = await startEmulator();
    const folder = temporaryDirectory();
    const records = makeRecords(20, 4);
    const input = writeInput(folder, records);
    symlinkSync(join(folder, input), join(folder, "link.jsonl"));
    const statePath = join(folder, "state.json");
    const first = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: [input], statePath }));
    for (const entry of records) {
      await first.submit(entry.origin, [entry]);
    }
    await first.finish();

    const resumed = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: ["link.jsonl"], statePath, resume: true }));

    expect(records.every((entry) => resumed.isDone({ input: "link.jsonl", line: entry.origin.line }))).toBe(true);
    await resumed.finish();
  });

  it("resumes a state file keyed by relative paths", async () => {
    const emulator = await startEmulator();
    const folder = temporaryDirectory();
    const records = makeRecords(10, 2);
    const input = writeInput(folder, records);
    const first = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: [input] }));
    for (const entry of records) {
      await first.submit(entry.origin, [entry]);
    }
    const { statePath } = await first.finish();
    const state = JSON.parse(readFileSync(statePath ?? "", "utf8"));
    state.inputs = { [input]: state.inputs[join(folder, input)] };
    writeFileSync(statePath ?? "", JSON.stringify(state));

    const resumed = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: [input], resume: true }));

    expect(records.every((entry) => resumed.isDone(entry.origin))).toBe(true);
    await resumed.finish();
  });
});

/** Writes `count` records to `archive/<name>` under `folder`, one line each, and returns them. */
function writeArchiveFile(folder: string, name: string, count: number): KoalaEntry[] {
  mkdirSync(join(folder, "archive"), { recursive: true });
  const records = makeRecords(count, 2, `archive/${name}`);
  writeFileSync(join(folder, "archive", name), records.map((entry) => entry.eventJson).join("\n"));
  return records;
}

/** Writes a state file of `version` with one input, `events.jsonl`, and returns its path. */
function writeState(folder: string, version: number, input: Record<string, unknown>): string {
  const statePath = join(folder, "state.json");
  writeFileSync(statePath, JSON.stringify({ version, savedAt: "2024-01-01T00:00:00.000Z", finished: false, inputs: { [join(folder, "events.jsonl")]: input } }));
  return statePath;
}

/** Reads the records of a JSON file, with their origins, as entries: each event carries its own email. */
async function readJsonEntries(path: string): Promise<KoalaEntry[]> {
  const entries: KoalaEntry[] = [];
  for await (const batch of readInput(path)) {
    if (batch.kind === "lines") {
      throw new Error("expected a JSON file");
    }
    const items: InputItem[] = [];
    if (batch.kind === "elements") {
      // Array elements come as raw bytes, numbered by the reader, and are parsed as the worker threads parse them.
      forEachElement(batch.elements, (element) => items.push(itemFromElementText(batch.bytes.toString("utf8", element.start, element.end), element, path)));
    } else {
      items.push(...batch.items);
    }
    for (const item of items) {
      if (item.kind === "record") {
        const event = item.event as { messageId: string; email: string };
        entries.push(makeEntry({ email: event.email, traits: {} }, event.messageId, item.origin));
      }
    }
  }
  return entries;
}

describe("default state path", () => {
  it("same for order, repeats and spelling", () => {
    const folder = temporaryDirectory();
    mkdirSync(join(folder, "archive"));
    symlinkSync(join(folder, "archive"), join(folder, "link"));
    const expected = defaultStatePath(["archive", "b.jsonl"], folder);

    expect(defaultStatePath(["b.jsonl", "./archive/"], folder)).toBe(expected);
    expect(defaultStatePath(["link", "b.jsonl", "archive"], folder)).toBe(expected);
    expect(defaultStatePath([join(folder, "archive"), "b.jsonl"], folder)).toBe(expected);
    expect(defaultStatePath(["archive"], folder)).not.toBe(expected);
  });

  it("same after a file is added to a folder", async () => {
    const emulator = await startEmulator();
    const folder = temporaryDirectory();
    const records = writeArchiveFile(folder, "day-1.jsonl", 10);
    const first = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: ["archive/day-1.jsonl"], givenInputs: ["archive"] }));
    for (const entry of records) {
      await first.submit(entry.origin, [entry]);
    }
    const { statePath } = await first.finish();
    writeArchiveFile(folder, "day-2.jsonl", 10);

    const resumed = createDelivery(
      testOptions(emulator.url, { cwd: folder, inputs: ["archive/day-1.jsonl", "archive/day-2.jsonl"], givenInputs: ["archive"], resume: true }),
    );

    expect(resumed.isDone({ input: "archive/day-1.jsonl", line: 10 })).toBe(true);
    expect(resumed.isDone({ input: "archive/day-2.jsonl", line: 1 })).toBe(false);
    expect((await resumed.finish()).statePath).toBe(statePath);
  });
});

describe("state of inputs this run does not read", () => {
  it("file removed from a folder keeps its record", async () => {
    const emulator = await startEmulator();
    const folder = temporaryDirectory();
    const dayOne = writeArchiveFile(folder, "day-1.jsonl", 10);
    const dayTwo = writeArchiveFile(folder, "day-2.jsonl", 10);
    const first = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: ["archive/day-1.jsonl", "archive/day-2.jsonl"], givenInputs: ["archive"] }));
    for (const entry of [...dayOne, ...dayTwo.slice(0, 5)]) {
      await first.submit(entry.origin, [entry]);
    }
    const { statePath } = await first.finish();
    const recorded = JSON.parse(readFileSync(statePath ?? "", "utf8")).inputs[join(folder, "archive", "day-1.jsonl")];
    rmSync(join(folder, "archive", "day-1.jsonl"));

    const resumed = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: ["archive/day-2.jsonl"], givenInputs: ["archive"], resume: true }));
    expect(resumed.isDone({ input: "archive/day-2.jsonl", line: 5 })).toBe(true);
    expect(resumed.isDone({ input: "archive/day-2.jsonl", line: 6 })).toBe(false);
    await resumed.submit(dayTwo[5]!.origin, [dayTwo[5]!]);
    await resumed.finish();

    const saved = JSON.parse(readFileSync(statePath ?? "", "utf8")).inputs;
    expect(saved[join(folder, "archive", "day-1.jsonl")]).toEqual(recorded);
    expect(saved[join(folder, "archive", "day-2.jsonl")].doneThrough).toBe(6);
  });

  it("changed input given no more is not checked", async () => {
    const emulator = await startEmulator();
    const folder = temporaryDirectory();
    const records = makeRecords(10, 2, "a.jsonl");
    writeFileSync(join(folder, "a.jsonl"), records.map((entry) => entry.eventJson).join("\n"));
    writeFileSync(join(folder, "b.jsonl"), "{}\n");
    const statePath = join(folder, "state.json");
    const first = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: ["a.jsonl"], statePath }));
    for (const entry of records) {
      await first.submit(entry.origin, [entry]);
    }
    await first.finish();
    const recorded = JSON.parse(readFileSync(statePath, "utf8")).inputs[join(folder, "a.jsonl")];
    writeFileSync(join(folder, "a.jsonl"), "changed\n");

    const other = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: ["b.jsonl"], statePath, resume: true }));
    await other.submit({ input: "b.jsonl", line: 1 }, []);
    await other.finish();

    expect(JSON.parse(readFileSync(statePath, "utf8")).inputs[join(folder, "a.jsonl")]).toEqual(recorded);
    expect(() => createDelivery(testOptions(emulator.url, { cwd: folder, inputs: ["a.jsonl"], statePath, resume: true }))).toThrow(/a\.jsonl changed/);
  });
});

describe("undelivered events of inputs not read", () => {
  it("counted from the state", async () => {
    const emulator = await startEmulator();
    const folder = realpathSync(temporaryDirectory());
    writeFileSync(join(folder, "b.jsonl"), "{}\n");
    // As a run that stopped with lines 3 and 4 of events.jsonl in flight leaves it.
    const statePath = writeState(folder, 2, { fingerprint: null, doneThrough: 10, watermark: 2, notDone: [3, 4] });
    const seen: InputNotRead[] = [];

    const resumed = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: ["b.jsonl"], statePath, resume: true, events: { onInputsNotRead: (_path, inputs) => seen.push(...inputs) } }));
    await resumed.finish();

    expect(seen).toEqual([{ path: join(folder, "events.jsonl"), undeliveredEvents: 2, readToEnd: false }]);
  });

  it("read to the end by a finished run, kept by later runs", async () => {
    const emulator = await startEmulator();
    const folder = realpathSync(temporaryDirectory());
    const records = makeRecords(6, 2, "a.jsonl");
    writeFileSync(join(folder, "a.jsonl"), records.map((entry) => entry.eventJson).join("\n"));
    writeFileSync(join(folder, "b.jsonl"), "{}\n");
    writeFileSync(join(folder, "c.jsonl"), "{}\n");
    const statePath = join(folder, "state.json");
    const options = (inputs: string[], events = {}): DeliveryOptions => testOptions(emulator.url, { cwd: folder, inputs, statePath, resume: true, events });

    const first = createDelivery(options(["a.jsonl"]));
    for (const entry of records) {
      await first.submit(entry.origin, [entry]);
    }
    await first.finish();
    // The second run reads b.jsonl and stops before its end, so it does not finish.
    const second = createDelivery(options(["b.jsonl"]));
    await second.submit({ input: "b.jsonl", line: 1 }, []);
    await second.stop();
    const seen: InputNotRead[] = [];
    const third = createDelivery(options(["c.jsonl"], { onInputsNotRead: (_path: string, inputs: readonly InputNotRead[]) => seen.push(...inputs) }));
    await third.finish();

    const saved = JSON.parse(readFileSync(statePath, "utf8")).inputs;
    expect(saved[join(folder, "a.jsonl")].readByFinishedRun).toBe(true);
    expect(saved[join(folder, "b.jsonl")].readByFinishedRun).toBe(false);
    expect(saved[join(folder, "c.jsonl")].readByFinishedRun).toBe(true);
    expect(seen.sort((left, right) => left.path.localeCompare(right.path))).toEqual([
      { path: join(folder, "a.jsonl"), undeliveredEvents: 0, readToEnd: true },
      { path: join(folder, "b.jsonl"), undeliveredEvents: 0, readToEnd: false },
    ]);
  });
});

describe("state file version", () => {
  it("version 1 resumed up to its first line not done", async () => {
    const emulator = await startEmulator();
    const folder = temporaryDirectory();
    const records = makeRecords(12, 3);
    const input = writeInput(folder, records);
    const statePath = join(folder, "state.json");
    const first = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: [input], statePath }));
    await first.submit(records[0]!.origin, []);
    await first.finish();
    // As a version 1 run stopped with lines 4 and 7 in flight would have left it.
    const state = JSON.parse(readFileSync(statePath, "utf8"));
    state.version = 1;
    Object.assign(state.inputs[join(folder, input)], { doneThrough: 10, watermark: 3, notDone: [4, 7] });
    writeFileSync(statePath, JSON.stringify(state));

    const resumed = createDelivery(testOptions(emulator.url, { cwd: folder, inputs: [input], statePath, resume: true }));

    expect(records.filter((entry) => resumed.isDone(entry.origin)).map((entry) => entry.origin.line)).toEqual([1, 2, 3]);
    await resumed.finish();
  });

  it("newer version rejected", () => {
    const folder = temporaryDirectory();
    writeInput(folder, makeRecords(3, 1));
    const statePath = writeState(folder, 3, { fingerprint: null, doneThrough: 3, watermark: 3, notDone: [] });
    const resume = (): unknown => createDelivery(testOptions("http://127.0.0.1:9", { cwd: folder, inputs: ["events.jsonl"], statePath, resume: true }));

    expect(resume).toThrow(CannotResumeError);
    expect(resume).toThrow(`the checkpoint ${statePath} has state file version 3, and this version of koala-replay reads versions 1 to 2`);
  });
});

describe("JSON array that starts after line 1", () => {
  // Blank lines, then an array of pretty-printed events, then an event and a batch body on their own.
  function writeJsonFile(folder: string): string {
    const event = (index: number): Record<string, unknown> => ({ type: "track", messageId: `json-${index}`, email: `person${index % 4}@example.com` });
    const array = JSON.stringify(Array.from({ length: 150 }, (_, index) => event(index)), null, 2);
    const text = `\n\n${array}\n${JSON.stringify(event(150))}\n${JSON.stringify({ batch: Array.from({ length: 50 }, (_, index) => event(151 + index)) })}\n`;
    writeFileSync(join(folder, "events.json"), text);
    return "events.json";
  }

  it("numbers stable and increasing", async () => {
    const folder = temporaryDirectory();
    const path = join(folder, writeJsonFile(folder));

    const first = (await readJsonEntries(path)).map((entry) => entry.origin.line);
    const second = (await readJsonEntries(path)).map((entry) => entry.origin.line);

    expect(first).toHaveLength(201);
    expect(first.slice(0, 3)).toEqual([3, 4, 5]);
    expect(first.every((line, index) => index === 0 || line > (first[index - 1] as number))).toBe(true);
    expect(second).toEqual(first);
  });

  it.each([0.3, 0.7])("resume after a crash at %s skips only what was received", async (crashPoint) => {
    const folder = temporaryDirectory();
    const input = writeJsonFile(folder);
    const records = (await readJsonEntries(join(folder, input))).map((entry) => ({ ...entry, origin: { input, line: entry.origin.line } }));
    const statePath = join(folder, "state.json");
    const first = await startEmulator({ slowRate: 0.3, slowDelayMs: 20 });
    const crashed = createDelivery(testOptions(first.url, { cwd: folder, inputs: [input], statePath, maxBatchSize: 4, flushAfterRecords: 20, checkpointIntervalMs: 0 }));
    for (const entry of records.slice(0, Math.floor(records.length * crashPoint))) {
      await crashed.submit(entry.origin, [entry]);
    }
    // The numbers start at 3, so a watermark of 2 is no progress: wait until a record is done.
    const hasDoneRecord = (): boolean => {
      if (!existsSync(statePath)) {
        return false;
      }
      const state = JSON.parse(readFileSync(statePath, "utf8")).inputs[join(folder, input)] as { doneThrough: number; notDone: number[] };
      return records.some((entry) => entry.origin.line <= state.doneThrough && !state.notDone.includes(entry.origin.line));
    };
    const deadline = Date.now() + 5_000;
    while (!hasDoneRecord() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const crashState = join(folder, "crash-state.json");
    copyFileSync(statePath, crashState);
    const receivedBeforeCrash = new Set(first.accepted.keys());
    void crashed.stop();

    const second = await startEmulator();
    moveCheckpointTo(crashState, second.url);
    const resumed = createDelivery(testOptions(second.url, { cwd: folder, inputs: [input], statePath: crashState, resume: true }));
    const skipped: RecordOrigin[] = [];
    for (const entry of records) {
      if (resumed.isDone(entry.origin)) {
        skipped.push(entry.origin);
        expect(receivedBeforeCrash.has(entry.messageId), `${entry.messageId} at ${entry.origin.line}`).toBe(true);
        continue;
      }
      await resumed.submit(entry.origin, [entry]);
    }
    await resumed.finish();

    expect(skipped.length).toBeGreaterThan(0);
    const missing = records.filter((entry) => !receivedBeforeCrash.has(entry.messageId) && !second.accepted.has(entry.messageId));
    expect(missing.map((entry) => entry.messageId)).toEqual([]);
  });
});

describe("options", () => {
  it("rejects a dead-letter file that is an input", () => {
    const folder = temporaryDirectory();
    expect(() =>
      createDelivery(testOptions("http://127.0.0.1:9", { cwd: folder, inputs: ["dead.jsonl"], deadLetterPath: join(folder, "dead.jsonl") })),
    ).toThrow(/dead\.jsonl is also an input/);
  });

  it("rejects a state file that is an input through a link", () => {
    const folder = temporaryDirectory();
    writeFileSync(join(folder, "events.jsonl"), "{}\n");
    symlinkSync(join(folder, "events.jsonl"), join(folder, "link.json"));
    expect(() =>
      createDelivery(testOptions("http://127.0.0.1:9", { cwd: folder, inputs: ["events.jsonl"], statePath: join(folder, "link.json") })),
    ).toThrow("the checkpoint file events.jsonl is also an input, so saving the checkpoint would replace the events being sent");
    expect(readFileSync(join(folder, "events.jsonl"), "utf8")).toBe("{}\n");
  });

  it("rejects an out-of-range maxBatchSize", () => {
    expect(() => createDelivery(testOptions("http://127.0.0.1:9", { maxBatchSize: 31 }))).toThrow(
      "Invalid maxBatchSize: expected an integer from 1 to 30, got 31 (number).",
    );
  });

  it("rejects a missing key outside dry run", () => {
    expect(() => createDelivery({ ...testOptions("http://127.0.0.1:9"), publicKey: undefined })).toThrow(/Missing publicKey/);
  });

  it("rejects an endpoint that is not a URL", () => {
    expect(() => createDelivery(testOptions("api2.getkoala.com"))).toThrow(/Invalid endpoint "api2.getkoala.com"/);
  });
});
