import { describe, expect, test } from "vitest";
import { JsonSequenceSplitter, type JsonSequencePart } from "../../src/inputs/json-sequence.js";

type ElementPart = Extract<JsonSequencePart, { kind: "element" }>;
/** A part as `split` returns it: an element with its text in place of its bytes, so that expected parts are readable. */
type SplitPart = Exclude<JsonSequencePart, ElementPart> | (Omit<ElementPart, "bytes"> & { text: string });

function split(input: string | Buffer, pieceBytes: number, maxDocumentBytes = 1 << 20): SplitPart[] {
  const bytes = typeof input === "string" ? Buffer.from(input) : input;
  const splitter = new JsonSequenceSplitter(maxDocumentBytes);
  const parts: JsonSequencePart[] = [];
  for (let start = 0; start < bytes.length; start += pieceBytes) {
    parts.push(...splitter.push(bytes.subarray(start, start + pieceBytes)));
  }
  parts.push(...splitter.end());
  return parts.map((part) => {
    if (part.kind !== "element") {
      return part;
    }
    const { bytes, ...rest } = part;
    return { ...rest, text: bytes.toString("utf8") };
  });
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

// Strings with escaped quotes, backslashes and brackets, which must not end or open anything.
const TRICKY = { type: "track", event: 'say "hi" \\ {[', properties: { nested: { list: [1, { deeper: "]}" }] } }, note: "é 😀" };
const DOCUMENTS = [pretty({ type: "identify", userId: "u1" }), pretty(TRICKY), '[\n  {"a": 1},\n  {"b": 2}\n]', pretty({ batch: [{ c: 3 }] })];
const SEQUENCE = DOCUMENTS.join("\n");
/** Line on which each document of SEQUENCE starts. */
const FIRST_LINES = DOCUMENTS.map((_document, index) => 1 + DOCUMENTS.slice(0, index).reduce((lines, document) => lines + document.split("\n").length, 0));

/** Returns the line where each part starts, for the parts that have one. */
function firstLines(parts: SplitPart[]): Array<number | undefined> {
  return parts.map((part) => ("firstLine" in part ? part.firstLine : undefined));
}

/** Returns the parsed value of each part that has text, and the kind of the others. */
function values(parts: SplitPart[]): unknown[] {
  return parts.map((part) => (part.kind === "document" || part.kind === "element" ? JSON.parse(part.text) : part.kind));
}

describe("JsonSequenceSplitter", () => {
  test.each([1, 2, 3, 7, 64, 1 << 16])("same documents in pieces of %i bytes", (pieceBytes) => {
    const parts = split(SEQUENCE, pieceBytes);

    expect(parts.map((part) => part.kind)).toEqual(["document", "document", "element", "element", "element", "document"]);
    expect(values(parts)).toEqual([{ type: "identify", userId: "u1" }, TRICKY, { a: 1 }, { b: 2 }, { c: 3 }, { batch: [] }]);
    expect(firstLines(parts)).toEqual([FIRST_LINES[0], FIRST_LINES[1], FIRST_LINES[2]! + 1, FIRST_LINES[2]! + 2, FIRST_LINES[3]! + 2, FIRST_LINES[3]]);
    expect(FIRST_LINES[1]).toBe(5);
  });

  test.each([1, 2, 4])("byte order mark skipped in pieces of %i bytes", (pieceBytes) => {
    const parts = split(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n{"b":2}')]), pieceBytes);

    expect(parts).toEqual([
      { kind: "document", text: '{"a":1}', firstLine: 1 },
      { kind: "document", text: '{"b":2}', firstLine: 2 },
    ]);
  });

  test("text between documents is its own part", () => {
    const parts = split('{"a":1},\n42 "text" {"b":2}', 5);

    expect(parts).toEqual([
      { kind: "document", text: '{"a":1}', firstLine: 1 },
      { kind: "document", text: ",", firstLine: 1 },
      { kind: "document", text: "42", firstLine: 2 },
      { kind: "document", text: '"text"', firstLine: 2 },
      { kind: "document", text: '{"b":2}', firstLine: 2 },
    ]);
  });

  test("new document ends a cut-short one", () => {
    const text = '{\n  "type": "track",\n  "properties": {\n    "a": 1\n{\n  "type": "identify"\n}\n';
    const parts = split(text, 3);

    expect(parts).toEqual([
      { kind: "not-closed", firstLine: 1, lastLine: 4, ending: { kind: "new-document", line: 5 } },
      { kind: "document", text: '{\n  "type": "identify"\n}', firstLine: 5 },
    ]);
  });

  test("new document after a comma in an object", () => {
    const parts = split('{\n  "a": 1,\n{\n  "b": 2\n}', 4);

    expect(parts[0]).toEqual({ kind: "not-closed", firstLine: 1, lastLine: 2, ending: { kind: "new-document", line: 3 } });
    expect(parts[1]?.kind).toBe("document");
  });

  test("new array after an element ends the array", () => {
    const parts = split('[\n  "a"\n[\n  1\n]', 4);

    expect(parts).toEqual([
      { kind: "element", text: '"a"', firstLine: 2, place: { position: 1, arrayLine: 1, documentLine: 1 } },
      { kind: "array-not-closed", arrayLine: 1, lastLine: 2, elements: 1, inBatch: false, ending: { kind: "new-document", line: 3 } },
      { kind: "element", text: "1", firstLine: 4, place: { position: 1, arrayLine: 3, documentLine: 3 } },
    ]);
  });

  test.each([
    ["an object value on the next line", '{\n  "a":\n{\n  "b": 2\n}\n}'],
    ["a bracket after a value on the same line", '{"a": 1 {"b": 2}}'],
  ])("one document: %s", (_case, text) => {
    expect(split(text, 3)).toEqual([{ kind: "document", text, firstLine: 1 }]);
  });

  test.each([
    ["an object", '{"a": 1}\n{\n  "b": [1,\n'],
    ["a string", '{"a": 1}\n"never closed\n'],
  ])("end of input inside %s", (_case, text) => {
    const parts = split(text, 2);

    expect(parts[0]).toEqual({ kind: "document", text: '{"a": 1}', firstLine: 1 });
    expect(parts[1]).toMatchObject({ kind: "not-closed", firstLine: 2, ending: { kind: "end-of-input" } });
  });

  test("document over the limit is skipped whole", () => {
    const large = pretty({ padding: "x".repeat(500) });
    const text = `{"a": 1}\n${large}\n{"b": 2}\n`;
    const parts = split(text, 16, 100);

    expect(parts).toEqual([
      { kind: "document", text: '{"a": 1}', firstLine: 1 },
      { kind: "too-large", firstLine: 2, lastLine: 4, bytes: Buffer.byteLength(large), ending: { kind: "closed" } },
      { kind: "document", text: '{"b": 2}', firstLine: 5 },
    ]);
  });

  test("cut-short document over the limit", () => {
    const text = `{\n  "padding": "${"x".repeat(200)}",\n{\n  "b": 2\n}\n`;
    const parts = split(text, 16, 100);

    expect(parts[0]).toMatchObject({ kind: "too-large", firstLine: 1, lastLine: 2, ending: { kind: "new-document", line: 3 } });
    expect(parts[1]).toEqual({ kind: "document", text: '{\n  "b": 2\n}', firstLine: 3 });
  });

  test("line breaks in strings counted", () => {
    const parts = split('{"a": "x\ny"}\n{"b": 1}', 4);

    expect(firstLines(parts)).toEqual([1, 3]);
  });
});

/** Builds the place of element `position` of an array that starts, with its document, at `arrayLine`. */
function at(position: number, arrayLine = 1, documentLine = arrayLine): { position: number; arrayLine: number; documentLine: number } {
  return { position, arrayLine, documentLine };
}

describe("JsonSequenceSplitter on arrays", () => {
  // Elements with nested arrays, and strings with brackets, braces, commas and escaped quotes.
  const ELEMENTS = [TRICKY, { list: [[1, [2, [3]]], { inner: [] }], text: '],[{"x": ,' }, { quote: '\\"]', back: "\\" }];

  test.each([1, 2, 3, 5, 64, 1 << 16])("compact elements in pieces of %i bytes", (pieceBytes) => {
    const parts = split(JSON.stringify(ELEMENTS), pieceBytes);

    expect(parts.map((part) => part.kind)).toEqual(["element", "element", "element"]);
    expect(values(parts)).toEqual(ELEMENTS);
    expect(parts.map((part) => (part.kind === "element" ? part.place : undefined))).toEqual([at(1), at(2), at(3)]);
  });

  test.each([1, 3, 64])("pretty-printed elements in pieces of %i bytes", (pieceBytes) => {
    const text = pretty(ELEMENTS);
    const parts = split(text, pieceBytes);

    expect(values(parts)).toEqual(ELEMENTS);
    const lines = text.split("\n");
    const elementLines = lines.flatMap((line, index) => (line === "  {" ? [index + 1] : []));
    expect(firstLines(parts)).toEqual(elementLines);
  });

  test("elements at the first column", () => {
    const parts = split('[\n{"a": 1},\n{"b": 2}\n]', 3);

    expect(parts).toEqual([
      { kind: "element", text: '{"a": 1}', firstLine: 2, place: at(1) },
      { kind: "element", text: '{"b": 2}', firstLine: 3, place: at(2) },
    ]);
  });

  test("numbers, strings and literals as elements", () => {
    const parts = split('[1, -2.5e3,"a]\\"",true ,null]', 2);

    expect(parts.map((part) => (part.kind === "element" ? part.text : part.kind))).toEqual(["1", "-2.5e3", '"a]\\""', "true", "null"]);
  });

  test("empty array has no parts", () => {
    expect(split("[ ]\n[]", 1)).toEqual([]);
  });

  test("broken element cut out alone", () => {
    const parts = split('[{"a": 1},\n{"b" 2, "c": [1 2]},\n{"d": 4}]', 4);

    expect(parts).toEqual([
      { kind: "element", text: '{"a": 1}', firstLine: 1, place: at(1) },
      { kind: "element", text: '{"b" 2, "c": [1 2]}', firstLine: 2, place: at(2) },
      { kind: "element", text: '{"d": 4}', firstLine: 3, place: at(3) },
    ]);
  });

  test("unclosed element ended by the next indented one", () => {
    const text = '[\n  {\n    "a": {\n      "b": 1\n  },\n  {\n    "c": 2\n  }\n]';
    const parts = split(text, 5);

    expect(parts).toEqual([
      { kind: "not-closed", firstLine: 2, lastLine: 5, ending: { kind: "next-element", line: 6 }, place: at(1) },
      { kind: "element", text: '{\n    "c": 2\n  }', firstLine: 6, place: at(2) },
    ]);
  });

  test("missing comma between elements", () => {
    const parts = split('[{"a": 1} {"b": 2}\n  {"c": 3}]', 4);

    expect(parts).toEqual([
      { kind: "element", text: '{"a": 1}', firstLine: 1, place: at(1) },
      { kind: "array-syntax", line: 1, arrayLine: 1, problem: { kind: "missing-comma", position: 2 } },
      { kind: "element", text: '{"b": 2}', firstLine: 1, place: at(2) },
      { kind: "array-syntax", line: 2, arrayLine: 1, problem: { kind: "missing-comma", position: 3 } },
      { kind: "element", text: '{"c": 3}', firstLine: 2, place: at(3) },
    ]);
  });

  test("commas without elements", () => {
    const parts = split('[,{"a": 1},,\n{"b": 2},\n]', 2);

    expect(parts).toEqual([
      { kind: "array-syntax", line: 1, arrayLine: 1, problem: { kind: "unexpected-comma" } },
      { kind: "element", text: '{"a": 1}', firstLine: 1, place: at(1) },
      { kind: "array-syntax", line: 1, arrayLine: 1, problem: { kind: "unexpected-comma" } },
      { kind: "element", text: '{"b": 2}', firstLine: 2, place: at(2) },
      { kind: "array-syntax", line: 2, arrayLine: 1, problem: { kind: "trailing-comma" } },
    ]);
  });

  test("brace between elements", () => {
    const parts = split('[{"a": 1}},{"b": 2}]', 3);

    expect(parts[1]).toEqual({ kind: "array-syntax", line: 1, arrayLine: 1, problem: { kind: "unexpected-character", character: "}" } });
    expect(values(parts)).toEqual([{ a: 1 }, "array-syntax", { b: 2 }]);
  });

  test.each([
    ["inside an element", '[\n  {"a": 1},\n  {"b": [1,\n', 1],
    ["inside a string element", '[\n  {"a": 1},\n  "never closed\n', 1],
  ])("end of input %s", (_case, text, elementsRead) => {
    const parts = split(text, 3);

    expect(parts).toEqual([
      { kind: "element", text: '{"a": 1}', firstLine: 2, place: at(1) },
      { kind: "not-closed", firstLine: 3, lastLine: 3, ending: { kind: "end-of-input" }, place: at(2) },
      { kind: "array-not-closed", arrayLine: 1, lastLine: 3, elements: elementsRead, inBatch: false, ending: { kind: "end-of-input" } },
    ]);
  });

  test.each([
    ["after a comma", '[{"a": 1},\n'],
    ["after an element", '[{"a": 1}'],
  ])("end of input between elements %s", (_case, text) => {
    const parts = split(text, 3);

    expect(parts).toEqual([
      { kind: "element", text: '{"a": 1}', firstLine: 1, place: at(1) },
      { kind: "array-not-closed", arrayLine: 1, lastLine: 1, elements: 1, inBatch: false, ending: { kind: "end-of-input" } },
    ]);
  });

  test("number element complete at the end of input", () => {
    const parts = split("[1, 2", 1);

    expect(parts.map((part) => (part.kind === "element" ? part.text : part.kind))).toEqual(["1", "2", "array-not-closed"]);
  });

  test("unindented object after an element starts a document", () => {
    const parts = split('[\n  {"a": 1}\n{\n  "b": 2\n}\n', 4);

    expect(parts).toEqual([
      { kind: "element", text: '{"a": 1}', firstLine: 2, place: at(1) },
      { kind: "array-not-closed", arrayLine: 1, lastLine: 2, elements: 1, inBatch: false, ending: { kind: "new-document", line: 3 } },
      { kind: "document", text: '{\n  "b": 2\n}', firstLine: 3 },
    ]);
  });

  test("element over the limit skipped alone", () => {
    const large = JSON.stringify({ padding: "x".repeat(500) });
    const parts = split(`[{"a": 1},\n${large},\n{"b": 2}]`, 16, 100);

    expect(parts).toEqual([
      { kind: "element", text: '{"a": 1}', firstLine: 1, place: at(1) },
      { kind: "too-large", firstLine: 2, lastLine: 2, bytes: Buffer.byteLength(large), ending: { kind: "closed" }, place: at(2) },
      { kind: "element", text: '{"b": 2}', firstLine: 3, place: at(3) },
    ]);
  });

  test("array larger than the limit streamed", () => {
    const elements = Array.from({ length: 50 }, (_unused, index) => ({ index }));
    const parts = split(JSON.stringify(elements), 7, 100);

    expect(values(parts)).toEqual(elements);
  });
});

describe("JsonSequenceSplitter on batch bodies", () => {
  test.each([1, 2, 3, 7, 64])("batch array streamed in pieces of %i bytes", (pieceBytes) => {
    const body = '{"sentAt": "2024-05-01T10:00:00Z",\n"batch": [\n  {"a": "]"},\n  {"b": [2]}\n],\n"context": {"batch": [9]}, "writeKey": "k"}';
    const parts = split(body, pieceBytes);

    expect(parts).toEqual([
      { kind: "element", text: '{"a": "]"}', firstLine: 3, place: at(1, 2, 1) },
      { kind: "element", text: '{"b": [2]}', firstLine: 4, place: at(2, 2, 1) },
      {
        kind: "document",
        text: '{"sentAt": "2024-05-01T10:00:00Z",\n"batch": [],\n"context": {"batch": [9]}, "writeKey": "k"}',
        firstLine: 1,
        batch: { elements: 2, cuts: [{ byteOffset: 45, lines: 3 }] },
      },
    ]);
  });

  test.each([
    ["a nested batch key", '{"properties": {"batch": [1]}, "type": "track"}'],
    ["a batch key with a string value", '{"batch": "[1]"}'],
    ["a batch value", '{"type": "batch", "x": [1]}'],
    ["a longer key", '{"batches": [1]}'],
    ["a shorter key", '{"batc": [1]}'],
    ["an escaped key", '{"b\\u0061tch": [1]}'],
  ])("object with %s kept whole", (_case, text) => {
    expect(split(text, 2)).toEqual([{ kind: "document", text, firstLine: 1 }]);
  });

  test("batch array not closed", () => {
    const parts = split('{\n  "batch": [\n    {"a": 1},\n    {"b": ', 5);

    expect(parts).toEqual([
      { kind: "element", text: '{"a": 1}', firstLine: 3, place: at(1, 2, 1) },
      { kind: "not-closed", firstLine: 4, lastLine: 4, ending: { kind: "end-of-input" }, place: at(2, 2, 1) },
      { kind: "array-not-closed", arrayLine: 2, lastLine: 4, elements: 1, inBatch: true, ending: { kind: "end-of-input" } },
    ]);
  });

  test("body not closed after its batch array", () => {
    const parts = split('{"batch": [{"a": 1}],\n "sentAt": "x"\n', 5);

    expect(parts).toEqual([
      { kind: "element", text: '{"a": 1}', firstLine: 1, place: at(1) },
      { kind: "not-closed", firstLine: 1, lastLine: 2, ending: { kind: "end-of-input" }, batch: { elements: 1, cuts: [{ byteOffset: 11, lines: 0 }] } },
    ]);
  });
});

describe("batch body defaults", () => {
  const body = '{"writeKey": "k", "context": {"ip": "10.0.0.1", "batch": [1]}, "integrations": {"All": false}, "batch": [{"a": 1}, {"b": 2}], "sentAt": "x"}';

  test.each([1, 3, 7, body.length])("elements carry them, in pieces of %i bytes", (pieceBytes) => {
    const parts = split(body, pieceBytes);

    const elements = parts.filter((part) => part.kind === "element");
    expect(elements.map((part) => part.defaults)).toEqual([
      { context: { ip: "10.0.0.1", batch: [1] }, integrations: { All: false } },
      { context: { ip: "10.0.0.1", batch: [1] }, integrations: { All: false } },
    ]);
    const document = parts.find((part) => part.kind === "document");
    expect(document?.batch?.applied).toEqual([{ keys: ["context", "integrations"], elements: 2 }]);
  });

  test("none after the array", () => {
    const parts = split('{"batch": [{"a": 1}], "context": {"ip": "10.0.0.1"}}', 5);

    expect(parts.filter((part) => part.kind === "element").map((part) => part.defaults)).toEqual([undefined]);
    expect(parts.find((part) => part.kind === "document")?.batch?.applied).toBeUndefined();
  });

  test("key named in a value only", () => {
    const parts = split('{"writeKey": "context", "batch": [{"a": 1}]}', 4);

    expect(parts.filter((part) => part.kind === "element").map((part) => part.defaults)).toEqual([undefined]);
  });
});
