import { mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { parseRequests, runCli } from "../helpers/run-cli.js";
import { unwrapSummary } from "../helpers/summary-text.js";

// JSON files that hold several pretty-printed documents one after another, as some export tools
// write them, read by the built CLI.

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "koala-replay-json-documents-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function identify(index: number): Record<string, unknown> {
  return { type: "identify", userId: `u-${index}`, messageId: `m-${index}`, timestamp: "2024-05-01T10:00:00.000Z", traits: { email: `person-${index}@example.com` } };
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** Line on which each of `documents` starts when they are joined with line breaks. */
function firstLines(documents: readonly string[]): number[] {
  let line = 1;
  return documents.map((document) => {
    const first = line;
    line += document.split("\n").length;
    return first;
  });
}

describe("several JSON documents in one file", () => {
  test.each([
    ["plain", (text: string) => Buffer.from(text)],
    ["gzip", (text: string) => gzipSync(text)],
  ])("%s file: every document read", async (_kind, encode) => {
    const path = join(directory, "events.json");
    writeFileSync(path, encode([1, 2, 3].map((index) => pretty(identify(index))).join("\n")));

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(result.stderr).not.toContain("invalid JSON");
    expect(parseRequests(result.stdout).map((request) => request.body["email"])).toEqual(["person-1@example.com", "person-2@example.com", "person-3@example.com"]);
    expect(result.stderr).toMatch(/unreadable\s+0/);
    expect(result.status).toBe(0);
  });

  test("arrays and batches among documents", async () => {
    const path = join(directory, "events.json");
    const documents = [pretty([identify(1), identify(2)]), pretty(identify(3)), pretty({ batch: [identify(4)], sentAt: "2024-05-01T10:00:00.000Z" })];
    writeFileSync(path, documents.join("\n"));

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(parseRequests(result.stdout)).toHaveLength(4);
    expect(result.status).toBe(0);
  });

  test("event keeps its document's line", async () => {
    const path = join(directory, "events.json");
    // A track event without a name is invalid for Track Event, and the summary names its line.
    const nameless = { type: "track", userId: "u-9", messageId: "m-9", timestamp: "2024-05-01T10:00:00.000Z", context: { traits: { email: "nameless@example.com" } } };
    const documents = [pretty(identify(1)), pretty(identify(2)), pretty(nameless)];
    writeFileSync(path, documents.join("\n"));

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--browser-events", "include", path]);

    expect(unwrapSummary(result.stderr)).toContain(`(first at ${path}:${firstLines(documents)[2]})`);
    expect(parseRequests(result.stdout)).toHaveLength(2);
  });

  test("broken documents reported, others read", async () => {
    const path = join(directory, "events.json");
    const missingComma = pretty(identify(2)).replace('"type": "identify",', '"type": "identify"');
    const cutShort = pretty(identify(3)).split("\n").slice(0, 4).join("\n");
    const documents = [pretty(identify(1)), missingComma, cutShort, pretty(identify(4)), ",", pretty(identify(5)), "42", pretty(identify(6)).slice(0, -20)];
    writeFileSync(path, documents.join("\n"));
    const lines = firstLines(documents);

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(parseRequests(result.stdout).map((request) => request.body["email"])).toEqual(["person-1@example.com", "person-4@example.com", "person-5@example.com"]);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:${lines[1]! + 2}: invalid JSON in the document that starts at line ${lines[1]} (Expected ',' or '}' after property value in JSON)`);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:${lines[2]}: the JSON document that starts here is cut short: another document starts at line ${lines[3]} before this one is closed`);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:${lines[4]}: unexpected text "," between JSON documents`);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:${lines[6]}: the JSON document that starts here is a number`);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:${lines[7]}: the JSON document that starts here is not closed at the end of the input`);
    expect(result.stderr).toMatch(/unreadable\s+5\n/);
    expect(result.status).toBe(1);
  });

  test("large file read with a small heap", async () => {
    // 40 MB of documents cannot be held whole, as text, in a 32 MB heap.
    const path = join(directory, "large.json");
    const file = openSync(path, "w");
    const eventCount = 70_000;
    let pending: string[] = [];
    for (let index = 1; index <= eventCount; index += 1) {
      pending.push(pretty({ ...identify(index % 10), messageId: `m-${index}`, properties: { padding: "x".repeat(400) } }));
      if (pending.length === 1000) {
        writeSync(file, `${pending.join("\n")}\n`);
        pending = [];
      }
    }
    closeSync(file);

    const result = await runCli(["inspect", "--json", path], { env: { NODE_OPTIONS: "--max-old-space-size=32" } });

    expect(result.stderr).not.toContain("heap out of memory");
    expect((JSON.parse(result.stdout) as { eventsRead: number }).eventsRead).toBe(eventCount);
    expect(result.status).toBe(0);
  }, 60_000);
});

function emails(stdout: string): unknown[] {
  return parseRequests(stdout).map((request) => request.body["email"]);
}

describe("one JSON array streamed", () => {
  test.each([
    ["array", "[", "]"],
    ["batch body", '{\n  "sentAt": "2024-05-01T10:00:00.000Z",\n  "batch": [', '  ],\n  "writeKey": "key"\n}'],
  ])("large %s read with a small heap", async (_shape, opening, closing) => {
    // 40 MB cannot be held whole, as text, in a 32 MB heap.
    const path = join(directory, "large.json");
    const file = openSync(path, "w");
    const eventCount = 70_000;
    writeSync(file, `${opening}\n`);
    let pending: string[] = [];
    for (let index = 1; index <= eventCount; index += 1) {
      pending.push(JSON.stringify({ ...identify(index % 10), messageId: `m-${index}`, properties: { padding: "x".repeat(400) } }));
      if (pending.length === 1000) {
        writeSync(file, `${pending.join(",\n")}${index < eventCount ? "," : ""}\n`);
        pending = [];
      }
    }
    writeSync(file, `${closing}\n`);
    closeSync(file);

    const result = await runCli(["inspect", "--json", path], { env: { NODE_OPTIONS: "--max-old-space-size=32" } });

    expect(result.stderr).not.toContain("heap out of memory");
    const report = JSON.parse(result.stdout) as { eventsRead: number; unreadable: number };
    expect(report.eventsRead).toBe(eventCount);
    expect(report.unreadable).toBe(0);
    expect(result.status).toBe(0);
  }, 60_000);

  test("elements keep their positions as event numbers", async () => {
    // A track event without a name is invalid for Track Event, and verbose output names its number.
    const nameless = (index: number): Record<string, unknown> => ({ type: "track", userId: "u", messageId: `t-${index}`, timestamp: "2024-05-01T10:00:00.000Z", context: { traits: { email: "t@example.com" } } });
    const path = join(directory, "events.json");
    // The array starts on line 3, so its elements are numbered 3, 4, 5, whatever lines they take.
    writeFileSync(path, `\n\n${pretty([identify(1), nameless(2), nameless(3)])}\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--browser-events", "include", "--verbose", path]);

    expect(unwrapSummary(result.stderr)).toContain(`invalid: ${path}:4 (mapping "Track Event")`);
    expect(unwrapSummary(result.stderr)).toContain(`invalid: ${path}:5 (mapping "Track Event")`);
    expect(emails(result.stdout)).toEqual(["person-1@example.com"]);
  });

  test("same requests as the JSONL file", async () => {
    // Nested arrays, and strings with brackets, braces, commas and escaped quotes in every element.
    const events = [1, 2, 3].map((index) => ({
      ...identify(index),
      traits: { email: `person-${index}@example.com`, nested: [[index, [index, { deeper: [] }]], { list: ["]", "[", "}{"] }], note: `say "hi" \\ ]},[{ ${index}` },
    }));
    const jsonl = join(directory, "events.jsonl");
    writeFileSync(jsonl, `${events.map((event) => JSON.stringify(event)).join("\n")}\n`);
    const compact = join(directory, "compact.json");
    writeFileSync(compact, JSON.stringify(events));
    const prettyArray = join(directory, "pretty.json");
    writeFileSync(prettyArray, pretty(events));

    const expected = await runCli(["send", "--dry-run", "--no-stitch", jsonl]);
    const fromCompact = await runCli(["send", "--dry-run", "--no-stitch", compact]);
    const fromPretty = await runCli(["send", "--dry-run", "--no-stitch", prettyArray]);

    expect(parseRequests(expected.stdout)).toHaveLength(3);
    expect(fromCompact.stdout).toBe(expected.stdout);
    expect(fromPretty.stdout).toBe(expected.stdout);
    expect(fromCompact.status).toBe(0);
    expect(fromPretty.status).toBe(0);
  });

  test("broken element reported, later ones read", async () => {
    const path = join(directory, "events.json");
    const elements = [1, 2, 3, 4].map((index) => pretty(identify(index)));
    elements[1] = (elements[1] as string).replace('"type": "identify",', '"type": "identify"');
    writeFileSync(path, `[\n${elements.join(",\n")}\n]\n`);
    const secondLine = 2 + (elements[0] as string).split("\n").length;

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(emails(result.stdout)).toEqual(["person-1@example.com", "person-3@example.com", "person-4@example.com"]);
    expect(unwrapSummary(result.stderr)).toContain(
      `${path}:${secondLine}: invalid JSON in element 2 of the array that starts at line 1 (Expected ',' or '}' after property value in JSON, at line ${secondLine + 2}), so the element was skipped; fix or remove it`,
    );
    expect(result.stderr).toMatch(/unreadable\s+1\n/);
    expect(result.status).toBe(1);
  });

  test("unclosed element reported, next one read", async () => {
    const path = join(directory, "events.json");
    const elements = [1, 2, 3].map((index) => pretty(identify(index)).replace(/^/gm, "  "));
    // The traits object of element 2 loses its closing brace, so element 2 never closes.
    elements[1] = (elements[1] as string).replace(/\n {4}}\n {2}}$/, "\n  }");
    writeFileSync(path, `[\n${elements.join(",\n")}\n]\n`);
    const secondLine = 2 + (elements[0] as string).split("\n").length;
    const thirdLine = secondLine + (elements[1] as string).split("\n").length;

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(emails(result.stdout)).toEqual(["person-1@example.com", "person-3@example.com"]);
    expect(unwrapSummary(result.stderr)).toContain(
      `${path}:${secondLine}: element 2 of the array that starts at line 1 is cut short: the next element starts at line ${thirdLine} before this one is closed, so lines ${secondLine} to ${thirdLine - 1} were skipped`,
    );
    expect(result.stderr).toMatch(/unreadable\s+1\n/);
    expect(result.status).toBe(1);
  });

  test("commas and elements that break the array", async () => {
    const path = join(directory, "events.json");
    const [first, second, third] = [1, 2, 3].map((index) => JSON.stringify(identify(index)));
    writeFileSync(path, `[\n${first} ${second},\n,\n42,\n${third},\n]\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(emails(result.stdout)).toEqual(["person-1@example.com", "person-2@example.com", "person-3@example.com"]);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:2: a comma is missing before element 2 of the array that starts at line 1; the element was read, but add the comma`);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:3: unexpected comma in the array that starts at line 1, where an element is missing; remove the comma`);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:4: element 3 of the array that starts at line 1 is a number, expected an event object`);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:5: unexpected comma after the last element of the array that starts at line 1; remove the comma`);
    expect(result.stderr).toMatch(/unreadable\s+4\n/);
    expect(result.status).toBe(1);
  });

  test("truncated array: events before the break read", async () => {
    const path = join(directory, "events.json");
    const text = `[\n${[1, 2, 3].map((index) => JSON.stringify(identify(index))).join(",\n")}`;
    writeFileSync(path, text.slice(0, -30));

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(emails(result.stdout)).toEqual(["person-1@example.com", "person-2@example.com"]);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:4: element 3 of the array that starts at line 1 is not closed at the end of the input (line 4), so the line was skipped`);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:1: the array that starts here is not closed at the end of the input (line 4), and the 2 complete elements before the break were read; the file may be truncated`);
    expect(result.stderr).toMatch(/unreadable\s+2\n/);
    expect(result.status).toBe(1);
  });

  test("truncated gzip array: events before the break read", async () => {
    const path = join(directory, "events.json.gz");
    const eventCount = 2_000;
    const compressed = gzipSync(`[\n${Array.from({ length: eventCount }, (_unused, index) => JSON.stringify(identify(index))).join(",\n")}\n]\n`);
    writeFileSync(path, compressed.subarray(0, Math.floor(compressed.length / 2)));

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    const truncation = /:(\d+): the gzip data ends early, so the file is truncated at line (\d+); the events before it were read/.exec(unwrapSummary(result.stderr));
    expect(truncation).not.toBeNull();
    const line = Number(truncation?.[1]);
    expect(Number(truncation?.[2])).toBe(line);
    // Elements start on line 2, one a line, and the one on the last line read is cut short.
    expect(emails(result.stdout)).toHaveLength(line - 2);
    expect(line).toBeGreaterThan(100);
    expect(line).toBeLessThan(eventCount);
    expect(result.stderr).toMatch(/unreadable\s+1\n/);
    expect(result.status).toBe(1);
  });

  test.each([
    ["stdin", (text: string) => Buffer.from(text)],
    ["stdin with a byte order mark", (text: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])],
    ["gzip stdin", (text: string) => gzipSync(text)],
  ])("array from %s", async (_kind, encode) => {
    const text = pretty([identify(1), identify(2)]);

    const result = await runCli(["send", "--dry-run", "--no-stitch", "-"], { stdin: encode(text) });

    expect(emails(result.stdout)).toEqual(["person-1@example.com", "person-2@example.com"]);
    expect(result.stderr).toMatch(/unreadable\s+0\n/);
    expect(result.status).toBe(0);
  });
});

function track(index: number, context?: Record<string, unknown>): Record<string, unknown> {
  return { type: "track", event: "Signed Up", userId: `u-${index}`, messageId: `t-${index}`, timestamp: "2024-05-01T10:00:00.000Z", ...(context === undefined ? {} : { context }) };
}

/** Returns the `context` of each event in the printed requests. */
function eventContexts(stdout: string): unknown[] {
  return parseRequests(stdout).flatMap((request) => (request.body["events"] as Array<Record<string, unknown>>).map((event) => event["context"]));
}

describe("batch body streamed", () => {
  test("other keys of the body not sent", async () => {
    const path = join(directory, "body.json");
    const body = {
      writeKey: "key",
      context: { library: { name: "analytics.js" }, batch: [identify(9)] },
      batch: [identify(1), identify(2)],
      integrations: {},
      sentAt: "2024-05-01T10:00:00.000Z",
    };
    writeFileSync(path, pretty(body));

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(emails(result.stdout)).toEqual(["person-1@example.com", "person-2@example.com"]);
    expect(result.stderr).toMatch(/unreadable\s+0\n/);
    expect(result.status).toBe(0);
  });

  test.each([
    ["pretty-printed", pretty],
    ["compact", (value: unknown) => JSON.stringify(value)],
  ])("context before the batch array applied, %s", async (_layout, write) => {
    const path = join(directory, "body.json");
    const body = {
      context: { traits: { email: "batch@example.com", plan: "pro" }, ip: "10.0.0.1", library: { name: "analytics-node" } },
      integrations: { All: false },
      batch: [track(1), track(2, { traits: { email: "own@example.com" }, locale: "fr" })],
    };
    writeFileSync(path, write(body));

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--browser-events", "skip", path]);

    expect(emails(result.stdout)).toEqual(["batch@example.com", "own@example.com"]);
    expect(eventContexts(result.stdout)).toEqual([
      { traits: { email: "batch@example.com", plan: "pro" }, ip: "10.0.0.1", library: { name: "analytics-node" } },
      { traits: { email: "own@example.com", plan: "pro" }, locale: "fr", ip: "10.0.0.1", library: { name: "analytics-node" } },
    ]);
    expect(result.stderr).not.toContain("warning");
    expect(result.status).toBe(0);
  });

  test("context library decides browser events", async () => {
    const path = join(directory, "body.json");
    writeFileSync(path, JSON.stringify({ context: { library: { name: "analytics.js" }, traits: { email: "a@example.com" } }, batch: [track(1), track(2)] }));

    const result = await runCli(["send", "--dry-run", "--no-stitch", "--browser-events", "skip", path]);

    expect(parseRequests(result.stdout)).toEqual([]);
    expect(result.stderr).toMatch(/browser-event\s+2\b/);
  });

  test("context after the batch array warned", async () => {
    const path = join(directory, "body.json");
    writeFileSync(path, pretty({ batch: [track(1), track(2)], context: { traits: { email: "batch@example.com" } } }));

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(parseRequests(result.stdout)).toEqual([]);
    const stderr = unwrapSummary(result.stderr);
    expect(stderr).toContain(`${path}:1: the batch body that starts here has its top-level "context" after its batch array, so it was not applied to its 2 events`);
    expect(stderr).toContain(`jq -c '{context, integrations} + .' ${path} > fixed.json`);
    expect(result.stderr).toMatch(/no-identity\s+2\b/);
  });

  test("context after the array warned once per file", async () => {
    const path = join(directory, "bodies.json");
    const bodies = [1, 2, 3].map((index) => JSON.stringify({ batch: [track(index)], context: { traits: { email: `p-${index}@example.com` } } }));
    writeFileSync(path, `${bodies.join("\n")}\n`);

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    const stderr = unwrapSummary(result.stderr);
    expect(stderr.split("the batch body that starts here").length - 1).toBe(1);
    expect(stderr).toContain(`${path}: 2 more batch bodies have their top-level "context" or "integrations" after their batch array, which was not applied to 3 events in all`);
  });

  test.each([
    ["pretty-printed", '{\n  "batch": {\n    "type": "track", "event": "A", "userId": "u-1"\n  },\n  "sentAt": "2024-05-01T10:00:00.000Z"\n}\n'],
    ["on one line", '{"batch": {"type": "track", "event": "A", "userId": "u-1"}}\n'],
  ])("batch object rejected, %s", async (_layout, text) => {
    const path = join(directory, "body.json");
    writeFileSync(path, text);

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(unwrapSummary(result.stderr)).toContain(`${path}:1: "batch" is an object in this request body, but batch must be an array of events`);
    expect(result.stderr).toMatch(/unreadable\s+1\n/);
    expect(result.stderr).toMatch(/events read\s+0\n/);
    expect(result.status).toBe(1);
  });

  test.each([
    ["compact on one line", (events: unknown[]) => `${JSON.stringify({ batch: events, sentAt: "2024-05-01T10:00:00.000Z", writeKey: "key" })}\n`],
    ["its events on the next lines", (events: unknown[]) => `{"sentAt":"2024-05-01T10:00:00.000Z","batch":[\n${events.map((event) => JSON.stringify(event)).join(",\n")}\n],"writeKey":"key"}\n`],
    ["one body a line", (events: unknown[]) => `${events.map((event) => JSON.stringify({ batch: [event] })).join("\n")}\n`],
  ])("batch body %s", async (_layout, write) => {
    const path = join(directory, "body.json");
    writeFileSync(path, write([identify(1), identify(2), identify(3)]));

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(emails(result.stdout)).toEqual(["person-1@example.com", "person-2@example.com", "person-3@example.com"]);
    expect(result.stderr).toMatch(/unreadable\s+0\n/);
    expect(result.stderr).toMatch(/skipped\s+0\n/);
    expect(result.status).toBe(0);
  });

  test("error after the batch array at its line", async () => {
    const path = join(directory, "body.json");
    const text = pretty({ batch: [identify(1), identify(2)], sentAt: "2024-05-01T10:00:00.000Z", writeKey: "key" }).replace('"sentAt": "2024-05-01T10:00:00.000Z",', '"sentAt": "2024-05-01T10:00:00.000Z"');
    writeFileSync(path, text);
    const writeKeyLine = text.split("\n").findIndex((line) => line.includes('"writeKey"')) + 1;

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(emails(result.stdout)).toEqual(["person-1@example.com", "person-2@example.com"]);
    expect(unwrapSummary(result.stderr)).toContain(
      `${path}:${writeKeyLine}: invalid JSON in the batch body that starts at line 1, outside its batch array (Expected ',' or '}' after property value in JSON); the 2 elements of the batch array were read, but fix the body`,
    );
    expect(result.stderr).toMatch(/unreadable\s+1\n/);
    expect(result.status).toBe(1);
  });

  test("truncated batch body", async () => {
    const path = join(directory, "body.json");
    const text = pretty({ sentAt: "2024-05-01T10:00:00.000Z", batch: [identify(1), identify(2), identify(3)] });
    writeFileSync(path, text.slice(0, text.indexOf('"person-3@example.com"')));

    const result = await runCli(["send", "--dry-run", "--no-stitch", path]);

    expect(emails(result.stdout)).toEqual(["person-1@example.com", "person-2@example.com"]);
    expect(unwrapSummary(result.stderr)).toContain(`${path}:3: the batch array that starts here is not closed at the end of the input`);
    expect(result.stderr).toMatch(/unreadable\s+2\n/);
    expect(result.status).toBe(1);
  });
});
